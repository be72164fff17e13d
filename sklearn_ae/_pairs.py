"""Training pairs for a compression restorer: photos as decoded, and as they were."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

# The steps the benchmark's restorer learns from: the coarse ones, where
# coding leaves blocks and lost detail to remove. Trained on all six steps
# 0.35 to 0.05 instead, the restorer lowered the fine steps by 0.6 to 1.7 dB
# on camera (half A; docs, Benchmarks, restoration_compress_transform_photos_A).
COARSE_STEPS = (0.5, 0.35, 0.25, 0.18, 0.12)


def _checked_steps(steps):
    steps = tuple(steps)
    if not steps:
        raise ValueError("steps must name at least one step")
    for step in steps:
        if not (isinstance(step, numbers.Real) and np.isfinite(step) and step > 0):
            raise ValueError(f"steps must be positive numbers, got {step!r}")
    return steps


def compression_pairs(coder, images, steps=COARSE_STEPS, *, stride=2, max_patches=100_000,
                      random_state=None):
    """Pair patches of images as compressed and decoded with the same patches clean.

    The pairs a restorer for :func:`compress_image` learns from: each image
    is compressed at each of ``steps`` (transform coding) and decoded
    plainly, and the patches of the decoded image at ``stride`` are paired
    with the patches of the image at the same places. Fit
    :func:`make_restorer`'s model on them (``make_restorer(None).fit(X, y)``)
    and give it to :func:`compress_image` and :func:`decompress_image` as
    ``restorer=``. The benchmark's default for photos is built this way.

    Parameters
    ----------
    coder : fitted estimator
        The one the images will be compressed with (e.g. :class:`PatchDCT`),
        on rows that are patches (see :func:`patch_shape`).
    images : iterable of ndarray of shape (height, width) or (height, width, channels)
        Training images, other than those to be compressed, in the units the
        coder was fitted in. A grey coder takes a colour image plane by plane.
    steps : sequence of float, default=(0.5, 0.35, 0.25, 0.18, 0.12)
        Transform coding's steps to decode the images at. The default is
        the coarse steps: trained on fine ones too, the restorer lowered
        them (by 0.6 to 1.7 dB on scikit-image's camera), and
        ``compress_image(..., restorer=...)`` checks per image whether
        restoring helps.
    stride : int, default=2
        Step between patches.
    max_patches : int or None, default=100000
        Pairs to keep, drawn at random without replacement; None keeps all
        (in random order).
    random_state : int, RandomState instance or None, default=None
        Draws the kept pairs.

    Returns
    -------
    X : ndarray of shape (n_pairs, n_patch_values)
        Decoded patches: the restorer's input.
    y : ndarray of shape (n_pairs, n_patch_values)
        The clean patches at the same places: its target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.images import PatchDCT, compression_pairs, image_patches
    >>> photo = np.random.RandomState(0).rand(32, 40)
    >>> coder = PatchDCT().fit(image_patches(photo, 8, stride=4))
    >>> X, y = compression_pairs(coder, [photo], steps=[0.5, 0.25], max_patches=100,
    ...                          random_state=0)
    >>> X.shape, y.shape
    ((100, 64), (100, 64))
    """
    from .images import (_per_estimator_channels, compress_image, decompress_image,
                         image_patches, patch_shape)

    steps = _checked_steps(steps)
    if max_patches is not None and not (isinstance(max_patches, numbers.Integral)
                                        and max_patches >= 1):
        raise ValueError(f"max_patches must be a positive integer or None, got {max_patches!r}")
    channels, height, width = patch_shape(coder)
    decoded, clean = [], []
    for image in images:
        for plane in _per_estimator_channels(np.asarray(image, dtype=np.float64), channels):
            patches = image_patches(plane, (height, width), stride)
            for step in steps:
                back = decompress_image(coder, compress_image(coder, plane, step=step))
                decoded.append(image_patches(back, (height, width), stride))
                clean.append(patches)
    if not clean:
        raise ValueError("images is empty: give at least one training image")
    keep = check_random_state(random_state).permutation(sum(map(len, clean)))[:max_patches]
    return np.concatenate(decoded)[keep], np.concatenate(clean)[keep]
