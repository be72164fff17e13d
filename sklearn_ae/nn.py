"""PyTorch modules and losses behind the estimators.

Nothing here knows about scikit-learn: the modules take plain ints and tuples,
expose ``encode``, ``decode`` and ``forward``, and can be trained by any torch
loop, including a skorch ``NeuralNet``::

    from skorch import NeuralNetRegressor
    net = NeuralNetRegressor(MLPAutoencoder, module__n_features=784,
                             module__n_components=32)
    net.fit(X, X)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLPAutoencoder",
    "make_mlp",
    "reconstruction_error",
]

#: Activation names as scikit-learn's ``MLPRegressor`` spells them.
ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def make_mlp(sizes: Sequence[int], activation: str = "relu") -> nn.Sequential:
    """Stack of linear layers with an activation between them.

    The last layer is linear: codes and reconstructions are unbounded, so the
    same network serves standardised tabular data and raw pixels.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output; ``len(sizes) - 1`` linear layers.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation after every layer but the last.

    Returns
    -------
    torch.nn.Sequential
    """
    if len(sizes) < 2:
        raise ValueError(f"make_mlp needs at least two sizes, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(n_in), int(n_out)))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Fully connected autoencoder with a mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of the code (the bottleneck).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Encoder widths between input and code; the decoder uses them reversed.
        An empty tuple gives a linear autoencoder.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (128, 64),
        activation: str = "relu",
    ):
        super().__init__()
        hidden = [int(h) for h in hidden_layer_sizes]
        self.encoder = make_mlp([n_features, *hidden, n_components], activation)
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows of ``x`` to codes."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes back to the input space."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x``."""
        return self.decoder(self.encoder(x))


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each row.

    Parameters
    ----------
    x_hat, x : torch.Tensor of shape (n_samples, n_features)

    Returns
    -------
    torch.Tensor of shape (n_samples,)
    """
    return (x_hat - x).pow(2).mean(dim=1)
