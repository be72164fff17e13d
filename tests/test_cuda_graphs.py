"""CUDA-graph training steps against eager ones (every test here needs a CUDA GPU).

On CUDA, fits capture the training step of a full batch as one CUDA graph and
replay it; the warm-up steps and short last batches run eagerly. These tests
check that the captured path gives the eager path's model for the same seed,
for every variant and for rows with gaps, that it is really taken, and that a
failed capture falls back to eager steps with one warning.
"""

import warnings

import numpy as np
import pytest
import torch

from sklearn_ae import (
    AdversarialAutoencoder,
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from sklearn_ae._cuda_graphs import _GRAPH_WARMUP_STEPS

pytestmark = pytest.mark.gpu

N_ROWS, BATCH, EPOCHS = 1000, 64, 4

VARIANTS = {
    "vanilla": (Autoencoder, {}),
    "denoising gaussian": (DenoisingAutoencoder, {"noise": "gaussian"}),
    "denoising salt_pepper": (DenoisingAutoencoder, {"noise": "salt_pepper"}),
    "sparse": (SparseAutoencoder, {}),
    "variational": (VariationalAutoencoder, {}),
    "conditional": (ConditionalAutoencoder, {}),
    "adversarial": (AdversarialAutoencoder, {}),
    "adversarial mixture": (AdversarialAutoencoder, {"prior": "mixture"}),
    "convolutional": (ConvolutionalAutoencoder, {"channels": (4, 8)}),
}


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(N_ROWS, 3))
    X = np.tanh(latent @ rng.normal(size=(3, 16)) + 0.1 * rng.normal(size=(N_ROWS, 16)))
    y = (latent[:, 0] > 0).astype(int) + (latent[:, 1] > 0)
    return X.astype(np.float32), y


def _fit(cls, extra, X, y, monkeypatch, graphs, **params):
    monkeypatch.setenv("SKLEARN_AE_CUDA_GRAPHS", "1" if graphs else "0")
    settings = dict(n_components=3, batch_size=BATCH, max_iter=EPOCHS, random_state=0,
                    device="cuda", early_stopping=True, learning_rate="cosine")
    if cls is ConvolutionalAutoencoder:
        settings["image_shape"] = (1, 4, 4)
    else:
        settings["hidden_layer_sizes"] = (32, 16)
    settings.update(extra)
    settings.update(params)
    est = cls(**settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y if cls is ConditionalAutoencoder else None)
    graph_warnings = [w for w in caught if "CUDA graph" in str(w.message)]
    return est, graph_warnings


class _ReplayCounter:
    def __init__(self, monkeypatch):
        self.count = 0
        replay = torch.cuda.CUDAGraph.replay

        def counting(graph):
            self.count += 1
            return replay(graph)

        monkeypatch.setattr(torch.cuda.CUDAGraph, "replay", counting)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_graphed_fit_matches_eager_fit(variant, data, monkeypatch):
    cls, extra = VARIANTS[variant]
    X, y = data
    counter = _ReplayCounter(monkeypatch)
    graphed, graph_warnings = _fit(cls, extra, X, y, monkeypatch, graphs=True)
    assert graph_warnings == []
    # 900 training rows: 14 full batches of 64 and one of 4 per epoch. All
    # full batches but the warm-up ones are replays of the graph, and the
    # short one is replayed from its second epoch on.
    n_train = N_ROWS - int(np.ceil(0.1 * N_ROWS))
    assert counter.count == EPOCHS * (n_train // BATCH) - _GRAPH_WARMUP_STEPS + EPOCHS - 1
    replays = counter.count
    eager, _ = _fit(cls, extra, X, y, monkeypatch, graphs=False)
    assert counter.count == replays  # the eager fit replays nothing

    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(graphed.validation_scores_, eager.validation_scores_, rtol=1e-4)
    codes_graphed, codes_eager = graphed.transform(X), eager.transform(X)
    assert codes_graphed.shape == (N_ROWS, graphed.n_components_)
    np.testing.assert_allclose(codes_graphed, codes_eager, rtol=1e-3, atol=1e-4)
    scores = graphed.score_samples(X)
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores, eager.score_samples(X), rtol=1e-3, atol=1e-5)
    conditions = y if cls is ConditionalAutoencoder else None
    reconstructed = (graphed.inverse_transform(codes_graphed, conditions)
                     if conditions is not None else graphed.inverse_transform(codes_graphed))
    np.testing.assert_allclose(
        reconstructed,
        eager.inverse_transform(codes_graphed, conditions) if conditions is not None
        else eager.inverse_transform(codes_graphed), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder])
def test_rows_with_gaps_train_alike_graphed_and_eager(cls, data, monkeypatch):
    # The gap step (masks, masking noise, the loss rescaled) is captured too;
    # its draws come from the fit's generator, so both paths see the same noise.
    X, _ = data
    X = X.copy()
    X[np.random.RandomState(1).rand(*X.shape) < 0.1] = np.nan
    counter = _ReplayCounter(monkeypatch)
    graphed, graph_warnings = _fit(cls, {}, X, None, monkeypatch, graphs=True)
    assert graph_warnings == [] and counter.count > 0
    eager, _ = _fit(cls, {}, X, None, monkeypatch, graphs=False)
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(graphed.score_samples(X), eager.score_samples(X),
                               rtol=1e-3, atol=1e-5)


def test_batch_dividing_the_rows_and_constant_rate(data, monkeypatch):
    """No short batch at all, and a constant rate (floats, not tensors, in the graph)."""
    X, _ = data
    X = X[:640]
    counter = _ReplayCounter(monkeypatch)
    graphed, graph_warnings = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=True,
                                   early_stopping=False, learning_rate="constant")
    assert graph_warnings == [] and counter.count == EPOCHS * 10 - _GRAPH_WARMUP_STEPS
    eager, _ = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=False,
                    early_stopping=False, learning_rate="constant")
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-4)


def test_rates_are_floats_again_after_a_graphed_fit(data, monkeypatch):
    """A warm start's saved optimizer state is the eager one: it continues on the CPU."""
    X, _ = data
    est, _ = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=True, warm_start=True)
    for state in est._optimizer_state:
        for group in state["param_groups"]:
            assert isinstance(group["lr"], float) and group["capturable"] is False
    est.set_params(device="cpu", max_iter=2)
    est.fit(X)  # continues from the GPU fit's moments, on the CPU
    assert est.device_.type == "cpu" and np.isfinite(est.loss_curve_).all()


def test_bfloat16_autocast_is_captured(data, monkeypatch):
    X, _ = data
    counter = _ReplayCounter(monkeypatch)
    graphed, graph_warnings = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=True,
                                   precision="bfloat16")
    assert graph_warnings == [] and counter.count > 0
    eager, _ = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=False, precision="bfloat16")
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-2)


class _SyncingAutoencoder(Autoencoder):
    """A variant whose loss reads a value on the host: a CUDA graph cannot hold that."""

    def _loss(self, module, X, y):
        loss = super()._loss(module, X, y)
        if loss.item() < 0:  # a host sync: illegal while a stream is capturing
            raise AssertionError("a mean squared error is never negative")
        return loss


def test_failed_capture_falls_back_to_eager_with_one_warning(data, monkeypatch):
    X, _ = data
    counter = _ReplayCounter(monkeypatch)
    fallen_back, graph_warnings = _fit(_SyncingAutoencoder, {}, X, None, monkeypatch,
                                       graphs=True)
    assert len(graph_warnings) == 1 and counter.count == 0
    message = str(graph_warnings[0].message)
    assert "trains eagerly" in message and "SKLEARN_AE_CUDA_GRAPHS=0" in message
    eager, graph_warnings = _fit(_SyncingAutoencoder, {}, X, None, monkeypatch, graphs=False)
    assert graph_warnings == []
    # The batch whose capture failed was then trained eagerly: same model.
    np.testing.assert_allclose(fallen_back.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(fallen_back.transform(X), eager.transform(X),
                               rtol=1e-3, atol=1e-4)
    # The GPU is usable after the failed capture: a normal fit graphs again.
    again, graph_warnings = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=True)
    assert graph_warnings == [] and counter.count > 0


class _SyncingDenoising(DenoisingAutoencoder):
    """As ``_SyncingAutoencoder``, for a step that draws random numbers (its noise)."""

    def _loss(self, module, X, y):
        loss = super()._loss(module, X, y)
        if loss.item() < 0:
            raise AssertionError("a mean squared error is never negative")
        return loss


@pytest.mark.xfail(strict=True, reason=(
    "known bug, seen on an H200 on 2026-11-28: a failed capture leaves the fit's "
    "generator registered in capture state, and the eager fallback's next random draw "
    "raises 'Offset increment outside graph capture encountered unexpectedly' "
    "(_cuda_graphs._GraphedSteps._capture's except branch must reset it)"))
def test_failed_capture_of_a_step_that_draws_noise_falls_back(data, monkeypatch):
    X, _ = data
    est, graph_warnings = _fit(_SyncingDenoising, {"noise": "gaussian"}, X, None, monkeypatch,
                               graphs=True)
    assert len(graph_warnings) == 1
    assert np.isfinite(est.transform(X)).all()


def test_capture_error_of_any_kind_falls_back(data, monkeypatch):
    X, _ = data

    def broken(*args, **kwargs):
        raise RuntimeError("no graphs today")

    monkeypatch.setattr(torch.cuda.CUDAGraph, "capture_begin", broken)
    est, graph_warnings = _fit(Autoencoder, {}, X, None, monkeypatch, graphs=True)
    assert len(graph_warnings) == 1 and "no graphs today" in str(graph_warnings[0].message)
    assert np.isfinite(est.transform(X)).all()


def test_divergence_is_still_reported_under_graphs(data, monkeypatch):
    X, _ = data
    with pytest.raises(FloatingPointError, match="diverged"):
        _fit(Autoencoder, {}, X, None, monkeypatch, graphs=True, learning_rate_init=1e3,
             max_iter=10, early_stopping=False, learning_rate="constant")


def test_partial_fit_and_sparse_input_on_cuda(data, monkeypatch):
    import scipy.sparse as sp

    X, _ = data
    monkeypatch.setenv("SKLEARN_AE_CUDA_GRAPHS", "1")
    est = Autoencoder(n_components=3, hidden_layer_sizes=(16,), batch_size=BATCH,
                      device="cuda", random_state=0)
    for chunk in np.array_split(X, 4):
        est.partial_fit(chunk)
    assert np.isfinite(est.transform(X)).all()
    sparse = sp.csr_matrix(np.where(X > 0.5, X, 0.0))
    fitted = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=3,
                         device="cuda", random_state=0).fit(sparse)
    assert np.isfinite(fitted.transform(sparse)).all()


def test_ctrl_c_during_replays_keeps_what_was_trained(data, monkeypatch):
    X, _ = data
    replay = torch.cuda.CUDAGraph.replay
    calls = []

    def interrupted(graph):
        calls.append(1)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return replay(graph)

    monkeypatch.setattr(torch.cuda.CUDAGraph, "replay", interrupted)
    monkeypatch.setenv("SKLEARN_AE_CUDA_GRAPHS", "1")
    est = Autoencoder(n_components=3, hidden_layer_sizes=(16,), batch_size=BATCH, max_iter=50,
                      device="cuda", random_state=0, warm_start=True)
    with pytest.warns(UserWarning, match="interrupted after 1 epoch"):
        est.fit(X)
    assert est.n_iter_ == 1 and np.isfinite(est.transform(X)).all()
    for state in est._optimizer_state:
        assert all(isinstance(group["lr"], float) for group in state["param_groups"])
