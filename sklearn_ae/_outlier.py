"""Outlier scores beyond the plain reconstruction error, as a mixin.

:class:`OutlierScoreMixin` gives an estimator two parameters,
``outlier_score`` (the combined score: per-feature-normalised error, code
density and distance; or the isolation score: the log of that error, an
isolation forest's score and, on narrow tables, the log of a robust
Mahalanobis distance, each as a robust z-score) and ``refit_fraction``
(retrain without the rows the first network, or the forest, flags). It
plugs into :class:`~sklearn_ae._base.BaseAutoencoder`
through two neutral hooks: :meth:`_rows_to_retrain` and
:meth:`_fit_outlier_score`, and overrides :meth:`_score_samples`. Everything a
prediction needs is a fitted attribute (``outlier_score_``, ...), so changing
the parameters after a fit changes nothing until the next fit.

Only :class:`~sklearn_ae.Autoencoder` (and :class:`~sklearn_ae.OutlierAutoencoder`,
it with detector defaults) takes it: the code density assumes a
deterministic encoder trained on reconstruction alone (the variational and
adversarial models shape their codes towards a prior, and score by their own
likelihoods), and the denoising and sparse variants were not measured with it.
"""

from __future__ import annotations

import warnings
from numbers import Real

import math

import numpy as np
import torch
from sklearn.covariance import MinCovDet
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions

from ._missing import fill_missing, has_gaps, missing_mask, missing_per_feature, observed_of
from ._missing import observed_row_means
from ._scaling import observed_mean

# Rows of codes the combined outlier score's Gaussian mixture is fitted on.
_DENSITY_ROWS = 10_000

# Codes scored by the Gaussian mixture at once: its per-component work
# arrays are (rows, components, features), so chunks bound its memory.
_DENSITY_CHUNK = 65_536

# Weights of the isolation score's two robust z-scores: the log
# reconstruction error's, and the forest's at n_features <= _FOREST_FEATURES, falling as
# _FOREST_FEATURES / n_features beyond. A forest splits on one feature at a
# time, so on hundreds of dense features (image and text embeddings) each
# split carries little and the forest's ranking is the weaker one (ROC-AUC
# 0.73 against the error's 0.77 on 18 ADBench embedding sets). Both chosen
# on half A of the ADBench tabular and embedding sets, confirmed on half B
# (benchmarks/outliers.py, docs/benchmarks.md).
_ERROR_WEIGHT = 0.75
_FOREST_FEATURES = 16

# The isolation score's third part, on tables of at most
# _COVARIANCE_MAX_FEATURES features and at least 2 (n_features + 1) rows: the
# log squared Mahalanobis distance of the row under a robust covariance
# (MinCovDet with 75% of the rows in its support, its covariance plus
# _COVARIANCE_RIDGE times the mean variance on the diagonal, so that a
# feature constant on the support, a pixel inked in a few digits, does not
# put every row that has it at an infinite distance), as a robust z-score of
# weight _COVARIANCE_WEIGHT. It catches rows that break the linear relations
# between features, where the network's error is weak (a Gaussian table). All
# chosen on half A of the ADBench tables from a small grid, confirmed on half
# B (3 seeds, python -m benchmarks outliers, the refit still screened by the
# forest alone: ROC-AUC A 0.7762 to 0.7796, AP 0.4239 to 0.4319; B 0.7752 to
# 0.7825, AP 0.4394 to 0.4475; see _screen for the rest). Measured up to
# the widest of those tables, 64 features; the embedding sets (512-768
# features, fewer rows than that) never have it.
_COVARIANCE_WEIGHT = 0.5
_COVARIANCE_SUPPORT = 0.75
_COVARIANCE_RIDGE = 0.1
_COVARIANCE_MAX_FEATURES = 64
# MinCovDet's cost grows with the rows: a sample this large describes the
# bulk of the data as well as all of them.
_COVARIANCE_ROWS = 20_000

# Floor of the scaled error before its log (a row the network reconstructs
# exactly would score log 0). Scaled errors are about 1 for typical rows.
_ERROR_FLOOR = 1e-12

# Spreads at or below this (relative to the center, at least 1) count as
# none: float32 errors carry about 7 significant digits.
_SPREAD_FLOOR = 1e-6

# Forest scores are computed for this many (row, tree) pairs at once.
_FOREST_CHUNK = 1 << 21

_FOREST_ATTRIBUTES = ("forest_left_", "forest_right_", "forest_feature_",
                      "forest_threshold_", "forest_leaf_", "forest_count_", "forest_depth_",
                      "forest_norm_")

_COVARIANCE_ATTRIBUTES = ("covariance_location_", "covariance_precision_", "covariance_floor_",
                          "covariance_center_", "covariance_spread_", "covariance_weight_")


def _average_path_length(n):
    """Mean path length of an unsuccessful search in a binary tree of ``n`` points.

    What a leaf holding ``n`` training rows adds to a path in an isolation
    tree (Liu, Ting and Zhou, 2008), as :class:`~sklearn.ensemble.IsolationForest`
    adds it.
    """
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _center_and_spread(values):
    """Median and interquartile range of ``values``: a robust z-score's units.

    The standard deviation stands in for a zero interquartile range (more
    than half the rows alike), and 1 for no spread at all.
    """
    low, center, high = np.percentile(values, [25, 50, 75])
    # A spread this small is rounding (identical rows whose float32 errors
    # differ in the last bits between batches), not a scale: dividing by it
    # would turn a 1e-15 difference into several units of score.
    floor = _SPREAD_FLOOR * max(1.0, abs(center))
    for spread in (high - low, float(np.std(values))):
        if spread > floor:
            return float(center), float(spread)
    return float(center), 1.0


def grow_forest(X, seed):
    """Grow an isolation forest on ``X``; its trees as padded node arrays.

    scikit-learn grows it; the trees are kept as arrays (the fitted
    attributes ``forest_left_``, ... ``forest_norm_``) so that a fitted model
    is plain arrays (what :func:`~sklearn_ae.save` writes) and scores any
    number of rows in chunks (:func:`forest_scores`).
    """
    forest = IsolationForest(random_state=seed).fit(X)
    trees = [tree.tree_ for tree in forest.estimators_]
    shape = (len(trees), max(tree.node_count for tree in trees))
    left = np.full(shape, -1, dtype=np.int64)
    right = np.full(shape, -1, dtype=np.int64)
    feature = np.zeros(shape, dtype=np.int64)
    threshold = np.zeros(shape)
    leaf = np.zeros(shape)
    count = np.ones(shape)
    for i, (tree, columns) in enumerate(zip(trees, forest.estimators_features_)):
        k = tree.node_count
        left[i, :k], right[i, :k] = tree.children_left, tree.children_right
        feature[i, :k] = np.asarray(columns)[np.maximum(tree.feature, 0)]
        threshold[i, :k] = tree.threshold
        leaf[i, :k] = np.where(tree.children_left < 0,
                               _average_path_length(tree.n_node_samples), 0.0)
        count[i, :k] = tree.n_node_samples
    return {"forest_left_": left, "forest_right_": right, "forest_feature_": feature,
            "forest_threshold_": threshold, "forest_leaf_": leaf, "forest_count_": count,
            "forest_depth_": int(max(tree.max_depth for tree in trees)),
            # c(1) = 0: a forest grown on one row isolates nothing, and every
            # row scores 2 ** 0 (c(n) >= 1 from two rows on, unchanged).
            "forest_norm_": float(max(_average_path_length(forest.max_samples_), 1.0))}


def _path_lengths(A, forest, trees, splits=None):
    """Each row's path length in each tree (plus the leaf's average), rows x trees.

    ``splits`` (rows x features), when given, gets each split's isolation
    on its feature: ``log(n_parent / n_child)`` of the training rows in the
    node the row leaves and the one it enters, summed over the trees.
    """
    node = np.zeros((A.shape[0], trees.shape[1]), dtype=np.int64)
    depth = np.zeros(node.shape)
    rows = np.arange(A.shape[0])[:, None]
    for _ in range(forest["forest_depth_"]):
        left = forest["forest_left_"][trees, node]
        inner = left >= 0
        if not inner.any():
            break
        feature = forest["forest_feature_"][trees, node]
        value = np.take_along_axis(A, feature, axis=1)
        child = np.where(value <= forest["forest_threshold_"][trees, node], left,
                         forest["forest_right_"][trees, node])
        if splits is not None:
            counts = forest["forest_count_"]
            gain = np.log(counts[trees, node]) - np.log(counts[trees, np.where(inner, child, 0)])
            np.add.at(splits, (np.broadcast_to(rows, feature.shape)[inner], feature[inner]),
                      gain[inner])
        node = np.where(inner, child, node)
        depth += inner
    return depth + forest["forest_leaf_"][trees, node]


def forest_splits(X, forest):
    """How much the splits on each feature isolate each row (rows x features).

    Each split along a row's path in a tree counts ``log(n_parent /
    n_child)``, the training rows it leaves behind (a split that sends an
    anomaly into a node of its own counts most); summed over the trees. The
    features the forest isolates the row with get the most.
    """
    n_trees = forest["forest_left_"].shape[0]
    trees = np.arange(n_trees)[None, :]
    out = np.zeros(X.shape)
    step = max(1, _FOREST_CHUNK // n_trees)
    for start in range(0, X.shape[0], step):
        A = X[start : start + step]
        A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=np.float32)
        _path_lengths(A, forest, trees, splits=out[start : start + step])
    return out


def draw_rows(n_rows, limit, rng):
    """Sorted indices of ``limit`` of ``n_rows`` rows drawn by ``rng``; all rows within it."""
    if n_rows > limit:
        return np.sort(rng.choice(n_rows, limit, replace=False))
    return slice(None)


def forest_weight(n_features):
    """Weight of the isolation score's forest z-score (see ``_FOREST_FEATURES``)."""
    return min(1.0, _FOREST_FEATURES / n_features)


def fit_robust_covariance(A, seed):
    """Robust location and regularised precision of the rows ``A`` (network units).

    Returns the fitted attributes ``covariance_location_`` and
    ``covariance_precision_``: :class:`~sklearn.covariance.MinCovDet`'s
    location, and the pseudo-inverse of its covariance with
    ``_COVARIANCE_RIDGE`` times the mean variance added to the diagonal.
    None where the rows in MinCovDet's support are all alike (three quarters
    of the rows one repeated row): there is no spread to measure
    distances in.
    """
    rng = np.random.RandomState(seed)
    A = A[draw_rows(len(A), _COVARIANCE_ROWS, rng)]
    with warnings.catch_warnings():
        # Not full rank (a constant feature) and a determinant that rose in
        # a concentration step: the ridge below is there for both.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        try:
            mcd = MinCovDet(support_fraction=_COVARIANCE_SUPPORT, random_state=rng).fit(A)
        except ValueError as error:
            if "is equal to 0" not in str(error):
                raise
            return None
    covariance = mcd.covariance_
    ridge = _COVARIANCE_RIDGE * np.trace(covariance) / len(covariance)
    precision = np.linalg.pinv(covariance + ridge * np.eye(len(covariance)), hermitian=True)
    return {"covariance_location_": mcd.location_, "covariance_precision_": precision}


def mahalanobis_terms(A, location, precision):
    """Each row's squared Mahalanobis distance, split by feature (rows x features).

    Term ``j`` is ``d_j (P d)_j`` with ``d`` the row minus ``location``: the
    terms of a row sum to its squared distance ``d' P d``.
    """
    D = A - location
    return D * (D @ precision)


def _split_by(total, weights):
    """``total`` (one per row) split over features in proportion to ``weights``.

    Rows whose weights sum to zero are split evenly.
    """
    sums = weights.sum(axis=1, keepdims=True)
    shares = np.divide(weights, sums, out=np.full_like(weights, 1.0 / weights.shape[1]),
                       where=sums > 0)
    return total[:, None] * shares


def forest_scores(X, forest):
    """The anomaly score of each row, ``2 ** -(mean path / c(max_samples))``.

    ``forest``: the arrays :func:`grow_forest` returns. Equal to
    ``-IsolationForest.score_samples``: higher is more anomalous.
    """
    n_trees = forest["forest_left_"].shape[0]
    trees = np.arange(n_trees)[None, :]
    out = np.empty(X.shape[0])
    step = max(1, _FOREST_CHUNK // n_trees)
    for start in range(0, X.shape[0], step):
        A = X[start : start + step]
        # float32 as IsolationForest compares, so that both split alike.
        A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=np.float32)
        depth = _path_lengths(A, forest, trees)
        out[start : start + step] = 2.0 ** (-depth.mean(axis=1) / forest["forest_norm_"])
    return out


def scaled_error(decoded, A, error_scale):
    """Each row's mean squared error, each feature in units of ``error_scale``."""
    return ((decoded - A).square() / error_scale).mean(1)


def distance_from(A, center):
    """Each row's mean squared distance from ``center``, in the network's units."""
    return (A - center).square().mean(1)


def combine(parts, center, scale):
    """Combined score from raw parts (numpy or torch): minus their robust z-scores' sum."""
    return -((parts - center) / scale).sum(1)


def _as_buffer(value):
    return torch.as_tensor(np.asarray(value), dtype=torch.float32)


class CombinedScore(torch.nn.Module):
    """The combined score of standardised rows as one float32 torch module.

    What :func:`~sklearn_ae.to_onnx` exports: the same parts and units as
    :meth:`OutlierScoreMixin._score_parts`, with the code density (a
    Gaussian mixture) written in torch as
    :meth:`~sklearn.mixture.GaussianMixture.score_samples` computes it.
    """

    _ATTRIBUTES = ("error_scale_", "input_center_", "code_mean_", "code_scale_",
                   "score_center_", "score_scale_")

    def __init__(self, network, fitted):
        super().__init__()
        self.network = network
        for name in self._ATTRIBUTES:
            self.register_buffer(name.rstrip("_"), _as_buffer(getattr(fitted, name)))
        gmm = fitted.code_density_
        self.has_density = gmm is not None  # None after a fit on a single row
        if self.has_density:
            # log N(z; mu_k, Sigma_k) = sum log diag(L_k) - |(z - mu_k) L_k|^2 / 2
            # - d/2 log(2 pi), with L_k the Cholesky factor of the precision.
            self.register_buffer("gmm_means", _as_buffer(gmm.means_))
            self.register_buffer("gmm_prec_chol", _as_buffer(gmm.precisions_cholesky_))
            log_det = np.log(np.diagonal(gmm.precisions_cholesky_, axis1=1, axis2=2)).sum(1)
            constant = np.log(gmm.weights_) + log_det - 0.5 * gmm.means_.shape[1] * math.log(
                2 * math.pi)
            self.register_buffer("gmm_constant", _as_buffer(constant))

    def _density(self, Z):
        z = (Z - self.code_mean) / self.code_scale
        diff = z[:, None, :] - self.gmm_means[None]  # (n, k, d)
        y = torch.einsum("nkd,kde->nke", diff, self.gmm_prec_chol)
        return torch.logsumexp(self.gmm_constant - 0.5 * y.square().sum(-1), dim=1)

    def forward(self, A):
        Z = self.network.encode(A)
        error = scaled_error(self.network.decode(Z), A, self.error_scale)
        density = self._density(Z) if self.has_density else torch.zeros_like(error)
        parts = torch.stack([error, -density, distance_from(A, self.input_center)], dim=1)
        return combine(parts, self.score_center, self.score_scale)


class OutlierScoreMixin:
    """The combined outlier score and the refit, for an autoencoder estimator."""

    _outlier_parameter_constraints = {
        "outlier_score": [StrOptions({"combined", "isolation", "reconstruction"})],
        "refit_fraction": [Interval(Real, 0, 0.5, closed="left")],
    }

    # The combined score's code density is a GaussianMixture.
    _nested_estimators = ("sklearn.mixture.GaussianMixture",)

    # -- hooks of BaseAutoencoder -----------------------------------------
    def _check_distributed(self, X):
        super()._check_distributed(X)
        if self._group.size > 1 and (
                self.outlier_score != "reconstruction" or self.refit_fraction > 0):
            # Both learn from every row's codes and errors at once (a mixture
            # on the codes, the rows to drop): not yet pooled across ranks.
            raise ValueError(
                "a data-parallel fit (torch.distributed) takes outlier_score="
                "'reconstruction' and refit_fraction=0; got outlier_score="
                f"{self.outlier_score!r}, refit_fraction={self.refit_fraction}."
            )

    def _fit_offset(self, X, y, scores=None):
        offset = super()._fit_offset(X, y, scores)
        if self.outlier_score_ == "reconstruction":
            return offset
        # These scores are sums of robust z-scores, about 1 apart from one
        # typical row to the next; identical rows can still differ in the
        # last bits of their float32 errors (scored in different batches).
        # Rows that close to the quantile are inliers, as exact ties are.
        return offset - _SPREAD_FLOOR * max(1.0, abs(offset))

    def _rows_to_train(self, X, y, seed):
        """The isolation score's screen, before any network where ``X`` has no gaps.

        The forest and the covariance need no network there (with gaps, a
        first network fills them), so one network is trained, on the rows
        they keep: the same network, seed and split as the refit after a
        first network that nothing used, in half the time.
        """
        if self.outlier_score != "isolation" or has_gaps(X):
            return None
        return self._rows_to_retrain(X, y, seed)

    def _rows_to_retrain(self, X, y, seed):
        """Rows of ``X`` to train a fresh network on, or None to keep the first."""
        for name in (*_FOREST_ATTRIBUTES, *_COVARIANCE_ATTRIBUTES):
            self.__dict__.pop(name, None)
        n_drop = int(np.floor(self.refit_fraction * X.shape[0]))
        if not n_drop:
            return None
        # The first network has learnt the anomalies among its training rows
        # too, and reconstructs them well. Train a fresh one without the rows
        # scored as most anomalous: by the forest and the covariance for the
        # isolation score (a tight cluster of anomalies, which a network
        # reconstructs as well as any normal mode, is what a forest isolates
        # first), else by the first network's own score.
        if self.outlier_score == "isolation":
            first_scores = self._screen(X, seed)
        else:
            first_scores = self._fit_outlier_score(X, y, seed)
            if first_scores is None:
                first_scores = self._score_samples(X, y)
        return np.sort(np.argsort(first_scores, kind="stable")[n_drop:])

    def _screen(self, X, seed):
        """Grow the forest and fit the covariance on ``X``; minus their weighted z-scores.

        Both are kept for :meth:`_isolation_reference`, which scores the same
        rows (the covariance only where ``X`` has no gaps: else the second
        network fills them differently, and the covariance is fitted again).
        Screening by the two parts, not the forest alone, was chosen on half
        A of the ADBench tables and confirmed on half B (3 seeds: ROC-AUC A
        0.7796 to 0.7817, AP 0.4319 to 0.4339; B 0.7825 to 0.7855, AP 0.4475
        to 0.4511).
        """
        rows = self._fit_forest(X, seed)
        forest = self._forest_on_training_rows = forest_scores(rows, self._forest())
        log_distance = self._fit_covariance(rows, seed)
        if rows is X:  # no gaps
            self._covariance_on_training_rows = log_distance
        center, spread = _center_and_spread(forest)
        return -(forest_weight(self.n_features_in_) * (forest - center) / spread
                 + self._covariance_z(log_distance))

    def _fit_outlier_score(self, X, y, seed, keep=None):
        """Learn the training distributions the combined score is measured against.

        They are learnt from the rows ``keep`` of ``X`` (all rows when None):
        those the network was trained on. Returns the combined scores of every
        row of ``X`` (None for the plain score), so that ``offset_`` needs no
        further pass over them.
        """
        for name in ("error_scale_", "input_center_", "code_mean_", "code_scale_",
                     "code_density_", "score_center_", "score_scale_", "error_center_",
                     "error_spread_", "forest_center_", "forest_spread_", "forest_weight_"):
            self.__dict__.pop(name, None)
        if keep is None:  # else they were fitted in _rows_to_retrain
            for name in (*_FOREST_ATTRIBUTES, *_COVARIANCE_ATTRIBUTES):
                self.__dict__.pop(name, None)
        self.outlier_score_ = self.outlier_score
        if self.outlier_score_ == "reconstruction":
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
        if self.outlier_score_ == "isolation":
            return self._isolation_reference(X_all, seed, grow=keep is None)
        # The training mean in the network's units (zero when standardised).
        self.input_center_ = (observed_mean(X) - self.mean_) / self.scale_
        rng = np.random.RandomState(seed)
        # The mixture's EM costs ~1 s per 10,000 codes: a sample of that many
        # describes the code density as well as all rows would.
        Z = self._over_chunks(self._encode_batch, X[draw_rows(len(X), _DENSITY_ROWS, rng)])
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

    def _score_module(self, network):
        if self.outlier_score_ == "combined":
            return CombinedScore(network, self)
        if self.outlier_score_ == "isolation":
            # Its forest walk has no exporter-supported form yet; the
            # network's methods export as usual.
            raise ValueError(
                "score_samples with outlier_score='isolation' cannot be exported to ONNX "
                "(it walks an isolation forest); export 'transform' or "
                "'inverse_transform', or fit with outlier_score='combined' or "
                "'reconstruction' to export the score.")
        return super()._score_module(network)

    def _contributions(self, X, conditions, units):
        if self.outlier_score_ != "isolation":
            return super()._contributions(X, conditions, units)
        if units != "standardized":
            raise ValueError(
                "units='original' splits a reconstruction error; the isolation score's "
                "parts are in the score's own units: use units='standardized'.")
        return self._isolation_contributions(X)

    def _isolation_contributions(self, X):
        """The isolation score's split by feature: minus the score, feature by feature.

        Its error part is split in proportion to each feature's scaled error,
        its forest part in proportion to the splits on each feature along the
        row's paths through the forest (the features that isolate it), its
        covariance part in proportion to each feature's term of the squared
        Mahalanobis distance, ``|d_j (P d)_j|``.
        """

        def feature_errors(module, A, y):
            scale = torch.as_tensor(self.error_scale_, dtype=A.dtype, device=A.device)
            return self._entry_errors(module, A, y) / scale

        arrays = self._forest()
        if arrays["forest_count_"] is None:
            raise ValueError(
                "this model was fitted by an earlier sklearn_ae, without the forest's node "
                "counts that split its score by feature: fit it again.")
        # The rows the forest walks, gaps filled once for its score and its split.
        rows = self._completed(X)
        error = _ERROR_WEIGHT * (self._log_errors(X) - self.error_center_) / self.error_spread_
        forest = self.forest_weight_ * (forest_scores(rows, arrays) - self.forest_center_
                                        ) / self.forest_spread_
        by_error = _split_by(error, self._over_chunks(feature_errors, X, out_dtype=np.float64))
        missing = missing_mask(X) if rows is not X else None  # X itself: no gaps
        splits = forest_splits(rows, arrays)
        if getattr(self, "covariance_weight_", 0.0):
            terms = self._covariance_terms(rows)
            covariance = self._covariance_z(self._log_distance(terms.sum(axis=1)))
            terms = np.abs(terms)
        else:  # no covariance part: nothing to split
            terms, covariance = np.zeros(rows.shape), np.zeros(rows.shape[0])
        if missing is not None:
            # The forest's and the covariance's parts go to the features the row has.
            splits[missing] = terms[missing] = 0.0
        out = by_error + _split_by(forest, splits) + _split_by(covariance, terms)
        if missing is not None:
            out[missing] = np.nan
        return out

    def _score_samples(self, X, y=None):
        if self.outlier_score_ == "combined":
            return self._combine(self._score_parts(X))
        if self.outlier_score_ == "isolation":
            rows = self._completed(X)
            return self._isolation_combine(self._log_errors(X), forest_scores(rows, self._forest()),
                                           self._log_distances(rows))
        return super()._score_samples(X, y)

    # -- the isolation score ----------------------------------------------
    def _isolation_reference(self, X, seed, grow):
        """Learn the units of the isolation score's parts; the rows' scores."""
        forest = self.__dict__.pop("_forest_on_training_rows", None)
        # The rows the forest and the covariance see, gaps filled once.
        rows = self._completed(X)
        if grow:
            self.__dict__.update(grow_forest(rows, seed))
            forest = None
        if forest is None:
            forest = forest_scores(rows, self._forest())
        error = self._log_errors(X)
        # Units from every training row, the flagged ones included: a new
        # row is measured against all the data the user fitted on.
        self.error_center_, self.error_spread_ = _center_and_spread(error)
        self.forest_center_, self.forest_spread_ = _center_and_spread(forest)
        self.forest_weight_ = forest_weight(self.n_features_in_)
        log_distance = self.__dict__.pop("_covariance_on_training_rows", None)
        if grow or log_distance is None:
            log_distance = self._fit_covariance(rows, seed)
        return self._isolation_combine(error, forest, log_distance)

    def _fit_covariance(self, rows, seed):
        """Fit the covariance part (see ``_COVARIANCE_WEIGHT``); its value for ``rows``."""
        n_rows, n_features = rows.shape
        used = n_features <= _COVARIANCE_MAX_FEATURES and n_rows >= 2 * (n_features + 1)
        fitted = fit_robust_covariance(self._network_units(rows), seed) if used else None
        self.covariance_weight_ = 0.0 if fitted is None else _COVARIANCE_WEIGHT
        self.covariance_location_ = self.covariance_precision_ = None
        self.covariance_floor_, self.covariance_center_, self.covariance_spread_ = 0.0, 0.0, 1.0
        if fitted is None:
            return np.zeros(n_rows)
        self.__dict__.update(fitted)
        squared = self._covariance_terms(rows).sum(axis=1)
        # Rows at the very center would score log 0: floored at the 1st
        # percentile of the training rows' distances.
        self.covariance_floor_ = max(float(np.percentile(squared, 1)), _ERROR_FLOOR)
        log_distance = self._log_distance(squared)
        self.covariance_center_, self.covariance_spread_ = _center_and_spread(log_distance)
        return log_distance

    def _network_units(self, rows):
        """Rows (dense) in the units the network sees: standardised, or as given."""
        rows = rows.toarray() if hasattr(rows, "toarray") else np.asarray(rows)
        return (rows.astype(np.float64) - self.mean_) / self.scale_

    def _covariance_terms(self, rows):
        """Each row's squared robust Mahalanobis distance, split by feature."""
        out = np.empty(rows.shape)
        for start in range(0, rows.shape[0], _DENSITY_CHUNK):
            out[start : start + _DENSITY_CHUNK] = mahalanobis_terms(
                self._network_units(rows[start : start + _DENSITY_CHUNK]),
                self.covariance_location_, self.covariance_precision_)
        return out

    def _log_distances(self, rows):
        """The covariance part's raw value for ``rows`` (gaps filled); zeros when unused."""
        # Models saved before the part existed have no covariance_weight_.
        if not getattr(self, "covariance_weight_", 0.0):
            return np.zeros(rows.shape[0])
        return self._log_distance(self._covariance_terms(rows).sum(axis=1))

    def _log_distance(self, squared):
        """Log of squared distances, floored at ``covariance_floor_``."""
        return np.log(np.maximum(squared, self.covariance_floor_))

    def _isolation_combine(self, log_error, forest, log_distance):
        """Minus the weighted sum of the parts' robust z-scores."""
        return -(_ERROR_WEIGHT * (log_error - self.error_center_) / self.error_spread_
                 + self.forest_weight_ * (forest - self.forest_center_) / self.forest_spread_
                 + self._covariance_z(log_distance))

    def _covariance_z(self, log_distance):
        weight = getattr(self, "covariance_weight_", 0.0)
        if not weight:
            return np.zeros(len(log_distance))
        return weight * (log_distance - self.covariance_center_) / self.covariance_spread_

    def _log_errors(self, X):
        """Log of each row's scaled reconstruction error (see :meth:`_scaled_errors`).

        On a log scale a row's error counts by how many times the typical
        one it is: a rare-but-normal value that the network misses by a
        factor of 100 moves the score by a few units, not by 100s.
        """
        return np.log(np.maximum(self._scaled_errors(X), _ERROR_FLOOR))

    def _scaled_errors(self, X):
        """Each row's mean squared error, each feature in units of ``error_scale_``."""

        def row_errors(module, A, y):
            return self._codes_and_errors(module, A, y)[1][:, None]

        return self._over_chunks(row_errors, X)[:, 0]

    def _codes_and_errors(self, module, A, y):
        """A batch's codes and scaled errors: the part both scores share.

        A chunk with gaps: the error is the mean over its observed features.
        """
        Z = self._encode_batch(module, A, y)
        scale = torch.as_tensor(self.error_scale_, dtype=A.dtype, device=A.device)
        if getattr(module, "n_members", 1) > 1:
            error = (self._entry_errors(module, A, y, Z) / scale).mean(1)
        else:
            error = scaled_error(self._decode_batch(module, Z, y), A, scale)
        observed = observed_of(module)
        return Z, error if observed is None else observed_row_means(error, observed)

    def _completed(self, X):
        """``X`` with its missing entries (if any) filled with their reconstructions.

        What the isolation forest, which takes no missing values, walks.
        """
        if not has_gaps(X):
            return X
        Z = self._over_chunks(self._encode_batch, X)
        return fill_missing(X, self._decode(Z))

    def _fit_forest(self, X, seed):
        """Grow the isolation forest on ``X``'s rows, gaps filled; return those rows.

        Its trees become fitted arrays; the rows are returned so that the
        caller scores them without filling the gaps again.
        """
        rows = self._completed(X)
        self.__dict__.update(grow_forest(rows, seed))
        return rows

    def _forest(self):
        # forest_count_ is absent from models fitted before it was kept;
        # only the split of the score by feature needs it.
        return {name: getattr(self, name, None) for name in _FOREST_ATTRIBUTES}

    # -- the combined score -----------------------------------------------
    def _feature_errors(self, X):
        """Mean squared reconstruction error of each standardised feature over ``X``."""

        def feature_error_sums(module, A, y):
            return self._entry_errors(module, A, y).sum(0, keepdim=True)

        # One row of sums per chunk: never an (n_samples, n_features) array.
        # Each feature's over the rows where it is observed.
        counts = X.shape[0] - (missing_per_feature(X) if has_gaps(X) else 0)
        return self._over_chunks(feature_error_sums, X).sum(axis=0) / np.maximum(counts, 1)

    def _entry_errors(self, module, A, y, Z=None):
        """Each entry's squared reconstruction error; an ensemble's, its members' mean.

        The members' mean error is the error of their mean reconstruction
        plus how far the members disagree, which they do most off the data
        they learnt: the score counts both. ``Z``: the batch's codes, when
        the caller has them already.
        """
        if Z is None:
            Z = self._encode_batch(module, A, y)
        if getattr(module, "n_members", 1) > 1:
            return (module.decode_members(Z) - A).square().mean(0)
        return (self._decode_batch(module, Z, y) - A).square()

    def _score_parts(self, X):
        """The three raw parts of the combined score, one column each."""

        def score_parts(module, A, y):
            Z, error = self._codes_and_errors(module, A, y)
            # Distance in the units the network sees: with standardize=True each
            # feature's spread, else the raw units (pixels), so that rarely
            # inked pixels are not weighted up.
            center = torch.as_tensor(self.input_center_, dtype=A.dtype, device=A.device)
            observed = observed_of(module)
            if observed is None:
                distance = distance_from(A, center)
            else:
                distance = observed_row_means(
                    distance_from(torch.where(observed, A, center), center), observed)
            return torch.cat([Z, error[:, None], distance[:, None]], dim=1)

        out = self._over_chunks(score_parts, X)
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
        return combine(parts, self.score_center_, self.score_scale_)
