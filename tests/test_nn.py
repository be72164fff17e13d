"""Torch modules and losses, without scikit-learn."""

import numpy as np
import pytest
import torch

from sklearn_ae.nn import MLPAutoencoder, make_mlp, reconstruction_error


def test_mlp_autoencoder_shapes():
    module = MLPAutoencoder(10, 3, (8, 5), "tanh")
    x = torch.randn(4, 10)
    assert module.encode(x).shape == (4, 3)
    assert module.decode(module.encode(x)).shape == (4, 10)
    assert module(x).shape == (4, 10)
    widths = [m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [8, 5, 3, 5, 8, 10]
    assert sum(isinstance(m, torch.nn.Tanh) for m in module.modules()) == 4


def test_linear_autoencoder_has_no_hidden_layer():
    module = MLPAutoencoder(6, 2, ())
    layers = list(module.modules())
    assert sum(isinstance(m, torch.nn.Linear) for m in layers) == 2
    assert not any(isinstance(m, torch.nn.ReLU) for m in layers)


def test_make_mlp_needs_two_sizes():
    with pytest.raises(ValueError, match="at least two"):
        make_mlp([3])


def test_reconstruction_error_per_row():
    x = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    x_hat = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    assert reconstruction_error(x_hat, x).tolist() == [2.0, 2.0]


def test_module_trains_under_skorch():
    skorch = pytest.importorskip("skorch", reason="skorch is the optional interop extra")
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(200, 2)) @ rng.normal(size=(2, 6))).astype(np.float32)
    net = skorch.NeuralNetRegressor(
        MLPAutoencoder,
        module__n_features=6,
        module__n_components=2,
        module__hidden_layer_sizes=(16,),
        max_epochs=30,
        lr=0.01,
        optimizer=torch.optim.Adam,
        train_split=None,
        verbose=0,
    )
    net.fit(X, X)
    losses = net.history[:, "train_loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert net.module_.encode(torch.from_numpy(X)).shape == (200, 2)


def test_corrupt_noise_kinds():
    from sklearn_ae.nn import corrupt

    torch.manual_seed(0)
    x = torch.full((2000, 50), 0.5)
    gaussian = corrupt(x, "gaussian", 0.3)
    assert abs((gaussian - x).std().item() - 0.3) < 0.01
    masked = corrupt(x, "masking", 0.25)
    assert abs((masked == 0).float().mean().item() - 0.25) < 0.01
    low, high = torch.full((50,), -1.0), torch.full((50,), 2.0)
    salted = corrupt(x, "salt_pepper", 0.2, low, high)
    changed = salted != x
    assert abs(changed.float().mean().item() - 0.2) < 0.01
    assert set(salted[changed].unique().tolist()) == {-1.0, 2.0}
    with pytest.raises(ValueError, match="unknown noise"):
        corrupt(x, "speckle", 0.1)


def test_kl_sparsity_is_zero_at_target():
    from sklearn_ae.nn import kl_sparsity

    assert kl_sparsity(torch.full((10, 4), 0.05), 0.05).item() == pytest.approx(0, abs=1e-6)
    assert kl_sparsity(torch.full((10, 4), 0.5), 0.05).item() > 1.0


def test_gaussian_helpers_match_torch_distributions():
    from sklearn_ae.nn import gaussian_kl, gaussian_nll, soft_clamp

    mu, log_var = torch.randn(5, 3), torch.randn(5, 3)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    expected_kl = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, log_var), expected_kl)
    x = torch.randn(5, 3)
    torch.testing.assert_close(gaussian_nll(x, mu, log_var), -q.log_prob(x).sum(-1))
    big = soft_clamp(torch.tensor([-1e6, 0.0, 1e6]), -2.0, 3.0)
    assert big[0] >= -2.0 and big[2] <= 3.0 and -2.0 < big[1] < 3.0


def test_variational_module_shapes_and_condition():
    from sklearn_ae.nn import VariationalModule

    module = VariationalModule(7, 3, (16,), n_conditions=2)
    x, c = torch.randn(4, 7), torch.randn(4, 2)
    mu, log_var = module.encode_distribution(x, c)
    assert mu.shape == log_var.shape == (4, 3)
    assert module.decode(mu, c).shape == (4, 7)
    assert module.negative_elbo(x, c).shape == (4,)
    assert module.negative_elbo(x, c, eps=torch.zeros(5, 3)).shape == (4,)
