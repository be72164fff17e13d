"""BaseAutoencoder: every public method, written once for all variants."""

from __future__ import annotations

import copy
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._distributed import current_group
from ._streaming import StreamedRows, is_file_backed
from ._training import (
    denormals_flushed,
    forked_rng,
    intra_op_threads,
    make_generator,
    resolve_device,
    train,
    usable_or_cpu,
)
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS, fill_doc  # noqa: F401
from .nn import ACTIVATIONS, MLPAutoencoder, reconstruction_error

FLOAT_DTYPES = (np.float64, np.float32)

# Inference runs in chunks of about this many float32 values per layer
# (16 MiB), so transform on a million rows never holds them all on the device.
_INFERENCE_BUDGET = 1 << 22

# max_iter="auto": epochs enough to pass this many rows through the network.
# Chosen on MNIST (rows 0-50000 to train, 50000-60000 to judge): with the
# cosine schedule, 30 epochs of 50,000 rows reach 0.42x PCA-64's error.
_ROWS_BUDGET = 1_600_000

# Networks with fewer weights than this train on one CPU thread (see
# BaseAutoencoder._training_threads for the measurements).
_SMALL_NETWORK_WEIGHTS = 150_000

# precision="auto" uses bfloat16 from this hidden width on (AMX CPUs): at
# (512, 256) and (1024, 512) on MNIST the epoch took 0.58x and 0.44x the
# float32 time with the same test error.
_BF16_MIN_WIDTH = 256


# Rows sampled to tell which features are mostly one value (their quartiles),
# and to set offset_ for the plain reconstruction score: the share of rows a
# quantile from 2,000 rows flags is within about 0.7 percentage points of
# contamination=0.1, and the pass over all rows cost 10% of a short fit.
_QUANTILE_ROWS = 2_000
_OFFSET_ROWS = 2_000

# Features whose scales (standard deviations, floored as in _fit_scaling) lie
# within this factor of each other are taken to share a unit, so that the
# linear fallback also offers PCA of X itself (see _linear_if_better).
_SHARED_UNIT_SPREAD = 10.0


def _mean_and_variance(X):
    """Per-feature mean and variance in float64, without a float64 copy of X."""
    if sp.issparse(X):
        return mean_variance_axis(X, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = X.mean(axis=0, dtype=np.float64)
        for dtype in (X.dtype, np.float64):
            centre = mean.astype(dtype)
            total = np.zeros(X.shape[1])
            for start in range(0, X.shape[0], 2048):
                # Centred first, so float32 chunks lose nothing that matters.
                part = X[start : start + 2048].astype(dtype, copy=False) - centre
                part *= part
                total += part.sum(axis=0)
            # Squares of large float32 values overflow where float64 holds them.
            if np.all(np.isfinite(total)):
                break
    return mean, total / max(X.shape[0], 1)


def _pooled_statistics(parts):
    """Mean, variance and quartile sample of the rows of every rank.

    ``parts``: one ``(n_rows, mean, variance, sample)`` per rank. The
    variances pool exactly (Chan et al.); the sample is every rank's, so the
    quartiles are those of a sample of all rows.
    """
    counts = np.array([n for n, _, _, _ in parts], dtype=np.float64)
    means = np.stack([np.asarray(m, dtype=np.float64) for _, m, _, _ in parts])
    variances = np.stack([np.asarray(v, dtype=np.float64) for _, _, v, _ in parts])
    total = max(counts.sum(), 1.0)
    mean = (counts[:, None] * means).sum(axis=0) / total
    spread = counts[:, None] * (variances + (means - mean) ** 2)
    sample = np.concatenate([s for _, _, _, s in parts if len(s)], axis=0)
    return mean, spread.sum(axis=0) / total, sample


def _float_dtype(X):
    """The float dtype results take for input ``X``: float32 stays, the rest float64."""
    dtype = getattr(X, "dtype", None)
    if dtype is None and hasattr(X, "dtypes"):  # a DataFrame: its common dtype
        dtype = np.result_type(*X.dtypes)
    return np.float32 if dtype == np.float32 else np.float64


def _is_dask(X):
    """A Dask array or DataFrame (checked by module, so Dask need not be installed)."""
    return type(X).__module__.split(".")[0] == "dask"


class _OnBlock:
    """An estimator's method applied to one block or partition of rows.

    It names itself to Dask (``__dask_tokenize__``): Dask would otherwise hash
    the estimator it carries (a torch module), which it cannot do
    deterministically. One name per call, so no stale result is reused.
    """

    def __init__(self, fn, columns, dtype):
        import uuid

        self.fn, self.columns, self.dtype = fn, columns, dtype
        self.token = f"sklearn_ae-{getattr(fn, '__name__', 'apply')}-{uuid.uuid4().hex}"

    def __dask_tokenize__(self):
        return self.token

    def __call__(self, block):
        out = self.fn(block)
        if not hasattr(block, "columns"):
            return out
        import pandas as pd

        if self.columns is None:
            return pd.Series(out, index=block.index, dtype=self.dtype)
        return pd.DataFrame(out, index=block.index, columns=self.columns)


def _over_blocks(fn, X, columns, dtype):
    """Apply ``fn`` to each block of rows of a Dask collection, lazily.

    ``columns``: names of the output's columns (None for one value per row).
    Blocks are whole rows (all columns), so each worker runs the estimator's
    own method on its blocks; nothing is gathered on the client.
    """
    on_block = _OnBlock(fn, columns, dtype)
    if hasattr(X, "columns"):  # a Dask DataFrame: pandas partitions, names kept
        import pandas as pd

        meta = (pd.Series([], dtype=dtype) if columns is None else
                pd.DataFrame({c: pd.Series([], dtype=dtype) for c in columns}))
        return X.map_partitions(on_block, meta=meta, token=on_block.token)
    X = X.rechunk({1: -1})
    if columns is None:
        return X.map_blocks(on_block, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype),
                            name=on_block.token)
    return X.map_blocks(on_block, chunks=(X.chunks[0], (len(columns),)), dtype=dtype,
                        meta=np.empty((0, 0), dtype), name=on_block.token)


def _sample_rows(n_rows, n_sample):
    """Sorted indices of ``n_sample`` of ``n_rows`` rows, the same draw on every call.

    A fixed seed, not the fit's: the summaries taken from a sample (quartiles,
    offset_) then do not move between seeds, and the fit's draws keep their
    order.
    """
    return np.sort(np.random.RandomState(0).permutation(n_rows)[:n_sample])


def _layer_sizes(name, value):
    """``value`` (an int or a sequence of them) as a tuple of positive ints, or an error."""
    sizes = list(value) if np.iterable(value) else [value]
    if not all(isinstance(h, Integral) and not isinstance(h, bool) and h > 0 for h in sizes):
        raise ValueError(f"{name} must hold positive integers only, got {value!r}.")
    return tuple(int(h) for h in sizes)


def _comparable(value):
    """A parameter value in a form that compares by content (lists as tuples)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_comparable(v) for v in value)
    return value


def _inlier_labels(decision):
    """+1 where ``decision >= 0``, else -1.

    A row whose score is NaN (values so large the network overflows) is an
    outlier, never an inlier by default of a comparison.
    """
    return np.where(decision >= 0, 1, -1)


def _cpu_has_amx():
    """Whether this CPU has AMX tiles for bfloat16 (PyTorch's own probe)."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe and probe())
    except Exception:  # a probe that fails means no AMX we can rely on
        return False


class _SparseRows:
    """Scipy CSR rows that become dense, scaled tensors one batch at a time.

    Stands in for the training tensor in the training loop, which only needs
    ``shape``, ``device`` and ``rows[index]``; the whole matrix is never made
    dense.
    """

    def __init__(self, X, estimator, device):
        self.X = X.tocsr()
        self.estimator = estimator
        self.device = device
        self.shape = X.shape

    def __getitem__(self, index):
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        part = self.X[index].toarray()
        return _as_tensor(self.estimator._standardized(part), self.device)


class _StreamPart:
    """Which rows of a file-backed X a training reads: see StreamedRows."""

    def __init__(self, part, fraction, seed):
        self.part, self.fraction, self.seed = part, fraction, seed


def _as_tensor(array, device, dtype=np.float32):
    """Tensor on ``device`` from a numpy array, never sharing read-only memory."""
    array = np.asarray(array, dtype=dtype)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, dtype=dtype, order="C")
    return torch.from_numpy(array).to(device)


def _optimizer_state_to_cpu(state):
    """Copy of an optimizer ``state_dict`` with every tensor on the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu")
    if isinstance(state, dict):
        return {k: _optimizer_state_to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_optimizer_state_to_cpu(v) for v in state]
    return state


@fill_doc
class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    OutlierMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the autoencoders; not for direct use.

    Everything a user calls lives here. A variant is a subclass with an
    explicit ``__init__`` and ``_build_module``; it overrides only the hooks
    where it differs from a plain autoencoder. The hooks and their defaults:

    - ``_build_module(n_features)`` (required): a fresh torch module with
      ``encode``, ``decode`` and ``forward``.
    - ``_network_params``: names of the parameters that shape the network;
      a warm start refuses to change them. Default: ``n_components``,
      ``hidden_layer_sizes``, ``activation``.
    - ``_check_params()``: checks the constraints cannot express, on every
      fit, cold or warm. Default: layer sizes are positive integers.
    - ``_validate_y(y, n_samples, reset)``: per-row side information for
      training. Default: ignore ``y``.
    - ``_init_from_data(X)``: learn what the variant needs from the raw
      training rows on a new fit (``_feature_range`` gives standardised
      extremes). Default: nothing.
    - ``_make_optimizers(module, batch_size)``: default one fused Adam with
      the L2 penalty ``alpha`` on weights.
    - ``_train_step(module, optimizers, X, y)``: one step; default
      ``_loss``, backward, step.
    - ``_loss(module, X, y)``: mean batch loss; default mean squared error.
      Random draws come from ``self._train_generator``.
    - ``_sample_loss(module, X, y)``: per-row loss whose opposite is
      ``score_samples``; default reconstruction error.
    - ``_validation_loss(module, X, y)``: per-row loss monitored for early
      stopping; default ``_sample_loss``.
    - ``_encode_batch`` / ``_decode_batch``: codes and reconstructions of a
      standardised batch; default ``module.encode`` / ``module.decode``.
    - ``_rows_to_retrain(X, y, seed)``: rows to train a second network on;
      default None (one training per fit).
    - ``_training_scores(X, y, seed, keep)``: learn the outlier score and
      return the training rows' scores; default None (``offset_`` from a
      sample of plain scores).
    - ``_training_threads(module, device)``: CPU threads for training;
      default one below 150,000 weights, else torch's count.
    - ``_chunk_rows(n_features, module)``: rows per inference chunk.

    Parameters
    ----------
{common_parameters}
    """

    # The HTML repr (notebooks) links each estimator to its API page, whose
    # name the docs build gives it: generated/sklearn_ae.<Class>.html.
    _doc_link_module = "sklearn_ae"
    _doc_link_template = (
        "https://sklearn-ae.readthedocs.io/en/latest/generated/"
        "{estimator_module}.{estimator_name}.html"
    )

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_layer_sizes": [
            StrOptions({"auto"}), "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"cosine", "constant"})],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "contamination": [Interval(Real, 0, 0.5, closed="right"), StrOptions({"auto"})],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    @abstractmethod
    def __init__(
        self,
        n_components=None,
        *,
        hidden_layer_sizes="auto",
        activation="relu",
        alpha=1e-4,
        batch_size="auto",
        max_iter="auto",
        learning_rate_init=3e-3,
        learning_rate="cosine",
        precision="auto",
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        standardize=True,
        contamination=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.precision = precision
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.standardize = standardize
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------
    # Hooks for variants
    # ------------------------------------------------------------------
    # The generator of the fit in progress: training hooks draw their noise
    # from it. None outside a fit, where draws fall back to torch's global one.
    _train_generator = None
    # The process group of a data-parallel fit in progress; None otherwise.
    _group = None

    @abstractmethod
    def _build_module(self, n_features: int) -> torch.nn.Module:
        """Return a fresh torch module with ``encode``, ``decode`` and ``forward``."""

    def _loss(self, module, X, y):
        """Mean training loss of a batch (a scalar tensor with a gradient)."""
        # Equal to reconstruction_error(...).mean(), in one fused kernel.
        return torch.nn.functional.mse_loss(module(X), X)

    def _sample_loss(self, module, X, y):
        """Per-row loss whose opposite is ``score_samples`` (no gradient needed)."""
        return reconstruction_error(module(X), X)

    def _validation_loss(self, module, X, y):
        """Per-row loss monitored for early stopping, on the scale of ``_loss``."""
        return self._sample_loss(module, X, y)

    def _encode_batch(self, module, X, y):
        """Codes of a standardised batch (what ``transform`` returns)."""
        return module.encode(X)

    def _decode_batch(self, module, Z, y):
        """Standardised reconstructions of a batch of codes."""
        return module.decode(Z)

    def _init_from_data(self, X):
        """Learn what a variant needs from the training rows ``X`` (a new fit only).

        ``X`` is as the user passed it (dense or CSR, not standardised);
        :meth:`_feature_range` gives each feature's range as the network
        sees it without a standardised copy of X.
        """

    def _feature_range(self, X):
        """Per-feature minimum and maximum of the standardised ``X``.

        Standardising is increasing in each feature (``scale_ > 0``), so the
        extremes are those of X, standardised: no copy of X is made.
        """
        low, high = X.min(axis=0), X.max(axis=0)
        if sp.issparse(X):
            low, high = low.toarray().ravel(), high.toarray().ravel()
        if self._group is not None:
            low = self._group.reduce(np.asarray(low, dtype=np.float64), "min")
            high = self._group.reduce(np.asarray(high, dtype=np.float64), "max")
        low = (np.asarray(low, dtype=np.float64) - self.mean_) / self.scale_
        high = (np.asarray(high, dtype=np.float64) - self.mean_) / self.scale_
        return low.astype(X.dtype), high.astype(X.dtype)

    def _make_optimizers(self, module, batch_size):
        """Adam, with the L2 penalty ``alpha`` on weights but not on biases."""
        decay = [p for p in module.parameters() if p.ndim > 1]
        no_decay = [p for p in module.parameters() if p.ndim <= 1]
        # MLPRegressor's scale: its loss is 0.5 * MSE + 0.5 * alpha * ||W||^2 /
        # batch_size. Ours is the MSE, hence twice both terms. Taking alpha
        # unscaled as Adam's weight decay was measured to hold MNIST test MSE
        # at 0.025 instead of 0.011 after 20 epochs.
        groups = [{"params": decay, "weight_decay": 2.0 * self.alpha / batch_size}]
        if no_decay:
            groups.append({"params": no_decay, "weight_decay": 0.0})
        # The fused kernel updates all tensors at once: measured here, a 25%
        # shorter MNIST epoch on the CPU than the default per-tensor loop.
        return [torch.optim.Adam(groups, lr=self.learning_rate_init, fused=True)]

    def _train_step(self, module, optimizers, X, y):
        """One optimisation step on a batch; returns the detached batch loss."""
        (optimizer,) = optimizers
        optimizer.zero_grad(set_to_none=True)
        loss = self._loss(module, X, y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    # Parameters that shape the network: a warm start keeps the fitted one,
    # so it refuses a change to any of them.
    _network_params = ("n_components", "hidden_layer_sizes", "activation")

    def _check_params(self):
        """Check what the parameter constraints cannot express; every fit, cold or warm."""
        if not isinstance(self.hidden_layer_sizes, str):
            _layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)

    def _validate_y(self, y, n_samples, reset):
        """Per-row side information for training; plain autoencoders ignore ``y``."""
        return None

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in its own units: with ``standardize=True`` each
            feature is centred and scaled inside the estimator.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._unchanged_on_failure(self._fit, X, y)

    def _unchanged_on_failure(self, train, X, y):
        """Run ``train(X, y)``; if it fails, restore every attribute it may have touched.

        A fit that fails (bad input, diverging loss) leaves a fitted model
        exactly as it was.
        """
        previous = dict(self.__dict__)
        # The torch.distributed group this call trains across, if any (see
        # _distributed.py); transient, like the fit's generator.
        self._group = current_group()
        try:
            train(X, y)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        finally:
            self.__dict__.pop("_group", None)
        return self

    def _check_network(self, continuing, how):
        """Check the parameters; when ``continuing``, that the network's are unchanged."""
        self._check_params()
        network = {name: _comparable(getattr(self, name)) for name in self._network_params}
        if continuing:
            changed = [k for k, v in network.items() if v != self._network_signature.get(k)]
            if changed:
                raise ValueError(
                    f"{how} trains the fitted network further, but "
                    + ", ".join(f"{k} changed from {self._network_signature.get(k)!r} "
                                f"to {network[k]!r}" for k in changed)
                    + " since it was built. Call fit (with warm_start=False) to train "
                    "a new one."
                )
        self._network_signature = network

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on ``X`` for one pass (epoch), continuing from the current network.

        As :meth:`MLPRegressor.partial_fit <sklearn.neural_network.MLPRegressor.partial_fit>`:
        the first call (on an unfitted estimator) sets ``n_features_in_``, the
        standardisation and the network; each call takes one shuffled pass
        over the rows given, with the optimiser's moments carried from call to
        call. There is no early stopping and no learning-rate schedule: steps
        use ``learning_rate_init`` throughout. After :meth:`fit`, it continues
        training the fitted network; :meth:`fit` afterwards starts afresh
        (unless ``warm_start=True``). Bad input leaves the model as it was.

        The standardisation (``mean_``, ``scale_``) is learnt from the first
        call's rows and then frozen: the network's inputs keep one meaning
        throughout, as data streamed in chunks needs. Give the first call a
        representative chunk. ``offset_`` and the statistics of the outlier
        score are re-learnt from each call's rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training rows, in the units of the first chunk.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The estimator, trained one pass further.
        """
        return self._unchanged_on_failure(self._partial_fit, X, y)

    def _partial_fit(self, X, y):
        first = not hasattr(self, "module_")
        self._check_network(not first, "partial_fit")
        X = self._validate_training_rows(X, reset=first)
        y = self._validate_y(y, X.shape[0], reset=first)
        if self._group is not None:
            self._check_distributed(X)
        device = resolve_device(self.device)
        if first:
            self._init_network_settings(X)
            self.n_iter_, self.loss_curve_, self.validation_scores_ = 0, [], None
        # One seed per call, from random_state and the number of calls so far:
        # a seeded sequence of calls is reproducible, and calls differ.
        base = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        seed = int((int(base) + 7919 * self.n_iter_) % np.iinfo(np.int32).max)
        self.device_ = device
        self.precision_ = self._resolve_precision(device)
        self.max_iter_ = 1
        module, optimizers, history = self._train_module(
            X, y, None, None, seed, device, warm=not first, learning_rate="constant")
        self.module_ = module
        self._optimizer_state = [optimizer.state_dict() for optimizer in optimizers]
        self.n_iter_ += history.n_iter
        self.loss_curve_ = self.loss_curve_ + history.loss_curve
        self.best_loss_ = history.best_loss
        train_scores = self._training_scores(X, y, seed, None)
        self.offset_ = self._fit_offset(X, y, train_scores)

    def _validate_training_rows(self, X, reset):
        """Training rows checked (and, with ``reset``, recorded): dense float or CSR."""
        X = validate_data(
            self, X, reset=reset, dtype=FLOAT_DTYPES, accept_sparse=("csr", "csc")
        )
        # Rows are sliced per batch: CSR makes that cheap.
        return X.tocsr() if sp.issparse(X) else X

    def _init_network_settings(self, X):
        """What a new network is built from: its sizes, the scaling, the variant's data."""
        n_features = X.shape[1]
        self.n_components_ = (
            self.n_components if self.n_components is not None
            else max(1, min(32, n_features // 2))
        )
        self.hidden_layer_sizes_ = self._hidden_layer_sizes(n_features)
        self.mean_, self.scale_ = self._fit_scaling(X)
        self._init_from_data(X)

    # Whether hidden_layer_sizes="auto" may end as the linear autoencoder
    # (PCA's subspace) when that reconstructs the validation rows better.
    _linear_fallback = False
    # Widest data the comparison takes (it holds a features x features
    # covariance in float64: 32 MB at 2048).
    _LINEAR_MAX_FEATURES = 2048
    # Rows it reads at most, per role: its cost is rows x features^2, and
    # where rows are this many the network wins by far (PCA's subspace from
    # 50,000 rows is as good as from all of them).
    _LINEAR_MAX_ROWS = 50_000

    def _linear_if_better(self, X, train_rows, val_rows):
        """``(module, loss)`` of a PCA autoencoder unless the network clearly beats it.

        Linear candidates from one covariance of the standardised training
        rows (built chunk by chunk: no copy of the rows): PCA of the
        standardised rows and, where the features share a unit (their scales
        within ``_SHARED_UNIT_SPREAD`` of each other, as pixels), PCA of the
        rows in X's own units (what :class:`~sklearn.decomposition.PCA` on X
        computes). They and the network are judged on the validation rows by
        mean squared error in X's units where the features share one (the
        units a user compares reconstructions in), else in standardised
        units (where X's units would let the largest-scale feature alone
        decide). On small tables a network overfits rows that a
        k-dimensional subspace generalises from, and on pixels of one unit
        standardisation weights rare pixels up: this keeps ``Autoencoder``
        from losing to ``PCA`` on held-out rows there. Returns None (keep
        the network) when the network wins by more than one standard error;
        else the linear module and its validation loss on the scale of the
        training loss (standardised units).
        """
        if not (
            self._linear_fallback
            and isinstance(self.hidden_layer_sizes, str)
            and isinstance(val_rows, np.ndarray)
            and not sp.issparse(X)
            and self._group is None
            and X.shape[1] <= self._LINEAR_MAX_FEATURES
            and self.n_components_ < min(len(train_rows), X.shape[1])
        ):
            return None

        def capped(rows):
            if len(rows) <= self._LINEAR_MAX_ROWS:
                return rows
            return rows[_sample_rows(len(rows), self._LINEAR_MAX_ROWS)]

        train_rows, val_rows = capped(train_rows), capped(val_rows)
        scale = np.asarray(self.scale_, dtype=np.float64)

        def chunks(rows):
            step = max(1, (1 << 20) // X.shape[1])
            for start in range(0, len(rows), step):
                yield self._standardized(X[rows[start : start + step]]).astype(np.float64)

        def moments(rows):
            """Mean and covariance of the standardised ``rows``."""
            mean = sum(part.sum(axis=0) for part in chunks(rows)) / len(rows)
            covariance = np.zeros((X.shape[1], X.shape[1]))
            for part in chunks(rows):
                part -= mean
                covariance += part.T @ part
            return mean, covariance / len(rows)

        def linear_model(mean, covariance, in_x_units):
            """``(mean, encoder, decoder)`` of one PCA, in standardised units."""
            if in_x_units:
                # PCA in X's units: x - mean_x = scale * (u - mean_u), so its
                # components V map back to standardised units as V / scale.
                _, raw = np.linalg.eigh(covariance * scale[:, None] * scale[None, :])
                raw = raw[:, ::-1][:, : self.n_components_]  # largest first
                return mean, raw.T * scale[None, :], raw / scale[:, None]
            _, vectors = np.linalg.eigh(covariance)
            vectors = vectors[:, ::-1][:, : self.n_components_]
            return mean, vectors.T, vectors

        def errors(rebuild):
            """Per validation row: squared error in X's units and in standardised ones."""
            user, standard = [], []
            for part in chunks(val_rows):
                residual = rebuild(part) - part
                standard.append(np.mean(residual**2, axis=1))
                user.append(np.mean((residual * scale) ** 2, axis=1))
            return np.concatenate(user), np.concatenate(standard)

        def linear_rebuild(model):
            mean, encoder, decoder = model
            return lambda part: mean + ((part - mean) @ encoder.T) @ decoder.T

        network = self.module_
        network.eval()

        def network_rebuild(part):
            rows = torch.from_numpy(part.astype(np.float32)).to(self.device_)
            return network(rows).double().cpu().numpy()

        mean, covariance = moments(train_rows)
        # PCA of X is what a user would compare with only where the features
        # share a unit, as pixels do (spreads within 10x of each other, rarely
        # varying features counted at the floor they are scaled by); where
        # spreads differ by orders of magnitude a user standardises before
        # PCA, and PCA of X would ignore the small features.
        spread = scale[np.diag(covariance) > 0]
        with_raw = bool(np.any(scale != 1.0) and len(spread)
                        and spread.max() <= _SHARED_UNIT_SPREAD * spread.min())
        kinds = (False, True) if with_raw else (False,)
        with torch.no_grad():
            models = [linear_model(mean, covariance, in_x_units) for in_x_units in kinds]
            # One unit judges: X's where the features share one (what a user
            # comparing with PCA of X measures), else the standardised one
            # (every feature weighed alike, as a user standardising first
            # would measure; in X's units the largest-scale feature alone
            # would decide).
            judged = 0 if with_raw else 1
            learnt = errors(network_rebuild)[judged]
            candidates = [(model, *errors(linear_rebuild(model))) for model in models]
        best = min(range(len(candidates)),
                   key=lambda i: float(np.mean(candidates[i][1 + judged])))
        _, linear, linear_standard = candidates[best]
        linear = (linear, linear_standard)[judged]
        gaps = linear - learnt  # > 0 where the network does better
        # Breiman's one-standard-error rule: the network, the more complex
        # model, stays only if it beats PCA by more than the standard error
        # of the difference on these rows (a few dozen validation rows of a
        # small table cannot tell a small win from luck).
        standard_error = float(np.std(gaps, ddof=1) / np.sqrt(len(gaps))) if len(gaps) > 1 else 0.0
        loss = float(np.mean(linear_standard))
        if not (np.isfinite(loss) and np.isfinite(np.mean(linear))) or (
                float(np.mean(gaps)) > standard_error):
            return None
        # Chosen: the same PCA of every training row, the validation rows
        # included (on a small table a tenth of the rows matters); ``loss``
        # stays the held-out estimate.
        mean, encoder, decoder = linear_model(
            *moments(np.sort(np.concatenate([train_rows, val_rows]))), kinds[best])
        module = MLPAutoencoder(X.shape[1], self.n_components_, ())
        with torch.no_grad():
            layer_in, layer_out = module.encoder[0], module.decoder[0]
            layer_in.weight.copy_(torch.from_numpy(np.ascontiguousarray(encoder)))
            layer_in.bias.copy_(torch.from_numpy(-(encoder @ mean)))
            layer_out.weight.copy_(torch.from_numpy(np.ascontiguousarray(decoder)))
            layer_out.bias.copy_(torch.from_numpy(mean))
        return module.to(self.device_), loss

    def _check_distributed(self, X):
        """Refuse what a data-parallel fit cannot do; the same answer on every rank.

        Every rank checks what every rank passed (gathered), so that all
        raise together rather than some waiting forever for the others.
        """
        group = self._group
        seen = group.gather((X.shape[1], getattr(self, "classes_", None) is not None and
                             [repr(c) for c in self.classes_]))
        widths = [width for width, _ in seen]
        if len(set(widths)) > 1:
            raise ValueError(
                f"every rank of a data-parallel fit must pass rows of the same width; "
                f"ranks 0 to {group.size - 1} passed {widths} features."
            )
        if any(classes != seen[0][1] for _, classes in seen):
            raise ValueError(
                "every rank of a data-parallel fit must see the same classes of y (its "
                "rows of every class); they differ between ranks."
            )
        if not sp.issparse(X) and is_file_backed(X):
            raise ValueError(
                "a data-parallel fit (torch.distributed) takes each rank's rows in "
                "memory; pass np.asarray(X[rows]) of the rank's share rather than a "
                "memmap."
            )

    def _fit(self, X, y):
        warm = self.warm_start and hasattr(self, "module_")
        self._check_network(warm, "warm_start=True")
        X = self._validate_training_rows(X, reset=not warm)
        n_samples, n_features = X.shape
        y = self._validate_y(y, n_samples, reset=not warm)
        group = self._group
        if group is not None:
            self._check_distributed(X)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if group is not None:
            # One initial network on every rank, whatever random_state is.
            seed = int(group.broadcast(seed))
        if group is None and not sp.issparse(X) and is_file_backed(X):
            # A memmap is read chunk by chunk, never copied whole: the split is
            # drawn per chunk (no index of all rows), see _streaming.py.
            fraction = self.validation_fraction if self.early_stopping else 0.0
            split_seed = int(rng.randint(np.iinfo(np.int32).max))
            train_rows = _StreamPart("train" if fraction else "all", fraction, split_seed)
            val_rows = _StreamPart("validation", fraction, split_seed) if fraction else None
            n_train = int(round(n_samples * (1.0 - fraction)))
        else:
            train_rows, val_rows = self._split_rows(n_samples, rng)
            n_train = n_samples if train_rows is None else len(train_rows)
        density_seed = int(rng.randint(np.iinfo(np.int32).max))

        if group is not None:
            n_train = int(group.sum([n_train])[0])
        if not warm:
            self._init_network_settings(X)
        self.device_ = device
        self.precision_ = self._resolve_precision(device)
        self.max_iter_ = self._resolve_max_iter(n_train)

        module, optimizers, history = self._train_module(
            X, y, train_rows, val_rows, seed, device, warm)
        self.module_ = module
        histories = [history]
        keep = None
        if not (warm or history.interrupted):
            keep = self._rows_to_retrain(X, y, density_seed)
        if keep is not None:
            seed = int(rng.randint(np.iinfo(np.int32).max))
            train_rows, val_rows = self._split_rows(len(keep), rng)
            module, optimizers, history = self._train_module(
                X[keep], None if y is None else y[keep], train_rows, val_rows, seed,
                device, warm=False, stage=" (refit without the flagged rows)")
            self.module_ = module
            histories.append(history)
        linear = None
        if keep is None and not (warm or history.interrupted):
            linear = self._linear_if_better(X, train_rows, val_rows)
        if linear is not None:
            # The network did not beat PCA on rows it never trained on: the
            # linear autoencoder (PCA's subspace) is the model.
            self.module_, history.best_loss = linear
            self.hidden_layer_sizes_ = ()
            optimizers = []
        if history.interrupted:
            warnings.warn(
                f"{type(self).__name__} training was interrupted after "
                f"{sum(h.n_iter for h in histories)} epoch(s); the model keeps the "
                "best weights so far.",
                UserWarning,
                stacklevel=3,
            )
        self._optimizer_state = [optimizer.state_dict() for optimizer in optimizers]
        # loss_curve_ and n_iter_ describe every training of this fit (the
        # first network's and the refit's); best_loss_ is the returned one's.
        loss_curve = [v for h in histories for v in h.loss_curve]
        validation = None
        if history.validation_scores is not None:
            validation = [v for h in histories for v in (h.validation_scores or [])]
        n_iter = sum(h.n_iter for h in histories)
        if warm:
            self.n_iter_ += n_iter
            self.loss_curve_ = self.loss_curve_ + loss_curve
            if validation is not None:
                self.validation_scores_ = (self.validation_scores_ or []) + validation
        else:
            self.n_iter_ = n_iter
            self.loss_curve_ = loss_curve
            self.validation_scores_ = validation
        self.best_loss_ = history.best_loss
        # A cosine schedule that ran its course has converged by design: its
        # last epochs take steps near zero. Only a constant rate that ran out
        # of epochs while still improving is worth a warning.
        if (self._warn_unconverged and self.learning_rate == "constant"
                and not (history.converged or history.interrupted)):
            warnings.warn(
                f"{type(self).__name__} ran max_iter={self.max_iter_} epochs and the "
                "loss was still improving; consider a larger max_iter or "
                "learning_rate='cosine'.",
                ConvergenceWarning,
            )
        # offset_ from all training rows, as contamination says.
        train_scores = self._training_scores(X, y, density_seed, keep)
        self.offset_ = self._fit_offset(X, y, train_scores)
        return self

    # Whether a constant-rate fit that ends on max_iter while still improving
    # warns. A detector whose epoch budget is one of its measured settings
    # (a longer fit memorises more anomalies) sets it False.
    _warn_unconverged = True

    def _training_threads(self, module, device):
        """Most CPU threads a training step may use (torch's own count or fewer).

        A small network's step is too short to share: on 2 cores, one thread
        trained 64- and 128-feature tables as fast as two (1.0x, 1.09x), and
        when another process held a core, two threads took 16 s where one
        took 0.33 s (OpenMP threads waiting for a descheduled peer). From
        about 200,000 weights on, two threads were 1.2-1.6x faster idle.
        """
        if device.type != "cpu":
            return torch.get_num_threads()
        weights = sum(p.numel() for p in module.parameters() if p.ndim > 1)
        return 1 if weights < _SMALL_NETWORK_WEIGHTS else torch.get_num_threads()

    def _resolve_precision(self, device):
        if self.precision != "auto":
            return self.precision
        wide = max(self.hidden_layer_sizes_, default=0) >= _BF16_MIN_WIDTH
        return "bfloat16" if device.type == "cpu" and wide and _cpu_has_amx() else "float32"

    def _resolve_max_iter(self, n_train):
        if self.max_iter != "auto":
            return int(self.max_iter)
        return int(np.clip(np.ceil(_ROWS_BUDGET / max(n_train, 1)), 20, 200))

    def _train_module(self, X, y, train_rows, val_rows, seed, device, warm, stage="",
                      learning_rate=None):
        """Train the network (a copy of the fitted one when warm) on the rows of ``X``."""
        group = self._group

        def to_device(rows):
            if isinstance(rows, _StreamPart):
                return StreamedRows(X, y, self, device, part=rows.part,
                                    fraction=rows.fraction, seed=rows.seed)
            if sp.issparse(X):
                return _SparseRows(X if rows is None else X[rows], self, device)
            return self._training_tensor(X, rows, device)

        def y_to_device(rows):
            if y is None or isinstance(rows, _StreamPart):
                # Streamed rows carry their own y.
                return None
            return torch.as_tensor(y if rows is None else y[rows], device=device)

        X_train, y_train = to_device(train_rows), y_to_device(train_rows)
        if val_rows is not None:
            X_val, y_val = to_device(val_rows), y_to_device(val_rows)

        batch_size = (
            min(256, X_train.shape[0])
            if self.batch_size == "auto"
            else min(self.batch_size, X_train.shape[0])
        )
        rows_per_epoch = None
        if group is not None:
            # The same steps on every rank: the smallest batch, and each
            # epoch padded to the largest share of rows.
            batch_size = int(group.reduce([batch_size], "min")[0])
            rows_per_epoch = int(group.reduce([X_train.shape[0]], "max")[0])
        if warm:
            # Train a copy so that a failure leaves the fitted module intact.
            module = copy.deepcopy(self.module_).to(device)
        else:
            # Built on the CPU, so a seed gives the same initial weights on
            # every device.
            with forked_rng(seed):
                module = self._build_module(X.shape[1])
            module = module.to(device)
        if group is not None:
            group.broadcast_module(module)
        # Noise, posterior samples and prior draws during training come from
        # this fit's own generator, never torch's global one, so fits in
        # parallel threads are each what they would be alone (and the ranks
        # of a data-parallel fit draw different noise).
        self._train_generator = make_generator(
            (seed * 2654435761 + 1 + (group.rank if group else 0)) % (2**63 - 1), device)
        with denormals_flushed(device.type == "cpu"), intra_op_threads(
            self._training_threads(module, device)
        ):
            optimizers = self._make_optimizers(module, batch_size)
            if warm:
                # Absent from models pickled or saved with warm_start=False:
                # Adam then starts afresh.
                for optimizer, state in zip(optimizers, getattr(self, "_optimizer_state", [])):
                    # Moments carry over; the rates are this fit's (a finished
                    # cosine schedule saved rates near zero).
                    rates = [g["lr"] for g in optimizer.param_groups]
                    optimizer.load_state_dict(state)
                    for param_group, rate in zip(optimizer.param_groups, rates):
                        param_group["lr"] = rate

            validation_loss = None
            if val_rows is not None:
                validation_loss = self._validation_loss_fn(module, X_val, y_val)

            def step(X_batch, y_batch):
                return self._train_step(module, optimizers, X_batch, y_batch)

            hooks = [] if group is None else group.average_gradients_before_steps(optimizers)
            try:
                history = train(
                    module,
                    step,
                    X_train,
                    y_train,
                    validation_loss=validation_loss,
                    max_iter=self.max_iter_,
                    batch_size=batch_size,
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    generator=torch.Generator().manual_seed(seed),
                    verbose=self.verbose,
                    description=type(self).__name__ + stage,
                    optimizers=optimizers,
                    learning_rate=learning_rate or self.learning_rate,
                    autocast_dtype=(
                        torch.bfloat16 if self.precision_ == "bfloat16" else None
                    ),
                    step_generators=(self._train_generator,),
                    group=group,
                    rows_per_epoch=rows_per_epoch,
                    validation_rows=0 if val_rows is None else X_val.shape[0],
                )
            except FloatingPointError as exc:
                raise FloatingPointError(
                    f"{type(self).__name__} diverged: {exc}. Lower "
                    f"learning_rate_init (now {self.learning_rate_init}), or put "
                    "the features on a common scale (standardize=True, now "
                    f"{self.standardize})."
                ) from exc
            finally:
                del self._train_generator
                for hook in hooks:
                    hook.remove()
        return module, optimizers, history

    # ------------------------------------------------------------------
    # Outlier scores (hooks; OutlierScoreMixin in _outlier.py fills them)
    # ------------------------------------------------------------------
    def _rows_to_retrain(self, X, y, seed):
        """Rows of ``X`` to train a fresh network on after the first, or None.

        Called once per cold fit, after the first training; ``seed`` seeds
        any draws. None (the default): the first network is the model.
        """
        return None

    def _training_scores(self, X, y, seed, keep=None):
        """Learn what the outlier score needs; return the scores of X's rows.

        Called at the end of every fit with the training rows (``keep``: the
        rows the returned network was trained on, None for all). The scores
        returned set ``offset_``; None (the default) lets :meth:`_fit_offset`
        score a sample of rows with :meth:`_score_samples`.
        """
        return None

    def _fit_offset(self, X, y, scores=None):
        """``contamination`` quantile of the training rows' scores.

        From ``scores`` when given (all rows), else from the scores of at most
        ``_OFFSET_ROWS`` rows drawn at random.
        """
        if scores is None:
            if X.shape[0] > _OFFSET_ROWS:
                rows = _sample_rows(X.shape[0], _OFFSET_ROWS)
                X, y = X[rows], None if y is None else y[rows]
            scores = self._score_samples(X, y)
        if self._group is not None:
            # Over every rank's rows: the same offset_ everywhere.
            scores = np.concatenate(self._group.gather(np.asarray(scores)))
        if self.contamination == "auto":
            q1, q3 = np.percentile(scores, [25, 75])
            return float(q1 - 3.0 * (q3 - q1))
        return float(np.percentile(scores, 100.0 * self.contamination))

    def _hidden_layer_sizes(self, n_features):
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, str):  # "auto", the only string the constraints let in
            first = int(np.clip(2 ** int(np.ceil(np.log2(2 * n_features))), 64, 1024))
            return (first, max(first // 2, 2 * self.n_components_))
        return _layer_sizes("hidden_layer_sizes", hidden)

    def _split_rows(self, n_samples, rng):
        """Row indices for training and validation (None: all rows, no validation)."""
        if not self.early_stopping:
            return None, None
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if n_samples - n_val < 1:
            if n_samples < 2:
                raise ValueError(
                    f"early_stopping=True needs at least 2 samples to hold out a "
                    f"validation set, got n_samples={n_samples}. Pass more rows or "
                    "set early_stopping=False."
                )
            raise ValueError(
                f"validation_fraction={self.validation_fraction} holds out "
                f"{n_val} of {n_samples} rows for early stopping and leaves none "
                "to train on. Lower validation_fraction or set early_stopping=False."
            )
        order = rng.permutation(n_samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def _fit_scaling(self, X):
        n_features = X.shape[1]
        if not self.standardize:
            return np.zeros(n_features), np.ones(n_features)
        mean, var = _mean_and_variance(X)
        sample = X
        if X.shape[0] > _QUANTILE_ROWS:
            sample = X[_sample_rows(X.shape[0], _QUANTILE_ROWS)]
        if sp.issparse(sample):
            sample = sample.toarray()
        if self._group is not None:
            mean, var, sample = _pooled_statistics(
                self._group.gather((X.shape[0], mean, var, sample)))
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
            raise ValueError(
                "X is too large to standardise: the mean or variance of "
                f"{int(np.sum(~(np.isfinite(mean) & np.isfinite(var))))} feature(s) "
                "overflows. Rescale X to a smaller range first."
            )
        std = np.sqrt(var)
        # A feature on which most rows share one value (a rarely inked pixel,
        # a rare category, a sensor stuck but for a few blips) has a tiny
        # standard deviation that says nothing of the units its rare values
        # come in: dividing by it would turn a small change at transform time
        # into tens or thousands of units and swamp every output. Such a
        # feature (zero interquartile range) is divided by the median standard
        # deviation of the other features instead, when that is larger. On
        # MNIST this also lowered the test error against plain
        # standardisation and raw pixels alike (see the benchmarks).
        low, high = np.percentile(sample, [25, 75], axis=0)
        mostly_constant = high - low <= 0
        typical = std[~mostly_constant]
        floor = float(np.median(typical)) if len(typical) else 0.0
        scale = np.where(mostly_constant, np.maximum(std, floor), std)
        # Constant features (as StandardScaler) are left unscaled.
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
        return np.asarray(mean, dtype=np.float64), scale

    def _standardized(self, X):
        """``(X - mean_) / scale_`` in X's own float dtype, skipped when it is a no-op."""
        if not (np.any(self.mean_) or np.any(self.scale_ != 1.0)):
            return X
        # Values beyond the dtype's range become inf here; callers turn them
        # into an error (fit) or the worst score (inference).
        with np.errstate(over="ignore", invalid="ignore"):
            out = X - self.mean_.astype(X.dtype, copy=False)
            out /= self.scale_.astype(X.dtype, copy=False)
        return out

    def _training_tensor(self, X, rows, device):
        """Standardised float32 rows ``rows`` of dense ``X`` (all when None) on ``device``.

        Built chunk by chunk into one float32 array, so the extra memory is
        that array alone, whatever X's dtype; when nothing needs changing
        (float32, no scaling, all rows) X itself is used without a copy.
        """
        no_op = not (np.any(self.mean_) or np.any(self.scale_ != 1.0))
        if rows is None and no_op and X.dtype == np.float32:
            return _as_tensor(X, device)
        n_rows = X.shape[0] if rows is None else len(rows)
        out = np.empty((n_rows, X.shape[1]), dtype=np.float32)
        # Chunks of 1 M values: their two transient copies stay a few MB.
        step = max(1, (1 << 20) // max(X.shape[1], 1))
        for start in range(0, n_rows, step):
            stop = min(start + step, n_rows)
            chunk = X[start:stop] if rows is None else X[rows[start:stop]]
            out[start:stop] = self._standardized(chunk)
            if not np.isfinite(out[start:stop]).all():
                raise ValueError(
                    "X has values that overflow float32, the network's precision, "
                    f"after standardisation (largest |X| {float(np.abs(chunk).max()):.3g}). "
                    "Rescale X to a smaller range."
                )
        return torch.from_numpy(out).to(device)

    def _validation_loss_fn(self, module, X_val, y_val):
        """Mean per-row loss of the validation rows, as a device scalar."""
        chunk = self._chunk_rows(X_val.shape[1], module)

        def parts():
            if hasattr(X_val, "chunks"):
                # Streamed from a file: the source's chunks, in file order.
                yield from X_val.chunks()
            else:
                yield X_val, y_val

        def validation_loss():
            module.eval()
            total = torch.zeros((), device=X_val.device)
            with torch.no_grad():
                for rows, conditions in parts():
                    for start in range(0, rows.shape[0], chunk):
                        y_chunk = (None if conditions is None
                                   else conditions[start : start + chunk])
                        total += self._validation_loss(
                            module, rows[start : start + chunk], y_chunk
                        ).sum()
            return total / X_val.shape[0]

        return validation_loss

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def _chunk_rows(self, n_features, module):
        widest = max(n_features, self.n_components_, *self.hidden_layer_sizes_)
        return max(1, _INFERENCE_BUDGET // widest)

    def _apply(self, fn, A, y=None, standardize=True, out_dtype=np.float64):
        """Run ``fn(module, A_chunk, y_chunk)`` over chunks of ``A`` on the device.

        Returns a numpy array with the chunks' results stacked, in
        ``out_dtype`` (float64 when ``fn`` does not return one row per row).
        """
        module = self.module_
        module.eval()
        dtype = np.float32
        if A.dtype == np.float64:
            # float64 input is computed in float64, as scikit-learn estimators
            # do: float32 matrix products (MKL on the CPU, cuBLAS on a GPU)
            # pick kernels by the number of rows and round differently, so a
            # row's result would depend on its batch in the 7th digit.
            # Pass float32 for speed (about 3x on CPU transform).
            dtype = np.float64
            module = copy.deepcopy(module).to(torch.float64)
        chunk = self._chunk_rows(A.shape[1], module)
        out = []
        filled = None  # the output, once its shape is known, when fn is per row
        overflowed = False
        with torch.inference_mode():
            for start in range(0, A.shape[0], chunk):
                part = A[start : start + chunk]
                if sp.issparse(part):
                    part = part.toarray()
                if standardize:
                    part = self._standardized(part)
                y_part = None
                if y is not None:
                    y_part = torch.as_tensor(y[start : start + chunk], device=self.device_)
                tensor = _as_tensor(part, self.device_, dtype)
                overflowed = overflowed or not bool(torch.isfinite(tensor).all())
                result = fn(module, tensor, y_part).to("cpu")
                if start == 0 and result.shape[0] == tensor.shape[0]:
                    # One row out per row in: fill one array in out_dtype
                    # rather than stacking chunks and converting (3 copies).
                    filled = np.empty((A.shape[0], *result.shape[1:]), dtype=out_dtype)
                if filled is not None:
                    filled[start : start + len(result)] = result.numpy()
                else:
                    out.append(result.to(torch.float64).numpy())
        if overflowed:
            warnings.warn(
                f"X has values that overflow {np.dtype(dtype).name} in the network's "
                "units; their results are not finite (scores -inf, so predict "
                "calls them outliers). Pass X as float64 to compute them.",
                RuntimeWarning,
                stacklevel=3,
            )
        return filled if filled is not None else np.concatenate(out, axis=0)

    def _input_names(self):
        """Names of the input features: those seen in fit, else x0, x1, ..."""
        if hasattr(self, "feature_names_in_"):
            return list(self.feature_names_in_)
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _validate_rows(self, X):
        """Rows to predict on, checked against the fit: dense float or CSR."""
        X = validate_data(
            self, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=("csr", "csc")
        )
        return X.tocsr() if sp.issparse(X) else X

    def _score_samples(self, X, y=None):
        # Negated in place: on 10^7 rows each copy of the scores is 76 MB.
        scores = self._apply(self._sample_loss, X, y)
        return np.negative(scores, out=scores)

    def _public_scores(self, X, y=None):
        """:meth:`_score_samples`, where a score that overflowed (NaN) is -inf.

        Input validation lets no NaN in, so a NaN score comes from a row too
        extreme to compute: the most anomalous row there is, never an inlier.
        """
        scores = np.asarray(self._score_samples(X, y), dtype=np.float64)
        # In place: the scores are this call's own array.
        np.copyto(scores, -np.inf, where=np.isnan(scores))
        return scores

    def transform(self, X):
        """Encode ``X`` into its codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, of ``X``'s float dtype.
        """
        check_is_fitted(self)
        if _is_dask(X):
            return _over_blocks(self.transform, X, self.get_feature_names_out(),
                                _float_dtype(X))
        X = self._validate_rows(X)
        return self._apply(self._encode_batch, X, out_dtype=X.dtype)

    def inverse_transform(self, X):
        """Decode codes back to the input space, in ``X``'s original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions, with the standardisation undone.
        """
        if _is_dask(X):
            check_is_fitted(self)
            return _over_blocks(self.inverse_transform, X, self._input_names(),
                                _float_dtype(X))
        Z = self._check_codes(X)
        return self._decode(Z).astype(Z.dtype, copy=False)

    def _check_codes(self, X):
        """Validated codes for ``inverse_transform``: float, ``n_components_`` wide."""
        check_is_fitted(self)
        Z = check_array(X, dtype=FLOAT_DTYPES)
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {self.n_components_} features "
                "(n_components_) as input."
            )
        return Z

    def _decode(self, Z, y=None):
        """Decode codes ``Z`` (float64 array) to rows in X's units."""
        decoded = self._apply(self._decode_batch, Z, y, standardize=False)
        decoded *= self.scale_
        decoded += self.mean_
        return decoded

    def score_samples(self, X):
        """Outlier score of each row: higher is more normal.

        By default the opposite of the row's reconstruction error: the mean
        squared difference between a row and its reconstruction, over the
        standardised features (``standardize=True``) so that no feature
        dominates by its units. Estimators with ``outlier_score="combined"``
        add how unusual the row's code is, and with ``"isolation"`` (the
        default of :class:`~sklearn_ae.OutlierAutoencoder`) an isolation
        forest's score (see that parameter).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            -inf for a row too extreme to compute in the network's precision
            (float32 input beyond its range once standardised), with a
            RuntimeWarning: never NaN.
        """
        check_is_fitted(self)
        if _is_dask(X):
            return _over_blocks(self.score_samples, X, None, np.float64)
        X = self._validate_rows(X)
        return self._public_scores(X)

    def feature_contributions(self, X, *, units="standardized"):
        """Each feature's share of each row's reconstruction error.

        Answers "why is this row anomalous?": the squared difference between
        a row and its reconstruction, feature by feature, divided by the
        number of features so that a row's contributions sum to its mean
        squared reconstruction error. In standardised units that sum is
        exactly ``-score_samples(X)`` for scores that are the reconstruction
        error (``Autoencoder`` with ``outlier_score="reconstruction"``, the
        denoising, sparse, adversarial and convolutional autoencoders); for
        the combined, isolation and variational scores it is the
        reconstruction part those scores build on (the isolation forest's
        part has no per-feature split).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in the units seen by :meth:`fit`.
        units : {"standardized", "original"}, default="standardized"
            "standardized": errors in the units the network sees (each
            feature divided by ``scale_``), comparable across features.
            "original": errors in X's own units, ``(x_hat - x) ** 2 /
            n_features``, e.g. to read off how far a reading is from what
            the model expected.

        Returns
        -------
        contributions : ndarray or DataFrame of shape (n_samples, n_features)
            Non-negative. A DataFrame with X's index and column names when
            X is a DataFrame.
        """
        return self._feature_contributions(X, None, units)

    def _feature_contributions(self, X, conditions, units):
        check_is_fitted(self)
        if units not in ("standardized", "original"):
            raise ValueError(f"units must be 'standardized' or 'original', got {units!r}.")
        index = getattr(X, "index", None) if hasattr(X, "columns") else None
        X_checked = self._validate_rows(X)

        def residuals(module, A, y):
            return self._decode_batch(module, self._encode_batch(module, A, y), y) - A

        out = self._apply(residuals, X_checked, conditions, out_dtype=np.float64)
        if units == "original":
            out *= self.scale_
        out **= 2
        out /= out.shape[1]
        if index is not None:
            import pandas as pd

            return pd.DataFrame(out, index=index, columns=self.feature_names_in_)
        return out

    def decision_function(self, X):
        """Shifted outlier score: negative for outliers, positive for inliers.

        Equal to ``score_samples(X) - offset_``, where ``offset_`` is the
        ``contamination`` quantile of the training scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        if _is_dask(X):
            check_is_fitted(self)
            return _over_blocks(self.decision_function, X, None, np.float64)
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label rows as inliers (+1) or outliers (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 where ``decision_function(X) >= 0``, else -1 (so also where
            the score is NaN).
        """
        if _is_dask(X):
            check_is_fitted(self)
            return _over_blocks(self.predict, X, None, np.int64)
        return _inlier_labels(self.decision_function(X))

    def score(self, X, y=None):
        """Opposite of the mean per-row training loss: higher is better.

        The mean squared reconstruction error of the standardised features
        (the negative ELBO for variational models), whatever
        ``outlier_score`` is, so that :class:`~sklearn.model_selection.GridSearchCV`
        compares settings by how well they model held-out rows, as it does
        for :class:`~sklearn.decomposition.PCA`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._validate_rows(X)
        return float(-np.mean(self._apply(self._sample_loss, X)))

    # ------------------------------------------------------------------
    # scikit-learn plumbing
    # ------------------------------------------------------------------
    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # CSR/CSC input is densified one batch or chunk at a time.
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self):
        # A copy: on Python >= 3.11 the parent may hand back ``__dict__`` itself.
        state = dict(super().__getstate__())
        # Pickles hold CPU tensors only, so a model fitted on a GPU loads on a
        # machine without one.
        if "module_" in state:
            state["module_"] = copy.deepcopy(state["module_"]).to("cpu")
        if self.warm_start:
            state["_optimizer_state"] = [
                _optimizer_state_to_cpu(s) for s in state.get("_optimizer_state", [])
            ]
        else:
            # Adam's moments are twice the weights and serve only a later warm
            # start: without them a pickle is about a third of the size.
            state.pop("_optimizer_state", None)
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "device_" in state:
            # A model fitted on a GPU loads on a machine without one.
            device = usable_or_cpu(torch.device(state["device_"]))
            self.device_ = device
            self.module_.to(device)


class GenerativeMixin:
    """``sample`` for autoencoders whose code space has a prior to draw from."""

    def _draw_prior(self, n_samples, rng):
        """Codes drawn from the prior; standard normal unless a variant says otherwise."""
        return rng.standard_normal((n_samples, self.n_components_))

    def sample(self, n_samples=1, random_state=None):
        """Generate new rows by decoding draws from the prior over codes.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws; an int gives the same rows on every call.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Generated rows in the units of the training data (the decoder's
            expected value for each draw).
        """
        return self._decode(self._prior_codes(n_samples, random_state))

    def _prior_codes(self, n_samples, random_state):
        """``n_samples`` codes drawn from the prior, after checking the request."""
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        return self._draw_prior(int(n_samples), check_random_state(random_state))
