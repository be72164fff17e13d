"""Property-based tests (hypothesis) over inputs and parameters of every estimator.

Whatever the data and settings: a fit either succeeds or raises an error
that names the problem (never a raw torch error); scores are never NaN and
no row is called an inlier without a finite score; a failed refit leaves
the fitted model exactly as it was.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal

from sklearn_ae import ConditionalAutoencoder
from sklearn_ae.utils import all_estimators

ESTIMATORS = [cls for _, cls in all_estimators()]

# Errors that name the problem. A RuntimeError (torch's own) is not one.
EXPECTED_ERRORS = (ValueError, FloatingPointError)

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def data(draw):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    magnitude = draw(st.sampled_from([1e-6, 1.0, 1e3, 1e15]))
    X = draw(arrays(dtype, (n, d), elements=st.floats(-1, 1, width=32)))
    X = (X * magnitude).astype(dtype)
    # A constant column and a near-constant one, as real tables have.
    if draw(st.booleans()):
        X[:, 0] = 3.0
    return X


@st.composite
def params(draw):
    return dict(
        n_components=draw(st.integers(1, 3)),
        hidden_layer_sizes=draw(st.sampled_from([(4,), (6, 3), ()])),
        batch_size=draw(st.sampled_from(["auto", 1, 7])),
        max_iter=draw(st.integers(1, 3)),
        early_stopping=draw(st.booleans()),
        learning_rate=draw(st.sampled_from(["cosine", "constant"])),
        learning_rate_init=draw(st.sampled_from([1e-3, 1e-1, 10.0])),
        random_state=0,
        device="cpu",
    )


def fit(model, X):
    y = np.arange(len(X)) % 2
    return model.fit(X, y) if isinstance(model, ConditionalAutoencoder) else model.fit(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
@SETTINGS
@given(X=data(), p=params(), X_new=data())
def test_fit_and_predict_never_give_nan_inliers(cls, X, p, X_new):
    if cls.__name__ == "ConvolutionalAutoencoder":
        p["hidden_layer_sizes"] = ()
    model = cls(**p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit(model, X)
        except EXPECTED_ERRORS:
            return
        X_new = X_new[:, : X.shape[1]] if X_new.shape[1] >= X.shape[1] else X
        scores = model.score_samples(X_new)
        labels = model.predict(X_new)
    assert not np.isnan(scores).any()
    assert set(np.unique(labels)) <= {-1, 1}
    assert np.all(labels[~np.isfinite(scores)] == -1)


BAD_INPUTS = {
    # NaN is a missing value; a feature never observed is an error.
    "unobserved": lambda X: np.where(np.arange(X.size).reshape(X.shape) % X.shape[1] == 0,
                                     np.nan, X),
    "inf": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 0, np.inf, X),
    "empty": lambda X: X[:0],
    # Text is categories (tests/test_categorical.py); a value that is neither
    # a number nor a category is an error.
    "objects": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 0, {"a": 1},
                                  X.astype(object)),
}


@pytest.mark.parametrize("cls", ESTIMATORS)
@SETTINGS
@given(X=data(), bad=st.sampled_from(sorted(BAD_INPUTS)), warm=st.booleans())
def test_failed_refit_keeps_the_model(cls, X, bad, warm):
    rng = np.random.RandomState(0)
    X_good = rng.normal(size=(30, 4))
    model = cls(hidden_layer_sizes=(4,), n_components=2, max_iter=2, random_state=0,
                warm_start=warm)
    fit(model, X_good)
    before = (model.transform(X_good), model.score_samples(X_good), model.offset_)
    X_bad = BAD_INPUTS[bad](np.resize(X, (max(len(X), 2), 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EXPECTED_ERRORS + (TypeError,)) as info:
            fit(model, X_bad)
    assert "torch" not in type(info.value).__module__
    after = (model.transform(X_good), model.score_samples(X_good), model.offset_)
    for b, a in zip(before, after):
        assert_array_equal(a, b)
