"""partial_fit: scikit-learn's incremental-training semantics, on every estimator."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_ae import Autoencoder, ConditionalAutoencoder
from sklearn_ae.utils import all_estimators

ESTIMATORS = [cls for _, cls in all_estimators()]


def data(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(n, 6))
    return X * np.array([1, 10, 100, 1, 1, 5]), np.arange(n) % 2


def partial(model, X, y):
    if isinstance(model, ConditionalAutoencoder):
        return model.partial_fit(X, y)
    return model.partial_fit(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_each_call_is_one_pass_and_the_first_sets_everything(cls):
    X, y = data()
    model = cls(hidden_layer_sizes=(8,), random_state=0)
    partial(model, X[:100], y[:100])
    assert model.n_features_in_ == 6 and model.n_iter_ == 1 and len(model.loss_curve_) == 1
    scale = model.scale_.copy()
    for start in (100, 200):
        partial(model, X[start : start + 100], y[start : start + 100])
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3
    # The standardisation is the first chunk's, frozen.
    assert_array_equal(model.scale_, scale)
    assert np.isfinite(model.transform(X)).all()
    assert set(np.unique(model.predict(X[:50]) if not isinstance(model, ConditionalAutoencoder)
                         else model.predict(X[:50]))) <= {-1, 1}


def test_chunks_keep_learning():
    X, _ = data(2000)
    model = Autoencoder(n_components=2, hidden_layer_sizes=(16,), random_state=0)
    first = None
    for _ in range(4):
        for start in range(0, 2000, 200):
            model.partial_fit(X[start : start + 200])
        error = -model.score(X)
        first = first or error
    assert error < 0.5 * first


def test_seeded_calls_are_reproducible_and_continue_a_fit():
    X, _ = data()
    a = Autoencoder(hidden_layer_sizes=(8,), random_state=0)
    b = Autoencoder(hidden_layer_sizes=(8,), random_state=0)
    for model in (a, b):
        model.partial_fit(X[:150]).partial_fit(X[150:])
    assert_array_equal(a.transform(X), b.transform(X))
    fitted = Autoencoder(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    n_iter, mean = fitted.n_iter_, fitted.mean_.copy()
    fitted.partial_fit(X[:100])
    assert fitted.n_iter_ == n_iter + 1
    assert_array_equal(fitted.mean_, mean)
    fitted.fit(X)  # fit starts afresh
    assert fitted.n_iter_ == 3


def test_bad_chunks_leave_the_model_as_it_was():
    X, _ = data()
    model = Autoencoder(hidden_layer_sizes=(8,), random_state=0).partial_fit(X)
    before = model.transform(X)
    bad = X.copy()
    bad[0, 0] = np.inf
    for chunk, message in [(bad, "infinity"), (X[:, :4], "features")]:
        with pytest.raises(ValueError, match=message):
            model.partial_fit(chunk)
        assert_array_equal(model.transform(X), before)
        assert model.n_iter_ == 1
    with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
        model.set_params(hidden_layer_sizes=(4,)).partial_fit(X)


def test_conditional_chunks_need_known_labels():
    X, y = data()
    model = ConditionalAutoencoder(hidden_layer_sizes=(8,), random_state=0)
    model.partial_fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="not seen in fit"):
        model.partial_fit(X[100:110], np.full(10, 7))
