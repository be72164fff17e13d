"""Dead-leaves images: flat shapes with hard edges, seeded, parameters checked."""

import numpy as np
import pytest

from sklearn_ae.images import dead_leaves, image_patches


def test_dead_leaves_are_seeded_images_in_the_unit_interval():
    a = dead_leaves(3, size=48, random_state=0)
    assert a.shape == (3, 48, 48) and a.dtype == np.float64
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, dead_leaves(3, size=48, random_state=0))
    assert not np.array_equal(a, dead_leaves(3, size=48, random_state=1))
    # The images of one call differ from each other.
    assert not np.array_equal(a[0], a[1])


def test_dead_leaves_are_flat_shapes_with_unsmoothed_edges():
    image = dead_leaves(1, size=128, random_state=0)[0]
    steps = np.abs(np.diff(image, axis=1))
    # Most neighbours lie in one shape (equal), the others across an edge
    # at full contrast: a smoothed edge would leave small steps instead.
    assert (steps == 0).mean() > 0.6
    assert ((steps > 0) & (steps < 1e-3)).mean() < 0.01
    assert steps.max() > 0.5
    # Far fewer grey levels than pixels: one per shape.
    assert len(np.unique(image)) < image.size / 10


def test_larger_shapes_leave_fewer_grey_levels():
    small = dead_leaves(1, size=96, min_radius=1.0, max_radius=4.0, random_state=0)
    large = dead_leaves(1, size=96, min_radius=8.0, max_radius=30.0, random_state=0)
    assert len(np.unique(large)) < len(np.unique(small)) / 4


def test_dead_leaves_cut_into_patches_as_photos_do():
    patches = image_patches(dead_leaves(1, size=32, random_state=0)[0], 8, stride=4)
    assert patches.shape == (49, 64)


@pytest.mark.parametrize("params, match", [
    ({"n_images": 0}, "n_images"),
    ({"n_images": 1.5}, "n_images"),
    ({"size": 1}, "size"),
    ({"min_radius": 0.0}, "min_radius"),
    ({"max_radius": float("nan")}, "max_radius"),
    ({"min_radius": 5.0, "max_radius": 2.0}, "max_radius"),
])
def test_wrong_parameters_are_refused_by_name(params, match):
    with pytest.raises(ValueError, match=match):
        dead_leaves(**params)
