"""Outlier scores beyond the plain reconstruction error, as a mixin.

:class:`OutlierScoreMixin` gives an estimator two parameters,
``outlier_score`` (the combined score: per-feature-normalised error, code
density and distance) and ``refit_fraction`` (retrain without the rows the
first network flags). It plugs into :class:`~sklearn_ae._base.BaseAutoencoder`
through two neutral hooks: :meth:`_rows_to_retrain` and
:meth:`_training_scores`, and overrides :meth:`_score_samples`. Everything a
prediction needs is a fitted attribute (``outlier_score_``, ...), so changing
the parameters after a fit changes nothing until the next fit.

Only :class:`~sklearn_ae.Autoencoder` takes it: the code density assumes a
deterministic encoder trained on reconstruction alone (the variational and
adversarial models shape their codes towards a prior, and score by their own
likelihoods), and the denoising and sparse variants were not measured with it.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions

# Rows of codes the combined outlier score's Gaussian mixture is fitted on.
_DENSITY_ROWS = 10_000

# Codes scored by the Gaussian mixture at once: its per-component work
# arrays are (rows, components, features), so chunks bound its memory.
_DENSITY_CHUNK = 65_536


class OutlierScoreMixin:
    """The combined outlier score and the refit, for an autoencoder estimator."""

    _outlier_parameter_constraints = {
        "outlier_score": [StrOptions({"combined", "reconstruction"})],
        "refit_fraction": [Interval(Real, 0, 0.5, closed="left")],
    }

    # -- hooks of BaseAutoencoder -----------------------------------------
    def _check_distributed(self, X):
        super()._check_distributed(X)
        if self.outlier_score == "combined" or self.refit_fraction > 0:
            # Both learn from every row's codes and errors at once (a mixture
            # on the codes, the rows to drop): not yet pooled across ranks.
            raise ValueError(
                "a data-parallel fit (torch.distributed) takes outlier_score="
                "'reconstruction' and refit_fraction=0; got outlier_score="
                f"{self.outlier_score!r}, refit_fraction={self.refit_fraction}."
            )

    def _rows_to_retrain(self, X, y, seed):
        """Rows of ``X`` to train a fresh network on, or None to keep the first."""
        n_drop = int(np.floor(self.refit_fraction * X.shape[0]))
        if not n_drop:
            return None
        # The first network has learnt the anomalies among its training rows
        # too, and reconstructs them well. Train a fresh one without the rows
        # it scores as most anomalous.
        first_scores = self._training_scores(X, y, seed)
        if first_scores is None:
            first_scores = self._score_samples(X, y)
        return np.sort(np.argsort(first_scores, kind="stable")[n_drop:])

    def _training_scores(self, X, y, seed, keep=None):
        """Learn the training distributions the combined score is measured against.

        They are learnt from the rows ``keep`` of ``X`` (all rows when None):
        those the network was trained on. Returns the combined scores of every
        row of ``X`` (None for the plain score), so that ``offset_`` needs no
        further pass over them.
        """
        for name in ("error_scale_", "input_center_", "code_mean_", "code_scale_",
                     "code_density_", "score_center_", "score_scale_"):
            self.__dict__.pop(name, None)
        self.outlier_score_ = self.outlier_score
        if self.outlier_score_ != "combined":
            return None
        X_all, X = X, (X if keep is None else X[keep])
        # Each feature's error in units of its own typical training error, so
        # that features a network reconstructs poorly everywhere do not drown
        # the rest. Floored at the median feature's error: a feature that is
        # almost always reconstructed exactly (a pixel inked in 10 of 1,797
        # digits, a rare category) would otherwise turn its rare, legitimate
        # values into scores of -10^5 and rank every row that has one first.
        scale = self._feature_errors(X)
        self.error_scale_ = np.maximum(scale, np.median(scale) + 1e-12)
        # The training mean in the network's units (zero when standardised).
        self.input_center_ = (np.asarray(X.mean(axis=0)).ravel() - self.mean_) / self.scale_
        rng = np.random.RandomState(seed)
        # The mixture's EM costs ~1 s per 10,000 codes: a sample of that many
        # describes the code density as well as all rows would.
        rows = np.sort(rng.choice(len(X), _DENSITY_ROWS, replace=False)) if (
            len(X) > _DENSITY_ROWS) else slice(None)
        Z = self._apply(self._encode_batch, X[rows])
        self.code_mean_ = Z.mean(axis=0)
        std = Z.std(axis=0)
        self.code_scale_ = np.where(std > 1e-12, std, 1.0)
        # A small mixture, not one Gaussian: codes of tabular data are often
        # multi-modal, and anomalies sit between the modes as often as outside.
        n_modes = int(min(3, max(1, len(Z) // 20)))
        self.code_density_ = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if len(Z) > 1:
                self.code_density_ = GaussianMixture(
                    n_modes, covariance_type="full", reg_covar=1e-2, random_state=rng
                ).fit((Z - self.code_mean_) / self.code_scale_)
        parts = self._score_parts(X_all)
        reference = parts if keep is None else parts[keep]
        self.score_center_ = np.median(reference, axis=0)
        low, high = np.percentile(reference, [25, 75], axis=0)
        spread = high - low
        self.score_scale_ = np.where(spread > 1e-12, spread, 1.0)
        return self._combine(parts)

    def _score_samples(self, X, y=None):
        if self.outlier_score_ == "combined":
            return self._combine(self._score_parts(X))
        return super()._score_samples(X, y)

    # -- the combined score -----------------------------------------------
    def _feature_errors(self, X):
        """Mean squared reconstruction error of each standardised feature over ``X``."""

        def fn(module, A, y):
            Z = self._encode_batch(module, A, y)
            return (self._decode_batch(module, Z, y) - A).square().sum(0, keepdim=True)

        # One row of sums per chunk: never an (n_samples, n_features) array.
        return self._apply(fn, X).sum(axis=0) / X.shape[0]

    def _score_parts(self, X):
        """The three raw parts of the combined score, one column each."""

        def fn(module, A, y):
            Z = self._encode_batch(module, A, y)
            scale = torch.as_tensor(self.error_scale_, dtype=A.dtype, device=A.device)
            error = ((self._decode_batch(module, Z, y) - A).square() / scale).mean(1)
            # Distance in the units the network sees: with standardize=True each
            # feature's spread, else the raw units (pixels), so that rarely
            # inked pixels are not weighted up.
            center = torch.as_tensor(self.input_center_, dtype=A.dtype, device=A.device)
            distance = (A - center).square().mean(1, keepdim=True)
            return torch.cat([Z, error[:, None], distance], dim=1)

        out = self._apply(fn, X)
        Z, error, distance = out[:, :-2], out[:, -2], out[:, -1]
        density = np.zeros(len(Z))
        if self.code_density_ is not None:  # None after a fit on a single row
            # Codes that overflowed have no density: the least likely there is.
            density[:] = -np.inf
            finite = np.flatnonzero(np.isfinite(Z).all(axis=1))
            for start in range(0, len(finite), _DENSITY_CHUNK):
                rows = finite[start : start + _DENSITY_CHUNK]
                density[rows] = self.code_density_.score_samples(
                    (Z[rows] - self.code_mean_) / self.code_scale_)
        return np.column_stack([error, -density, distance])

    def _combine(self, parts):
        """Combined score from the raw parts: minus the sum of their robust z-scores."""
        return -((parts - self.score_center_) / self.score_scale_).sum(axis=1)
