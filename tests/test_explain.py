"""feature_contributions: why a row is anomalous, feature by feature."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae import (
    AdversarialAutoencoder,
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
)
from sklearn_ae.utils import all_estimators


def correlated(n=600, seed=0):
    """8 features driven by 2 factors, on different scales."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, 8)) + 0.05 * rng.normal(size=(n, 8))
    return X * np.array([1, 10, 100, 0.1, 1, 5, 50, 2])


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder, SparseAutoencoder,
                                 AdversarialAutoencoder, ConvolutionalAutoencoder])
def test_contributions_sum_to_the_reconstruction_score(cls):
    X = correlated()
    model = cls(n_components=2, hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X)
    contributions = model.feature_contributions(X[:50])
    assert contributions.shape == (50, 8) and (contributions >= 0).all()
    assert_allclose(contributions.sum(axis=1), -model.score_samples(X[:50]), rtol=1e-10)


def test_contributions_point_at_the_planted_feature():
    X = correlated()
    model = Autoencoder(n_components=2, hidden_layer_sizes=(32,), max_iter=60,
                        random_state=0).fit(X[:500])
    rows = X[500:520].copy()
    # Feature 3 (scale 0.1) moved by 8 of its standard deviations: small in
    # X's units, yet the one that breaks the pattern.
    rows[:, 3] += 8 * X[:, 3].std()
    for units in ("standardized", "original"):
        contributions = model.feature_contributions(rows, units=units)
        if units == "standardized":
            assert_array_equal(contributions.argmax(axis=1), 3)
    original = model.feature_contributions(rows, units="original")
    standardized = model.feature_contributions(rows)
    assert_allclose(original, standardized * model.scale_**2, rtol=1e-10)


def test_contributions_of_a_dataframe_keep_its_labels():
    X = pd.DataFrame(correlated(), columns=[f"sensor_{i}" for i in range(8)])
    X.index = X.index + 1000
    model = Autoencoder(n_components=2, hidden_layer_sizes=(8,), max_iter=3,
                        random_state=0).fit(X)
    out = model.feature_contributions(X.iloc[:5])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(X.columns) and list(out.index) == list(X.index[:5])


def test_conditional_contributions_need_the_condition():
    X = correlated()
    y = (X[:, 0] > 0).astype(int)
    model = ConditionalAutoencoder(n_components=2, hidden_layer_sizes=(8,), max_iter=3,
                                   random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="needs y"):
        model.feature_contributions(X[:5])
    assert model.feature_contributions(X[:5], y[:5]).shape == (5, 8)


@pytest.mark.parametrize("cls", [cls for _, cls in all_estimators()
                                 if cls is not ConditionalAutoencoder])
def test_contributions_check_their_input(cls):
    X = correlated(100)
    model = cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="units must be"):
        model.feature_contributions(X, units="raw")
    with pytest.raises(ValueError, match="features"):
        model.feature_contributions(X[:, :5])


# -- normalize, the isolation score's whole split, and pipelines ------------
def test_normalized_contributions_are_shares_summing_to_one():
    X = correlated()
    model = Autoencoder(n_components=2, hidden_layer_sizes=(16,), max_iter=10,
                        random_state=0).fit(X)
    raw = model.feature_contributions(X[:20])
    shares = model.feature_contributions(X[:20], normalize=True)
    assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(shares, raw / raw.sum(axis=1, keepdims=True), rtol=1e-12)


def test_isolation_score_is_split_whole_error_and_forest_parts():
    from sklearn_ae import OutlierAutoencoder

    X = correlated()
    detector = OutlierAutoencoder(hidden_layer_sizes=(16, 8), max_iter=30,
                                  random_state=0).fit(X[:500])
    rows = X[500:520].copy()
    rows[:, 3] += 8 * X[:, 3].std()
    parts = detector.feature_contributions(rows)
    # Parts of the whole score (its forest part too), not only of the error.
    assert_allclose(parts.sum(axis=1), -detector.score_samples(rows), atol=1e-10)
    assert_array_equal(parts.argmax(axis=1), 3)
    with pytest.raises(ValueError, match="units='original' splits a reconstruction error"):
        detector.feature_contributions(rows, units="original")


def test_a_feature_the_forest_isolates_on_carries_the_forest_part():
    from sklearn_ae._outlier import forest_splits, grow_forest

    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 4))
    forest = grow_forest(X, 0)
    far = np.zeros((1, 4))
    far[0, 2] = 50.0  # isolated at once by any split on feature 2
    splits = forest_splits(far, forest)
    share = splits[0, 2] / splits.sum()
    assert splits.argmax() == 2 and share > 0.5
    typical = forest_splits(X[:50], forest)
    assert share > (typical[:, 2] / typical.sum(axis=1)).max()


def _table(n=240, seed=0):
    rng = np.random.RandomState(seed)
    size = rng.normal(size=n)
    return pd.DataFrame({
        "size": size, "weight": 2 * size + 0.1 * rng.normal(size=n),
        "grade": np.where(size > 0, "high", "low"), "colour": rng.choice(["red", "blue"], n),
    })


def test_pipeline_contributions_are_per_user_column():
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from sklearn_ae import pipeline_feature_contributions

    table = _table()
    pipe = make_pipeline(
        make_column_transformer((StandardScaler(), ["size", "weight"]),
                                (OneHotEncoder(), ["grade", "colour"])),
        Autoencoder(n_components=2, hidden_layer_sizes=(16,), max_iter=60,
                    random_state=0)).fit(table)
    odd = _table(20, seed=1)
    odd["grade"] = np.where(odd["size"] > 0, "low", "high")  # grade contradicts size
    parts = pipeline_feature_contributions(pipe, odd)
    assert list(parts.columns) == ["size", "weight", "grade", "colour"]
    assert list(parts.index) == list(odd.index)
    # The one-hot dummies' parts add up: the split is still of the row's score.
    assert_allclose(parts.sum(axis=1), -pipe.score_samples(odd), rtol=1e-10)
    usual = pipeline_feature_contributions(pipe, _table(20, seed=1))
    assert parts["grade"].median() > 2 * usual["grade"].median()
    assert (parts["grade"] > usual["grade"]).mean() >= 0.8
    shares = pipeline_feature_contributions(pipe, odd, normalize=True)
    assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-12)


def test_pipeline_contributions_refuse_what_cannot_be_traced():
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    from sklearn_ae import pipeline_feature_contributions

    X = correlated()
    pipe = make_pipeline(PCA(4), Autoencoder(n_components=2, hidden_layer_sizes=(8,),
                                             max_iter=2, random_state=0)).fit(X)
    with pytest.raises(ValueError, match="PCA turns 8 features into 4"):
        pipeline_feature_contributions(pipe, X)


def test_a_detector_fitted_before_node_counts_were_kept_still_scores():
    from sklearn_ae import OutlierAutoencoder

    X = correlated(200)
    detector = OutlierAutoencoder(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    scores = detector.score_samples(X)
    del detector.forest_count_  # as a model saved by an earlier version has it
    assert_array_equal(detector.score_samples(X), scores)
    with pytest.raises(ValueError, match="fit it again"):
        detector.feature_contributions(X)
