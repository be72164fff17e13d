"""Whole images through models of patches, compression to bytes, PSNR and SSIM."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from sklearn_ae import Autoencoder, ConvolutionalAutoencoder
from sklearn_ae.corruptions import GaussianNoise
from sklearn_ae.images import (
    compress_image,
    compress_rows,
    decompress_image,
    decompress_rows,
    image_patches,
    make_restorer,
    merge_patches,
    patch_shape,
    psnr,
    restore_image,
    ssim,
)

skimage_metrics = pytest.importorskip(
    "skimage.metrics", reason="PSNR and SSIM wrap scikit-image (the images extra)")


def _identity(n_features):
    """PCA with every component: transform then inverse_transform gives the rows back."""
    rng = np.random.RandomState(0)
    return PCA(n_components=n_features).fit(rng.rand(4 * n_features, n_features))


@pytest.mark.parametrize("shape", [(13, 17), (13, 17, 3)])
@pytest.mark.parametrize("stride", [1, 3, 5])
def test_patches_cover_every_pixel_and_merge_back(shape, stride):
    image = np.random.RandomState(0).rand(*shape)
    rows = image_patches(image, 5, stride=stride)
    assert rows.shape[1] == 25 * (shape[2] if len(shape) == 3 else 1)
    np.testing.assert_allclose(merge_patches(rows, shape, 5, stride=stride), image)


def test_a_patch_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match="smaller than the patch"):
        image_patches(np.zeros((4, 4)), 8)


@pytest.mark.parametrize("stride", [None, 1, 4])
def test_restore_image_through_an_exact_model_returns_the_image(stride):
    image = np.random.RandomState(1).rand(30, 22)
    np.testing.assert_allclose(restore_image(_identity(36), image, stride=stride), image,
                               atol=1e-10)


def test_a_grey_model_restores_a_colour_image_channel_by_channel():
    image = np.random.RandomState(2).rand(20, 24, 3)
    np.testing.assert_allclose(restore_image(_identity(16), image), image, atol=1e-10)


def test_a_colour_model_takes_colour_patches():
    rng = np.random.RandomState(3)
    image = rng.rand(16, 16, 3)
    cae = ConvolutionalAutoencoder(n_components=4, image_shape=(3, 8, 8), max_iter=1,
                                   random_state=0).fit(image_patches(image, 8, stride=4))
    assert patch_shape(cae) == (3, 8, 8)
    assert restore_image(cae, image).shape == image.shape
    with pytest.raises(ValueError, match="channels"):
        restore_image(cae, image[:, :, 0])


class _Zero:
    """A residual model that finds nothing to add."""

    def __init__(self, n_features):
        self.n_features_in_ = n_features

    def transform(self, rows):
        return rows

    def inverse_transform(self, codes):
        return np.zeros_like(codes)


class _Lopsided:
    """Patches back with fixed, unequal weights per pixel: a model that is not turn-invariant."""

    def __init__(self, side, channels=1):
        self.n_features_in_ = channels * side * side
        self.weights = np.random.RandomState(4).rand(self.n_features_in_)

    def transform(self, rows):
        return rows

    def inverse_transform(self, codes):
        return codes * self.weights


@pytest.mark.parametrize("shape", [(12, 9), (10, 11, 2)])
def test_self_ensemble_averages_the_restorations_of_the_turned_images(shape):
    image = np.random.RandomState(5).rand(*shape)
    model = _Lopsided(4)
    plain = restore_image(model, image, stride=1)
    ensemble = restore_image(model, image, stride=1, self_ensemble=True)
    # At stride 1 every position is a patch, so turning the patches is
    # turning the image: the mean of the 8 turned images' restorations.
    expected = np.zeros(shape)
    for flip in (False, True):
        for k in range(4):
            turned = np.rot90(image[:, ::-1] if flip else image, k)
            back = np.rot90(restore_image(model, turned, stride=1), -k)
            expected += (back[:, ::-1] if flip else back) / 8
    np.testing.assert_allclose(ensemble, expected, atol=1e-12)
    assert not np.allclose(ensemble, plain)
    # A model that changes nothing, turned or not, still gives the image back.
    np.testing.assert_allclose(restore_image(_identity(16), image, self_ensemble=True), image,
                               atol=1e-10)


@pytest.mark.parametrize("shape", [(14, 19), (14, 19, 3)])
def test_a_residual_restoration_is_the_image_plus_the_averaged_patches(shape):
    image = np.random.RandomState(6).rand(*shape)
    model = _Lopsided(4)
    np.testing.assert_allclose(restore_image(model, image, stride=2, residual=True),
                               image + restore_image(model, image, stride=2), atol=1e-12)
    # A model whose residual is nothing gives the image back.
    np.testing.assert_allclose(restore_image(_Zero(16), image, residual=True),
                               image, atol=0)
    holes = image.copy()
    holes[0, 0] = np.nan
    with pytest.raises(ValueError, match="missing pixels"):
        restore_image(model, holes, residual=True)


def test_a_model_trained_on_residuals_restores_a_blurred_photo():
    from sklearn_ae.corruptions import Blur

    rng = np.random.RandomState(7)
    yy, xx = np.mgrid[0:40, 0:40] / 40.0
    photos = [0.5 + 0.4 * np.sin(30 * xx + s) * np.cos(25 * yy - s) for s in (0.0, 1.0, 2.0)]

    def blurred(p):
        return Blur(1.5)(p.reshape(1, -1), image_shape=(1, *p.shape)).reshape(p.shape)

    X = np.concatenate([image_patches(blurred(p), 8, stride=2) for p in photos[1:]])
    y = np.concatenate([image_patches(p, 8, stride=2) for p in photos[1:]])
    model = make_restorer(None, hidden_layer_sizes=(128,), max_iter=60,
                          random_state=0).fit(X, y - X)
    degraded = blurred(photos[0]) + rng.normal(0, 0.001, photos[0].shape)
    restored = restore_image(model, degraded, residual=True)
    # 27.1 dB against the blurred photo's 17.5 when written.
    assert psnr(photos[0], restored) > psnr(photos[0], degraded) + 6


def test_inpainting_keeps_the_given_pixels_and_fills_the_rest():
    rng = np.random.RandomState(4)
    image = rng.rand(24, 24)
    holes = image.copy()
    holes[rng.rand(*image.shape) < 0.3] = np.nan
    ae = Autoencoder(n_components=8, hidden_layer_sizes=(16,), max_iter=2,
                     random_state=0).fit(image_patches(image, 6))
    out = restore_image(ae, holes)
    given = ~np.isnan(holes)
    np.testing.assert_array_equal(out[given], image[given])
    assert np.isfinite(out).all()


def test_restoring_a_noisy_photo_by_patches_removes_noise():
    rng = np.random.RandomState(5)
    yy, xx = np.mgrid[0:48, 0:48] / 48.0
    photo = 0.5 + 0.4 * np.sin(6 * xx) * np.cos(4 * yy)
    model = make_restorer(GaussianNoise(0.1), image_shape=(8, 8), hidden_layer_sizes=(128,),
                          max_iter=40, random_state=0)
    model.fit(image_patches(photo, 8, stride=1))
    noisy = photo + rng.normal(0, 0.1, photo.shape)
    assert psnr(photo, restore_image(model, noisy)) > psnr(photo, noisy) + 5


@pytest.mark.parametrize("bits", [1, 4, 8, 12])
def test_compressed_rows_decode_within_the_quantisation_step(bits):
    X = np.random.RandomState(6).rand(200, 16)
    pca = _identity(16)
    data = compress_rows(pca, X, bits=bits)
    codes = pca.transform(X)
    step = (codes.max(axis=0) - codes.min(axis=0)) / (2 ** bits - 1)
    decoded_codes = pca.transform(decompress_rows(pca, data))
    assert np.all(np.abs(decoded_codes - codes) <= step / 2 + 1e-5)


def test_the_bytes_hold_fewer_bits_than_the_rows():
    X = np.random.RandomState(7).rand(500, 64)
    ae = Autoencoder(n_components=4, hidden_layer_sizes=(16,), max_iter=2,
                     random_state=0).fit(X)
    data = compress_rows(ae, X, bits=5)
    # 500 rows x 4 components x 5 bits, plus a header of 8 bytes per component.
    assert len(data) <= 500 * 4 * 5 / 8 + 64
    assert decompress_rows(ae, data).shape == X.shape


@pytest.mark.parametrize("shape", [(21, 30), (16, 16, 3)])
def test_an_image_compresses_and_decodes_at_its_shape(shape):
    image = np.random.RandomState(8).rand(*shape)
    pca = _identity(64)
    data = compress_image(pca, image, bits=16)
    np.testing.assert_allclose(decompress_image(pca, data), image, atol=1e-3)


def test_bytes_of_something_else_are_refused():
    with pytest.raises(ValueError, match="compress_image"):
        decompress_rows(_identity(4), b"not an image at all")
    with pytest.raises(ValueError, match="bits"):
        compress_rows(_identity(4), np.zeros((3, 4)), bits=0)


@pytest.mark.parametrize("step", [0.3, 0.01, 2e-4])
def test_a_residual_keeps_every_value_within_half_its_step(step):
    rng = np.random.RandomState(10)
    X = rng.rand(300, 16)
    lossy = PCA(n_components=3).fit(X)
    plain = compress_rows(lossy, X, bits=4)
    data = compress_rows(lossy, X, bits=4, residual_step=step)
    error = np.abs(decompress_rows(lossy, data) - X).max()
    assert error <= step / 2 + 1e-9
    # The codes alone miss by far more than the step: the residual did the work.
    assert np.abs(decompress_rows(lossy, plain) - X).max() > step
    assert len(data) > len(plain)


def test_a_finer_residual_step_costs_more_bytes_and_gives_higher_psnr():
    X = np.random.RandomState(11).rand(200, 64)
    lossy = PCA(n_components=4).fit(X)
    sizes, quality = [], []
    for step in (0.4, 0.1, 0.02):
        data = compress_rows(lossy, X, bits=6, residual_step=step)
        sizes.append(len(data))
        quality.append(psnr(X, decompress_rows(lossy, data)))
    assert sizes == sorted(sizes) and quality == sorted(quality)


def test_eight_bit_images_come_back_exactly_with_a_step_of_one_grey_level():
    digits = np.random.RandomState(12).randint(0, 256, size=(50, 64)).astype(np.uint8)
    X = digits / 255.0
    lossy = PCA(n_components=5).fit(X)
    data = compress_rows(lossy, X, bits=5, residual_step=1 / 255)
    np.testing.assert_array_equal(np.rint(decompress_rows(lossy, data) * 255), digits)


@pytest.mark.parametrize("shape", [(21, 30), (16, 16, 3)])
def test_an_image_with_a_residual_decodes_within_half_the_step(shape):
    image = np.random.RandomState(13).rand(*shape)
    lossy = PCA(n_components=3).fit(image_patches(np.random.RandomState(1).rand(40, 40), 8))
    data = compress_image(lossy, image, bits=6, residual_step=0.02)
    decoded = decompress_image(lossy, data)
    assert decoded.shape == image.shape
    assert np.abs(decoded - image).max() <= 0.01 + 1e-9
    assert np.abs(decompress_image(lossy, compress_image(lossy, image, bits=6)) - image).max() > 0.02


@pytest.mark.parametrize("step", [0, -0.1, float("nan"), float("inf"), "fine"])
def test_a_residual_step_that_is_not_a_positive_number_is_refused(step):
    with pytest.raises(ValueError, match="residual_step must be a positive number"):
        compress_rows(_identity(4), np.zeros((3, 4)), residual_step=step)


def test_a_residual_step_too_small_for_the_values_is_refused():
    X = np.random.RandomState(14).rand(20, 4) * 100
    with pytest.raises(ValueError, match="too small for these values"):
        compress_rows(PCA(n_components=1).fit(X), X, residual_step=1e-4)


def test_psnr_and_ssim_are_scikit_images():
    rng = np.random.RandomState(9)
    clean = rng.rand(32, 32)
    noisy = clean + rng.normal(0, 0.05, clean.shape)
    assert psnr(clean, noisy) == pytest.approx(
        skimage_metrics.peak_signal_noise_ratio(clean, noisy, data_range=1.0))
    assert psnr(clean, clean + 0.1) == pytest.approx(20.0)
    assert ssim(clean, noisy) == pytest.approx(
        skimage_metrics.structural_similarity(clean, noisy, data_range=1.0))
    rows = np.stack([clean.ravel(), noisy.ravel()])
    assert ssim(rows, rows, image_shape=(32, 32)) == pytest.approx(1.0)


def test_make_restorer_is_a_wide_code_autoencoder_with_the_corruption():
    corruption = GaussianNoise(0.1)
    model = make_restorer(corruption, image_shape=(8, 8), random_state=0)
    assert isinstance(model, Autoencoder) and model.corruption is corruption
    assert model.n_components == 64
    assert make_restorer(image_shape=(28, 28), n_components=16).n_components == 16


def test_patch_shape_of_rows_that_are_not_square_is_refused():
    with pytest.raises(ValueError, match="image_shape"):
        patch_shape(_identity(10))
