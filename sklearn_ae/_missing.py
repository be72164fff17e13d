"""Missing values (NaN): what the network sees of a row with gaps, and what its losses count.

A missing entry is NaN in X and stays NaN through standardisation. Where a
batch or chunk has gaps, the estimator's hooks are handed the batch with its
gaps filled with 0 (the feature's mean once standardised) and the network
seen through a :class:`GapModule`, whose reconstructions are 0 at the
missing entries: every squared error there is exactly 0 and has no gradient,
so the variants' losses count observed entries only without being written
twice. A per-row mean over all features then becomes a mean over the
observed ones when multiplied by ``n_features / n_observed``
(:func:`observed_row_means`). In training, a share of the observed entries
is hidden from the encoder as well (masking noise, as MIDAS does: Lall and
Robinson, 2022), so the network learns to reconstruct an entry from the
others, which is what a gap asks of it. A network built with a
``missing_layer`` (:class:`~sklearn_ae.nn.MLPAutoencoder` with
``missing_indicator=True``) is also handed which entries it does not see,
so that a gap is not read as a value at the mean.

Plain functions and one wrapper class; nothing here calls back into the
estimator. Rows without gaps never come here: their path is unchanged.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "GapModule",
    "check_observed_columns",
    "chunk_with_gaps",
    "fill_missing",
    "gap_per_row_loss",
    "gap_step",
    "has_gaps",
    "loop_functions",
    "missing_mask",
    "missing_per_feature",
    "missing_share",
    "observed_of",
    "observed_parts",
    "observed_row_means",
    "HIDING_BOUNDS",
    "hiding_share",
    "training_drop",
]

# Share of the observed entries hidden from the encoder in each training step
# of a fit on rows with gaps, at least: the network practises the gaps it
# will meet. See training_drop.
_MIN_DROP = 0.1
_MAX_DROP = 0.5
# The same bounds for a share set by hiding_share.
HIDING_BOUNDS = (_MIN_DROP, _MAX_DROP)

# Rows per chunk when rows are scanned for gaps: bool copies stay a few MB.
_SCAN_VALUES = 1 << 22


def _values(X):
    """The stored values of ``X`` (dense array, or a sparse matrix's ``data``)."""
    return X.data if sp.issparse(X) else X


def missing_share(X) -> float:
    """Share of ``X``'s entries (dense or sparse, already checked) that are missing (NaN)."""
    values = _values(X)
    if values.dtype.kind != "f" or values.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        total = values.sum()
    # A sum is NaN where a value is (or, rarely, where partial sums reach
    # +inf and -inf): only then are the values counted.
    if not np.isnan(total):
        return 0.0
    step = max(1, _SCAN_VALUES // max(values.shape[-1] if values.ndim > 1 else 1, 1))
    missing = sum(int(np.isnan(values[start : start + step]).sum())
                  for start in range(0, values.shape[0], step))
    return missing / (X.shape[0] * X.shape[1])


def has_gaps(X) -> bool:
    """Whether ``X`` (dense or sparse, already checked) has a missing value (NaN)."""
    return missing_share(X) > 0


def observed_parts(parts, X):
    """Per-feature parts of rows' means over features, as parts of means over observed ones.

    ``parts`` (rows x features, float) holds each feature's term of the
    row's sum, 0 where ``X`` is missing; in place, each row is divided by
    its number of observed features, and the missing entries become NaN.
    """
    if not has_gaps(X):
        parts /= parts.shape[1]
        return parts
    missing = missing_mask(X)
    parts /= np.maximum((~missing).sum(axis=1, keepdims=True), 1)
    parts[missing] = np.nan
    return parts


def missing_mask(X):
    """Dense bool array, True where ``X`` (dense or sparse) is missing."""
    if sp.issparse(X):
        X = X.tocsr()
        out = np.zeros(X.shape, dtype=bool)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        hit = np.isnan(X.data)
        out[rows[hit], X.indices[hit]] = True
        return out
    return np.isnan(X)


def missing_per_feature(X):
    """Number of missing (NaN) entries of each feature of ``X``, without a dense mask."""
    if sp.issparse(X):
        X = X.tocsr()
        return np.bincount(X.indices[np.isnan(X.data)], minlength=X.shape[1])
    step = max(1, _SCAN_VALUES // max(X.shape[1], 1))
    return sum((np.isnan(X[start : start + step]).sum(axis=0)
                for start in range(0, X.shape[0], step)), np.zeros(X.shape[1], dtype=np.int64))


def fill_missing(X, values):
    """A dense copy of ``X`` whose missing entries take ``values``' (same shape)."""
    X = X.toarray() if sp.issparse(X) else np.array(X, copy=True)
    gaps = np.isnan(X)
    X[gaps] = np.asarray(values, dtype=X.dtype)[gaps]
    return X


def check_observed_columns(X, names):
    """Refuse, naming them, the columns of ``X`` with no observed value."""
    if sp.issparse(X):
        X = X.tocsc()
        empty = [j for j in range(X.shape[1])
                 if X.indptr[j + 1] - X.indptr[j] == X.shape[0]
                 and np.isnan(X.data[X.indptr[j] : X.indptr[j + 1]]).all()]
    else:
        empty = np.flatnonzero(np.isnan(X).all(axis=0)).tolist() if X.shape[0] else []
    if empty:
        raise ValueError(
            f"X has columns with no observed value (all NaN): {[names[j] for j in empty][:10]}. "
            "Drop them: nothing can be learnt of a feature never seen.")


class GapModule:
    """A network seen through a batch's gaps: 0 out where the batch is missing.

    Parameters
    ----------
    network : torch.nn.Module
        The estimator's module (``encode``, ``decode``, ``forward``, and
        ``negative_elbo`` and ``nll`` for the variational ones).
    observed : torch.Tensor of bool, shape (n_samples, n_features)
        True where the batch is observed.
    seen : torch.Tensor of bool, same shape, optional
        True where the encoder sees the entry (observed and not hidden as
        masking noise); ``observed`` when None.

    Any other attribute (a discriminator, ``parameters``) is the network's.
    """

    def __init__(self, network, observed, seen=None):
        self.network = network
        self.observed = observed
        self.seen = observed if seen is None else seen

    def __getattr__(self, name):
        return getattr(self.network, name)

    def _hide(self, x):
        return x.masked_fill(~self.seen, 0.0)

    def _blank(self, out):
        return out.masked_fill(~self.observed, 0.0)

    def _told(self):
        """The unseen entries as the network's ``missing`` argument, if it takes one."""
        if getattr(self.network, "missing_layer", None) is None:
            return {}
        return {"missing": ~self.seen}

    def encode(self, x, *conditions):
        """Codes of ``x`` with its unseen entries at 0 (and named, to a network told them)."""
        return self.network.encode(self._hide(x), *conditions, **self._told())

    def encode_distribution(self, x, *conditions):
        """The variational posterior of ``x`` with its unseen entries at 0 (and named)."""
        return self.network.encode_distribution(self._hide(x), *conditions, **self._told())

    def decode(self, z, *conditions):
        """Reconstructions, 0 where the batch is missing."""
        return self._blank(self.network.decode(z, *conditions))

    def __call__(self, x, *conditions):
        return self._blank(self.network(self._hide(x), *conditions, **self._told()))

    def members(self, x):
        """An ensemble's members' reconstructions, 0 where the batch is missing."""
        return self._blank(self.network.members(self._hide(x), **self._told()))

    def decode_members(self, z):
        """An ensemble's members' reconstructions of their codes, 0 where the batch is missing."""
        return self._blank(self.network.decode_members(z))

    def nll(self, x, z, c=None):
        """-log p(x | z) of the observed entries only."""
        return self.network.nll(x, z, c, observed=self.observed)

    def negative_elbo(self, x, c=None, **kwargs):
        """-ELBO of the observed entries, the encoder seeing the seen ones."""
        return self.network.negative_elbo(x, c, observed=self.observed, seen=self.seen, **kwargs)


def observed_row_means(values, observed):
    """Per-row means over all features (a tensor) made means over the observed ones."""
    n_features = observed.shape[1]
    counts = observed.sum(dim=1).clamp(min=1).to(values.dtype)
    return values * (n_features / counts).view(-1, *([1] * (values.ndim - 1)))


def observed_of(module):
    """The observed entries a chunk's module was handed with (a GapModule's), or None."""
    return module.observed if isinstance(module, GapModule) else None


def _split(X):
    """A batch's observed entries and the batch with its gaps at 0."""
    observed = ~torch.isnan(X)
    return X.masked_fill(~observed, 0.0), observed


def training_drop(missing_share):
    """Share of observed entries hidden in each step: the data's own gaps, within bounds.

    A network that practises hiding as many entries as the data lacks meets,
    at prediction, the gaps it trained on; at least ``_MIN_DROP`` so that
    sparse gaps still teach it to fill, at most ``_MAX_DROP`` so that it
    still sees most of each row.
    """
    return float(min(_MAX_DROP, max(_MIN_DROP, missing_share)))


# Set by hiding_share: the share training_drop's place takes within it.
_HIDING_SHARE = ContextVar("hiding_share", default=None)


@contextmanager
def hiding_share(share):
    """Within it, training on rows with gaps hides ``share`` of the given entries.

    In place of :func:`training_drop`'s share, for a fit whose gaps are not
    what it will meet at prediction: a model adapted to a holed image
    (:func:`sklearn_ae.images.adapt_to_image`) trained with half its pixels
    hidden, and hiding half of the half given would leave it a quarter.
    """
    token = _HIDING_SHARE.set(float(share))
    try:
        yield
    finally:
        _HIDING_SHARE.reset(token)


def gap_step(train_step, module, drop, generator):
    """``train_step(module, X, y)`` on batches with gaps, as ``step(X, y)`` for the loop.

    The loss it returns is the mean over the observed entries (the hooks'
    mean over all entries, scaled), so that ``loss_curve_`` reads as it
    does without gaps. No host synchronisation: CUDA graphs capture it.
    """

    def step(X, y):
        X, observed = _split(X)
        kept = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype) >= drop
        loss = train_step(GapModule(module, observed, observed & kept), X, y)
        return loss * (observed.numel() / observed.sum().clamp(min=1))

    return step


def gap_per_row_loss(per_row_loss):
    """``per_row_loss(module, X, y)`` that takes rows with gaps: means over observed entries."""

    def loss(module, X, y):
        X, observed = _split(X)
        return observed_row_means(per_row_loss(GapModule(module, observed), X, y), observed)

    return loss


def loop_functions(train_step, per_row_loss, module, optimizers, missing, generator):
    """The training loop's ``step(X, y)`` and per-row validation loss.

    ``train_step(module, optimizers, X, y)`` and ``per_row_loss(module, X,
    y)`` are the estimator's hooks; ``missing`` the share of the training
    entries that are missing: with none, the hooks as they are.
    """

    def step(network, X, y):
        return train_step(network, optimizers, X, y)

    if not missing:
        return (lambda X, y: step(module, X, y)), per_row_loss
    drop = _HIDING_SHARE.get()
    return (gap_step(step, module, training_drop(missing) if drop is None else drop, generator),
            gap_per_row_loss(per_row_loss))


def chunk_with_gaps(module, tensor):
    """``(module, tensor)`` for a chunk: through a :class:`GapModule` where it has gaps.

    Returns the observed mask as a third item (None for a chunk without
    gaps, which is passed on unchanged).
    """
    if not bool(torch.isnan(tensor).any()):
        return module, tensor, None
    tensor, observed = _split(tensor)
    return GapModule(module, observed), tensor, observed
