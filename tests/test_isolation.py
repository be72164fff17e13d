"""OutlierAutoencoder and the isolation score: reconstruction error plus an isolation forest."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

import sklearn_ae._outlier as outlier_module
from sklearn_ae import OutlierAutoencoder
from sklearn_ae._outlier import forest_scores, grow_forest

SMALL = dict(hidden_layer_sizes=(16, 8), max_iter=30, random_state=0, device="cpu")


def _traffic_like(seed=0, n=3000, n_anomalies=30):
    """Three correlated features; the anomalies are one repeated row far out on one.

    As in network traffic, where an attack repeats the same request: a
    network trained on the rows learns the repeated row as a mode of its
    own and reconstructs it well.
    """
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, 2))
    normal = np.column_stack([z[:, 0], z[:, 1], z[:, 0] + 0.5 * z[:, 1]])
    normal += 0.1 * rng.normal(size=normal.shape)
    anomaly = np.tile([[0.0, 8.0, 4.0]], (n_anomalies, 1))
    X = np.vstack([normal, anomaly])
    y = np.r_[np.zeros(n), np.ones(n_anomalies)]
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
def test_forest_scores_are_isolation_forest_scores(sparse, monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.standard_t(3, size=(700, 5))
    X_new = rng.standard_t(3, size=(123, 5)) * 2
    # Small chunks: the walk must not depend on where a chunk ends.
    monkeypatch.setattr(outlier_module, "_FOREST_CHUNK", 1000)
    forest = grow_forest(sp.csr_matrix(X) if sparse else X, 7)
    expected = -IsolationForest(random_state=7).fit(X).score_samples(X_new)
    assert_allclose(forest_scores(sp.csr_matrix(X_new) if sparse else X_new, forest),
                    expected, rtol=0, atol=1e-12)


def _scaled_errors(model, X):
    """Each row's mean squared error, each feature in units of ``error_scale_``."""
    return (model.feature_contributions(X) / model.error_scale_).sum(axis=1)


def _forest(model):
    return {name: getattr(model, name) for name in outlier_module._FOREST_ATTRIBUTES}


def test_a_repeated_anomalous_row_is_found():
    X, y = _traffic_like()
    X_test, y_test = _traffic_like(seed=1, n=1000, n_anomalies=5)
    params = {**SMALL, "hidden_layer_sizes": (32, 16)}
    detector = OutlierAutoencoder(**params).fit(X)
    assert roc_auc_score(y_test, -detector.score_samples(X_test)) > 0.99

    # The rows the forest isolates first are left out of the second training,
    # so the returned network reconstructs the repeated row far worse than
    # the normal rows; a network trained once, on all rows, learnt it.
    def ratio(model):
        errors = _scaled_errors(model, X_test)
        return errors[y_test == 1].min() / np.percentile(errors[y_test == 0], 99)

    assert ratio(detector) > 3
    assert ratio(OutlierAutoencoder(**{**params, "refit_fraction": 0.0}).fit(X)) < 1


def test_scores_are_robust_z_scores_a_person_can_threshold(digits):
    digits, _ = digits
    detector = OutlierAutoencoder(**SMALL).fit(digits)
    scores = detector.score_samples(digits)

    def z(values):
        low, median, high = np.percentile(values, [25, 50, 75])
        return (values - median) / (high - low)

    # The documented score: robust z-scores over the training rows of the
    # log scaled error (weight 0.75) and of the forest score (16 / 64).
    log_error = np.log(_scaled_errors(detector, digits))
    forest = forest_scores(digits, _forest(detector))
    assert_allclose(scores, -(0.75 * z(log_error) + 0.25 * z(forest)), rtol=1e-10, atol=1e-10)
    # 0 for a typical row, a unit about one interquartile range: the pixels
    # inked in a handful of digits no longer send scores to -10^5.
    low, median, high = np.percentile(scores, [25, 50, 75])
    assert abs(median) < 0.5 and 0.3 < high - low < 3 and scores.min() > -10
    assert abs((detector.predict(digits) == -1).mean() - 0.1) < 0.01
    # score() is the reconstruction loss, whatever the outlier score.
    assert detector.score(digits) == pytest.approx(
        -detector.feature_contributions(digits).sum(axis=1).mean(), rel=1e-4)
    auto = OutlierAutoencoder(contamination="auto", **SMALL).fit(digits)
    assert_array_equal(auto.score_samples(digits), scores)
    assert (auto.predict(digits) == -1).mean() < 0.02


def test_identical_rows_get_one_score_and_one_label():
    # Identical rows can differ in the last bits of their float32 errors
    # when scored in different batches; that must not move their scores by
    # whole units or split them between inliers and outliers.
    constant = OutlierAutoencoder(max_iter=5, random_state=0).fit(np.ones((50, 4)))
    scores = constant.score_samples(np.ones((50, 4)))
    assert np.ptp(scores) < 1e-6
    assert (constant.predict(np.ones((50, 4))) == 1).all()
    X = np.vstack([np.tile([1.0, 2.0, 3.0], (60, 1)), [[9.0, -9.0, 9.0]]])
    labels = OutlierAutoencoder(max_iter=5, random_state=0).fit(X).predict(X)
    assert (labels[:60] == 1).all() and labels[60] == -1


def test_rows_beyond_every_training_row_stay_ordered():
    X, _ = _traffic_like(n_anomalies=0)
    detector = OutlierAutoencoder(**SMALL).fit(X)
    far = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [20.0, 0.0, 0.0], [40.0, 0.0, 0.0]])
    scores = detector.score_samples(far)
    assert np.all(np.diff(scores) < 0)


def test_forest_weight_falls_with_many_features():
    rng = np.random.RandomState(0)
    few = OutlierAutoencoder(**{**SMALL, "max_iter": 2}).fit(rng.normal(size=(200, 8)))
    many = OutlierAutoencoder(**{**SMALL, "max_iter": 2}).fit(rng.normal(size=(200, 64)))
    assert few.forest_weight_ == 1.0
    assert many.forest_weight_ == pytest.approx(16 / 64)


def test_seeded_fits_give_identical_scores():
    X, _ = _traffic_like(n=500, n_anomalies=5)
    first = OutlierAutoencoder(**SMALL).fit(X).score_samples(X)
    assert_array_equal(OutlierAutoencoder(**SMALL).fit(X).score_samples(X), first)


def test_a_refit_with_another_score_forgets_the_forest():
    X, _ = _traffic_like(n=500, n_anomalies=5)
    detector = OutlierAutoencoder(**SMALL).fit(X)
    assert hasattr(detector, "forest_left_")
    detector.set_params(outlier_score="reconstruction").fit(X)
    assert not hasattr(detector, "forest_left_")
    assert not hasattr(detector, "error_center_")
    assert_allclose(-detector.score_samples(X), detector.feature_contributions(X).sum(axis=1),
                    rtol=1e-5)


def test_detector_defaults_are_the_documented_ones():
    params = OutlierAutoencoder().get_params()
    assert params["outlier_score"] == "isolation"
    assert params["refit_fraction"] == 0.1
    assert params["hidden_layer_sizes"] == (128, 64)
    assert (params["learning_rate"], params["learning_rate_init"], params["max_iter"]) == (
        "constant", 1e-3, 200)
    doc = OutlierAutoencoder.__doc__
    assert 'default="isolation"' in doc and "refit_fraction : float in [0, 0.5), default=0.1" in doc
    assert "default=(128, 64)" in doc and "default=200" in doc
