"""Whole pipelines to ONNX through skl2onnx, with our estimators inside."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

pytestmark = pytest.mark.slow  # exports ONNX graphs with torch's exporter
skl2onnx = pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
pytest.importorskip("onnxscript", reason="the onnx extra is not installed")

from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from sklearn_ae import (  # noqa: E402
    Autoencoder,
    OutlierAutoencoder,
    VariationalAutoencoder,
    register_onnx_converters,
)


@pytest.fixture(scope="module", autouse=True)
def converters():
    return register_onnx_converters()


def _run(onx, feeds):
    session = ort.InferenceSession(onx.SerializeToString())
    return session.run(None, feeds)


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y


@pytest.mark.parametrize("cls, params", [
    (Autoencoder, {}),
    (Autoencoder, {"outlier_score": "combined"}),
    (VariationalAutoencoder, {}),
])
def test_scaler_and_estimator_export_as_one_graph(cls, params):
    X, _ = _digits()
    model = cls(n_components=8, hidden_layer_sizes=(32,), max_iter=3, random_state=0, **params)
    pipe = make_pipeline(StandardScaler(), model).fit(X)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={id(model): {"score_samples": True}})
    codes, scores = _run(onx, {"X": X[:50]})
    assert_allclose(codes, pipe.transform(X[:50]), atol=1e-5)
    assert_allclose(scores, pipe.score_samples(X[:50]), atol=1e-5, rtol=1e-5)
    # Without the option, the codes alone: the step can feed another.
    (codes_only,) = _run(skl2onnx.to_onnx(pipe, X[:1]), {"X": X[:50]})
    assert_allclose(codes_only, codes)


def test_double_input_and_a_classifier_after_the_codes():
    X, y = _digits()
    X = X.astype(np.float64)
    pipe = make_pipeline(StandardScaler(), Autoencoder(n_components=8, hidden_layer_sizes=(32,),
                                                       max_iter=5, random_state=0),
                         LogisticRegression(max_iter=500)).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={id(pipe[-1]): {"zipmap": False}})
    labels, _ = _run(onx, {"X": X[:200]})
    assert np.mean(labels == pipe.predict(X[:200])) >= 0.99


def test_column_transformer_with_categories_in_front():
    rng = np.random.RandomState(0)
    table = pd.DataFrame({"size": rng.normal(size=200).astype(np.float32),
                          "grade": rng.choice(["low", "high"], 200)})
    model = Autoencoder(n_components=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    pipe = make_pipeline(make_column_transformer((StandardScaler(), ["size"]),
                                                 (OneHotEncoder(), ["grade"])), model).fit(table)
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    onx = skl2onnx.to_onnx(pipe, initial_types=[("size", FloatTensorType([None, 1])),
                                                ("grade", StringTensorType([None, 1]))],
                           options={id(model): {"score_samples": True}})
    feeds = {"size": table[["size"]].to_numpy(), "grade": table[["grade"]].to_numpy()}
    codes, scores = _run(onx, feeds)
    assert_allclose(codes, pipe.transform(table), atol=1e-5)
    assert_allclose(scores, pipe.score_samples(table), atol=1e-5, rtol=1e-5)


def test_what_cannot_be_exported_says_so():
    X, _ = _digits()
    detector = OutlierAutoencoder(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    pipe = make_pipeline(StandardScaler(), detector).fit(X)
    with pytest.raises(ValueError, match="isolation"):
        skl2onnx.to_onnx(pipe, X[:1], options={id(detector): {"score_samples": True}})
    with pytest.raises(RuntimeError, match="target_opset >= 20"):
        skl2onnx.to_onnx(pipe, X[:1], target_opset=17)
