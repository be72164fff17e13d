"""MLPEnsemble: several fully connected autoencoders trained as one network.

Part of :mod:`sklearn_ae.nn` (imported there); its own file for size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class MLPEnsemble(nn.Module):
    """Members of one autoencoder shape, each with its own weights and dropped connections.

    Every layer holds the members' weights stacked, ``(n_members, n_in,
    n_out)``, and runs them in one batched matrix product, so that 8 members
    of a small network cost little more than one on a CPU (the small
    products of one network leave the cores idle) and almost nothing more on
    a GPU. Each member keeps a fixed random share ``connection_keep`` of its
    connections, drawn once at construction, as RandNet's members do (Chen
    et al., SDM 2017): with their own initial weights, that makes them
    differ in what they learn, which is what an ensemble of detectors
    needs.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of each member's code.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Each member's encoder widths; the decoder uses them reversed.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    n_members : int, default=8
        Number of members.
    connection_keep : float in (0, 1], default=0.5
        Share of each member's connections kept (drawn at random per member
        and layer; 1 keeps all, and the members differ by their initial
        weights only).
    missing_indicator : bool, default=False
        Tell each member's encoder which entries are missing: a linear map
        of the 0/1 missing mask added to its first layer's output, as
        :class:`~sklearn_ae.nn.MLPAutoencoder` does.

    Notes
    -----
    :meth:`encode` gives the members' codes side by side, ``n_members *
    n_components`` wide; :meth:`decode` takes such codes and returns the mean
    of the members' reconstructions, so ``forward`` is the ensemble's
    reconstruction. :meth:`members` gives each member's own reconstruction,
    what a training loss compares with the input member by member.
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (128, 64),
        activation: str = "relu",
        n_members: int = 8,
        connection_keep: float = 0.5,
        missing_indicator: bool = False,
    ):
        from .nn import ACTIVATIONS

        super().__init__()
        if not 0.0 < connection_keep <= 1.0:
            raise ValueError(f"connection_keep must be in (0, 1], got {connection_keep}")
        self.n_members, self.n_components = int(n_members), int(n_components)
        hidden = [int(h) for h in hidden_layer_sizes]
        self.activation = ACTIVATIONS[activation]()
        self.encoder = self._layers([n_features, *hidden, n_components], connection_keep)
        self.decoder = self._layers([n_components, *hidden[::-1], n_features], connection_keep)
        self.missing_layer = None
        if missing_indicator:
            width = hidden[0] if hidden else n_components
            self.missing_layer = nn.Parameter(self._uniform((n_features, width), n_features))

    def _uniform(self, shape, fan_in):
        """Members' weights drawn as :class:`torch.nn.Linear` draws one layer's."""
        bound = 1.0 / math.sqrt(max(fan_in, 1.0))
        return torch.empty(self.n_members, *shape).uniform_(-bound, bound)

    def _layers(self, sizes, keep):
        layers = nn.ModuleList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layer = nn.Module()
            # The kept share of the fan-in sets the scale, so that a member's
            # activations start as large as a full layer's would.
            layer.weight = nn.Parameter(self._uniform((n_in, n_out), keep * n_in))
            # Flat, so that the optimiser's weight decay (on tensors of more
            # than one dimension) leaves the biases alone, as for nn.Linear.
            layer.bias = nn.Parameter(self._uniform((n_out,), keep * n_in).reshape(-1))
            mask = torch.rand(self.n_members, n_in, n_out) < keep
            layer.register_buffer("mask", mask.to(torch.get_default_dtype()))
            layers.append(layer)
        return layers

    def _run(self, layers, h):
        """``h`` (members x rows x features) through ``layers``, member by member."""
        for i, layer in enumerate(layers):
            bias = layer.bias.view(self.n_members, 1, -1).to(h.dtype)
            h = torch.baddbmm(bias, h, (layer.weight * layer.mask).to(h.dtype))
            if i < len(layers) - 1:
                h = self.activation(h)
        return h

    def _shared_product(self, x, weight):
        """``x @ weight[k]`` for every member ``k`` in one product, the input being shared.

        ``weight`` is ``(n_members, n_in, n_out)``; the result is members x
        rows x ``n_out``.
        """
        n_in, n_out = weight.shape[1:]
        flat = weight.to(x.dtype).permute(1, 0, 2).reshape(n_in, -1)
        return (x @ flat).view(x.shape[0], self.n_members, n_out).transpose(0, 1)

    def _member_codes(self, x, missing=None):
        """Each member's code of ``x``: members x rows x n_components."""
        first = self.encoder[0]
        h = self._shared_product(x, first.weight * first.mask)
        h = h + first.bias.view(self.n_members, 1, -1).to(h.dtype)
        if missing is not None and self.missing_layer is not None:
            h = h + self._shared_product(missing.to(x.dtype), self.missing_layer)
        if len(self.encoder) == 1:
            return h
        return self._run(self.encoder[1:], self.activation(h))

    def encode(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """Map rows of ``x`` to the members' codes, side by side.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows, missing entries filled (with 0, the mean once standardised).
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing; read only by a network built
            with ``missing_indicator=True``.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_members * n_components)
            Member ``k``'s code in columns ``k * n_components`` to
            ``(k + 1) * n_components``.
        """
        codes = self._member_codes(x, missing)
        return codes.transpose(0, 1).reshape(x.shape[0], -1)

    def decode_members(self, z: torch.Tensor) -> torch.Tensor:
        """Each member's reconstruction from its own code.

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_members * n_components)
            Codes, as :meth:`encode` gives them.

        Returns
        -------
        torch.Tensor of shape (n_members, n_samples, n_features)
        """
        codes = z.reshape(z.shape[0], self.n_members, self.n_components).transpose(0, 1)
        return self._run(self.decoder, codes)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of the members' reconstructions of their codes.

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_members * n_components)
            Codes, as :meth:`encode` gives them.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decode_members(z).mean(0)

    def members(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """Each member's reconstruction of ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing (see :meth:`encode`).

        Returns
        -------
        torch.Tensor of shape (n_members, n_samples, n_features)
        """
        return self._run(self.decoder, self._member_codes(x, missing))

    def forward(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """The ensemble's reconstruction of ``x``: the mean of the members'.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing (see :meth:`encode`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.members(x, missing).mean(0)


def reconstruction_loss(module, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of ``module``'s reconstruction of ``inputs`` to ``target``.

    For an ensemble (a module with ``n_members`` above 1, or a view of one),
    the mean over members of each member's own error: each member learns to
    reconstruct on its own, as independently trained networks would, rather
    than the members together fitting their mean.

    Parameters
    ----------
    module : torch.nn.Module
        Maps ``inputs`` to reconstructions (and, for an ensemble, has ``members``).
    inputs, target : torch.Tensor of shape (n_samples, n_features)

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    if getattr(module, "n_members", 1) == 1:
        # Equal to reconstruction_error(...).mean(), in one fused kernel.
        return torch.nn.functional.mse_loss(module(inputs), target)
    out = module.members(inputs)
    return torch.nn.functional.mse_loss(out, target.expand_as(out))
