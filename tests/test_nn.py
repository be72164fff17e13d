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
