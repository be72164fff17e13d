"""Standardisation inside the estimator: what ``mean_`` and ``scale_`` are.

:func:`fit_scaling` learns them from the training rows (pooled over the
ranks of a data-parallel fit); :class:`Standardizer` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis

__all__ = ["Standardizer", "fit_scaling", "observed_mean", "sample_rows"]

# Rows sampled to tell which features are mostly one value (their quartiles).
_QUANTILE_ROWS = 2_000

# A feature's scale is at least this share of the median feature's spread.
_SPREAD_FLOOR = 1e-3


def sample_rows(n_rows, n_sample):
    """Sorted indices of ``n_sample`` of ``n_rows`` rows, the same draw on every call.

    A fixed seed, not the fit's: the summaries taken from a sample (quartiles,
    offset_) then do not move between seeds, and the fit's draws keep their
    order.
    """
    return np.sort(np.random.RandomState(0).permutation(n_rows)[:n_sample])


def _observed_mean_and_variance(X):
    """Per-feature mean and variance of the observed (not NaN) entries, in float64."""
    total, squares, count = (np.zeros(X.shape[1]) for _ in range(3))
    for start in range(0, X.shape[0], 2048):
        part = X[start : start + 2048].astype(np.float64)
        count += (~np.isnan(part)).sum(axis=0)
        total += np.nansum(part, axis=0)
    mean = total / np.maximum(count, 1)
    for start in range(0, X.shape[0], 2048):
        part = X[start : start + 2048].astype(np.float64) - mean
        squares += np.nansum(part * part, axis=0)
    return mean, squares / np.maximum(count, 1)


def _mean_and_variance(X):
    """Per-feature mean and variance in float64, without a float64 copy of X.

    Of the observed entries where X has missing values (NaN), as
    :class:`~sklearn.preprocessing.StandardScaler` computes them.
    """
    if sp.issparse(X):
        return mean_variance_axis(X, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = X.mean(axis=0, dtype=np.float64)
        if np.isnan(mean).any():
            return _observed_mean_and_variance(X)
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


def observed_mean(X):
    """Each feature's mean over its observed (not NaN) entries; dense or sparse."""
    mean = np.asarray(X.mean(axis=0)).ravel()
    if np.isnan(mean).any():
        mean = np.asarray(_mean_and_variance(X)[0], dtype=np.float64).ravel()
    return mean


def _pooled_statistics(parts):
    """Mean, variance and quartile sample of the rows of every rank.

    ``parts``: one ``(n_rows, mean, variance, sample)`` per rank. The
    variances pool exactly (Chan et al.); the sample is every rank's, so the
    quartiles are those of a sample of all rows. One part is returned as it
    is (a fit in one process).
    """
    if len(parts) == 1:
        _, mean, variance, sample = parts[0]
        return mean, variance, sample
    counts = np.array([n for n, _, _, _ in parts], dtype=np.float64)
    means = np.stack([np.asarray(m, dtype=np.float64) for _, m, _, _ in parts])
    variances = np.stack([np.asarray(v, dtype=np.float64) for _, _, v, _ in parts])
    total = max(counts.sum(), 1.0)
    mean = (counts[:, None] * means).sum(axis=0) / total
    spread = counts[:, None] * (variances + (means - mean) ** 2)
    sample = np.concatenate([s for _, _, _, s in parts if len(s)], axis=0)
    return mean, spread.sum(axis=0) / total, sample


def _statistics(X, group):
    """Mean, variance and a quartile sample of ``X``'s rows (of every rank's)."""
    mean, var = _mean_and_variance(X)
    sample = X
    if X.shape[0] > _QUANTILE_ROWS:
        sample = X[sample_rows(X.shape[0], _QUANTILE_ROWS)]
    if sp.issparse(sample):
        sample = sample.toarray()
    mean, var, sample = _pooled_statistics(group.gather((X.shape[0], mean, var, sample)))
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ValueError(
            "X is too large to standardise: the mean or variance of "
            f"{int(np.sum(~(np.isfinite(mean) & np.isfinite(var))))} feature(s) "
            "overflows. Rescale X to a smaller range first."
        )
    return mean, var, sample


def fit_scaling(X, standardize, group):
    """``(mean, scale)`` of each feature of ``X``: what the network's inputs are.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    standardize : bool
        False: zeros and ones (the network sees X as it is).
    group : sklearn_ae._distributed.Group or Solo
        The statistics are those of every rank's rows.

    Returns
    -------
    mean, scale : ndarray of shape (n_features,), float64
    """
    n_features = X.shape[1]
    if not standardize:
        return np.zeros(n_features), np.ones(n_features)
    mean, var, sample = _statistics(X, group)
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
    quantiles = np.nanpercentile if np.isnan(sample).any() else np.percentile
    low, high = quantiles(sample, [25, 75], axis=0)
    mostly_constant = high - low <= 0
    typical = std[~mostly_constant]
    floor = float(np.median(typical)) if len(typical) else 0.0
    scale = np.where(mostly_constant, np.maximum(std, floor), std)
    # A spread far below every other feature's (a sensor that varies in its
    # 9th digit) is noise more than a unit: dividing by it turned a move of
    # 1e-3 at transform time into 10^5 units and the codes moved 5,000x their
    # size. It is floored at a thousandth of the typical feature's spread; no
    # feature of the 47 ADBench tables and embedding sets, MNIST or digits
    # comes within 100x of that floor.
    varying = scale > 1e-12 * np.maximum(1.0, np.abs(mean))
    scale = np.where(varying, np.maximum(scale, _SPREAD_FLOOR * floor), scale)
    # Constant features (as StandardScaler) are left unscaled.
    scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
    return np.asarray(mean, dtype=np.float64), scale


@dataclass(frozen=True)
class Standardizer:
    """A fitted standardisation: ``(X - mean) / scale``, feature by feature.

    Attributes
    ----------
    mean, scale : ndarray of shape (n_features,)
        The estimator's ``mean_`` and ``scale_``.
    """

    mean: np.ndarray
    scale: np.ndarray

    @property
    def is_identity(self):
        """Whether standardising changes nothing (zero means, unit scales)."""
        return not (np.any(self.mean) or np.any(self.scale != 1.0))

    def transform(self, X):
        """``(X - mean) / scale`` in X's own float dtype; X itself when that is a no-op."""
        if self.is_identity:
            return X
        # Values beyond the dtype's range become inf here; callers turn them
        # into an error (fit) or the worst score (inference).
        with np.errstate(over="ignore", invalid="ignore"):
            out = X - self.mean.astype(X.dtype, copy=False)
            out /= self.scale.astype(X.dtype, copy=False)
        return out

    def feature_range(self, X, group):
        """Per-feature minimum and maximum of the standardised ``X`` (every rank's).

        Standardising is increasing in each feature (``scale > 0``), so the
        extremes are those of X, standardised: no copy of X is made.
        """
        if sp.issparse(X):
            low, high = X.min(axis=0).toarray().ravel(), X.max(axis=0).toarray().ravel()
        else:
            # Of the observed entries: NaN is a missing value.
            low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        low = group.reduce(np.asarray(low, dtype=np.float64), "min")
        high = group.reduce(np.asarray(high, dtype=np.float64), "max")
        low = (np.asarray(low, dtype=np.float64) - self.mean) / self.scale
        high = (np.asarray(high, dtype=np.float64) - self.mean) / self.scale
        return low.astype(X.dtype), high.astype(X.dtype)
