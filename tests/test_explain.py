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
