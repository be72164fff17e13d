"""PCA's linear autoencoder as the model where the network does not beat it.

On small tables a network overfits rows that a k-dimensional subspace
generalises from, and on pixels of one unit standardisation weights rare
pixels up: :class:`LinearFallbackMixin` keeps :class:`~sklearn_ae.Autoencoder`
with default widths from losing to :class:`~sklearn.decomposition.PCA` on
held-out rows. The maths is in plain functions of rows and a fitted
standardiser, as scikit-learn's PCA keeps its own in module functions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ._scaling import Standardizer, sample_rows
from .nn import MLPAutoencoder

__all__ = ["LinearFallbackMixin"]

# Widest data the comparison takes (it holds a features x features
# covariance in float64: 32 MB at 2048).
_LINEAR_MAX_FEATURES = 2048
# Rows it reads at most, per role: its cost is rows x features^2, and
# where rows are this many the network wins by far (PCA's subspace from
# 50,000 rows is as good as from all of them).
_LINEAR_MAX_ROWS = 50_000

# Features whose scales (standard deviations, floored as in fit_scaling) lie
# within this factor of each other are taken to share a unit, so that the
# fallback also offers PCA of X itself.
_SHARED_UNIT_SPREAD = 10.0


def _capped(rows):
    if len(rows) <= _LINEAR_MAX_ROWS:
        return rows
    return rows[sample_rows(len(rows), _LINEAR_MAX_ROWS)]


def _chunks(X, rows, scaler):
    """The standardised ``rows`` of ``X`` in float64, about 1 M values at a time."""
    step = max(1, (1 << 20) // X.shape[1])
    for start in range(0, len(rows), step):
        yield scaler.transform(X[rows[start : start + step]]).astype(np.float64)


def covariance(X, rows, scaler):
    """Mean and covariance of the standardised ``rows`` of ``X`` (no copy of them)."""
    mean = sum(part.sum(axis=0) for part in _chunks(X, rows, scaler)) / len(rows)
    total = np.zeros((X.shape[1], X.shape[1]))
    for part in _chunks(X, rows, scaler):
        part -= mean
        total += part.T @ part
    return mean, total / len(rows)


def pca_codec(mean, cov, k, scale, in_x_units):
    """``(mean, encoder, decoder)`` of a k-component PCA, in standardised units.

    ``in_x_units``: PCA of the rows in X's own units, mapped to standardised
    ones (x - mean_x = scale * (u - mean_u), so its components V map back
    as V / scale).
    """
    if in_x_units:
        _, raw = np.linalg.eigh(cov * scale[:, None] * scale[None, :])
        raw = raw[:, ::-1][:, :k]  # largest first
        return mean, raw.T * scale[None, :], raw / scale[:, None]
    _, vectors = np.linalg.eigh(cov)
    vectors = vectors[:, ::-1][:, :k]
    return mean, vectors.T, vectors


def validation_errors(rebuild, X, rows, scaler):
    """Per row: squared reconstruction error in X's units and in standardised ones."""
    scale = np.asarray(scaler.scale, dtype=np.float64)
    user, standard = [], []
    for part in _chunks(X, rows, scaler):
        residual = rebuild(part) - part
        standard.append(np.mean(residual**2, axis=1))
        user.append(np.mean((residual * scale) ** 2, axis=1))
    return np.concatenate(user), np.concatenate(standard)


def network_wins(gaps):
    """Breiman's one-standard-error rule on per-row ``gaps`` (PCA's error minus the network's).

    The network, the more complex model, stays only if it beats PCA by more
    than the standard error of the difference on these rows (a few dozen
    validation rows of a small table cannot tell a small win from luck).
    """
    standard_error = float(np.std(gaps, ddof=1) / np.sqrt(len(gaps))) if len(gaps) > 1 else 0.0
    return float(np.mean(gaps)) > standard_error


def linear_module(codec, n_features, n_components, device):
    """An :class:`~sklearn_ae.nn.MLPAutoencoder` with no hidden layer that computes ``codec``."""
    mean, encoder, decoder = codec
    module = MLPAutoencoder(n_features, n_components, ())
    with torch.no_grad():
        layer_in, layer_out = module.encoder[0], module.decoder[0]
        layer_in.weight.copy_(torch.from_numpy(np.ascontiguousarray(encoder)))
        layer_in.bias.copy_(torch.from_numpy(-(encoder @ mean)))
        layer_out.weight.copy_(torch.from_numpy(np.ascontiguousarray(decoder)))
        layer_out.bias.copy_(torch.from_numpy(mean))
    return module.to(device)


def _linear_rebuild(codec):
    mean, encoder, decoder = codec
    return lambda part: mean + ((part - mean) @ encoder.T) @ decoder.T


def _network_rebuild(network, device):
    def rebuild(part):
        rows = torch.from_numpy(part.astype(np.float32)).to(device)
        return network(rows).double().cpu().numpy()

    return rebuild


def _shares_a_unit(scale, cov):
    """Whether the features' scales lie within ``_SHARED_UNIT_SPREAD`` of each other.

    PCA of X is what a user would compare with only where the features
    share a unit, as pixels do (rarely varying features counted at the
    floor they are scaled by); where spreads differ by orders of magnitude
    a user standardises before PCA, and PCA of X would ignore the small
    features.
    """
    spread = scale[np.diag(cov) > 0]
    return bool(np.any(scale != 1.0) and len(spread)
                and spread.max() <= _SHARED_UNIT_SPREAD * spread.min())


def compare(network, X, train_rows, val_rows, scaler, n_components, device):
    """The best linear codec and its held-out errors, or None where the network wins.

    Returns ``(in_x_units, loss)``: which PCA won and its mean validation
    loss in standardised units.
    """
    scale = np.asarray(scaler.scale, dtype=np.float64)
    mean, cov = covariance(X, train_rows, scaler)
    with_raw = _shares_a_unit(scale, cov)
    kinds = (False, True) if with_raw else (False,)
    # One unit judges: X's where the features share one (what a user
    # comparing with PCA of X measures), else the standardised one (every
    # feature weighed alike, as a user standardising first would measure;
    # in X's units the largest-scale feature alone would decide).
    judged = 0 if with_raw else 1
    with torch.no_grad():
        codecs = [pca_codec(mean, cov, n_components, scale, raw) for raw in kinds]
        learnt = validation_errors(_network_rebuild(network, device), X, val_rows,
                                   scaler)[judged]
        candidates = [validation_errors(_linear_rebuild(c), X, val_rows, scaler)
                      for c in codecs]
    best = min(range(len(candidates)), key=lambda i: float(np.mean(candidates[i][judged])))
    linear, linear_standard = candidates[best][judged], candidates[best][1]
    loss = float(np.mean(linear_standard))
    if not (np.isfinite(loss) and np.isfinite(np.mean(linear))) or network_wins(
            linear - learnt):
        return None
    return kinds[best], loss


class LinearFallbackMixin:
    """Keep PCA's linear autoencoder where the network does not clearly beat it.

    For estimators whose default widths (``hidden_layer_sizes="auto"``) are
    a guess: after training, PCA candidates from one covariance of the
    standardised training rows (PCA of the standardised rows and, where the
    features share a unit, PCA of X as it is) and the network are judged on
    the validation rows; the network stays only if it wins by more than one
    standard error. Fills the :meth:`_fallback_model` hook of
    :class:`~sklearn_ae.BaseAutoencoder`.
    """

    def _fallback_model(self, X, train_rows, val_rows):
        """``(module, loss)`` of a PCA autoencoder unless the network clearly beats it.

        The chosen PCA is refitted on every training row, the validation
        rows included (on a small table a tenth of the rows matters);
        ``loss`` stays the held-out estimate, on the training loss's scale.
        """
        if not (
            isinstance(self.hidden_layer_sizes, str)
            # PCA takes no missing values: the network is the model.
            and not self._missing_share
            and isinstance(val_rows, np.ndarray)
            and not sp.issparse(X)
            and self._group.size == 1
            and X.shape[1] <= _LINEAR_MAX_FEATURES
            and self.n_components_ < min(len(train_rows), X.shape[1])
        ):
            return None
        scaler = Standardizer(self.mean_, self.scale_)
        train_rows, val_rows = _capped(train_rows), _capped(val_rows)
        self.module_.eval()
        chosen = compare(self.module_, X, train_rows, val_rows, scaler, self.n_components_,
                         self.device_)
        if chosen is None:
            return None
        in_x_units, loss = chosen
        mean, cov = covariance(X, np.sort(np.concatenate([train_rows, val_rows])), scaler)
        codec = pca_codec(mean, cov, self.n_components_,
                          np.asarray(self.scale_, dtype=np.float64), in_x_units)
        return linear_module(codec, X.shape[1], self.n_components_, self.device_), loss
