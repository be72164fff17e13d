"""The outlier scores beyond the plain reconstruction error.

The combined score (Autoencoder's ``outlier_score="combined"``) and the
isolation score of OutlierAutoencoder: reconstruction error plus an
isolation forest.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

import sklearn_ae._outlier as outlier_module
from sklearn_ae import Autoencoder, OutlierAutoencoder
from sklearn_ae._outlier import forest_scores, grow_forest


def _on_manifold_anomalies(seed=0):
    """Rows on a 2-D plane in 6-D, in two clusters; anomalies lie on the plane
    in the empty gap between the clusters.

    A network that learned the plane reconstructs them as well as the normal
    rows, so only how rare their codes are can flag them.
    """
    rng = np.random.RandomState(seed)
    basis = rng.normal(size=(2, 6))
    centres = np.where(rng.rand(600, 1) < 0.5, -4.0, 4.0) * np.array([1.0, 0.0])
    normal = (centres + 0.5 * rng.normal(size=(600, 2))) @ basis
    far = (rng.normal(size=(30, 2)) * 0.3) @ basis
    X = np.vstack([normal, far]) + 0.05 * rng.normal(size=(630, 6))
    y = np.r_[np.zeros(600), np.ones(30)]
    return X, y


def test_combined_score_flags_rare_codes_that_reconstruct_well():
    X, y = _on_manifold_anomalies()
    params = dict(n_components=2, hidden_layer_sizes=(16,), activation="identity",
                  max_iter=200, random_state=0)
    fitted = {kind: Autoencoder(outlier_score=kind, **params).fit(X[y == 0])
              for kind in ("combined", "reconstruction")}
    auc = {kind: roc_auc_score(y, -model.score_samples(X)) for kind, model in fitted.items()}
    assert auc["combined"] > 0.95
    assert auc["combined"] > auc["reconstruction"] + 0.1


def test_reconstruction_score_is_minus_standardised_error(blobs):
    ae = Autoencoder(outlier_score="reconstruction", hidden_layer_sizes=(8,), max_iter=5,
                     random_state=0).fit(blobs)
    Xs = (blobs - ae.mean_) / ae.scale_
    rebuilt = (ae.inverse_transform(ae.transform(blobs)) - ae.mean_) / ae.scale_
    np.testing.assert_allclose(ae.score_samples(blobs), -np.mean((Xs - rebuilt) ** 2, axis=1),
                               rtol=1e-6, atol=1e-8)
    assert not hasattr(ae, "code_density_")


@pytest.mark.parametrize("outlier_score", ["combined", "reconstruction"])
def test_score_is_the_reconstruction_error_either_way(blobs, outlier_score):
    ae = Autoencoder(outlier_score=outlier_score, hidden_layer_sizes=(8,), max_iter=5,
                     random_state=0).fit(blobs)
    Xs = (blobs - ae.mean_) / ae.scale_
    rebuilt = (ae.inverse_transform(ae.transform(blobs)) - ae.mean_) / ae.scale_
    assert ae.score(blobs) == pytest.approx(-np.mean((Xs - rebuilt) ** 2), rel=1e-6)


def test_combined_score_is_centred_on_training_rows(blobs):
    ae = Autoencoder(outlier_score="combined", hidden_layer_sizes=(8,), max_iter=5,
                     random_state=0).fit(blobs)
    assert ae.error_scale_.shape == (5,)
    assert ae.code_density_.means_.shape[1] == ae.n_components_
    # Each part's training median is 0 after centring; their sum's sits near 0
    # and the contamination quantile sets offset_ as for any detector.
    train = ae.score_samples(blobs)
    assert abs(np.median(train)) < 1.0
    assert np.mean(ae.predict(blobs) == -1) == pytest.approx(ae.contamination, abs=0.01)
    # Four of the five planted outliers (the fifth moved little) lead the ranking.
    assert set(np.argsort(train)[:4]) == {0, 1, 2, 4}


def test_switching_back_to_reconstruction_drops_combined_attributes(blobs):
    ae = Autoencoder(outlier_score="combined", hidden_layer_sizes=(8,), max_iter=5,
                     random_state=0).fit(blobs)
    ae.set_params(outlier_score="reconstruction").fit(blobs)
    assert not hasattr(ae, "score_center_")


def test_bad_outlier_score_names_the_parameter(blobs):
    with pytest.raises(ValueError, match="outlier_score"):
        Autoencoder(outlier_score="median").fit(blobs)


def test_distance_term_flags_rows_far_out_along_the_learnt_directions():
    # Anomalies along the data's own subspace, far out: a linear network
    # reconstructs them perfectly, and their codes are merely extreme.
    rng = np.random.RandomState(0)
    basis = rng.normal(size=(2, 8))
    normal = rng.normal(size=(500, 2)) @ basis + 0.05 * rng.normal(size=(500, 8))
    far = 6.0 * rng.normal(size=(20, 2)) @ basis + 0.05 * rng.normal(size=(20, 8))
    ae = Autoencoder(n_components=2, hidden_layer_sizes=(16,), activation="identity",
                     max_iter=100, outlier_score="combined", random_state=0).fit(normal)
    assert ae.input_center_.shape == (8,)
    assert ae.score_center_.shape == (3,)
    # The score's parts from public attributes: the scaled reconstruction
    # error (from feature_contributions) and the distance from the centre.
    A = (far - ae.mean_) / ae.scale_
    error = (ae.feature_contributions(far) / ae.error_scale_).sum(axis=1)
    distance = ((A - ae.input_center_) ** 2).mean(axis=1)
    z = (np.column_stack([error, distance]) - ae.score_center_[[0, 2]]) / ae.score_scale_[[0, 2]]
    # The error term barely moves; the distance term is what flags them.
    assert np.median(z[:, 1]) > 5 * max(np.median(z[:, 0]), 1.0)
    # A few of the 20 draws land near the centre and are rightly not flagged.
    assert np.mean(ae.predict(far) == -1) >= 0.85


def _contaminated(seed=0):
    """Inliers near a 3-D subspace of 10-D; 10% anomalies near another, 2-D one.

    With room for both in its code, a first network learns the anomalies'
    subspace too and reconstructs them nearly as well as the inliers.
    """
    rng = np.random.RandomState(seed)
    inliers = rng.normal(size=(540, 3)) @ rng.normal(size=(3, 10))
    anomalies = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 10))
    X = np.vstack([inliers, anomalies]) + 0.1 * rng.normal(size=(600, 10))
    y = np.r_[np.zeros(540), np.ones(60)]
    return X, y


def test_refit_trains_the_second_network_without_the_flagged_rows():
    X, y = _contaminated()
    # The refit's own effect, under the training settings it was measured with.
    params = dict(n_components=4, hidden_layer_sizes=(32,), max_iter=400, random_state=0,
                  outlier_score="combined", learning_rate="constant",
                  learning_rate_init=1e-3)
    once = Autoencoder(refit_fraction=0, **params).fit(X)
    refit = Autoencoder(refit_fraction=0.1, **params).fit(X)
    # The second network trained without the rows the first flagged (40% of
    # the anomalies here): the anomalies' error grows while the inliers' stays
    # put, and the ranking improves (on seeds 0-4 of this data: by 0.07-0.21).
    assert -refit.score(X[y == 1]) > 1.3 * -once.score(X[y == 1])
    assert -refit.score(X[y == 0]) < 1.2 * -once.score(X[y == 0])
    auc_once = roc_auc_score(y, -once.score_samples(X))
    auc_refit = roc_auc_score(y, -refit.score_samples(X))
    assert auc_refit > auc_once + 0.05
    # offset_ is still the contamination quantile over all training rows.
    assert np.mean(refit.predict(X) == -1) == pytest.approx(refit.contamination, abs=0.01)


def test_refit_is_reproducible_and_skipped_when_nothing_is_dropped(blobs):
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                  outlier_score="combined")
    a = Autoencoder(refit_fraction=0.1, **params).fit(blobs)
    b = Autoencoder(refit_fraction=0.1, **params).fit(blobs)
    np.testing.assert_array_equal(a.score_samples(blobs), b.score_samples(blobs))
    # Below 10 rows, 10% is no row: one fit, identical to refit_fraction=0.
    small = blobs[:9]
    c = Autoencoder(refit_fraction=0.1, **params).fit(small)
    d = Autoencoder(refit_fraction=0, **params).fit(small)
    np.testing.assert_array_equal(c.transform(small), d.transform(small))


def test_bad_refit_fraction_names_the_parameter(blobs):
    with pytest.raises(ValueError, match="refit_fraction"):
        Autoencoder(refit_fraction=0.5).fit(blobs)


def test_refit_history_covers_both_trainings(blobs):
    params = dict(hidden_layer_sizes=(8,), max_iter=7, early_stopping=False,
                  n_iter_no_change=100, random_state=0)
    once = Autoencoder(**params).fit(blobs)
    refit = Autoencoder(refit_fraction=0.1, **params).fit(blobs)
    assert once.n_iter_ == 7
    assert refit.n_iter_ == 14
    assert len(refit.loss_curve_) == 14


def test_isolation_screen_trains_one_network_where_rows_have_no_gaps(blobs):
    # The forest and the covariance pick the rows before any network: one
    # training, the network the refit after a first one would have been.
    params = dict(hidden_layer_sizes=(8,), max_iter=7, early_stopping=False,
                  n_iter_no_change=100, random_state=0, outlier_score="isolation")
    screened = Autoencoder(refit_fraction=0.1, **params).fit(blobs)
    assert screened.n_iter_ == 7
    assert len(screened.loss_curve_) == 7
    # Without the screen's rows (refit_fraction=0) it is a different network.
    once = Autoencoder(refit_fraction=0.0, **params).fit(blobs)
    assert once.n_iter_ == 7
    assert not np.array_equal(once.transform(blobs), screened.transform(blobs))
    # With gaps a first network fills them for the forest: two trainings.
    gappy = blobs.copy()
    gappy[::7, 0] = np.nan
    assert Autoencoder(refit_fraction=0.1, **params).fit(gappy).n_iter_ == 14


def test_contamination_auto_is_tukeys_outer_fence(blobs):
    ae = Autoencoder(hidden_layer_sizes=(8,), max_iter=20, random_state=0,
                     contamination="auto").fit(blobs)
    scores = ae.score_samples(blobs)
    q1, q3 = np.percentile(scores, [25, 75])
    assert ae.offset_ == pytest.approx(q1 - 3.0 * (q3 - q1))
    flagged = ae.predict(blobs) == -1
    # The planted outliers are beyond the fence (one of the five lies close
    # to the plane the network learnt); few typical rows are.
    assert flagged[:5].sum() >= 4
    assert flagged[5:].mean() < 0.05


def test_score_is_the_mean_score_samples_for_reconstruction_scores(blobs):
    from sklearn_ae import VariationalAutoencoder

    for model in (Autoencoder(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
                  VariationalAutoencoder(hidden_layer_sizes=(8,), max_iter=5, random_state=0)):
        model.fit(blobs)
        assert model.score(blobs) == pytest.approx(np.mean(model.score_samples(blobs)))
    # The combined score is a sum of robust z-scores; score() stays the
    # reconstruction error, which is what a GridSearchCV should compare.
    combined = Autoencoder(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                           outlier_score="combined").fit(blobs)
    errors = combined.feature_contributions(blobs).sum(axis=1)
    assert combined.score(blobs) == pytest.approx(-errors.mean())
    assert combined.score(blobs) != pytest.approx(np.mean(combined.score_samples(blobs)))


def test_rare_legitimate_values_do_not_dominate_the_combined_score():
    """A one-hot category present in 5 of 1,000 rows is not an anomaly by itself."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 2)) @ rng.normal(size=(2, 6))
    onehot = np.zeros((1000, 3))
    onehot[np.arange(1000), rng.choice(2, 1000)] = 1
    onehot[:5] = [0, 0, 1]  # the rare, legitimate category
    X = np.hstack([X, onehot])
    ae = Autoencoder(hidden_layer_sizes=(16,), max_iter=30, random_state=0,
                     outlier_score="combined").fit(X)
    scores = ae.score_samples(X)
    typical = np.median(scores)
    spread = np.subtract(*np.percentile(scores, [75, 25]))
    # The rare rows score within a few dozen spreads of the typical row, not
    # the 10^5-10^6 a per-feature division by a near-zero error gave.
    assert (scores[:5] > typical - 50 * spread).all()


# -- the isolation score (OutlierAutoencoder) --------------------------------
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
    residual = (model.inverse_transform(model.transform(X)) - X) / model.scale_
    return np.mean(residual**2 / model.error_scale_, axis=1)


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
    # log scaled error (weight 0.75), of the forest score (16 / 64) and of
    # the log squared Mahalanobis distance under the robust covariance (0.5;
    # 64 features and 1,797 rows take it), its distances floored at their
    # 1st percentile.
    log_error = np.log(_scaled_errors(detector, digits))
    forest = forest_scores(digits, _forest(detector))
    D = (digits - detector.mean_) / detector.scale_ - detector.covariance_location_
    squared = np.einsum("ij,jk,ik->i", D, detector.covariance_precision_, D)
    log_distance = np.log(np.maximum(squared, np.percentile(squared, 1)))
    assert detector.covariance_weight_ == 0.5
    assert_allclose(scores, -(0.75 * z(log_error) + 0.25 * z(forest) + 0.5 * z(log_distance)),
                    rtol=1e-10, atol=1e-10)
    # 0 for a typical row, a unit about one interquartile range: the pixels
    # inked in a handful of digits no longer send scores to -10^5.
    low, median, high = np.percentile(scores, [25, 50, 75])
    assert abs(median) < 0.5 and 0.3 < high - low < 3 and scores.min() > -10
    assert abs((detector.predict(digits) == -1).mean() - 0.1) < 0.01
    # score() is the reconstruction loss, whatever the outlier score.
    residual = (detector.inverse_transform(detector.transform(digits)) - digits) / detector.scale_
    assert detector.score(digits) == pytest.approx(-np.mean(residual**2), rel=1e-4)
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
    detector = OutlierAutoencoder(max_iter=5, random_state=0).fit(X)
    labels = detector.predict(X)
    assert (labels[:60] == 1).all() and labels[60] == -1
    # MinCovDet's support is one repeated row: no spread, so no covariance part.
    assert constant.covariance_weight_ == detector.covariance_weight_ == 0.0


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


# -- the isolation score's robust covariance part ----------------------------
def test_robust_covariance_is_not_dragged_by_the_outliers_it_should_flag():
    rng = np.random.RandomState(0)
    mixing = rng.normal(size=(4, 4))
    X = rng.normal(size=(950, 4)) @ mixing
    X = np.vstack([X, 20.0 + rng.normal(size=(50, 4))])  # 5% far out, all alike
    fitted = outlier_module.fit_robust_covariance(X, 0)
    # The plain mean moves by about a unit towards the outliers; the robust
    # location stays with the bulk of the rows.
    assert np.abs(X.mean(axis=0)).min() > 0.7
    assert np.abs(fitted["covariance_location_"]).max() < 0.3
    # Its precision is that of the bulk's covariance with the documented ridge.
    bulk = np.cov(X[:950], rowvar=False)
    ridged = bulk + 0.1 * np.trace(bulk) / 4 * np.eye(4)
    assert_allclose(np.linalg.inv(fitted["covariance_precision_"]), ridged, rtol=0.25,
                    atol=0.25 * np.abs(ridged).max())


def _covariance_z(detector, rows):
    """The documented covariance part of rows without gaps, from the fitted attributes."""
    terms = outlier_module.mahalanobis_terms((rows - detector.mean_) / detector.scale_,
                                             detector.covariance_location_,
                                             detector.covariance_precision_)
    log_distance = np.log(np.maximum(terms.sum(axis=1), detector.covariance_floor_))
    return detector.covariance_weight_ * (
        log_distance - detector.covariance_center_) / detector.covariance_spread_


def test_covariance_part_flags_a_row_that_breaks_a_linear_relation():
    # Inside every feature's range, but against the correlation of the first
    # two: the row the covariance part is there for.
    rng = np.random.RandomState(0)
    z = rng.normal(size=(2000, 3))
    X = np.column_stack([z[:, 0], z[:, 0] + 0.2 * z[:, 1], z[:, 2]])
    detector = OutlierAutoencoder(**{**SMALL, "max_iter": 5}).fit(X)
    assert detector.covariance_weight_ == 0.5
    rows = np.array([[1.5, -1.5, 0.0], [1.5, 1.5, 0.0]])
    part, typical = _covariance_z(detector, rows), _covariance_z(detector, X)
    assert part[0] > np.percentile(typical, 99.9) and part[1] < np.percentile(typical, 90)
    # feature_contributions gives that part to the two features it breaks.
    contributions = detector.feature_contributions(rows[:1])
    assert_allclose(contributions.sum(axis=1), -detector.score_samples(rows[:1]), atol=1e-10)
    assert set(np.argsort(contributions[0])[-2:]) == {0, 1}


@pytest.mark.parametrize("shape, used", [((200, 8), True), ((200, 65), False), ((17, 8), False)])
def test_covariance_part_only_on_narrow_tables_with_rows_to_spare(shape, used):
    X = np.random.RandomState(0).normal(size=shape)
    detector = OutlierAutoencoder(**{**SMALL, "max_iter": 2}).fit(X)
    assert detector.covariance_weight_ == (0.5 if used else 0.0)
    assert (detector.covariance_precision_ is not None) == used
    scores = detector.score_samples(X)
    assert np.isfinite(scores).all()
    assert_allclose(detector.feature_contributions(X[:5]).sum(axis=1), -scores[:5], atol=1e-10)


def test_the_refit_leaves_out_a_cluster_that_breaks_a_linear_relation():
    # 60 copies of a row inside every feature's range but against the
    # correlation of the first two: an axis-parallel forest isolates fewer
    # than half of them among its first 10%, the robust covariance puts them
    # far out. Screened by both, the second network never trains on them.
    rng = np.random.RandomState(0)
    z = rng.normal(size=(3000, 3))
    normal = np.column_stack([z[:, 0], z[:, 0] + 0.1 * z[:, 1], z[:, 2]])
    X = np.vstack([normal, np.tile([[1.5, -1.5, 0.0]], (60, 1))])
    detector = OutlierAutoencoder(**{**SMALL, "max_iter": 5}).fit(X)
    # The screen from the fitted forest and covariance (both fitted on these
    # rows before the second training, and kept): the documented weights.
    forest = forest_scores(X, _forest(detector))
    screen = -(detector.forest_weight_ * (forest - detector.forest_center_)
               / detector.forest_spread_ + _covariance_z(detector, X))
    n_drop = int(0.1 * len(X))
    left_out = np.argsort(screen, kind="stable")[:n_drop]
    assert (left_out >= 3000).sum() == 60
    assert (np.argsort(-forest, kind="stable")[:n_drop] >= 3000).sum() < 30
    # The second network was trained on the other rows: its error units are
    # theirs (each feature's mean squared error, floored at the median's).
    kept = np.setdiff1d(np.arange(len(X)), left_out)
    residual = (detector.inverse_transform(detector.transform(X[kept])) - X[kept]
                ) / detector.scale_
    scale = np.mean(residual**2, axis=0)
    assert_allclose(detector.error_scale_, np.maximum(scale, np.median(scale)), rtol=1e-4)
