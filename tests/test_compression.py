"""Transform coding (``step=``) and the restorer at decompression."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from sklearn_ae import Autoencoder
from sklearn_ae.images import (
    PatchDCT,
    compress_image,
    compress_rows,
    compression_pairs,
    decompress_image,
    decompress_rows,
    image_patches,
    make_restorer,
    psnr,
)

pytest.importorskip("skimage.metrics", reason="PSNR wraps scikit-image (the images extra)")


def _photo(seed=0, size=64):
    """Smooth shading, an edge and a little texture: what 8x8 patches of photos hold."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    image = 0.5 + 0.25 * np.sin(5 * xx + 3 * yy + seed) + 0.2 * (xx + 0.3 * yy > 0.6)
    return np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)


@pytest.fixture(scope="module")
def pca():
    """PCA's complete, orthonormal code of 8x8 patches of other photos."""
    return PCA().fit(np.concatenate([image_patches(_photo(s), 8, stride=2) for s in (1, 2, 3)]))


@pytest.mark.parametrize("step", [0.02, 0.1, 0.4])
def test_each_decoded_coefficient_is_within_its_quantisation_cell(pca, step):
    image = _photo(0)
    decoded = decompress_image(pca, compress_image(pca, image, step=step))
    codes = pca.transform(image_patches(image, 8, stride=8))
    back = pca.transform(image_patches(decoded, 8, stride=8))
    # Orthonormal components: each is rounded alone and decodes inside its
    # cell, one step wide (1.4 steps for the dead zone, decoded at its middle).
    assert np.abs(back - codes).max() < step + 1e-4
    assert np.abs(back - codes).max() > 0.2 * step


def test_a_larger_step_costs_fewer_bytes_and_loses_quality(pca):
    image = _photo(0)
    sizes, quality = [], []
    for step in (0.02, 0.05, 0.15, 0.4):
        data = compress_image(pca, image, step=step)
        sizes.append(len(data))
        quality.append(psnr(image, decompress_image(pca, data)))
    assert sizes == sorted(sizes, reverse=True) and quality == sorted(quality, reverse=True)


def test_transform_coding_beats_equal_bits_on_a_complete_ordered_code(pca):
    image = _photo(0)
    by_bits = compress_image(pca, image, bits=3)
    by_step = compress_image(pca, image, step=0.1)
    # Fewer bytes, higher PSNR: equal bits spend as much on the last
    # component, almost always near 0, as on the first.
    assert len(by_step) < len(by_bits)
    assert (psnr(image, decompress_image(pca, by_step))
            > psnr(image, decompress_image(pca, by_bits)))


def test_rows_and_colour_images_transform_code_too(pca):
    rows = image_patches(_photo(0), 8, stride=8)
    decoded = decompress_rows(pca, compress_rows(pca, rows, step=0.05))
    assert decoded.shape == rows.shape and np.abs(decoded - rows).max() < 0.2
    colour = np.stack([_photo(s) for s in (4, 5, 6)], axis=2)[:40, :50]
    back = decompress_image(pca, compress_image(pca, colour, step=0.05))
    assert back.shape == colour.shape and psnr(colour, back) > 30


def test_a_network_code_is_measured_through_its_decoder():
    rows = image_patches(_photo(0), 8, stride=4)
    ae = Autoencoder(n_components=8, hidden_layer_sizes=(32,), max_iter=3,
                     random_state=0).fit(rows)
    plain = ae.inverse_transform(ae.transform(rows))
    decoded = decompress_rows(ae, compress_rows(ae, rows, step=0.01))
    # A fine step decodes to about what the network reconstructs.
    assert np.abs(decoded - plain).max() < 0.05
    assert len(compress_rows(ae, rows, step=1.0)) < len(compress_rows(ae, rows, step=0.01))


def test_a_residual_on_transform_coding_keeps_its_bound(pca):
    image = _photo(0)
    decoded = decompress_image(pca, compress_image(pca, image, step=0.3, residual_step=0.02))
    assert np.abs(decoded - image).max() <= 0.01 + 1e-9


def test_a_restorer_lifts_a_coarse_decoding_and_keeps_it_in_the_cells(pca):
    step = 0.4
    pairs = [(decompress_image(pca, compress_image(pca, _photo(s), step=step)), _photo(s))
             for s in (7, 8, 9, 10)]
    restorer = make_restorer(None, hidden_layer_sizes=(64,), max_iter=60, random_state=0)
    restorer.fit(np.concatenate([image_patches(d, 8, stride=2) for d, _ in pairs]),
                 np.concatenate([image_patches(c, 8, stride=2) for _, c in pairs]))
    image = _photo(0)
    data = compress_image(pca, image, step=step)
    plain = decompress_image(pca, data)
    restored = decompress_image(pca, data, restorer=restorer)
    assert psnr(image, restored) > psnr(image, plain) + 0.3
    # Checked at compression, it is found to help and used the same way.
    checked = compress_image(pca, image, step=step, restorer=restorer)
    np.testing.assert_array_equal(decompress_image(pca, checked, restorer=restorer), restored)
    # Still an image these bytes could hold: every coefficient of every
    # block within the cell, one step wide, of the one decoded plainly.
    shift = (pca.transform(image_patches(restored, 8, stride=8))
             - pca.transform(image_patches(plain, 8, stride=8)))
    assert np.abs(shift).max() < step + 1e-4 and np.abs(shift).max() > 0.1 * step


def test_compression_pairs_hold_each_patch_as_decoded_and_as_it_was(pca):
    photos = [_photo(s, size=40) for s in (7, 8)]
    X, y = compression_pairs(pca, photos, steps=(0.4, 0.1), stride=8, max_patches=None,
                             random_state=0)
    # 2 photos x 2 steps x 25 patches, every one kept.
    assert X.shape == y.shape == (100, 64)
    every_clean = np.concatenate([image_patches(p, 8, stride=8) for p in photos])
    decoded = [image_patches(decompress_image(pca, compress_image(pca, p, step=s)), 8, stride=8)
               for p in photos for s in (0.4, 0.1)]
    for row_x, row_y in zip(X, y):
        # The pair is one place of one photo: its clean patch is that
        # photo's, its decoded one the same place after coding.
        place = np.flatnonzero((every_clean == row_y).all(axis=1))
        assert len(place) == 1
        photo, at = divmod(place[0], 25)
        assert any(np.array_equal(row_x, decoded[2 * photo + k][at]) for k in (0, 1))
    # Coarser steps lose more: the pairs differ, and by less at the fine step.
    assert np.abs(X - y).mean() > 0.005
    X_fine, y_fine = compression_pairs(pca, photos, steps=(0.1,), stride=8, random_state=0)
    X_coarse, y_coarse = compression_pairs(pca, photos, steps=(0.4,), stride=8, random_state=0)
    assert np.abs(X_fine - y_fine).mean() < np.abs(X_coarse - y_coarse).mean()


def test_compression_pairs_draw_at_most_max_patches_reproducibly(pca):
    photos = [_photo(7), _photo(8, size=48)]
    X, y = compression_pairs(pca, photos, max_patches=50, random_state=3)
    again = compression_pairs(pca, photos, max_patches=50, random_state=3)
    other = compression_pairs(pca, photos, max_patches=50, random_state=4)
    assert X.shape == (50, 64)
    np.testing.assert_array_equal(X, again[0])
    np.testing.assert_array_equal(y, again[1])
    assert not np.array_equal(y, other[1])
    # A grey coder takes a colour photo plane by plane: three planes' pairs.
    colour = np.stack([_photo(s, size=24) for s in (1, 2, 3)], axis=2)
    X_colour, _ = compression_pairs(pca, [colour], steps=(0.3,), stride=8, max_patches=None)
    assert X_colour.shape == (3 * 9, 64)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=()), "at least one step"),
    (dict(steps=(0.2, -1)), "steps must be positive numbers"),
    (dict(steps=("coarse",)), "steps must be positive numbers"),
    (dict(max_patches=0), "max_patches must be a positive integer"),
    (dict(max_patches=2.5), "max_patches must be a positive integer"),
])
def test_compression_pairs_refuse_wrong_parameters_by_name(pca, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compression_pairs(pca, [_photo(0)], **kwargs)
    with pytest.raises(ValueError, match="images is empty"):
        compression_pairs(pca, [])


@pytest.mark.parametrize("kwargs, message", [
    (dict(bits=4, step=0.1), "not both"),
    (dict(step=0), "step must be a positive number"),
    (dict(step=float("nan")), "step must be a positive number"),
    (dict(step="coarse"), "step must be a positive number"),
    (dict(bits=0), "bits must be an integer in"),
    (dict(bits=2.5), "bits must be an integer in"),
    (dict(step=1e-9), "too small for these codes"),
])
def test_a_wrong_rate_is_refused_with_its_name(pca, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compress_image(pca, _photo(0), **kwargs)


def test_a_restorer_is_refused_on_bytes_with_a_residual(pca):
    data = compress_image(pca, _photo(0), step=0.2, residual_step=0.05)
    with pytest.raises(ValueError, match="residual"):
        decompress_image(pca, data, restorer=pca)


def test_compression_checks_the_restorer_and_decompression_follows(pca):
    image = _photo(0)
    # A "restorer" that keeps one component of each patch: it blurs, and
    # the check at compression sees that it does.
    blurring = PCA(n_components=1).fit(image_patches(_photo(11), 8, stride=2))
    checked = compress_image(pca, image, step=0.1, restorer=blurring)
    plain = compress_image(pca, image, step=0.1)
    assert len(checked) == len(plain)
    np.testing.assert_array_equal(decompress_image(pca, checked, restorer=blurring),
                                  decompress_image(pca, plain))
    # Unchecked bytes are restored whatever that gives.
    assert (psnr(image, decompress_image(pca, plain, restorer=blurring))
            < psnr(image, decompress_image(pca, plain)) - 1)


def test_a_restorer_at_compression_needs_transform_coding_without_a_residual(pca):
    with pytest.raises(ValueError, match="step=.... without a residual"):
        compress_image(pca, _photo(0), bits=6, restorer=pca)
    with pytest.raises(ValueError, match="without a residual"):
        compress_image(pca, _photo(0), step=0.1, residual_step=0.01, restorer=pca)


def test_patch_dct_is_orthonormal_and_gives_the_patches_back():
    patches = np.random.RandomState(20).rand(30, 64)
    dct = PatchDCT().fit(patches)
    coefficients = dct.transform(patches)
    np.testing.assert_allclose(dct.inverse_transform(coefficients), patches, atol=1e-12)
    # Orthonormal: lengths kept; the first coefficient is 8 times the mean.
    np.testing.assert_allclose(np.linalg.norm(coefficients, axis=1),
                               np.linalg.norm(patches, axis=1))
    np.testing.assert_allclose(coefficients[:, 0], 8 * patches.mean(axis=1))
    assert dct.image_shape_ == (1, 8, 8)


def test_patch_dct_takes_colour_patches_and_other_widths():
    colour = np.random.RandomState(21).rand(4, 3 * 16)
    dct = PatchDCT(image_shape=(3, 4, 4)).fit(colour)
    # Each plane alone: a flat plane has one non-zero coefficient.
    flat = np.repeat(np.array([[0.2] * 16 + [0.5] * 16 + [0.9] * 16]), 2, axis=0)
    assert (np.abs(dct.transform(flat)) > 1e-9).sum(axis=1).tolist() == [3, 3]
    np.testing.assert_allclose(dct.inverse_transform(dct.transform(colour)), colour)
    assert PatchDCT().fit(np.zeros((2, 10))).image_shape_ == (1, 1, 10)
    with pytest.raises(ValueError, match="does not hold rows of 10 values"):
        PatchDCT(image_shape=(3, 3)).fit(np.zeros((2, 10)))


def test_a_photo_transform_coded_with_the_dct_restores_its_shape_and_rate():
    image = _photo(0, size=70)
    dct = PatchDCT().fit(image_patches(image, 8))
    data = compress_image(dct, image, step=0.1)
    decoded = decompress_image(dct, data)
    assert decoded.shape == image.shape and psnr(image, decoded) > 30
    assert 8 * len(data) / image.size < 2


def test_a_colour_photo_is_restored_plane_by_plane_within_its_cells(pca):
    colour = np.stack([_photo(s) for s in (12, 13, 14)], axis=2)[:48, :56]
    smoothing = PCA(n_components=6).fit(image_patches(_photo(15), 8, stride=2))
    data = compress_image(pca, colour, step=0.3)
    plain = decompress_image(pca, data)
    restored = decompress_image(pca, data, restorer=smoothing)
    assert restored.shape == colour.shape and not np.array_equal(restored, plain)
    for c in range(3):
        shift = (pca.transform(image_patches(restored[:, :, c], 8, stride=8))
                 - pca.transform(image_patches(plain[:, :, c], 8, stride=8)))
        assert np.abs(shift).max() < 0.3 + 1e-4
