"""What only VariationalAutoencoder does: a generative model with an ELBO."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae import VariationalAutoencoder


@pytest.fixture(scope="module")
def curved():
    """2-d latent structure in 6 features on different scales."""
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(2000, 2))
    X = np.tanh(latent) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(2000, 6))
    return X * [1, 10, 100, 1, 1, 1] + [0, 5, 0, 0, 0, -3]


def posterior_draws(vae, X, seed=0):
    Xs = torch.as_tensor((X - vae.mean_) / vae.scale_, dtype=torch.float32, device=vae.device_)
    with torch.no_grad():
        mu, log_var = (t.cpu() for t in vae.module_.encode_distribution(Xs))
        generator = torch.Generator().manual_seed(seed)
        eps = torch.randn(mu.shape, generator=generator)
        return (mu + torch.exp(0.5 * log_var) * eps).numpy()


def test_held_out_elbo_improves_with_training(curved):
    train, test = curved[:1500], curved[1500:]
    short = VariationalAutoencoder(n_components=2, max_iter=1, random_state=0).fit(train)
    # Without early stopping: on a GPU's random stream seed 0 stops at epoch 17
    # on a noisy validation ELBO (2.1 nats better on the CPU, 0.7 there).
    long = VariationalAutoencoder(n_components=2, max_iter=80, early_stopping=False,
                                  random_state=0).fit(train)
    assert long.score(test) > short.score(test) + 1.0  # nats per row


def test_high_beta_pulls_codes_to_the_prior(curved):
    def distance_to_prior(beta):
        vae = VariationalAutoencoder(n_components=4, beta=beta, max_iter=60, random_state=0)
        z = posterior_draws(vae.fit(curved), curved)
        return np.abs(z.mean(axis=0)).max() + np.abs(np.cov(z.T) - np.eye(4)).max()

    strong, weak = distance_to_prior(20.0), distance_to_prior(0.01)
    assert strong < 0.15
    assert weak > 3 * strong


def test_samples_reproduce_mean_and_covariance(curved):
    vae = VariationalAutoencoder(n_components=2, max_iter=100, random_state=0).fit(curved)
    samples = vae.sample(5000, random_state=0)
    std = curved.std(axis=0)
    assert np.all(np.abs(samples.mean(axis=0) - curved.mean(axis=0)) < 0.15 * std)
    assert np.abs(np.corrcoef(samples.T) - np.corrcoef(curved.T)).max() < 0.2
    # Decoder means leave out the observation noise, so a little less spread.
    assert np.all((samples.std(axis=0) > 0.7 * std) & (samples.std(axis=0) < 1.2 * std))
    assert_array_equal(vae.sample(3, random_state=1), vae.sample(3, random_state=1))


def test_scores_are_deterministic_and_bounded_by_log_likelihood(curved):
    vae = VariationalAutoencoder(n_components=2, max_iter=40, random_state=0).fit(curved)
    rows = curved[:200]
    assert_array_equal(vae.score_samples(rows), vae.score_samples(rows))
    assert_allclose(vae.score_samples(rows[:7]), vae.score_samples(rows)[:7], rtol=1e-12)
    log_px = vae.log_likelihood(rows, n_samples=200, random_state=0)
    assert_array_equal(log_px, vae.log_likelihood(rows, n_samples=200, random_state=0))
    # The importance-sampled bound is tighter than the ELBO on average.
    assert log_px.mean() > vae.score_samples(rows).mean()


def test_kl_term_is_on_by_default(curved):
    vae = VariationalAutoencoder(n_components=2, max_iter=20, random_state=0).fit(curved)
    Xs = torch.as_tensor((curved - vae.mean_) / vae.scale_, dtype=torch.float32,
                         device=vae.device_)
    eps = torch.zeros(1, 2, device=vae.device_)
    with torch.no_grad():
        with_kl = vae.module_.negative_elbo(Xs, eps=eps, beta=vae.beta)
        without_kl = vae.module_.negative_elbo(Xs, eps=eps, beta=0.0)
    assert vae.beta == 1.0
    assert (with_kl - without_kl).mean() > 0.5  # nats of KL per row


def test_long_fit_on_degenerate_data_stays_finite():
    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(size=(300, 3)), np.zeros(300), np.full(300, 7.0)]
    vae = VariationalAutoencoder(n_components=2, max_iter=300, learning_rate_init=1e-2,
                                 early_stopping=False, random_state=0).fit(X)
    assert np.all(np.isfinite(vae.loss_curve_))
    assert np.all(np.isfinite(vae.score_samples(X)))


def test_bernoulli_needs_unit_interval(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="standardize=False"):
        VariationalAutoencoder(likelihood="bernoulli", max_iter=2).fit(X / 16)
    vae = VariationalAutoencoder(likelihood="bernoulli", standardize=False, max_iter=5,
                                 n_components=4, random_state=0).fit(X / 16)
    samples = vae.sample(10, random_state=0)
    assert samples.min() >= 0 and samples.max() <= 1
