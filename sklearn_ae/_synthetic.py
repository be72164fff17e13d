"""Synthetic training images: the dead-leaves model.

A restorer trained on photos alone learns that edges are soft: on a
silhouette, a scanned page or a chart it rounds off the hard, stair-cased
edges it has never seen, even in a clean image. Dead-leaves images (flat
shapes of random grey levels occluding each other, with sizes spread over
every scale; Matheron 1968, Lee, Mumford and Huang 2001) hold such edges
at every contrast and scale, and training restorers on them is an
established stand-in for natural images (Achddou, Gousseau and Ladjal,
2021).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ._adapt import _check_positive

__all__ = ["dead_leaves"]

# Shapes stop being drawn once this share of the pixels or less is uncovered;
# the rest takes one grey level.
_UNCOVERED = 0.001


def dead_leaves(n_images=1, size=256, *, min_radius=2.0, max_radius=None, random_state=None):
    """Draw dead-leaves images: flat discs and rectangles of random grey levels.

    Each image is covered by shapes falling one under the other (a shape
    drawn later shows only where the earlier ones left the image
    uncovered): discs and rotated rectangles, half each, of radius ``r``
    drawn with density proportional to ``r ** -3`` between ``min_radius``
    and ``max_radius`` (the scale-invariant law of natural images), grey
    levels uniform in [0, 1], edges not smoothed. Mixed into the patches a
    restorer trains on, they teach it hard edges that photos rarely show:
    measured with :func:`make_restorer`'s model on 8x8 patches (Gaussian
    noise 25/255, trained on five of scikit-image's photos, a quarter of the
    100,000 patches replaced by dead leaves), scikit-image's horse
    silhouette went from 29.99 to 36.93 dB and camera from 29.42 to 29.50
    dB, both restored without :func:`adapt_to_image` (docs/benchmarks.md).

    Parameters
    ----------
    n_images : int, default=1
        Number of images.
    size : int, default=256
        Side of each (square) image, in pixels.
    min_radius : float, default=2.0
        Smallest radius (half-side of a rectangle), in pixels.
    max_radius : float or None, default=None
        Largest radius; None for a third of ``size``.
    random_state : int, RandomState instance or None, default=None
        Draws the shapes.

    Returns
    -------
    ndarray of shape (n_images, size, size)
        Float images in [0, 1].

    Examples
    --------
    >>> from sklearn_ae.images import dead_leaves, image_patches
    >>> leaves = dead_leaves(2, size=64, random_state=0)
    >>> leaves.shape
    (2, 64, 64)
    >>> image_patches(leaves[0], 8, stride=4).shape
    (225, 64)
    """
    if isinstance(n_images, bool) or not isinstance(n_images, numbers.Integral) or n_images < 1:
        raise ValueError(f"n_images must be a positive integer; got {n_images!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 2:
        raise ValueError(f"size must be an integer of at least 2; got {size!r}")
    max_radius = size / 3 if max_radius is None else max_radius
    _check_positive("min_radius", min_radius)
    _check_positive("max_radius", max_radius)
    if max_radius < min_radius:
        raise ValueError(f"max_radius ({max_radius}) must be at least min_radius "
                         f"({min_radius})")
    rng = check_random_state(random_state)
    return np.stack([_one_image(int(size), float(min_radius), float(max_radius), rng)
                     for _ in range(int(n_images))])


def _one_image(size, low, high, rng):
    image = np.full((size, size), np.nan)
    while np.isnan(image).mean() > _UNCOVERED:
        # The inverse of the r ** -3 law's distribution function on [low, high].
        u = rng.uniform()
        radius = 1.0 / np.sqrt(1.0 / low ** 2 - u * (1.0 / low ** 2 - 1.0 / high ** 2))
        cy, cx = rng.uniform(-radius, size + radius, 2)
        y0, y1 = max(0, int(cy - radius)), min(size, int(cy + radius) + 2)
        x0, x1 = max(0, int(cx - radius)), min(size, int(cx + radius) + 2)
        disc, angle, aspect, grey = rng.uniform() < 0.5, *rng.uniform(0, 1, 3)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dy, dx = yy - cy, xx - cx
        if disc:
            inside = dy ** 2 + dx ** 2 <= radius ** 2
        else:
            c, s = np.cos(np.pi * angle), np.sin(np.pi * angle)
            inside = ((np.abs(dx * c + dy * s) <= radius)
                      & (np.abs(dy * c - dx * s) <= radius * (0.3 + 0.7 * aspect)))
        window = image[y0:y1, x0:x1]
        window[inside & np.isnan(window)] = grey
    return np.nan_to_num(image, nan=rng.uniform())
