"""Linear imputation: each gap filled with its conditional mean under a Gaussian model of the rows.

What :class:`~sklearn.impute.IterativeImputer` with its linear regressors
converges to, from one precision matrix: the regression of a feature on all
the others has coefficients ``-P[j, k] / P[j, j]``, so every feature's
regression comes from one inversion. :class:`~sklearn_ae.AutoencoderImputer`
blends it with the network's fills, feature by feature.

Plain functions of float arrays with NaN at the gaps; numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GaussianFill"]

# Ridge added to the covariance of the standardised features: keeps the
# precision matrix finite for collinear or constant features.
_RIDGE = 0.01
# Sweeps of the fit (mean and covariance re-estimated from the filled rows,
# then every gap moved towards its conditional mean), and their tolerance in
# standard deviations.
_SWEEPS = 30
_TOL = 1e-4


class GaussianFill:
    """Conditional means of the gaps under a Gaussian fitted to rows with gaps.

    Attributes (after :meth:`fit`)
    ------------------------------
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation of the features (observed values).
    center_ : ndarray of shape (n_features,)
        Mean of the standardised, filled training rows.
    precision_ : ndarray of shape (n_features, n_features)
        Inverse of their covariance, with a ridge of ``_RIDGE``.
    """

    def fit(self, X):
        """Estimate the Gaussian from ``X`` (NaN at the gaps), filling them as it goes."""
        gaps = np.isnan(X)
        self.mean_ = np.nanmean(X, axis=0)
        scale = np.nanstd(X, axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = np.where(gaps, 0.0, (X - self.mean_) / self.scale_)
        for _ in range(_SWEEPS):
            self._estimate(Z)
            # One Jacobi step of every gap towards its conditional mean: the
            # row's residual through the precision matrix, divided by its
            # diagonal, is how far each gap is from it.
            step = ((Z - self.center_) @ self.precision_) / np.diag(self.precision_)
            moved = np.where(gaps, Z - step, Z)
            change = float(np.max(np.abs(moved - Z))) if gaps.any() else 0.0
            Z = moved
            if change < _TOL:
                break
        self._estimate(Z)
        return self

    def _estimate(self, Z):
        self.center_ = Z.mean(axis=0)
        cov = np.atleast_2d(np.cov(Z, rowvar=False, bias=True))
        self.precision_ = np.linalg.inv(cov + _RIDGE * np.eye(Z.shape[1]))

    def fill(self, X):
        """``X`` with each gap at its conditional mean given the row's observed values.

        Exact, by conjugate gradients on every row's system at once (the
        precision matrix restricted to the row's gaps is positive definite):
        at most one matrix product per feature.
        """
        gaps = np.isnan(X)
        out = np.array(X, dtype=np.float64, copy=True)
        if not gaps.any():
            return out
        Z = np.where(gaps, 0.0, (X - self.mean_) / self.scale_ - self.center_)
        filled = _masked_solve(self.precision_, -(Z @ self.precision_) * gaps, gaps)
        out[gaps] = ((filled + self.center_) * self.scale_ + self.mean_)[gaps]
        return out


def _masked_solve(P, b, mask):
    """Per row i, y with ``P[m, m] y[m] = b[m]`` on ``m = mask[i]`` (0 elsewhere)."""
    weights = mask.astype(np.float64)
    y = np.zeros_like(b)
    r, p = b.copy(), b.copy()
    rs = np.einsum("ij,ij->i", r, r)
    tol = 1e-20 * max(float(rs.max()), 1e-300)
    for _ in range(P.shape[0]):
        Ap = (p @ P) * weights
        pAp = np.einsum("ij,ij->i", p, Ap)
        alpha = np.divide(rs, pAp, out=np.zeros_like(rs), where=pAp > 0)
        y += alpha[:, None] * p
        r -= alpha[:, None] * Ap
        new = np.einsum("ij,ij->i", r, r)
        if new.max() <= tol:
            break
        p = r + np.divide(new, rs, out=np.zeros_like(new), where=rs > 0)[:, None] * p
        rs = new
    return y
