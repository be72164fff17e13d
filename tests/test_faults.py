"""Faults found by a run of bad-input and fault cases against PCA, MLPRegressor and IsolationForest.

Each test here failed before its fix (issue 31, item 6).
"""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ae import (
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    OutlierAutoencoder,
    to_onnx,
)

SMALL = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0, device="cpu")


def _rows(n=60, d=4, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d))


def _interrupting(after):
    """An Autoencoder whose ``_train_step`` hook raises KeyboardInterrupt at step ``after``."""
    calls = {"n": 0}

    class Interrupting(Autoencoder):
        def _train_step(self, module, optimizers, X, y):
            calls["n"] += 1
            if calls["n"] == after:
                raise KeyboardInterrupt
            return super()._train_step(module, optimizers, X, y)

    return Interrupting


def test_ctrl_c_inside_partial_fit_stops_the_loop_and_keeps_the_last_pass():
    X = _rows()
    # Two batches per pass: the first call runs steps 1-2, the second is
    # interrupted at its second step.
    model = _interrupting(after=4)(batch_size=30, **SMALL).partial_fit(X)
    before = model.transform(X)
    n_iter = model.n_iter_
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X)
    assert model.n_iter_ == n_iter
    np.testing.assert_array_equal(model.transform(X), before)


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_detector_fitted_on_one_row_scores_finitely(how):
    X = _rows()
    model = OutlierAutoencoder(max_iter=2, random_state=0, early_stopping=how == "partial_fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(model, how)(X[:1])
    assert np.isfinite(model.offset_)
    assert np.all(np.isfinite(model.score_samples(X)))
    assert np.all(np.isfinite(model.decision_function(X)))
    # The training row itself is an inlier; rows far from it are not all.
    assert model.predict(X[:1])[0] == 1


@pytest.mark.parametrize("cls, params", [
    (Autoencoder, {"alpha": -1}),
    (Autoencoder, {"learning_rate_init": -1}),
    (Autoencoder, {"batch_size": 0}),
    (DenoisingAutoencoder, {"noise_level": -1}),
])
def test_partial_fit_after_set_params_validates_them(cls, params):
    X = _rows()
    model = cls(**SMALL).fit(X)
    before = model.transform(X)
    with pytest.raises(InvalidParameterError, match=list(params)[0]):
        model.set_params(**params).partial_fit(X)
    np.testing.assert_array_equal(model.transform(X), before)


def test_warm_start_refuses_a_changed_standardisation():
    X = _rows() * 100
    model = Autoencoder(warm_start=True, **SMALL).fit(X)
    with pytest.raises(ValueError, match="standardize changed from True to False"):
        model.set_params(standardize=False).fit(X)


@pytest.mark.parametrize("param", ["n_components", "batch_size", "max_iter", "n_iter_no_change"])
def test_a_boolean_is_not_a_count(param):
    with pytest.raises(ValueError, match=f"{param} must be an int, not a boolean"):
        Autoencoder(**{**SMALL, param: True}).fit(_rows())


def test_score_is_minus_inf_where_score_samples_is():
    X = _rows().astype(np.float32)
    model = Autoencoder(**SMALL).fit(X)
    big = np.full((1, 4), np.finfo(np.float32).max, dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert model.score_samples(big)[0] == -np.inf
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert model.score(big) == -np.inf


def test_exported_score_is_minus_inf_where_the_estimator_says_so():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    X = _rows().astype(np.float32)
    model = Autoencoder(**SMALL).fit(X)
    session = ort.InferenceSession(to_onnx(model, "score_samples").SerializeToString())
    big = np.full((1, 4), np.finfo(np.float32).max, dtype=np.float32)
    scores = session.run(None, {"X": np.vstack([X[:2], big])})[0]
    assert scores[-1] == -np.inf and np.all(np.isfinite(scores[:2]))


def test_to_onnx_of_a_foreign_estimator_says_what_it_takes():
    with pytest.raises(TypeError, match="estimator of sklearn_ae, got PCA"):
        to_onnx(PCA(2).fit(_rows()))


def test_sample_with_too_few_numeric_conditions_says_so():
    X = _rows()
    model = ConditionalAutoencoder(**SMALL).fit(X, X[:, :2])
    with pytest.raises(ValueError, match="1 condition value.*2 condition columns"):
        model.sample(3, y=[1.0])
    assert model.sample(3, y=[1.0, -1.0], random_state=0).shape == (3, 4)


@pytest.mark.parametrize("params, message", [
    ({"clip": ("a", "b")}, "clip must be a pair of numbers"),
    ({"noise_level": 1e30}, "noise_level=1e\\+30 is too large"),
])
def test_denoising_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        DenoisingAutoencoder(**{**SMALL, **params}).fit(_rows())


def test_divergence_from_the_scale_of_x_names_the_scale():
    X = np.abs(_rows(d=16)) * 1e30  # valid float64 data; images have standardize=False
    with pytest.raises(FloatingPointError, match="X reaches .* rescale X") as info:
        ConvolutionalAutoencoder(max_iter=2, random_state=0).fit(X)
    assert "learning_rate_init" not in str(info.value)
