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
from tqdm.auto import tqdm

from ._scaling import Standardizer, sample_rows
from .nn import MLPAutoencoder

__all__ = ["Baseline", "FallbackWatch", "LinearFallbackMixin"]

# Widest data the comparison takes (it holds a features x features
# covariance in float64: 32 MB at 2048).
_LINEAR_MAX_FEATURES = 2048
# Rows it reads at most, per role: its cost is rows x features^2, and
# where rows are this many the network wins by far (PCA's subspace from
# 50,000 rows is as good as from all of them).
_LINEAR_MAX_ROWS = 50_000

# Epochs between two checks of the network against PCA while it trains.
_WATCH_EVERY = 5

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


class Baseline:
    """The PCA candidates of a fit and their errors on the validation rows.

    One covariance of the standardised training rows gives PCA of the
    standardised rows and, where the features share a unit, PCA of X as it
    is. One unit judges: X's where the features share one (what a user
    comparing with PCA of X measures), else the standardised one (every
    feature weighed alike, as a user standardising first would measure; in
    X's units the largest-scale feature alone would decide).
    """

    def __init__(self, X, train_rows, val_rows, scaler, n_components):
        self.X, self.train_rows, self.val_rows, self.scaler = X, train_rows, val_rows, scaler
        self.n_components = n_components
        scale = np.asarray(scaler.scale, dtype=np.float64)
        mean, cov = covariance(X, train_rows, scaler)
        self.kinds = (False, True) if _shares_a_unit(scale, cov) else (False,)
        self.judged = 0 if len(self.kinds) == 2 else 1
        codecs = [pca_codec(mean, cov, n_components, scale, raw) for raw in self.kinds]
        candidates = [validation_errors(_linear_rebuild(c), X, val_rows, scaler)
                      for c in codecs]
        self.best = min(range(len(candidates)),
                        key=lambda i: float(np.mean(candidates[i][self.judged])))
        self.errors = candidates[self.best][self.judged]
        # The held-out estimate on the training loss's scale.
        self.loss = float(np.mean(candidates[self.best][1]))

    def network_errors(self, network, device):
        """The network's per-row errors on the validation rows, in the judged unit."""
        with torch.no_grad():
            return validation_errors(_network_rebuild(network, device), self.X, self.val_rows,
                                     self.scaler)[self.judged]

    def kept_over(self, network, device):
        """``(in_x_units, loss)`` of the best PCA, or None where the network wins."""
        linear = self.errors
        if not (np.isfinite(self.loss) and np.isfinite(np.mean(linear))) or network_wins(
                linear - self.network_errors(network, device)):
            return None
        return self.kinds[self.best], self.loss


class FallbackWatch:
    """Watches the network train, and stops it once PCA's model is sure to be kept.

    Every ``_WATCH_EVERY`` epochs the network's error on the validation rows
    (in the unit the final comparison judges) is set against the best
    PCA's. Training stops where the network cannot catch up: where even its
    gain per epoch since the last check, kept up for every epoch left,
    would leave it at or above PCA's error. A loss curve flattens, so the
    straight line forecasts more than the network will gain; and at the end
    the network must also win by a standard error, which the forecast does
    not ask of it.

    Parameters
    ----------
    baseline : Baseline
    device : torch.device
    max_iter : int
        Epochs the training may run.
    stop_early : bool
        False: only watch (the decision is then taken at the end alone).
    verbose : int
        Positive: say which model is kept, and why.
    """

    def __init__(self, baseline, device, max_iter, stop_early, verbose=0):
        self.baseline, self.device = baseline, device
        self.max_iter, self.stop_early, self.verbose = max_iter, stop_early, verbose
        self.checks = []  # (epochs, mean error) of each check
        self.stopped_at = None

    def __call__(self, n_epochs, module):
        """Called after each epoch: True to stop training the network."""
        if not self.stop_early or n_epochs % _WATCH_EVERY or n_epochs >= self.max_iter:
            return False
        module.eval()
        error = float(np.mean(self.baseline.network_errors(module, self.device)))
        self.checks.append((n_epochs, error))
        if len(self.checks) < 2 or not np.isfinite(error):
            return False
        (before, previous), best = self.checks[-2], min(e for _, e in self.checks)
        gain = max(previous - error, 0.0) / (n_epochs - before)
        if best - gain * (self.max_iter - n_epochs) < float(np.mean(self.baseline.errors)):
            return False
        self.stopped_at = n_epochs
        return True

    def model(self, network):
        """``(module, loss)`` of the PCA autoencoder to keep, or None to keep ``network``.

        The chosen PCA is refitted on every training row, the validation
        rows included (on a small table a tenth of the rows matters);
        ``loss`` stays the held-out estimate, on the training loss's scale.
        """
        network.eval()
        baseline = self.baseline
        chosen = baseline.kept_over(network, self.device)
        if chosen is None:
            return None
        in_x_units, loss = chosen
        X, scaler = baseline.X, baseline.scaler
        rows = np.sort(np.concatenate([baseline.train_rows, baseline.val_rows]))
        mean, cov = covariance(X, rows, scaler)
        codec = pca_codec(mean, cov, baseline.n_components,
                          np.asarray(scaler.scale, dtype=np.float64), in_x_units)
        if self.verbose:
            tqdm.write(self._message(in_x_units))
        return linear_module(codec, X.shape[1], baseline.n_components, self.device), loss

    def _message(self, in_x_units):
        pca = "PCA of X" if in_x_units else "PCA of the standardised rows"
        said = (f"{pca} reconstructs the validation rows better than the network "
                f"(mean error {np.mean(self.baseline.errors):.4g})")
        if self.stopped_at is None:
            return said + ": its linear autoencoder is the model."
        last = self.checks[-1][1]
        return (f"{said}; the network, at {last:.4g} after {self.stopped_at} of "
                f"{self.max_iter} epochs, could not catch up: its training stopped there, "
                "and PCA's linear autoencoder is the model.")


class LinearFallbackMixin:
    """Keep PCA's linear autoencoder where the network does not clearly beat it.

    For estimators whose default widths (``hidden_layer_sizes="auto"``) are
    a guess: PCA candidates from one covariance of the standardised training
    rows (PCA of the standardised rows and, where the features share a
    unit, PCA of X as it is) and the network are judged on the validation
    rows; the network stays only if it wins by more than one standard error.
    While it trains, a :class:`FallbackWatch` stops it once it cannot catch
    up. Fills the :meth:`_fallback_watch` hook of
    :class:`~sklearn_ae.BaseAutoencoder`.
    """

    def _fallback_watch(self, X, train_rows, val_rows):
        """A :class:`FallbackWatch` of the network against PCA, or None where PCA cannot apply."""
        if not (
            isinstance(self.hidden_layer_sizes, str)
            # PCA's one code cannot stand in for an ensemble's codes side by side.
            and getattr(self, "n_members", 1) == 1
            # PCA takes no missing values: the network is the model.
            and not self._missing_share
            and isinstance(val_rows, np.ndarray)
            and not sp.issparse(X)
            and self._group.size == 1
            and X.shape[1] <= _LINEAR_MAX_FEATURES
            and self.n_components_ < min(len(train_rows), X.shape[1])
        ):
            return None
        baseline = Baseline(X, _capped(train_rows), _capped(val_rows),
                            Standardizer(self.mean_, self.scale_), self.n_components_)
        # A fit that trains a second network after this one (refit_fraction)
        # keeps no PCA model when it refits: this network must finish.
        return FallbackWatch(baseline, self.device_, self.max_iter_,
                             stop_early=not getattr(self, "refit_fraction", 0.0),
                             verbose=self.verbose)
