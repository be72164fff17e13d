"""The training engine: stopping, warm start, determinism, batching."""

import sys
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_ae import Autoencoder
from sklearn_ae._device import _denormals_are_flushed, resolve_device
from sklearn_ae._training import LoopSettings, train

from .conftest import FAST_PARAMS


def _scripted_training(val_losses, **kwargs):
    """Run train() on a one-parameter module whose weight counts the steps."""
    module = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        module.weight.zero_()
    epoch = {"n": 0}

    def step(X_batch, y_batch):
        with torch.no_grad():
            module.weight += 1.0
        return torch.tensor(1.0)

    def validation_loss():
        value = val_losses[epoch["n"]]
        epoch["n"] += 1
        return torch.tensor(value)

    history = train(
        module,
        step,
        torch.zeros(4, 1),
        validation_loss=validation_loss,
        generator=torch.Generator().manual_seed(0),
        settings=LoopSettings(**{"max_iter": len(val_losses), "batch_size": 4, "tol": 0.0,
                                 "n_iter_no_change": 2, **kwargs}),
    )
    return module, history


def test_early_stopping_restores_best_epoch():
    losses = [5.0, 4.0, 1.0, 2.0, 3.0, 4.0, 0.5, 0.1]
    module, history = _scripted_training(losses)
    # Epoch 3 was best; three worse epochs (> n_iter_no_change=2) stop the loop.
    assert history.n_iter == 6
    assert history.converged
    assert history.best_loss == 1.0
    assert history.validation_scores == losses[:6]
    # One step per epoch: epoch 3's weights are 3.0, the last epoch's 6.0.
    assert module.weight.item() == 3.0


def test_runs_out_of_epochs_without_converging():
    module, history = _scripted_training([5.0, 4.0, 3.0])
    assert history.n_iter == 3 and not history.converged
    assert module.weight.item() == 3.0


def test_nan_loss_raises_with_epoch():
    with pytest.raises(FloatingPointError, match="epoch 2"):
        _scripted_training([1.0, float("nan"), 1.0])


def test_estimator_early_stopping_stops_and_reports(blobs):
    est = Autoencoder(n_components=2, max_iter=500, tol=1e-2, random_state=0).fit(blobs)
    assert est.n_iter_ < 500
    assert len(est.loss_curve_) == len(est.validation_scores_) == est.n_iter_
    assert est.best_loss_ == min(est.validation_scores_)


def test_without_early_stopping_monitors_training_loss(blobs):
    est = Autoencoder(
        n_components=2, early_stopping=False, tol=1e3, n_iter_no_change=3, random_state=0
    ).fit(blobs)
    assert est.validation_scores_ is None
    # With a huge tol no epoch after the first counts as progress: the first,
    # then n_iter_no_change + 1 epochs without progress.
    assert est.n_iter_ == 1 + 3 + 1
    assert est.best_loss_ == min(est.loss_curve_)


def test_convergence_warning_when_out_of_epochs(blobs):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        Autoencoder(max_iter=2, learning_rate="constant", random_state=0).fit(blobs)


def test_cosine_schedule_that_ran_its_course_does_not_warn(blobs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = Autoencoder(max_iter=2, random_state=0).fit(blobs)
    assert est.n_iter_ == 2


def test_cosine_schedule_warms_up_then_decays_to_zero():
    from sklearn_ae._training import cosine_factor

    factors = [cosine_factor(step, 100) for step in range(101)]
    assert factors[0] == pytest.approx(0.2)  # 1 of 5 warm-up steps
    assert max(factors) == pytest.approx(factors[4], rel=1e-3)
    assert all(a >= b for a, b in zip(factors[4:], factors[5:]))
    assert factors[100] == pytest.approx(0.0, abs=1e-12)


def test_learning_rate_schedule_reaches_the_optimizer(blobs):
    seen = []

    class Spy(Autoencoder):
        def _train_step(self, module, optimizers, X, y):
            seen.append(optimizers[0].param_groups[0]["lr"])
            return super()._train_step(module, optimizers, X, y)

    # On the CPU, where every step calls _train_step (a CUDA graph replays
    # its captured steps; tests/test_cuda_graphs.py checks the schedule there).
    Spy(max_iter=4, batch_size=100, early_stopping=False, learning_rate_init=0.01,
        random_state=0, device="cpu").fit(blobs)
    assert len(seen) == 12
    assert max(seen) == pytest.approx(0.01 * cosine_peak(12), rel=1e-6)
    assert seen[-1] < 0.1 * max(seen)
    seen.clear()
    with pytest.warns(ConvergenceWarning, match="still improving"):
        Spy(max_iter=2, batch_size=100, early_stopping=False, learning_rate_init=0.01,
            learning_rate="constant", random_state=0, device="cpu").fit(blobs)
    assert seen == [0.01] * 6


def cosine_peak(n_steps):
    from sklearn_ae._training import cosine_factor

    return max(cosine_factor(step, n_steps) for step in range(n_steps))


def test_warm_start_continues(blobs):
    # One fit each call (no outlier refit), so both calls train on the same rows.
    est = Autoencoder(n_components=2, max_iter=5, warm_start=True, random_state=0,
                      refit_fraction=0)
    est.fit(blobs)
    first_curve = list(est.loss_curve_)
    module = est.module_
    est.fit(blobs)
    assert est.n_iter_ == 10
    assert est.loss_curve_[:5] == first_curve
    # Continuing from trained weights: the sixth epoch starts well below the first.
    assert est.loss_curve_[5] < first_curve[0]
    assert est.module_ is not module  # trained on a copy, swapped in at the end
    cold = Autoencoder(n_components=2, max_iter=5, random_state=0).fit(blobs)
    cold.fit(blobs)
    assert cold.n_iter_ == 5


def test_seeded_fits_are_identical_and_rng_untouched(blobs):
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()
    a = Autoencoder(**FAST_PARAMS).fit(blobs)
    b = Autoencoder(**FAST_PARAMS).fit(blobs)
    assert_array_equal(a.transform(blobs), b.transform(blobs))
    assert a.loss_curve_ == b.loss_curve_
    c = Autoencoder(**{**FAST_PARAMS, "random_state": 1}).fit(blobs)
    assert not np.allclose(a.transform(blobs), c.transform(blobs))
    assert torch.equal(torch.get_rng_state(), torch_state)
    # The whole state, position in the stream included.
    for now, before in zip(np.random.get_state(), np_state):
        assert_array_equal(now, before)


def test_unseeded_fit_draws_its_seed_from_numpy_as_scikit_learn_does(blobs):
    """What the docs say: random_state=None advances numpy's global stream."""
    np.random.seed(5)
    Autoencoder(**{**FAST_PARAMS, "random_state": None}).fit(blobs)
    after_fit = np.random.get_state()[2]
    np.random.seed(5)
    assert after_fit != np.random.get_state()[2]
    # ... and so np.random.seed makes unseeded fits repeatable.
    np.random.seed(5)
    a = Autoencoder(**{**FAST_PARAMS, "random_state": None}).fit(blobs)
    np.random.seed(5)
    b = Autoencoder(**{**FAST_PARAMS, "random_state": None}).fit(blobs)
    assert_array_equal(a.transform(blobs), b.transform(blobs))


def test_float64_rows_depend_on_their_batch_only_in_the_last_digits(blobs):
    """What the user guide says: a few units in the last place, not bit for bit."""
    est = Autoencoder(**FAST_PARAMS).fit(blobs)
    for method in (est.transform, est.score_samples):
        alone = np.concatenate([method(blobs[i : i + 1]) for i in range(40)])
        together = method(blobs)[:40]
        assert np.abs(alone - together).max() <= 4 * np.spacing(np.abs(together).max())


def test_denormal_flushing_is_restored(blobs):
    assert not _denormals_are_flushed()
    Autoencoder(**FAST_PARAMS).fit(blobs)
    assert not _denormals_are_flushed()


@pytest.mark.parametrize("n_samples, batch_size", [(2, "auto"), (7, 3), (10, 1000), (33, 32)])
def test_batching_edge_cases(n_samples, batch_size):
    X = np.random.RandomState(0).normal(size=(n_samples, 4))
    est = Autoencoder(batch_size=batch_size, **FAST_PARAMS).fit(X)
    assert est.transform(X).shape == (n_samples, est.n_components_)
    assert np.all(np.isfinite(est.loss_curve_))


def test_single_sample():
    X = np.ones((1, 3))
    with pytest.raises(ValueError, match="n_samples=1"):
        Autoencoder(**FAST_PARAMS).fit(X)
    est = Autoencoder(early_stopping=False, **FAST_PARAMS).fit(X)
    assert est.transform(X).shape == (1, 1)


def test_loss_leaves_device_once_per_epoch(blobs, monkeypatch):
    """Reading a loss synchronises a GPU: at most once per epoch, not per batch."""
    reads = {"n": 0}
    for name in ("item", "tolist", "cpu", "numpy"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            # Only our code's reads: Adam keeps its step count on the CPU by
            # design and reads it there, which costs no device sync.
            if "sklearn_ae" in sys._getframe(1).f_code.co_filename:
                reads["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    X = np.random.RandomState(0).normal(size=(1000, 5))

    def reads_of_a_fit(epochs):
        # One training, and explicit widths: the default's one PCA comparison
        # after training reads the validation rows' losses once per fit.
        est = Autoencoder(n_components=2, hidden_layer_sizes=(16, 8), batch_size=10,
                          max_iter=epochs, n_iter_no_change=epochs, random_state=0,
                          outlier_score="reconstruction", refit_fraction=0)
        reads["n"] = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X)
        assert est.n_iter_ == epochs
        return reads["n"]

    # 90 batches an epoch: four more epochs cost at most four more reads (a
    # read per batch would be 360). What a fit reads once (the flush probe,
    # the offset's scores) is the same for both.
    four, eight = reads_of_a_fit(4), reads_of_a_fit(8)
    assert eight - four <= 4, (four, eight)
    assert four <= 4 + 10, four


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("cuda:-1")


@pytest.mark.parametrize("n_features, n_components, expected", [
    (784, 32, (1024, 512)), (64, 16, (128, 64)), (20, 10, (64, 32)), (3, 1, (64, 32)),
    (40, 32, (128, 64)), (10, 40, (64, 80)),
])
def test_auto_widths_follow_the_number_of_features(n_features, n_components, expected):
    X = np.random.RandomState(0).normal(size=(30, n_features))
    # No validation rows, so no PCA comparison: the network's widths stay.
    est = Autoencoder(n_components=n_components, max_iter=1, precision="float32",
                      early_stopping=False, random_state=0).fit(X)
    assert est.hidden_layer_sizes_ == expected


@pytest.mark.parametrize("n_samples, expected", [(100, 200), (20_000, 89), (200_000, 20)])
def test_auto_epochs_are_a_budget_of_rows(n_samples, expected):
    from sklearn_ae._network import resolve_max_iter

    assert resolve_max_iter(Autoencoder().max_iter, int(n_samples * 0.9)) == expected


def test_auto_epochs_are_recorded(blobs):
    est = Autoencoder(**{**FAST_PARAMS, "max_iter": "auto"}).fit(blobs)
    assert est.max_iter_ == 200
    assert est.n_iter_ <= 200


def test_precision(blobs, monkeypatch):
    import sklearn_ae._device as device

    narrow = Autoencoder(**FAST_PARAMS, device="cpu").fit(blobs)
    assert narrow.precision_ == "float32"
    monkeypatch.setattr(device, "cpu_has_amx", lambda: True)
    # bfloat16 is the CPU's automatic choice (with AMX); a GPU keeps float32.
    wide = Autoencoder(hidden_layer_sizes=(256,), max_iter=2, random_state=0,
                       device="cpu").fit(blobs)
    assert wide.precision_ == "bfloat16"
    monkeypatch.setattr(device, "cpu_has_amx", lambda: False)
    wide.fit(blobs)
    assert wide.precision_ == "float32"
    forced = Autoencoder(hidden_layer_sizes=(16,), max_iter=20, precision="bfloat16",
                         random_state=0).fit(blobs)
    exact = Autoencoder(hidden_layer_sizes=(16,), max_iter=20, precision="float32",
                        random_state=0).fit(blobs)
    assert forced.precision_ == "bfloat16"
    # Same training, coarser arithmetic: different weights, a similar fit;
    # inference stays float32.
    assert not np.array_equal(forced.transform(blobs), exact.transform(blobs))
    assert forced.score(blobs) == pytest.approx(exact.score(blobs), rel=0.2)
    assert forced.transform(blobs).dtype == blobs.dtype
