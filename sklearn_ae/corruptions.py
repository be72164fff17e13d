"""Corruptions an autoencoder learns to undo: noise, missing pixels, blur, low resolution.

Pass one (or a list, applied in order) as ``corruption=`` to
:class:`~sklearn_ae.Autoencoder`, :class:`~sklearn_ae.DenoisingAutoencoder`
or :class:`~sklearn_ae.ConvolutionalAutoencoder`: each training batch is
degraded afresh and the network learns to return the clean batch, so
``inverse_transform(transform(X_degraded))`` restores. The same object
degrades arrays for evaluation: ``Blur(1.6)(X, random_state=0)``.

Corruptions act in X's own units (e.g. pixels in [0, 1]), whatever the
estimator's ``standardize``. Those that need images (``Blur``,
``Downsample``, ``Masking`` with blocks) read rows as
``(channels, height, width)`` images in numpy's row-major order: their own
``image_shape``, else the estimator's (``ConvolutionalAutoencoder``), else
a square grey image.

Any function ``f(X, random_state) -> X_degraded`` on numpy rows is a
corruption too; it runs on the CPU once per batch, with a
``numpy.random.RandomState`` drawn from the fit's seed.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

__all__ = ["Blur", "Corruption", "Downsample", "GaussianNoise", "Masking", "SaltPepper"]


class Corruption(BaseEstimator):
    """Base class of the corruptions: a random degradation of rows, in torch.

    A subclass implements :meth:`apply` on a torch batch; calling the object
    on a numpy array (``corruption(X, random_state=0)``) applies the same
    degradation, for making test data or comparing with other tools. The
    parameters follow scikit-learn's conventions (``get_params``,
    ``set_params``, ``clone``), so a grid search can tune them through the
    estimator, as ``corruption__sigma``.

    Subclasses set ``hides_entries = True`` when :meth:`apply` returns NaN at
    entries the network must fill without seeing them (a known mask).
    """

    hides_entries = False
    # Checked by scikit-learn's _validate_params; a subclass lists its own.
    _parameter_constraints: dict = {}

    def apply(self, x, generator, image_shape=None):
        """Degrade a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows in X's units.
        generator : torch.Generator or None
            Source of the randomness, on ``x``'s device.
        image_shape : tuple of int or None
            ``(channels, height, width)`` offered by the estimator.

        Returns
        -------
        torch.Tensor of the shape of ``x``
        """
        raise NotImplementedError

    def __call__(self, X, random_state=None, image_shape=None):
        """Degraded copy of numpy rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in their own units; images flattened row-major.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.
        image_shape : tuple of int or None, default=None
            ``(channels, height, width)``, when the corruption has none.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            float64 unless X is float32.
        """
        self._validate_params()
        X = np.asarray(X)
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        tensor = torch.as_tensor(np.array(X, dtype=dtype, copy=True).reshape(len(X), -1))
        with torch.no_grad():
            return self.apply(tensor, generator, image_shape).numpy()


def images_of(x, image_shape, name):
    """``x`` (n, c*h*w) seen as (n, c, h, w): ``image_shape``, else a square grey image."""
    n_features = x.shape[1]
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"{name} needs image_shape=(channels, height, width): rows of "
                f"{n_features} values are not square grey images.")
        image_shape = (1, side, side)
    image_shape = tuple(int(v) for v in image_shape)
    if len(image_shape) != 3 or math.prod(image_shape) != n_features:
        raise ValueError(
            f"{name}: image_shape={image_shape} does not match rows of {n_features} "
            "values (channels * height * width).")
    return x.reshape(len(x), *image_shape)


def _padded(images, pad):
    """Images padded by reflection (by replication where they are too small)."""
    height, width = images.shape[-2:]
    mode = "reflect" if pad < min(height, width) else "replicate"
    return F.pad(images, (pad, pad, pad, pad), mode=mode)


class GaussianNoise(Corruption):
    """Additive white Gaussian noise.

    Parameters
    ----------
    sigma : float, default=0.1
        Standard deviation, in X's units (``25 / 255`` for pixels in [0, 1]
        with the classic denoising benchmark's noise).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.corruptions import GaussianNoise
    >>> noisy = GaussianNoise(0.1)(np.zeros((1000, 4)), random_state=0)
    >>> round(float(noisy.std()), 1)
    0.1
    """

    _parameter_constraints = {"sigma": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, sigma=0.1):
        self.sigma = sigma

    def apply(self, x, generator, image_shape=None):
        """Add the noise; see :meth:`Corruption.apply`."""
        return x + float(self.sigma) * torch.randn(
            x.shape, generator=generator, device=x.device, dtype=x.dtype)


class SaltPepper(Corruption):
    """A share of the entries set to the lowest or highest value, half each.

    Parameters
    ----------
    amount : float, default=0.1
        Share of the entries hit.
    low, high : float or None, default=None
        Pepper and salt values; None takes the batch's smallest and largest
        value (black and white for images).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.corruptions import SaltPepper
    >>> X = np.full((100, 100), 0.5)
    >>> X[0, 0], X[0, 1] = 0.0, 1.0
    >>> hit = SaltPepper(0.2)(X, random_state=0) != 0.5
    >>> round(float(hit.mean()), 1)
    0.2
    """

    _parameter_constraints = {
        "amount": [Interval(Real, 0, 1, closed="both")],
        "low": [Real, None],
        "high": [Real, None],
    }

    def __init__(self, amount=0.1, low=None, high=None):
        self.amount = amount
        self.low = low
        self.high = high

    def apply(self, x, generator, image_shape=None):
        """Set the hit entries; see :meth:`Corruption.apply`."""
        draw = dict(generator=generator, device=x.device, dtype=x.dtype)
        hit = torch.rand(x.shape, **draw) < float(self.amount)
        salt = torch.rand(x.shape, **draw) < 0.5
        like = dict(device=x.device, dtype=x.dtype)
        low = x.amin() if self.low is None else torch.tensor(float(self.low), **like)
        high = x.amax() if self.high is None else torch.tensor(float(self.high), **like)
        return torch.where(hit, torch.where(salt, high, low), x)


class Masking(Corruption):
    """Entries (pixels, or square blocks of pixels) missing, the mask known: inpainting.

    The hidden entries come out as NaN, which the estimators read as missing
    values: the network does not see them and learns to fill them. At
    prediction, give the rows with NaN where they lack values.

    Parameters
    ----------
    share : float, default=0.5
        Share of the entries (of the blocks) hidden.
    block_size : int, default=1
        Side of the square blocks hidden, in pixels: 1 hides single entries
        (any rows, not only images); larger blocks tile the image from a
        random offset per batch.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` for blocks; None: the estimator's, or
        a square grey image. A block hides every channel of its pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.corruptions import Masking
    >>> hidden = np.isnan(Masking(0.5)(np.zeros((100, 64)), random_state=0))
    >>> round(float(hidden.mean()), 1)
    0.5
    """

    hides_entries = True
    _parameter_constraints = {
        "share": [Interval(Real, 0, 1, closed="left")],
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [None, tuple, list],
    }

    def __init__(self, share=0.5, block_size=1, image_shape=None):
        self.share = share
        self.block_size = block_size
        self.image_shape = image_shape

    def apply(self, x, generator, image_shape=None):
        """Set the hidden entries to NaN; see :meth:`Corruption.apply`."""
        draw = dict(generator=generator, device=x.device)
        if self.block_size == 1:
            hidden = torch.rand(x.shape, **draw) < float(self.share)
            return x.masked_fill(hidden, float("nan"))
        images = images_of(x, self.image_shape or image_shape, "Masking with blocks")
        n, _, height, width = images.shape
        b = int(self.block_size)
        tiles = torch.rand((n, 1, height // b + 2, width // b + 2), **draw) < float(self.share)
        hidden = tiles.repeat_interleave(b, dim=2).repeat_interleave(b, dim=3)
        dy, dx = (int(v) for v in torch.randint(0, b, (2,), **draw).cpu())
        hidden = hidden[:, :, dy:dy + height, dx:dx + width]
        return images.masked_fill(hidden, float("nan")).reshape(x.shape)


class Blur(Corruption):
    """Convolution with a Gaussian point-spread function (reflected at the borders).

    Parameters
    ----------
    sigma : float, default=1.0
        Standard deviation of the PSF, in pixels.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)``; None: the estimator's, or a square
        grey image. Each channel is blurred alone.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.corruptions import Blur
    >>> X = np.zeros((1, 225)); X[0, 112] = 1.0        # one lit pixel of a 15x15 image
    >>> blurred = Blur(1.0)(X)
    >>> round(float(blurred.sum()), 3), bool(blurred.max() < 0.2)
    (1.0, True)
    """

    _parameter_constraints = {
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "image_shape": [None, tuple, list],
    }

    def __init__(self, sigma=1.0, image_shape=None):
        self.sigma = sigma
        self.image_shape = image_shape

    def psf(self):
        """The point-spread function as a normalised square kernel.

        Returns
        -------
        ndarray of shape (2 * radius + 1, 2 * radius + 1)
            ``radius`` is ``4 * sigma`` rounded (at least 1): the Gaussian
            truncated where scipy's and scikit-image's ``gaussian_filter``
            truncate it.
        """
        line = self._line(torch.float64, "cpu").numpy()
        return np.outer(line, line)

    def _line(self, dtype, device):
        radius = max(1, int(4.0 * float(self.sigma) + 0.5))
        t = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
        line = torch.exp(-0.5 * (t / float(self.sigma)) ** 2)
        return line / line.sum()

    def apply(self, x, generator=None, image_shape=None):
        """Blur each image; see :meth:`Corruption.apply`."""
        images = images_of(x, self.image_shape or image_shape, "Blur")
        channels = images.shape[1]
        line = self._line(x.dtype, x.device)
        radius = (len(line) - 1) // 2
        padded = _padded(images, radius)
        # Separable: a row pass and a column pass, each channel alone.
        rows = F.conv2d(padded, line.view(1, 1, 1, -1).repeat(channels, 1, 1, 1),
                        groups=channels)
        out = F.conv2d(rows, line.view(1, 1, -1, 1).repeat(channels, 1, 1, 1),
                       groups=channels)
        return out.reshape(x.shape)


class Downsample(Corruption):
    """Lower resolution: area downsampling by ``factor``, then bicubic upsampling back.

    The network sees the upsampled low-resolution image and learns to
    return the sharp one (super-resolution). To super-resolve an image,
    upsample it bicubically to the target size first (``upsample`` below).

    Parameters
    ----------
    factor : int, default=2
        Ratio of the sides.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)``; None: the estimator's, or a square
        grey image.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.corruptions import Downsample
    >>> X = np.tile([0.0, 1.0], (1, 32))            # an 8x8 image of stripes
    >>> float(np.ptp(Downsample(2)(X)))              # the stripes are gone
    0.0
    """

    _parameter_constraints = {
        "factor": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [None, tuple, list],
    }

    def __init__(self, factor=2, image_shape=None):
        self.factor = factor
        self.image_shape = image_shape

    def apply(self, x, generator=None, image_shape=None):
        """Downsample and upsample each image; see :meth:`Corruption.apply`."""
        images = images_of(x, self.image_shape or image_shape, "Downsample")
        height, width = images.shape[-2:]
        small = F.interpolate(images, size=(max(1, height // self.factor),
                                            max(1, width // self.factor)), mode="area")
        return upsample(small, (height, width)).reshape(x.shape)


def upsample(images, size):
    """Bicubic upsampling of a batch of images to ``size``, as :class:`Downsample` does.

    Parameters
    ----------
    images : torch.Tensor or ndarray of shape (n, channels, height, width)
        Low-resolution images.
    size : (int, int)
        Height and width wanted.

    Returns
    -------
    torch.Tensor or ndarray, as given, of shape (n, channels, *size)
    """
    as_numpy = isinstance(images, np.ndarray)
    tensor = torch.as_tensor(images)
    out = F.interpolate(tensor, size=tuple(int(s) for s in size), mode="bicubic",
                        align_corners=False)
    return out.numpy() if as_numpy else out


class _Function(Corruption):
    """A user's ``f(X, random_state) -> X_degraded`` on numpy rows, once per batch."""

    def __init__(self, function=None):
        self.function = function

    def apply(self, x, generator, image_shape=None):
        """Call the function on the batch, on the CPU; see :meth:`Corruption.apply`."""
        seed = int(torch.randint(0, np.iinfo(np.int32).max, (1,), generator=generator,
                                 device=x.device).cpu())
        out = self.function(x.detach().cpu().numpy(), np.random.RandomState(seed))
        out = np.asarray(out)
        if out.shape != tuple(x.shape):
            raise ValueError(
                f"The corruption function {getattr(self.function, '__name__', self.function)!r} "
                f"returned shape {out.shape} for rows of shape {tuple(x.shape)}; it must "
                "return an array of the shape it is given.")
        return torch.as_tensor(out, dtype=x.dtype).to(x.device)


# Every corruption's apply has the base's contract and docstring.
for _kind in (GaussianNoise, SaltPepper, Masking, Blur, Downsample, _Function):
    _kind.apply.__doc__ = Corruption.apply.__doc__


def as_corruptions(corruption, name="corruption"):
    """The list of :class:`Corruption` objects a ``corruption`` parameter describes.

    None gives ``[]``; a function is wrapped; a list or tuple is applied in order.
    """
    if corruption is None:
        return []
    steps = list(corruption) if isinstance(corruption, (list, tuple)) else [corruption]
    out = []
    for step in steps:
        if isinstance(step, Corruption):
            out.append(step)
        elif callable(step):
            out.append(_Function(step))
        else:
            raise ValueError(
                f"{name} must be a Corruption (sklearn_ae.corruptions), a function "
                f"f(X, random_state) -> X_degraded, or a list of them; got {step!r}.")
    for step in out:
        step._validate_params()
    return out


def corrupt_rows(steps, x, generator, image_shape=None):
    """``x`` through each step of ``steps`` in turn (torch, on ``x``'s device)."""
    for step in steps:
        x = step.apply(x, generator, image_shape)
    return x
