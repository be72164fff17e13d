"""BaseAutoencoder: every public method, and the order in which fit calls hooks."""

from __future__ import annotations

import copy
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
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._categorical import as_input_columns, one_hot_scaling, per_column, validate_categorical
from ._dask import blockwise
from ._data import FLOAT_DTYPES, apply_chunked, check_codes, check_columns, chunk_rows
from ._data import contributions_table, device_rows, input_names
from ._device import cpu_state, denormals_flushed, forked_rng, intra_op_threads, make_generator
from ._device import resolve_device, resolve_precision, restore_moments, training_threads
from ._device import usable_or_cpu
from ._distributed import current_group
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS, fill_doc  # noqa: F401
from ._generative import GenerativeMixin
from ._missing import check_observed_columns, loop_functions, missing_share, observed_parts
from ._network import _layer_sizes, hidden_layer_sizes, network_signature, resolve_max_iter
from ._network import check_no_bool_counts, divergence_message, warn_if_unfinished
from ._plan import plan_pass, plan_rows
from ._scaling import Standardizer, fit_scaling, sample_rows
from ._thresholds import contamination_offset, inlier_labels
from ._training import LoopSettings, TrainingHistory, train, validation_loss_fn
from .nn import ACTIVATIONS, NegatedLoss, reconstruction_error, reconstruction_loss

__all__ = ["BaseAutoencoder", "GenerativeMixin", "FLOAT_DTYPES"]

# offset_ of the plain reconstruction score from a sample of rows: a quantile
# of 2,000 flags within 0.7 percentage points of contamination=0.1, where
# the pass over all rows cost 10% of a short fit.
_OFFSET_ROWS = 2_000


@fill_doc
class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    OutlierMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the autoencoders; not for direct use.

    The rule: this class keeps the public methods and the order in which
    ``fit`` calls the hooks below; everything else lives in modules that take
    plain arguments (a fitted ``Standardizer``, a torch module, rows, a
    device) and never call back into the estimator (docs: Architecture).

    A variant is a subclass with an explicit ``__init__`` and
    ``_build_module`` that overrides only the hooks where it differs. ``fit``
    calls them in this order: ``_check_params``, ``_validate_y``,
    ``_check_distributed``, ``_init_from_data`` (new network),
    ``_rows_to_train``, ``_build_module``, ``_training_threads``,
    ``_make_optimizers``, ``_train_step`` per batch and ``_validation_loss``
    per epoch, ``_rows_to_retrain``, ``_fallback_watch``,
    ``_fit_outlier_score``, ``_fit_offset``. Every underscore method a subclass may override is in
    this table; a test fails on an override that is not:

    ============================================  ==========================================
    Hook                                          Contract (default)
    ============================================  ==========================================
    ``_build_module(n_features)``                 fresh module: encode, decode, forward
    ``_check_params()``                           what constraints cannot say (layer sizes)
    ``_validate_y(y, n_samples, reset)``          per-row side information (None)
    ``_check_distributed(X)``                     refuse on every rank alike (group checks)
    ``_init_from_data(X)``                        learn from raw rows, new network (nothing)
    ``_make_optimizers(module, batch_size)``      list of optimizers (fused Adam, alpha)
    ``_train_step(module, optimizers, X, y)``     one step, detached loss (loss, backward)
    ``_loss(module, X, y)``                       mean batch loss with a gradient (MSE)
    ``_sample_loss(module, X, y)``                per-row ``-score_samples`` (error)
    ``_validation_loss(module, X, y)``            per-row early-stopping loss (sample loss)
    ``_encode_batch(module, X, y)``               codes of a standardised batch (encode)
    ``_decode_batch(module, Z, y)``               standardised rows of codes (decode)
    ``_training_threads(module, device)``         CPU threads (1 below 150,000 weights)
    ``_widest_layer(n_features, module)``         units that size inference chunks
    ``_rows_to_train(X, y, seed)``                rows for the only network, first (None)
    ``_rows_to_retrain(X, y, seed)``              rows for a second network (None)
    ``_fallback_watch(X, train_rows, val_rows)``  watch training; a model to keep (None)
    ``_fit_outlier_score(X, y, seed, keep)``      learn the score; rows' scores (None)
    ``_fit_offset(X, y, scores)``                 ``offset_`` (contamination quantile)
    ``_score_samples(X, y)``                      scores of checked rows (-sample loss)
    ``_contributions(X, y, units)``               per-feature split of -score (error parts)
    ``_score_module(network)``                    torch module of the score, for ONNX
    ``_n_condition_columns()``                    condition inputs of the decoder (None)
    ``_draw_prior(n_samples, rng)``               GenerativeMixin's prior (standard normal)
    ============================================  ==========================================

    Training hooks draw random numbers from ``self._train_generator``.
    Class attributes a variant may set: ``_network_params`` (a warm start
    may not change them), ``_transient_attributes`` (never pickled or
    saved), ``_nested_estimators`` (fitted scikit-learn estimators held),
    ``_warn_unconverged``.

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
        "contamination": [Interval(Real, 0, 0.5, closed="right"), StrOptions({"auto"}),
                          HasMethods(["fit"])],
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

    # --- Hooks for variants (the table in the class docstring) ---
    # The generator of the fit in progress: training hooks draw their noise
    # from it. None outside a fit, where draws fall back to torch's global one.
    _train_generator = None
    # The process group of the fit in progress (SOLO in one process).
    _group = None
    # Attributes that live only during a fit or as caches: never pickled or
    # saved. A variant adds its own.
    _transient_attributes = ("_train_generator", "_group", "_missing_share")
    # Fitted scikit-learn estimators the model may hold as attributes, by
    # "module.Class" name: save() writes them by their parameters and
    # attributes, and load() rebuilds these classes only.
    _nested_estimators = ()
    # Parameters that shape the network: a warm start keeps the fitted one,
    # so it refuses a change to any of them.
    _network_params = ("n_components", "hidden_layer_sizes", "activation", "standardize")
    # Whether a constant-rate fit that ends on max_iter while still improving
    # warns. A detector whose epoch budget is one of its measured settings
    # (a longer fit memorises more anomalies) sets it False.
    _warn_unconverged = True

    @abstractmethod
    def _build_module(self, n_features: int) -> torch.nn.Module:
        """Return a fresh torch module with ``encode``, ``decode`` and ``forward``."""

    def _loss(self, module, X, y):
        """Mean training loss of a batch (a scalar tensor with a gradient)."""
        return reconstruction_loss(module, X, X)

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
        ``self._scaler().feature_range(X, self._group)`` gives each feature's
        range as the network sees it, without a standardised copy of X.
        """

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

    def _check_params(self):
        """Check what the parameter constraints cannot express; every fit, cold or warm."""
        check_no_bool_counts(self)
        if not isinstance(self.hidden_layer_sizes, str):
            _layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)

    def _validate_y(self, y, n_samples, reset):
        """Per-row side information for training; plain autoencoders ignore ``y``."""
        return None

    def _check_distributed(self, X):
        """Refuse what a data-parallel fit cannot do (nothing in one process)."""
        self._group.check_inputs(X)

    def _training_threads(self, module, device):
        """Most CPU threads a training step may use (one for small networks on a CPU)."""
        return training_threads(module, device)

    def _widest_layer(self, n_features, module):
        """Units of the network's widest layer, which sizes inference chunks."""
        # An ensemble's members run side by side: their layers add up.
        members = getattr(module, "n_members", 1)
        return max(n_features, members * max((self.n_components_, *self.hidden_layer_sizes_)))

    def _rows_to_train(self, X, y, seed):
        """Rows of ``X`` for the only network, chosen before any training; None (default).

        Called first on a cold fit. None: train on all rows, then ask
        :meth:`_rows_to_retrain`.
        """
        return None

    def _rows_to_retrain(self, X, y, seed):
        """Rows of ``X`` to train a fresh network on after the first, or None.

        Called once per cold fit, after the first training; ``seed`` seeds
        any draws. None (the default): the first network is the model.
        """
        return None

    def _fallback_watch(self, X, train_rows, val_rows):
        """Before a cold fit's training: a watch of it that may stop it, or None (default).

        ``watch(n_epochs, module)`` runs after each epoch (True: stop); where
        the fit did not refit, ``watch.model(network)`` is ``(module, loss)``
        to keep instead of the network, or None.
        """
        return None

    def _fit_outlier_score(self, X, y, seed, keep=None):
        """Learn what the outlier score needs; return the scores of X's rows.

        Called at the end of every fit with the training rows (``keep``: the
        rows the returned network was trained on, None for all). The scores
        returned set ``offset_``; None (the default) lets :meth:`_fit_offset`
        score a sample of rows with :meth:`_score_samples`.
        """
        return None

    def _fit_offset(self, X, y, scores=None):
        """``offset_`` from the training rows' scores, as ``contamination`` says.

        From ``scores`` when given (all rows), else from the scores of at most
        ``_OFFSET_ROWS`` rows drawn at random.
        """
        if scores is None:
            if X.shape[0] > _OFFSET_ROWS:
                rows = sample_rows(X.shape[0], _OFFSET_ROWS)
                X, y = X[rows], None if y is None else y[rows]
            scores = self._score_samples(X, y)
        # Over every rank's rows: the same offset_ everywhere.
        scores = np.concatenate(self._group.gather(np.asarray(scores)))
        return contamination_offset(scores, self.contamination)

    def _score_module(self, network):
        """A torch module from standardised rows to ``score_samples`` (ONNX export)."""
        return NegatedLoss(self._sample_loss, network)

    def _n_condition_columns(self):
        """Columns of the conditions the decoder takes besides codes; None for none."""
        return None

    def _score_samples(self, X, y=None):
        """Scores of checked rows ``X``: minus each row's ``_sample_loss``."""
        # Negated in place: on 10^7 rows each copy of the scores is 76 MB.
        scores = self._over_chunks(self._sample_loss, X, y, row_means=True)
        return np.negative(scores, out=scores)

    # --- Fitting: the order of the hooks ---
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in its own units (NaN: missing, see the guide): with
            ``standardize=True`` each feature is centred and scaled inside.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._unchanged_on_failure(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on ``X`` for one pass (epoch), continuing from the current network.

        As ``MLPRegressor.partial_fit``: the first call sets ``n_features_in_``,
        the standardisation (then frozen, so give it a representative chunk)
        and the network; each call takes one shuffled pass, Adam's moments
        carried over, at ``learning_rate_init`` (no early stopping, no
        schedule). After :meth:`fit` it trains the fitted network further.
        ``offset_`` and the outlier score's statistics are re-learnt from each
        call's rows. Bad input, or Ctrl-C (KeyboardInterrupt propagates, so a
        streaming loop stops), leaves the model as after the previous call.

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
        # scikit-learn validates parameters on the first partial_fit only; a
        # set_params between calls must not slip through.
        self._validate_params()
        return self._unchanged_on_failure(X, y, incremental=True)

    def _unchanged_on_failure(self, X, y, incremental):
        """:meth:`_fit`; a fit that fails (bad input, divergence) leaves the model as it was."""
        previous = dict(self.__dict__)
        # The torch.distributed group this call trains across (SOLO in one
        # process; see _distributed.py); transient, like the fit's generator.
        self._group = current_group()
        try:
            self._fit(X, y, incremental)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        finally:
            self.__dict__.pop("_group", None)
        return self

    def _fit(self, X, y, incremental):
        """One fit (``incremental``: one pass of ``partial_fit``), hook by hook."""
        continuing = hasattr(self, "module_") and (incremental or self.warm_start)
        self._check_network(continuing, "partial_fit" if incremental else "warm_start=True")
        X = self._validate_training_rows(X, reset=not continuing)
        y = self._validate_y(y, X.shape[0], reset=not continuing)
        self._check_distributed(X)
        device = resolve_device(self.device)
        if incremental:
            plan = plan_pass(self.random_state, self.n_iter_ if continuing else 0)
        else:
            plan = plan_rows(X, self.random_state, self.early_stopping,
                             self.validation_fraction, self._group)
        if not continuing:
            self._init_network_settings(X)
        self.device_ = device
        self.precision_ = resolve_precision(self.precision, self.hidden_layer_sizes_, device)
        self.max_iter_ = 1 if incremental else resolve_max_iter(self.max_iter, plan.n_train)
        histories, keep = self._train_stages(X, y, plan, continuing)
        if incremental and histories[-1].interrupted:
            # Ctrl-C must stop a streaming loop: the pass is undone.
            raise KeyboardInterrupt
        self._record_history(histories, continuing, warn=not incremental)
        # offset_ from all training rows, as contamination says.
        train_scores = self._fit_outlier_score(X, y, plan.density_seed, keep)
        self.offset_ = self._fit_offset(X, y, train_scores)
        return self

    def _check_network(self, continuing, how):
        """Check the parameters; when ``continuing``, that the network's are unchanged."""
        self._check_params()
        network = {name: getattr(self, name) for name in self._network_params}
        self._network_signature = network_signature(
            network, self._network_signature if continuing else None, how)

    def _validate_training_rows(self, X, reset):
        """Training rows checked (and recorded with ``reset``); their ``_missing_share``."""
        X = self._validate_rows(X, reset)
        self._missing_share = missing_share(X)
        if self._missing_share:  # a column can only be empty where there are gaps
            check_observed_columns(X, input_names(self, X.shape[1]))
        return X

    def _init_network_settings(self, X):
        """What a new network is built from: its sizes, the scaling, the variant's data."""
        n_features = X.shape[1]
        self.n_components_ = (self.n_components if self.n_components is not None
                              else max(1, min(32, n_features // 2)))
        self.hidden_layer_sizes_ = hidden_layer_sizes(
            self.hidden_layer_sizes, n_features, self.n_components_)
        self.mean_, self.scale_ = one_hot_scaling(*fit_scaling(X, self.standardize, self._group),
                                                  getattr(self, "categories_", None))
        self._init_from_data(X)

    def _train_stages(self, X, y, plan, continuing):
        """Train the network, then a refit or the fallback model; histories, rows of the last."""
        rate = "constant" if plan.rng is None else None
        cold = plan.rng is not None and not continuing
        # Rows a screen that needs no network picks: one training on them.
        keep = self._rows_to_train(X, y, plan.density_seed) if cold else None
        if keep is not None:
            return [self._train_kept(X, y, plan, keep, " (without the flagged rows)")], keep
        watch = self._fallback_watch(X, plan.train_rows, plan.val_rows) if cold else None
        module, optimizers, history = self._train_module(
            X, y, plan.train_rows, plan.val_rows, plan.seed, continuing, learning_rate=rate,
            watch=watch)
        self.module_, histories = module, [history]
        first_cold_fit = cold and not history.interrupted
        keep = self._rows_to_retrain(X, y, plan.density_seed) if first_cold_fit else None
        if keep is not None:
            histories.append(self._train_kept(X, y, plan, keep, " (refit without the flagged rows)"))
            return histories, keep
        if first_cold_fit and watch is not None and (linear := watch.model(module)) is not None:
            # The network did not beat PCA on rows it never trained on: the
            # linear autoencoder (PCA's subspace) is the model.
            self.module_, history.best_loss = linear
            self.hidden_layer_sizes_, optimizers = (), []
        self._optimizer_state = [optimizer.state_dict() for optimizer in optimizers]
        return histories, None

    def _train_kept(self, X, y, plan, keep, stage):
        """Train a fresh network on the rows ``keep``, with the refit's seed and split."""
        seed, train_rows, val_rows = plan.refit(len(keep), self.early_stopping,
                                                self.validation_fraction)
        self.module_, optimizers, history = self._train_module(
            X[keep], None if y is None else y[keep], train_rows, val_rows, seed, False,
            stage=stage)
        self._optimizer_state = [optimizer.state_dict() for optimizer in optimizers]
        return history

    def _record_history(self, histories, continuing, warn):
        """``n_iter_``, ``loss_curve_``, ``validation_scores_``, ``best_loss_``; warnings.

        They describe every training of this fit (the first network's and
        the refit's), added to the earlier fits' when continuing;
        ``best_loss_`` is the returned network's.
        """
        history, joined = histories[-1], TrainingHistory.joined(histories)
        if continuing:
            self.n_iter_ += joined.n_iter
            self.loss_curve_ = self.loss_curve_ + joined.loss_curve
            if joined.validation_scores is not None:
                self.validation_scores_ = (self.validation_scores_ or []) + joined.validation_scores
        else:
            self.n_iter_, self.loss_curve_ = joined.n_iter, joined.loss_curve
            self.validation_scores_ = joined.validation_scores
        self.best_loss_ = history.best_loss
        if warn:
            warn_if_unfinished(history, type(self).__name__, joined.n_iter, self.max_iter_,
                               self._warn_unconverged and self.learning_rate == "constant")

    def _scaler(self):
        return Standardizer(self.mean_, self.scale_)

    def _new_or_copied_module(self, n_features, seed, warm):
        if warm:
            # Train a copy so that a failure leaves the fitted module intact.
            return copy.deepcopy(self.module_).to(self.device_)
        # Built on the CPU, so a seed gives the same initial weights on
        # every device.
        with forked_rng(seed):
            module = self._build_module(n_features)
        return module.to(self.device_)

    def _loop_settings(self, n_rows, stage, learning_rate, validation_rows):
        """Parameters for ``train``: the same steps on every rank (smallest batch, most rows)."""
        size = 256 if self.batch_size == "auto" else self.batch_size
        return LoopSettings(
            max_iter=self.max_iter_,
            batch_size=int(self._group.reduce([min(size, n_rows)], "min")[0]),
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            learning_rate=learning_rate or self.learning_rate,
            autocast_dtype=torch.bfloat16 if self.precision_ == "bfloat16" else None,
            verbose=self.verbose,
            description=type(self).__name__ + stage,
            rows_per_epoch=int(self._group.reduce([n_rows], "max")[0]),
            validation_rows=validation_rows,
        )

    def _train_module(self, X, y, train_rows, val_rows, seed, warm, stage="",
                      learning_rate=None, watch=None):
        """Train the network (a copy of the fitted one when warm) on the rows of ``X``."""
        device, group, scaler = self.device_, self._group, self._scaler()
        X_train, y_train = device_rows(X, y, train_rows, scaler, device)
        X_val, y_val = device_rows(X, y, val_rows, scaler, device) if (
            val_rows is not None) else (None, None)
        settings = self._loop_settings(X_train.shape[0], stage, learning_rate,
                                       0 if X_val is None else X_val.shape[0])
        module = self._new_or_copied_module(X.shape[1], seed, warm)
        group.broadcast_module(module)
        # Draws in training come from the fit's own generator, never torch's
        # global one: fits in parallel threads are each what they would be
        # alone, and the ranks of a data-parallel fit draw different noise.
        self._train_generator = make_generator(
            (seed * 2654435761 + 1 + group.rank) % (2**63 - 1), device)
        with denormals_flushed(device.type == "cpu"), intra_op_threads(
                self._training_threads(module, device)):
            optimizers = self._make_optimizers(module, settings.batch_size)
            if warm:
                restore_moments(optimizers, getattr(self, "_optimizer_state", []))
            step, per_row = loop_functions(self._train_step, self._validation_loss, module,
                                           optimizers, self._missing_share,
                                           self._train_generator)
            validation_loss = None if X_val is None else validation_loss_fn(
                per_row, module, X_val, y_val,
                chunk_rows(self._widest_layer(X_val.shape[1], module)))
            hooks = group.average_gradients_before_steps(optimizers)
            try:
                history = train(
                    module, step,
                    X_train, y_train, settings=settings, validation_loss=validation_loss,
                    generator=torch.Generator().manual_seed(seed), optimizers=optimizers,
                    step_generators=(self._train_generator,), group=group, watch=watch)
            except FloatingPointError as exc:
                low, high = scaler.feature_range(X, group)
                largest = float(max(np.max(np.abs(low)), np.max(np.abs(high))))
                raise FloatingPointError(divergence_message(
                    type(self).__name__, exc, largest, self.learning_rate_init,
                    self.standardize)) from exc
            finally:
                del self._train_generator
                for hook in hooks:
                    hook.remove()
        return module, optimizers, history

    # --- Inference ---
    def _over_chunks(self, fn, A, y=None, standardize=True, out_dtype=np.float64,
                     row_means=False):
        """``fn(module, A_chunk, y_chunk)`` over chunks of ``A`` on the fitted device.

        See :func:`~sklearn_ae._data.apply_chunked`.
        """
        return apply_chunked(
            fn, A, self.module_, scaler=self._scaler(), device=self.device_,
            chunk=chunk_rows(self._widest_layer(A.shape[1], self.module_)), y=y,
            standardize=standardize, out_dtype=out_dtype, row_means=row_means)

    def _input_names(self):
        """Names of the input features: those seen in fit, else x0, x1, ..."""
        return input_names(self, self.n_features_in_)

    def _validate_rows(self, X, reset=False):
        """Rows checked against the fit (recorded with ``reset``): float or CSR, NaN allowed."""
        if (encoded := validate_categorical(self, X, reset)) is not None:
            return encoded  # a table with categorical columns, one-hot encoded
        check_columns(X)
        X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES, accept_sparse=("csr", "csc"),
                          ensure_all_finite="allow-nan")
        # Rows are sliced per batch: CSR makes that cheap.
        return X.tocsr() if sp.issparse(X) else X

    def _public_scores(self, X, y=None):
        """:meth:`_score_samples`; -inf for rows too extreme to compute (NaN; gaps never are)."""
        scores = np.asarray(self._score_samples(X, y), dtype=np.float64)
        # In place: the scores are this call's own array.
        np.copyto(scores, -np.inf, where=np.isnan(scores))
        return scores

    @blockwise(columns=lambda self: self.get_feature_names_out())
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
        X = self._validate_rows(X)
        return self._over_chunks(self._encode_batch, X, out_dtype=X.dtype)

    @blockwise(columns=lambda self: self._input_names())
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
        Z = self._check_codes(X)
        return as_input_columns(self, self._decode(Z).astype(Z.dtype, copy=False))

    def _check_codes(self, X):
        """Validated codes for ``inverse_transform``: float, ``n_components_`` wide."""
        check_is_fitted(self)
        return check_codes(X, self._n_features_out, type(self).__name__)

    def _decode(self, Z, y=None):
        """Decode codes ``Z`` (float64 array) to rows in X's units."""
        decoded = self._over_chunks(self._decode_batch, Z, y, standardize=False)
        decoded *= self.scale_
        decoded += self.mean_
        return decoded

    @blockwise(dtype=np.float64)
    def score_samples(self, X):
        """Outlier score of each row: higher is more normal.

        By default the opposite of the row's reconstruction error: the mean
        squared difference between a row and its reconstruction, over the
        standardised features, so that no feature dominates by its units.
        Some estimators offer other scores (``outlier_score``).

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
        X = self._validate_rows(X)
        return self._public_scores(X)

    def feature_contributions(self, X, *, units="standardized", normalize=False):
        """Each feature's part of each row's outlier score: why a row is anomalous.

        A split of the row's score by feature. Where the score is the
        reconstruction error (plain ``score_samples``): the squared
        difference between the row and its reconstruction, feature by
        feature, divided by the number of features, so that the parts sum
        to ``-score_samples(X)`` (standardised units). For scores built on
        more (see ``outlier_score``), their own split, or the reconstruction
        part they build on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in the units seen by :meth:`fit`.
        units : {"standardized", "original"}, default="standardized"
            "standardized": errors in the units the network sees (each
            feature divided by ``scale_``), comparable across features.
            "original": errors in X's own units, ``(x_hat - x) ** 2 /
            n_features``, e.g. to read off how far a reading is from what
            the model expected (reconstruction errors only).
        normalize : bool, default=False
            True: each row's parts divided by their sum, so that they sum to
            1 (a row whose parts sum to 0 gets zeros).

        Returns
        -------
        contributions : ndarray or DataFrame of shape (n_samples, n_features)
            A DataFrame with X's index and column names when X is a
            DataFrame.
        """
        return self._feature_contributions(X, None, units, normalize)

    def _feature_contributions(self, X, conditions, units, normalize):
        check_is_fitted(self)
        if units not in ("standardized", "original"):
            raise ValueError(f"units must be 'standardized' or 'original', got {units!r}.")
        out = per_column(self._contributions(self._validate_rows(X), conditions, units),
                         getattr(self, "categories_", None))
        return contributions_table(out, X, self._input_names(), normalize)

    def _contributions(self, X, conditions, units):
        """Each feature's part of each checked row's score: its reconstruction error."""

        def residuals(module, A, y):
            return self._decode_batch(module, self._encode_batch(module, A, y), y) - A

        out = self._over_chunks(residuals, X, conditions, out_dtype=np.float64)
        if units == "original":
            out *= self.scale_
        out **= 2
        return observed_parts(out, X)

    @blockwise(dtype=np.float64)
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
        return self.score_samples(X) - self.offset_

    @blockwise(dtype=np.int64)
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
        return inlier_labels(self.decision_function(X))

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
        losses = self._over_chunks(self._sample_loss, X, row_means=True)
        # A row too extreme to compute (NaN loss) has the worst loss there is,
        # as score_samples says -inf for it.
        return float(-np.mean(np.where(np.isnan(losses), np.inf, losses)))

    # --- scikit-learn plumbing ---
    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # CSR/CSC input is densified one batch or chunk at a time.
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags

    def __getstate__(self):
        # A copy: on Python >= 3.11 the parent may hand back ``__dict__`` itself.
        state = dict(super().__getstate__())
        for name in self._transient_attributes:
            state.pop(name, None)
        return cpu_state(state, keep_optimizer=self.warm_start)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "device_" in state:
            # A model fitted on a GPU loads on a machine without one.
            device = usable_or_cpu(torch.device(state["device_"]))
            self.device_ = device
            self.module_.to(device)
