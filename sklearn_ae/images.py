"""Whole images: restore any size by patches, compress to bytes, PSNR and SSIM.

The estimators take images as flat rows of a fixed size. These helpers cut
an image of any size into overlapping patches of that size, pass them
through a fitted estimator and average the restored patches back (as
:func:`sklearn.feature_extraction.image.reconstruct_from_patches_2d`
does), for grey and colour images; compress an image's codes to bytes and
back; and score restorations with scikit-image's PSNR and SSIM (the
``images`` extra: ``pip install sklearn_ae[images]``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _compression
from ._adapt import adapt_to_image, sure_mse
from ._dct import PatchDCT
from ._pairs import compression_pairs
from ._synthetic import dead_leaves

__all__ = [
    "PatchDCT", "adapt_to_image", "compress_image", "compress_rows", "compression_pairs",
    "dead_leaves", "decompress_image", "decompress_rows", "image_patches", "make_restorer",
    "merge_patches", "patch_shape", "psnr", "restore_image", "ssim", "sure_mse",
]

# Rows of patches restored at once: bounds the memory of a large image.
_PATCH_ROWS = 8192


def _positions(size, patch, stride):
    """Top-left corners along one side, the last flush with the border."""
    if size < patch:
        raise ValueError(f"the image side {size} is smaller than the patch side {patch}")
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def image_patches(image, patch_size, stride=1):
    """Overlapping patches of an image as flat rows, covering every pixel.

    Parameters
    ----------
    image : ndarray of shape (height, width) or (height, width, channels)
    patch_size : int or (int, int)
        Height and width of a patch.
    stride : int, default=1
        Step between patches; the last row and column of patches touch the
        border, so every pixel is covered.

    Returns
    -------
    patches : ndarray of shape (n_patches, channels * patch_height * patch_width)
        Each row one patch, channels first (as
        :class:`~sklearn_ae.ConvolutionalAutoencoder` reads rows).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.images import image_patches, merge_patches
    >>> image = np.arange(30.0).reshape(5, 6)
    >>> rows = image_patches(image, 4, stride=2)
    >>> rows.shape
    (4, 16)
    >>> np.array_equal(merge_patches(rows, image.shape, 4, stride=2), image)
    True
    """
    image = _channels_first(image)
    ph, pw = _pair(patch_size)
    corners = _corners(image.shape[1], image.shape[2], ph, pw, stride)
    return np.stack([image[:, y:y + ph, x:x + pw].ravel() for y, x in corners])


def merge_patches(patches, image_shape, patch_size, stride=1):
    """The image whose :func:`image_patches` are ``patches``, overlaps averaged.

    Parameters
    ----------
    patches : ndarray of shape (n_patches, channels * patch_height * patch_width)
    image_shape : tuple of int
        ``(height, width)`` or ``(height, width, channels)``.
    patch_size : int or (int, int)
    stride : int, default=1

    Returns
    -------
    image : ndarray of shape ``image_shape``
    """
    height, width = image_shape[:2]
    channels = image_shape[2] if len(image_shape) == 3 else 1
    ph, pw = _pair(patch_size)
    corners = _corners(height, width, ph, pw, stride)
    if len(corners) != len(patches):
        raise ValueError(f"{len(patches)} patches given; image_shape={image_shape}, "
                         f"patch_size={patch_size} and stride={stride} make {len(corners)}")
    total = np.zeros((channels, height, width))
    count = np.zeros((1, height, width))
    _add_patches(total, count, corners, patches, ph, pw)
    return _channels_last(total / count, len(image_shape) == 3)


def _corners(height, width, ph, pw, stride):
    return [(y, x) for y in _positions(height, ph, stride) for x in _positions(width, pw, stride)]


def _add_patches(total, count, corners, patches, ph, pw):
    """Add each patch into ``total`` at its corner, and 1 into ``count`` under it."""
    for (y, x), patch in zip(corners, patches):
        total[:, y:y + ph, x:x + pw] += patch.reshape(-1, ph, pw)
        count[:, y:y + ph, x:x + pw] += 1


def restore_image(estimator, image, *, stride=None, keep_observed=None, self_ensemble=False,
                  residual=False):
    """Restore an image of any size with an estimator trained on patches.

    Each overlapping patch of the estimator's input size goes through
    ``inverse_transform(transform(patch))``; the restored patches are
    averaged where they overlap.

    Parameters
    ----------
    estimator : fitted estimator
        One that reconstructs (e.g. trained with ``corruption=``), on rows
        that are patches: a square grey patch per row, or
        ``ConvolutionalAutoencoder``'s ``image_shape_``. A grey estimator
        restores a colour image one channel at a time.
    image : ndarray of shape (height, width) or (height, width, channels)
        In the units the estimator was trained in; NaN marks missing pixels
        (inpainting).
    stride : int or None, default=None
        Step between patches; None: a quarter of the patch side. Smaller is
        slower and smoother.
    keep_observed : bool or None, default=None
        Return the given pixels unchanged and restore only the missing ones.
        None: True when the image has NaN (inpainting), else False.
    self_ensemble : bool, default=False
        Also restore each patch rotated and mirrored (the 8 symmetries of a
        square patch, 4 of a rectangular one), undo the turn on the output,
        and average: geometric self-ensemble (Timofte et al., 2016). For a
        model trained on photos, whose statistics do not change when turned,
        not for whole images of upright content (digits). It takes 8 times
        as long; measured on denoising (Gaussian noise 25/255, the default
        model): +0.08 dB on camera, +0.06 to +0.18 dB on coins, moon and
        horse; deblurring +0.01 to +0.09 dB on seven photos, super-resolution
        -0.06 to +0.12 dB (the ``restoration_self_ensemble`` results, docs,
        Benchmarks). After :func:`adapt_to_image` it lowers the result.
    residual : bool, default=False
        The estimator was trained on pairs to return what the degradation
        took away, ``fit(X_degraded, X_clean - X_degraded)`` (residual
        learning, as VDSR, Kim et al., 2016): the restoration is the image
        plus the averaged patches. Not for images with missing pixels.

    Returns
    -------
    ndarray of the image's shape, float64

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae import Autoencoder
    >>> from sklearn_ae.corruptions import GaussianNoise
    >>> from sklearn_ae.images import image_patches, restore_image
    >>> photo = np.random.RandomState(0).rand(40, 50)
    >>> ae = Autoencoder(n_components=8, corruption=GaussianNoise(0.1), max_iter=2,
    ...                  random_state=0).fit(image_patches(photo, 8, stride=2))
    >>> restore_image(ae, photo).shape
    (40, 50)
    """
    image = np.asarray(image, dtype=np.float64)
    channels, ph, pw = patch_shape(estimator)
    stride = max(1, min(ph, pw) // 4) if stride is None else int(stride)
    colour = image.ndim == 3
    if colour and channels == 1 and image.shape[2] != 1:
        return np.stack([restore_image(estimator, image[:, :, c], stride=stride,
                                       keep_observed=keep_observed, self_ensemble=self_ensemble,
                                       residual=residual)
                         for c in range(image.shape[2])], axis=2)
    if (image.shape[2] if colour else 1) != channels:
        raise ValueError(f"the estimator takes patches of {channels} channels; the image "
                         f"has {image.shape[2] if colour else 1}")
    missing = np.isnan(image)
    if residual and missing.any():
        raise ValueError("residual=True adds the restored residual to the image, which has "
                         "missing pixels (NaN); restore it with residual=False")
    out = _channels_last(_restored_planes(estimator, _channels_first(image), ph, pw, stride,
                                          self_ensemble), colour)
    if residual:
        return image + out
    if keep_observed or (keep_observed is None and missing.any()):
        out = np.where(missing, out, image)
    return out


def _symmetries(square):
    """``(turn, undo)`` pairs on (n, channels, h, w) patches: a square's 8, a rectangle's 4."""
    def turned(k, flip):
        def turn(p):
            p = np.flip(p, -1) if flip else p
            return np.rot90(p, k, axes=(-2, -1))

        def undo(p):
            p = np.rot90(p, -k, axes=(-2, -1))
            return np.flip(p, -1) if flip else p
        return turn, undo

    turns = (0, 1, 2, 3) if square else (0, 2)
    return [turned(k, flip) for flip in (False, True) for k in turns]


def _restored_rows(estimator, rows, shape, self_ensemble):
    """Patches (n, channels * ph * pw) restored, averaged over their turns with ``self_ensemble``."""
    def restore(r):
        return np.asarray(estimator.inverse_transform(estimator.transform(r)), dtype=np.float64)

    if not self_ensemble:
        return restore(rows)
    patches = rows.reshape(len(rows), *shape)
    total = np.zeros(patches.shape)
    symmetries = _symmetries(shape[1] == shape[2])
    for turn, undo in symmetries:
        turned = np.ascontiguousarray(turn(patches)).reshape(len(rows), -1)
        total += undo(restore(turned).reshape(patches.shape))
    return (total / len(symmetries)).reshape(len(rows), -1)


def _restored_planes(estimator, planes, ph, pw, stride, self_ensemble=False):
    """``(channels, height, width)`` planes through the estimator, patch by patch."""
    channels, height, width = planes.shape
    total = np.zeros((channels, height, width))
    count = np.zeros((1, height, width))
    corners = _corners(height, width, ph, pw, stride)
    for start in range(0, len(corners), _PATCH_ROWS):
        batch = corners[start:start + _PATCH_ROWS]
        rows = np.stack([planes[:, y:y + ph, x:x + pw].ravel() for y, x in batch])
        restored = _restored_rows(estimator, rows, (channels, ph, pw), self_ensemble)
        _add_patches(total, count, batch, restored, ph, pw)
    return total / count


def patch_shape(estimator):
    """Give the ``(channels, height, width)`` of the rows a fitted estimator takes.

    Parameters
    ----------
    estimator : fitted estimator
        With ``image_shape_`` (``ConvolutionalAutoencoder``), else rows that
        are square grey patches (``n_features_in_`` a perfect square).

    Returns
    -------
    tuple of int
    """
    shape = getattr(estimator, "image_shape_", None)
    if shape is not None:
        return tuple(int(v) for v in shape)
    n_features = int(estimator.n_features_in_)
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(f"the estimator takes rows of {n_features} values, not square "
                         "grey patches; train a ConvolutionalAutoencoder with image_shape")
    return (1, side, side)


# -- compression ---------------------------------------------------------------

def compress_rows(estimator, X, bits=None, residual_step=None, *, step=None):
    """Store rows (e.g. a collection of small images) as bytes: their codes, quantised.

    By default each code component is quantised uniformly to ``bits``
    between its smallest and largest value over the rows (both stored as
    float32), then entropy-coded with LZMA (Python's ``lzma``) where that is
    shorter than packing the bits. With ``step``, the codes are
    transform-coded instead. With ``residual_step``, a correction of each
    value follows, so that the rate can go as high as the fidelity asked.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``transform`` gives the codes, its ``inverse_transform`` decodes
        them.
    X : array-like of shape (n_samples, n_features)
    bits : int in [1, 16] or None, default=None
        Bits per code component before entropy coding; None: 6, unless
        ``step`` is given (not both).
    residual_step : float or None, default=None
        With a step, what the decoded codes miss is stored too, rounded to
        multiples of ``residual_step`` and LZMA-coded: every decoded value
        is then within ``residual_step / 2`` of the original (up to
        floating-point differences between the machines that compress and
        decompress). The codes predict, the residual corrects: smaller steps
        cost more bits. For 8-bit images scaled to [0, 1], ``1 / 255`` keeps
        every pixel within half a grey level, so rounding back to 8 bits
        gives the original. None stores the codes alone.
    step : float or None, default=None
        Transform coding instead of ``bits``: each code component is put in
        the units of what it changes in a decoded row, and all are rounded
        at this one step (with a dead zone), written in order of their power,
        each row up to its last non-zero component, and LZMA-coded. For a
        complete code of patches whose components are orthonormal and
        ordered, as :class:`PatchDCT`'s are: larger steps, fewer bits (8x8
        patches of camera, pixels in [0, 1]: steps 0.5 to 0.025 gave 0.09
        to 2 bits per pixel). An autoencoder's code, whose components all
        carry alike, codes far worse this way (see the user guide).

    Returns
    -------
    bytes
        What :func:`decompress_rows` needs besides the estimator;
        ``8 * len(data) / X.size`` is the exact bits per pixel, header
        included.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_ae import Autoencoder
    >>> from sklearn_ae.images import compress_rows, decompress_rows
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(n_components=8, max_iter=5, random_state=0).fit(X)
    >>> data = compress_rows(ae, X, bits=4)
    >>> decompress_rows(ae, data).shape, bool(8 * len(data) / X.size < 0.5)
    ((1797, 64), True)
    >>> exact = compress_rows(ae, X, bits=4, residual_step=1 / 16)
    >>> bool(np.abs(decompress_rows(ae, exact) - X).max() <= 1 / 32)
    True
    >>> pca = PCA().fit(X)
    >>> coarse = compress_rows(pca, X, step=0.5)
    >>> bool(8 * len(coarse) / X.size < 1)
    True
    """
    bits, step = _compression.compression_mode(bits, step)
    residual_step = _compression.check_residual_step(residual_step)
    X = np.asarray(X, dtype=np.float64)
    codes = np.asarray(estimator.transform(X), dtype=np.float64)
    scales = None if step is None else _compression.decoder_scales(estimator, codes)
    section = _compression.pack_codes(codes, bits, step, scales)
    return _compression.stored((0, 0, 0, len(codes)), section, X,
                               lambda c: _decode_rows(estimator, c, len(codes)), residual_step)



def _decode_rows(estimator, section, n_rows):
    codes = _compression.unpack_codes(section, n_rows)[0]
    return np.asarray(estimator.inverse_transform(codes), dtype=np.float64)


def decompress_rows(estimator, data):
    """The rows :func:`compress_rows` stored, decoded by ``estimator``.

    Parameters
    ----------
    estimator : fitted estimator
        The one that compressed them.
    data : bytes

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    fields, codes, residual = _compression.sections(data)
    return _compression.with_residual(_decode_rows(estimator, codes, fields[-1]), residual)


def compress_image(estimator, image, bits=None, residual_step=None, *, step=None,
                   restorer=None):
    """An image as bytes: the codes of its patches, quantised.

    The image is cut into patches that do not overlap (the last row and
    column flush with the border), each encoded by ``estimator.transform``;
    the codes are stored as :func:`compress_rows` stores them, and so is the
    residual with ``residual_step``.

    Parameters
    ----------
    estimator : fitted estimator
        Trained on patches (see :func:`restore_image`).
    image : ndarray of shape (height, width) or (height, width, channels)
    bits : int in [1, 16] or None, default=None
        Bits per code component before entropy coding; None: 6, unless
        ``step`` is given (not both).
    residual_step : float or None, default=None
        With a step, the residual is stored too, rounded to multiples of
        it, so that every pixel comes back within ``residual_step / 2``
        (see :func:`compress_rows`). None stores the codes alone.
    step : float or None, default=None
        Transform coding instead of ``bits`` (see :func:`compress_rows`): the
        way to code a photo, with :class:`PatchDCT` as ``estimator``.
    restorer : fitted estimator or None, default=None
        The restorer :func:`decompress_image` will be given (transform
        coding only). The image's decoding is restored here as it will be
        there, and one byte says whether that came closer to the image than
        the plain decoding (both clipped to the image's range):
        :func:`decompress_image` restores only if it did. A restorer
        trained at coarse steps lowers the quality of fine ones, and of
        images already decoded well (smooth ones); this keeps it where it
        helps.

    Returns
    -------
    bytes
        Everything :func:`decompress_image` needs besides the estimator;
        ``8 * len(data) / (height * width)`` is the exact bits per pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae import Autoencoder
    >>> from sklearn_ae.images import PatchDCT, compress_image, decompress_image, image_patches
    >>> photo = np.random.RandomState(0).rand(32, 32)
    >>> ae = Autoencoder(n_components=4, max_iter=2, random_state=0).fit(
    ...     image_patches(photo, 8))
    >>> data = compress_image(ae, photo, bits=4)
    >>> decompress_image(ae, data).shape
    (32, 32)
    >>> dct = PatchDCT().fit(image_patches(photo, 8))
    >>> decompress_image(dct, compress_image(dct, photo, step=0.1)).shape
    (32, 32)
    """
    bits, step = _compression.compression_mode(bits, step)
    residual_step = _compression.check_residual_step(residual_step)
    image = np.asarray(image, dtype=np.float64)
    codes = _image_codes(estimator, image)
    height, width = image.shape[:2]
    colour = image.shape[2] if image.ndim == 3 else 0
    fields = (height, width, colour, len(codes))
    scales = None if step is None else _compression.decoder_scales(estimator, codes)
    section = _compression.pack_codes(codes, bits, step, scales)
    if restorer is not None:
        if step is None or residual_step is not None:
            raise ValueError("a restorer is checked at compression for transform coding "
                             "(step=...) without a residual only; with bits, give it to "
                             "decompress_image alone")
        decoded, low, high = _decoded_image(estimator, section, fields)
        restored = _restored_in_cells(estimator, restorer, decoded, low, high, fields)
        # Compared as they will be seen: within the image's range (pixels
        # clipped to [0, 1] or [0, 255] when stored or shown).
        low_value, high_value = image.min(), image.max()
        helps = (np.mean((np.clip(restored, low_value, high_value) - image) ** 2)
                 < np.mean((np.clip(decoded, low_value, high_value) - image) ** 2))
        section = _compression.with_restoring(section, helps)
    return _compression.stored(
        fields, section, image,
        lambda c: _image_of_codes(estimator, _compression.unpack_codes(c, len(codes))[0],
                                  fields), residual_step)



def _image_codes(estimator, image):
    """Codes of the image's patches that do not overlap, plane after plane."""
    channels, ph, pw = patch_shape(estimator)
    planes = _per_estimator_channels(image, channels)
    return np.concatenate([
        np.asarray(estimator.transform(image_patches(p, (ph, pw), stride=min(ph, pw))),
                   dtype=np.float64) for p in planes])


def _image_of_codes(estimator, codes, fields):
    height, width, colour, n_codes = fields
    channels, ph, pw = patch_shape(estimator)
    patches = np.asarray(estimator.inverse_transform(codes), dtype=np.float64)
    n_planes = colour if (colour and channels == 1) else 1
    per_plane = n_codes // n_planes
    shape = (height, width) if not colour or n_planes > 1 else (height, width, colour)
    planes = [merge_patches(patches[i * per_plane:(i + 1) * per_plane], shape, (ph, pw),
                            stride=min(ph, pw)) for i in range(n_planes)]
    return np.stack(planes, axis=2) if n_planes > 1 else planes[0]


def decompress_image(estimator, data, *, restorer=None):
    """The image :func:`compress_image` stored, decoded by ``estimator``.

    Parameters
    ----------
    estimator : fitted estimator
        The one that compressed it.
    data : bytes
    restorer : fitted estimator or None, default=None
        A model that removes what coding does to an image (blocks, lost
        detail), trained on pairs of decoded and clean patches
        (``fit(decoded_patches, clean_patches)``, see the user guide). The
        decoded image goes through :func:`restore_image`; then the codes of
        the result are held within the quantisation cells the stored codes
        came from, so that it stays an image these bytes could have come
        from. Not with a residual, which already bounds every pixel. If
        :func:`compress_image` was given the restorer too, it is used only
        where that found it helps.

    Returns
    -------
    ndarray of shape (height, width) or (height, width, channels)
    """
    fields, section, residual = _compression.sections(data)
    decoded, low, high = _decoded_image(estimator, section, fields)
    if restorer is not None and residual is not None:
        raise ValueError("these bytes hold a residual, which bounds every pixel already; "
                         "decompress them without a restorer")
    if restorer is None or _compression.restoring(section) is False:
        return _compression.with_residual(decoded, residual)
    return _restored_in_cells(estimator, restorer, decoded, low, high, fields)


def _decoded_image(estimator, section, fields):
    """The image of a codes' section, and the cells its true codes lie in."""
    codes, low, high = _compression.unpack_codes(section, fields[-1])
    return _image_of_codes(estimator, codes, fields), low, high


def _restored_in_cells(estimator, restorer, decoded, low, high, fields):
    """The decoded image restored, its codes then held within their cells."""
    restored = restore_image(restorer, decoded)
    return _image_of_codes(estimator, np.clip(_image_codes(estimator, restored), low, high),
                           fields)


# -- quality -------------------------------------------------------------------

def _skimage_metrics():
    try:
        from skimage import metrics
    except ImportError as exc:  # pragma: no cover - the extra is a test dependency
        raise ImportError("PSNR and SSIM come from scikit-image: pip install "
                          "'sklearn_ae[images]'") from exc
    return metrics


def psnr(clean, restored, data_range=1.0):
    """Peak signal-to-noise ratio in dB (scikit-image's), higher is better.

    Parameters
    ----------
    clean, restored : ndarray of the same shape
        One image, or a batch of them (flat rows too): over the whole array.
    data_range : float, default=1.0
        Peak value (1 for pixels in [0, 1], 255 for uint8).

    Returns
    -------
    float
    """
    return float(_skimage_metrics().peak_signal_noise_ratio(
        np.asarray(clean, dtype=np.float64), np.asarray(restored, dtype=np.float64),
        data_range=data_range))


def ssim(clean, restored, data_range=1.0, image_shape=None):
    """Structural similarity (scikit-image's), mean over images; 1 is identical.

    Parameters
    ----------
    clean, restored : ndarray
        One image (height, width[, channels]), or flat rows of images with
        ``image_shape``.
    data_range : float, default=1.0
    image_shape : (int, int) or None, default=None
        ``(height, width)`` of each grey row; None: the arrays are one image.

    Returns
    -------
    float
    """
    metrics = _skimage_metrics()
    clean = np.asarray(clean, dtype=np.float64)
    restored = np.asarray(restored, dtype=np.float64)
    if image_shape is None:
        channel_axis = 2 if clean.ndim == 3 else None
        return float(metrics.structural_similarity(clean, restored, data_range=data_range,
                                                   channel_axis=channel_axis))
    shape = tuple(image_shape)
    # The default 7x7 window, or the image's side where it is smaller (odd).
    window = min(7, *[s if s % 2 else s - 1 for s in shape])
    return float(np.mean([
        metrics.structural_similarity(a.reshape(shape), b.reshape(shape),
                                      data_range=data_range, win_size=window)
        for a, b in zip(clean, restored)]))


def _pair(size):
    return (int(size), int(size)) if np.ndim(size) == 0 else tuple(int(s) for s in size)


def _channels_first(image):
    image = np.asarray(image)
    return image[None] if image.ndim == 2 else np.moveaxis(image, 2, 0)


def _channels_last(planes, colour):
    return np.moveaxis(planes, 0, 2) if colour else planes[0]


def _per_estimator_channels(image, channels):
    """The image as the estimator's inputs: each colour plane alone for a grey estimator."""
    if image.ndim == 3 and channels == 1 and image.shape[2] != 1:
        return [image[:, :, c] for c in range(image.shape[2])]
    return [image]


def make_restorer(corruption=None, *, image_shape=(8, 8), random_state=None, **params):
    """The library's default model to restore images degraded by ``corruption``.

    An :class:`~sklearn_ae.Autoencoder` on rows of ``image_shape`` (patches
    of photos, or whole small images) whose code is as wide as a patch (at
    most 128), so that it removes what the corruption adds rather than
    compressing, and whose hidden layers are (1024, 512) ((512, 256) for
    rows of more than 256 pixels, to bound the training time). Chosen on
    scikit-image's photos of half A (camera, Gaussian noise 25/255, against
    narrower networks and 12 or 16 pixel patches) and confirmed on half B
    (``python -m benchmarks restoration``; figures in the benchmarks page).

    Parameters
    ----------
    corruption : Corruption, callable, list or None, default=None
        What the training images are degraded by (see
        :mod:`sklearn_ae.corruptions`); None to train on pairs,
        ``fit(X_degraded, X_clean)``, or to compress.
    image_shape : tuple of int, default=(8, 8)
        ``(height, width)`` or ``(channels, height, width)`` of a row.
    random_state : int, RandomState instance or None, default=None
    **params
        Other parameters of :class:`~sklearn_ae.Autoencoder`, over these.

    Returns
    -------
    Autoencoder
        Unfitted; fit it on clean rows (patches of photos from
        :func:`image_patches`, or whole small images), then restore with
        :func:`restore_image` or ``inverse_transform(transform(X))``. To
        denoise a photo, adapt the fitted model to it first
        (:func:`adapt_to_image`).

    Examples
    --------
    >>> from sklearn_ae.corruptions import GaussianNoise
    >>> from sklearn_ae.images import make_restorer
    >>> make_restorer(GaussianNoise(25 / 255)).get_params()["n_components"]
    64
    """
    from ._vanilla import Autoencoder

    n_features = math.prod(int(v) for v in image_shape)
    # Whole images above 256 pixels get half the width: (1024, 512) on 784
    # pixels takes about 9 minutes per fit on two CPU cores.
    hidden = (1024, 512) if n_features <= 256 else (512, 256)
    defaults = dict(n_components=min(n_features, 128), hidden_layer_sizes=hidden)
    return Autoencoder(corruption=corruption, random_state=random_state,
                       **{**defaults, **params})
