"""ONNX export: onnxruntime gives what transform, inverse_transform and score_samples give."""

import logging

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_ae import Autoencoder, ConditionalAutoencoder, OutlierAutoencoder, to_onnx
from sklearn_ae.utils import all_estimators

# Slow: exports ONNX graphs with torch's exporter; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

CASES = [(cls, {}) for _, cls in all_estimators()] + [
    (Autoencoder, {"outlier_score": "combined"}),
    # The detector's earlier score: its score_samples exports.
    (OutlierAutoencoder, {"outlier_score": "combined"}),
    # Ensembles: their batched products export as well as one network's.
    (Autoencoder, {"n_members": 3}),
    (OutlierAutoencoder, {"n_members": 3})]


@pytest.fixture(autouse=True)
def _quiet_exporter():
    # torch's exporter logs what it skips (torchvision operators...).
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def run(model_proto, feed):
    session = ort.InferenceSession(model_proto.SerializeToString())
    return session.run(None, feed)[0]


@pytest.mark.parametrize("cls, params", CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_onnx_matches_the_estimator(cls, params, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 16)).astype(np.float32)
    y = np.arange(300) % 3
    # On the CPU, in float32 as ONNX Runtime computes: on a GPU, cuDNN's
    # convolutions run in TF32 (PyTorch's default), 1e-4 from float32.
    model = cls(hidden_layer_sizes=(8,), max_iter=3, random_state=0, device="cpu", **params)
    model.fit(X, y) if cls is ConditionalAutoencoder else model.fit(X)
    X_new = rng.normal(size=(37, 16)).astype(np.float32)  # another row count

    assert_allclose(run(to_onnx(model, "transform"), {"X": X_new}), model.transform(X_new),
                    rtol=1e-5, atol=1e-5)
    Z = model.transform(X_new)
    feed = {"X": Z}
    if cls is ConditionalAutoencoder:
        feed["conditions"] = np.eye(3, dtype=np.float32)[y[:37]]
        expected = model.inverse_transform(Z, y[:37])
    else:
        expected = model.inverse_transform(Z)
    assert_allclose(run(to_onnx(model, "inverse_transform"), feed), expected,
                    rtol=1e-5, atol=1e-5)
    path = tmp_path / "score.onnx"
    if getattr(model, "outlier_score_", None) == "isolation":
        with pytest.raises(ValueError, match="cannot be exported to ONNX"):
            to_onnx(model, "score_samples", path=path)
        assert not path.exists()
        return
    to_onnx(model, "score_samples", path=path)
    import onnx

    graph = onnx.load(path)
    scores = run(graph, {"X": X_new})
    assert_allclose(scores, model.score_samples(X_new), rtol=1e-5, atol=1e-5)
    if cls.__name__ in ("VariationalAutoencoder", "ConditionalAutoencoder"):
        # The 16 fixed draws are decoded as one batch: a decoder (2 Gemm on
        # (8,) hidden) per class, not one per draw (98 Gemm for 3 classes).
        gemms = sum(node.op_type == "Gemm" for node in graph.graph.node)
        assert gemms <= 4 + 2 * len(np.unique(y)), gemms


def test_unknown_method_is_an_error():
    model = Autoencoder(hidden_layer_sizes=(8,), max_iter=1).fit(np.eye(20))
    with pytest.raises(ValueError, match="method must be one of"):
        to_onnx(model, "predict")
