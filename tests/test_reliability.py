"""Trust under stress: threads, extreme values, interrupted fits, failed refits."""

import threading
import warnings

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV

from sklearn_ae import (
    AdversarialAutoencoder,
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from sklearn_ae.utils import all_estimators

ESTIMATORS = [cls for _, cls in all_estimators()]


def small_data():
    rng = np.random.RandomState(0)
    return rng.normal(size=(200, 16)).astype(np.float32), np.arange(200) % 2


def fit(model, X, y):
    return model.fit(X, y) if isinstance(model, ConditionalAutoencoder) else model.fit(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fits_in_threads_equal_the_serial_fit(cls):
    """Each fit draws from a generator of its own, never torch's global one."""
    X, y = small_data()

    def make():
        return cls(hidden_layer_sizes=(8,), max_iter=6, early_stopping=False,
                   random_state=0, device="cpu")

    serial = fit(make(), X, y).transform(X[:5])
    torch.manual_seed(123)
    caller_state = torch.get_rng_state()
    models = [make() for _ in range(3)]
    threads = [threading.Thread(target=fit, args=(m, X, y)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for model in models:
        assert_array_equal(model.transform(X[:5]), serial)
    assert torch.equal(torch.get_rng_state(), caller_state)


def test_gridsearch_threading_backend_matches_serial():
    X, _ = small_data()
    search = dict(
        estimator=DenoisingAutoencoder(hidden_layer_sizes=(8,), max_iter=6, random_state=0),
        param_grid={"n_components": [2, 4]},
        cv=3,
    )
    serial = GridSearchCV(**search, n_jobs=1).fit(X).cv_results_["mean_test_score"]
    with parallel_backend("threading", n_jobs=2):
        threaded = GridSearchCV(**search, n_jobs=2).fit(X).cv_results_["mean_test_score"]
    assert_array_equal(threaded, serial)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_float32_row_beyond_range_scores_minus_inf_and_is_an_outlier(cls):
    rng = np.random.RandomState(0)
    X = (0.01 * rng.normal(size=(200, 6))).astype(np.float32)
    y = np.arange(200) % 2
    model = fit(cls(hidden_layer_sizes=(8,), max_iter=3, random_state=0), X, y)
    extreme = np.vstack([X[:3], np.full((1, 6), 1e37, np.float32)])
    if model.standardize:
        # 1e37 / 0.01 is beyond float32: the input itself overflows.
        with pytest.warns(RuntimeWarning, match="overflow float32"):
            scores = model.score_samples(extreme)
    else:  # finite input whose squared error overflows inside the network
        scores = model.score_samples(extreme)
    assert not np.isnan(scores).any()
    assert scores[-1] == -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert model.predict(extreme)[-1] == -1


def test_combined_score_of_a_row_beyond_range():
    rng = np.random.RandomState(0)
    X = (0.01 * rng.normal(size=(200, 6))).astype(np.float32)
    model = Autoencoder(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                        outlier_score="combined").fit(X)
    with pytest.warns(RuntimeWarning):
        scores = model.score_samples(np.vstack([X[:3], np.full((1, 6), 1e37, np.float32)]))
    assert np.isfinite(scores[:3]).all() and scores[-1] == -np.inf


def test_values_too_large_to_standardise_are_named():
    X = np.random.RandomState(0).normal(size=(100, 4)) * 1e200
    with pytest.raises(ValueError, match="too large to standardise"):
        Autoencoder(hidden_layer_sizes=(8,), max_iter=2).fit(X)
    # Large float32 values whose squares overflow float32 still standardise.
    X32 = (np.random.RandomState(0).normal(size=(100, 4)) * 1e20).astype(np.float32)
    model = Autoencoder(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X32)
    assert np.isfinite(model.scale_).all() and (model.scale_ > 1e19).all()


# -- parameters read at prediction time ------------------------------------
def test_outlier_score_is_read_from_the_fit_not_the_parameter():
    X, _ = small_data()
    model = Autoencoder(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                        outlier_score="combined").fit(X)
    scores, labels = model.score_samples(X), model.predict(X)
    assert model.outlier_score_ == "combined"
    model.set_params(outlier_score="reconstruction")
    assert_array_equal(model.score_samples(X), scores)
    assert_array_equal(model.predict(X), labels)
    model.fit(X)  # the next fit takes the new setting
    assert model.outlier_score_ == "reconstruction"
    assert np.mean(model.predict(X) == -1) == pytest.approx(0.1, abs=0.01)


def test_adversarial_prior_is_read_from_the_fit():
    X, _ = small_data()
    model = AdversarialAutoencoder(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                                   prior="uniform").fit(X)
    drawn = model.sample(5, random_state=0)
    model.set_params(prior="mixture")
    assert_array_equal(model.sample(5, random_state=0), drawn)


def test_convolutional_channels_are_read_from_the_fit():
    X, _ = small_data()
    model = ConvolutionalAutoencoder(channels=(4,), max_iter=2, random_state=0).fit(X)
    codes = model.transform(X)
    model.set_params(channels=(4, 8, 16))
    assert_array_equal(model.transform(X), codes)


# -- conditions ------------------------------------------------------------
def test_conditional_rejects_labels_it_was_not_fitted_on():
    X, _ = small_data()
    model = ConditionalAutoencoder(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    model.fit(X, ["cat", "dog"] * 100)
    with pytest.raises(ValueError, match=r"not seen in fit: \['dogs'\]"):
        model.sample(3, y="dogs")
    with pytest.raises(ValueError, match="NaN"):
        model.sample(3, y=np.nan)
    model.fit(X, [0, 1] * 100)
    for label in (1.5, -0.5, "1"):
        with pytest.raises(ValueError, match="not seen in fit"):
            model.sample(3, y=label)
    assert_array_equal(model.sample(3, y=1.0, random_state=0),
                       model.sample(3, y=1, random_state=0))


@pytest.mark.parametrize("y, message", [
    (np.random.RandomState(0).rand(200), "looks continuous"),
    (np.array(["a", 1] * 100, dtype=object), "mixes label types"),
    ([1.0, np.nan] * 100, "contains NaN"),
    (np.array(["a", None] * 100, dtype=object), "contains None"),
])
def test_conditional_labels_that_cannot_be_classes(y, message):
    X, _ = small_data()
    model = ConditionalAutoencoder(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


# -- parameters ------------------------------------------------------------
@pytest.mark.parametrize("sizes", [(0,), (-1,), (2.5,), 2.5, (True,)])
def test_discriminator_layer_sizes_are_validated(sizes):
    X, _ = small_data()
    model = AdversarialAutoencoder(hidden_layer_sizes=(8,), max_iter=2,
                                   discriminator_layer_sizes=sizes)
    with pytest.raises((ValueError, TypeError), match="discriminator_layer_sizes"):
        model.fit(X)


def test_warm_fit_checks_parameters_as_a_cold_fit_does():
    X, _ = small_data()
    model = DenoisingAutoencoder(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                                 noise="masking", noise_level=0.5, warm_start=True).fit(X)
    before = model.transform(X)
    with pytest.raises(ValueError, match="noise_level"):
        model.set_params(noise_level=1.5).fit(X)
    assert_array_equal(model.transform(X), before)


@pytest.mark.parametrize("cls, change", [
    (VariationalAutoencoder, {"likelihood": "bernoulli"}),
    (Autoencoder, {"hidden_layer_sizes": (16,)}),
    (Autoencoder, {"n_components": 5}),
])
def test_warm_fit_refuses_a_different_network(cls, change):
    X, _ = small_data()
    X = (X - X.min()) / (X.max() - X.min())
    model = cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0, warm_start=True).fit(X)
    name = next(iter(change))
    original = getattr(model, name)
    with pytest.raises(ValueError, match=f"{name} changed"):
        model.set_params(**change).fit(X)
    # Same network, written differently: still a warm start.
    model.set_params(**{name: original}).set_params(hidden_layer_sizes=[8]).fit(X)
    assert model.n_iter_ == 4


def test_validation_fraction_that_leaves_no_training_rows_says_so():
    X, _ = small_data()
    with pytest.raises(ValueError, match="validation_fraction=0.999 holds out 200 of 200"):
        Autoencoder(hidden_layer_sizes=(8,), max_iter=2, validation_fraction=0.999).fit(X)


# -- divergence and interruption -------------------------------------------
@pytest.mark.parametrize("cls", [SparseAutoencoder, Autoencoder])
def test_finite_divergence_is_an_error(cls):
    X, _ = small_data()
    with pytest.raises(FloatingPointError, match="diverged.*learning_rate_init"):
        cls(hidden_layer_sizes=(8,), max_iter=10, learning_rate_init=1e3,
            random_state=0).fit(X)


def _with_step_spy(spy):
    """An Autoencoder whose ``_train_step`` hook (a documented seam) calls ``spy`` first."""

    class Spied(Autoencoder):
        def _train_step(self, module, optimizers, X, y):
            spy()
            return super()._train_step(module, optimizers, X, y)

    return Spied


class _InterruptAt:
    """Raises KeyboardInterrupt at the ``n``-th training step."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_what_was_trained():
    X, _ = small_data()
    # On the CPU: the interruption is planted in _train_step, which a CUDA
    # graph calls only while capturing (a real Ctrl-C stops replays alike).
    model = _with_step_spy(_InterruptAt(4 * 3 + 2))(
        hidden_layer_sizes=(8,), max_iter=50, batch_size=50, random_state=0,
        refit_fraction=0.1, device="cpu")
    with pytest.warns(UserWarning, match="interrupted after 3 epoch"):
        model.fit(X)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3
    assert np.isfinite(model.transform(X)).all()
    assert np.mean(model.predict(X) == -1) == pytest.approx(0.1, abs=0.01)


# -- threads ---------------------------------------------------------------
class _ThreadSpy:
    """Records torch's thread count at each training step."""

    def __init__(self):
        self.seen = set()

    def __call__(self):
        self.seen.add(torch.get_num_threads())


def test_small_networks_train_on_one_thread_and_restore_the_count():
    X, _ = small_data()
    spy = _ThreadSpy()
    model = _with_step_spy(spy)(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                                device="cpu")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        model.fit(X)
        assert spy.seen == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_large_networks_respect_threadpool_limits():
    from threadpoolctl import threadpool_limits

    from sklearn_ae._device import training_threads

    X = np.random.RandomState(0).normal(size=(64, 400)).astype(np.float32)
    spy = _ThreadSpy()
    model = _with_step_spy(spy)(hidden_layer_sizes=(512,), max_iter=1, random_state=0,
                                device="cpu", precision="float32")
    with threadpool_limits(1):
        model.fit(X)
    assert spy.seen == {1}
    # A network this large may use every thread torch has, where not limited.
    assert training_threads(model.module_, torch.device("cpu")) == torch.get_num_threads()
