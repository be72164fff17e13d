"""The convolutional autoencoder module, re-exported by :mod:`sklearn_ae.nn`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .nn import ACTIVATIONS, _through_encoder, make_mlp

__all__ = ["ConvAutoencoder", "ConvMapAutoencoder"]


def _conv_sizes(size: int, n_layers: int) -> list[int]:
    """Spatial sizes after each stride-2 convolution (kernel k, padding k // 2)."""
    sizes = [size]
    for _ in range(n_layers):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def _upsampling(c_in, c_out, kernel_size, size, smaller):
    """Transposed stride-2 convolution from ``smaller`` back to exactly ``size`` (h, w)."""
    pad = kernel_size // 2
    extra = [max(s - (2 * t - 1), 0) + 2 * pad - kernel_size + 1 for s, t in zip(size, smaller)]
    return nn.ConvTranspose2d(c_in, c_out, kernel_size, 2, pad, output_padding=tuple(extra))


class _FlatImages(nn.Module):
    """Flat image rows in and out of an ``encoder`` and a ``decoder`` that work on images.

    What both convolutional modules share: a subclass sets ``image_shape``,
    ``encoder`` (images to flat codes, a convolution first) and ``decoder``
    (flat codes to flat rows), then calls :meth:`_build_missing_layer`.
    """

    def _build_missing_layer(self, missing_indicator):
        # Built last, so that the other layers' initial weights do not move.
        # The mask's convolution has the first one's geometry: its output is
        # added to the first feature maps, as if the mask were more channels.
        first = self.encoder[0]
        self.missing_layer = (
            nn.Conv2d(first.in_channels, first.out_channels, first.kernel_size, first.stride,
                      first.padding, bias=False)
            if missing_indicator and isinstance(first, nn.Conv2d) else None)

    def encode(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """Map flat image rows to flat codes.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Flat image rows, ``n_features = C * H * W``; missing pixels
            filled (with 0, the mean once standardised).
        missing : torch.Tensor of bool, same shape, optional
            True where a pixel is missing; read only by a module built with
            ``missing_indicator=True``.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_codes)
            ``n_components`` for :class:`ConvAutoencoder`, the maps of
            ``code_shape`` in row-major order for :class:`ConvMapAutoencoder`.
        """
        images = x.view(-1, *self.image_shape)
        mask = None if missing is None else missing.view(-1, *self.image_shape)
        return _through_encoder(self.encoder, self.missing_layer, images, mask)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map flat codes to flat image rows.

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_codes)
            Codes, as :meth:`encode` returns them.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decoder(z)

    def forward(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruct flat image rows.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Flat image rows, ``n_features = C * H * W``.
        missing : torch.Tensor of bool, same shape, optional
            True where a pixel is missing (see :meth:`encode`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decode(self.encode(x, missing))


class ConvAutoencoder(_FlatImages):
    """Convolutional autoencoder on flat rows of images.

    Takes and returns flat rows (``n_samples x channels*height*width``, row-major
    as numpy's ``reshape`` lays them out), so it fits in a pipeline of 2-D
    arrays; reshaping happens inside. Each encoder block is a stride-2
    convolution (halving height and width, rounding up) and an activation; a
    linear layer maps the last feature map to the code. The decoder mirrors
    it with transposed convolutions whose output padding restores the exact
    input size, odd sizes included.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of one image.
    n_components : int
        Width of the code.
    channels : tuple of int, default=(32, 64)
        Feature maps of each convolution block.
    kernel_size : int, default=3
        Odd side of the square kernels.
    hidden_layer_sizes : tuple of int, default=()
        Dense layers between the flattened feature maps and the code.
    activation : str, default="relu"
        Activation after each block and hidden layer.
    missing_indicator : bool, default=False
        Tell the encoder which pixels are missing: a convolution of the 0/1
        mask (``missing_layer``, the first convolution's shape) is added to
        the first feature maps. Not with ``channels=()`` (no convolution).
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        n_components: int,
        channels: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        missing_indicator: bool = False,
    ):
        super().__init__()
        c_in, height, width = (int(v) for v in image_shape)
        self.image_shape = (c_in, height, width)
        self.channels = tuple(channels)
        channels = [int(c) for c in channels]
        pad = kernel_size // 2
        heights = _conv_sizes(height, len(channels))
        widths = _conv_sizes(width, len(channels))
        self.feature_shape = (channels[-1] if channels else c_in, heights[-1], widths[-1])
        flat = self.feature_shape[0] * heights[-1] * widths[-1]

        encoder: list[nn.Module] = []
        for c_prev, c_next in zip([c_in, *channels[:-1]], channels):
            encoder += [nn.Conv2d(c_prev, c_next, kernel_size, 2, pad), ACTIVATIONS[activation]()]
        encoder.append(nn.Flatten())
        dense = [flat, *[int(h) for h in hidden_layer_sizes], n_components]
        encoder.append(make_mlp(dense, activation))
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = [make_mlp(dense[::-1], activation)]
        if channels:
            decoder += [ACTIVATIONS[activation](), nn.Unflatten(1, self.feature_shape)]
        else:
            decoder.append(nn.Unflatten(1, self.feature_shape))
        outs = [*channels[::-1][1:], c_in]
        for i, (c_prev, c_next) in enumerate(zip(channels[::-1], outs)):
            j = len(channels) - i  # from feature map size index j to j - 1
            decoder.append(_upsampling(c_prev, c_next, kernel_size,
                                       (heights[j - 1], widths[j - 1]), (heights[j], widths[j])))
            if i < len(channels) - 1:
                decoder.append(ACTIVATIONS[activation]())
        decoder.append(nn.Flatten())
        self.decoder = nn.Sequential(*decoder)
        self._build_missing_layer(missing_indicator)


class ConvMapAutoencoder(_FlatImages):
    """Convolutional autoencoder whose code is a stack of feature maps, not one vector.

    For restoration (denoising, deblurring, inpainting, super-resolution)
    rather than compression to a few numbers: no dense layer, so a pixel's
    code holds what its neighbourhood says, wherever it is in the image.
    Each encoder block is a stride-2 convolution (halving height and width,
    rounding up) and a stride-1 one, each followed by the activation; a 1x1
    convolution maps the last feature maps to ``code_channels`` maps, the
    code. The decoder mirrors it: a 1x1 convolution, then per block a
    stride-1 convolution and a transposed stride-2 one back to the exact
    input size. Rows in and out are flat, as :class:`ConvAutoencoder`'s.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of one image.
    code_channels : int
        Feature maps of the code: a code has ``code_channels * h * w``
        values, ``h`` and ``w`` the size after the blocks (``code_shape``).
    channels : tuple of int, default=(32, 64)
        Feature maps of each block.
    kernel_size : int, default=3
        Odd side of the square kernels.
    activation : str, default="relu"
        Activation after each convolution but the code's and the output's.
    missing_indicator : bool, default=False
        Tell the encoder which pixels are missing, as :class:`ConvAutoencoder`
        does.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        code_channels: int,
        channels: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        activation: str = "relu",
        missing_indicator: bool = False,
    ):
        super().__init__()
        c_in, height, width = (int(v) for v in image_shape)
        self.image_shape = (c_in, height, width)
        self.channels = tuple(int(c) for c in channels)
        heights = _conv_sizes(height, len(self.channels))
        widths = _conv_sizes(width, len(self.channels))
        self.code_shape = (int(code_channels), heights[-1], widths[-1])
        pad = kernel_size // 2

        def act():
            return ACTIVATIONS[activation]()

        encoder: list[nn.Module] = []
        for c_prev, c_next in zip([c_in, *self.channels[:-1]], self.channels):
            encoder += [nn.Conv2d(c_prev, c_next, kernel_size, 2, pad), act(),
                        nn.Conv2d(c_next, c_next, kernel_size, 1, pad), act()]
        last = self.channels[-1] if self.channels else c_in
        encoder += [nn.Conv2d(last, code_channels, 1), nn.Flatten()]
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = [nn.Unflatten(1, self.code_shape),
                                    nn.Conv2d(code_channels, last, 1)]
        outs = [*self.channels[::-1][1:], c_in]
        for i, (c_prev, c_next) in enumerate(zip(self.channels[::-1], outs)):
            j = len(self.channels) - i  # from feature map size index j to j - 1
            decoder += [act(), nn.Conv2d(c_prev, c_prev, kernel_size, 1, pad), act(),
                        _upsampling(c_prev, c_next, kernel_size, (heights[j - 1], widths[j - 1]),
                                    (heights[j], widths[j]))]
        decoder.append(nn.Flatten())
        self.decoder = nn.Sequential(*decoder)
        self._build_missing_layer(missing_indicator)


# Documented, pickled and found where they always were: in sklearn_ae.nn.
ConvAutoencoder.__module__ = "sklearn_ae.nn"
ConvMapAutoencoder.__module__ = "sklearn_ae.nn"
