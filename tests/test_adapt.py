"""Fine-tuning a restorer on the degraded image it restores (adapt_to_image)."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from sklearn_ae import Autoencoder, DenoisingAutoencoder
from sklearn_ae.corruptions import GaussianNoise, Masking
from sklearn_ae.images import adapt_to_image, image_patches, psnr, restore_image, sure_mse

pytest.importorskip("skimage.metrics", reason="PSNR wraps scikit-image (the images extra)")

SIGMA = 0.1


def _smooth_images(n, side, seed):
    """Blurred noise scaled to [0, 1]: patches with no hard edge anywhere."""
    rng = np.random.RandomState(seed)
    out = [gaussian_filter(rng.rand(side, side), 2.0) for _ in range(n)]
    return [(im - im.min()) / (im.max() - im.min()) for im in out]


def _blocks(side, block):
    """A black and white checkerboard: hard edges the smooth training images never had."""
    cells = (np.arange(side) // block)
    return ((cells[:, None] + cells[None, :]) % 2).astype(float)


def _training_rows():
    return np.concatenate([image_patches(im, 4, stride=1) for im in _smooth_images(8, 32, 0)])


@pytest.fixture(scope="module")
def denoiser():
    return Autoencoder(n_components=16, hidden_layer_sizes=(64,), corruption=GaussianNoise(SIGMA),
                       max_iter=40, batch_size=64, learning_rate_init=3e-3,
                       random_state=0).fit(_training_rows())


def _noisy(clean, seed=1):
    return clean + SIGMA * np.random.RandomState(seed).randn(*clean.shape)


def _psnr(clean, restored):
    return psnr(clean, np.clip(restored, 0, 1))


def test_adapting_to_an_image_unlike_the_training_ones_restores_it_better(denoiser):
    clean = _blocks(32, 4)
    noisy = _noisy(clean)
    before = restore_image(denoiser, noisy)
    adapted = adapt_to_image(denoiser, noisy, learning_rate=3e-3, random_state=0)
    # Measured: 11.8 dB before, 17.6 after (the smooth model blurs every edge).
    assert _psnr(clean, restore_image(adapted, noisy)) > _psnr(clean, before) + 3
    # The estimator given is left as it was, parameters included.
    np.testing.assert_array_equal(restore_image(denoiser, noisy), before)
    assert adapted.get_params() == denoiser.get_params()
    assert adapted is not denoiser


def test_a_seed_repeats_the_adaptation(denoiser):
    noisy = _noisy(_blocks(24, 3))
    first, second = (restore_image(adapt_to_image(denoiser, noisy, epochs=2, random_state=5),
                                   noisy) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    other = restore_image(adapt_to_image(denoiser, noisy, epochs=2, random_state=6), noisy)
    assert not np.array_equal(first, other)


def test_a_grey_model_adapts_to_every_plane_of_a_colour_image(denoiser):
    noisy = _noisy(np.stack([_blocks(20, 4), 1 - _blocks(20, 4), _blocks(20, 5)], axis=2))
    restored = restore_image(adapt_to_image(denoiser, noisy, epochs=1, random_state=0), noisy)
    assert restored.shape == noisy.shape and np.isfinite(restored).all()


def test_a_denoising_autoencoder_adapts_without_its_own_noise():
    model = DenoisingAutoencoder(n_components=16, hidden_layer_sizes=(32,), noise_level=0.5,
                                 corruption=GaussianNoise(SIGMA), max_iter=5,
                                 random_state=0).fit(_training_rows())
    noisy = _noisy(_blocks(16, 4))
    adapted = adapt_to_image(model, noisy, epochs=1, random_state=0)
    assert adapted.get_params()["noise_level"] == 0.5
    assert np.isfinite(restore_image(adapted, noisy)).all()


@pytest.mark.parametrize("corruption", [None, [GaussianNoise(0.1), GaussianNoise(0.1)],
                                        [Masking(0.5), GaussianNoise(0.1)]])
def test_a_model_not_trained_on_gaussian_noise_or_masking_alone_is_refused(corruption):
    model = Autoencoder(n_components=4, hidden_layer_sizes=(8,), corruption=corruption,
                        max_iter=1, random_state=0).fit(_training_rows()[:200])
    with pytest.raises(ValueError, match=r"corruption=GaussianNoise\(sigma\) alone"):
        adapt_to_image(model, np.zeros((8, 8)))


@pytest.mark.parametrize("change, message", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(epochs=2.5), "epochs must be a positive integer"),
    (dict(alpha=-1.0), "alpha must be a positive number"),
    (dict(learning_rate=float("nan")), "learning_rate must be a positive number or .auto."),
    (dict(learning_rate="fast"), "learning_rate must be a positive number or .auto."),
    (dict(hidden_share=0.6), "hidden_share must be a number from 0.1 to 0.5"),
    (dict(hidden_share=None), "hidden_share must be a number from 0.1 to 0.5"),
    (dict(image=np.full((8, 8), np.nan)), "NaN or infinite"),
])
def test_bad_arguments_are_named(denoiser, change, message):
    arguments = {"image": np.zeros((8, 8)), **change}
    with pytest.raises(ValueError, match=message):
        adapt_to_image(denoiser, **arguments)


def test_an_unfitted_model_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        adapt_to_image(Autoencoder(corruption=GaussianNoise(SIGMA)), np.zeros((8, 8)))


def _with_gaps(image, share=0.5, seed=2):
    gaps = np.random.RandomState(seed).rand(*image.shape) < share
    return np.where(gaps, np.nan, image)


@pytest.fixture(scope="module")
def inpainter():
    return Autoencoder(n_components=16, hidden_layer_sizes=(64,), corruption=Masking(0.5),
                       max_iter=40, batch_size=64, learning_rate_init=3e-3,
                       random_state=0).fit(_training_rows())


def test_an_inpainting_model_adapts_to_the_pixels_an_image_has(inpainter):
    # Stripes two pixels wide: no smooth training patch has them.
    clean = (np.arange(32)[None, :] // 2 % 2) * np.ones((32, 1))
    holed = _with_gaps(clean)
    before = restore_image(inpainter, holed)
    adapted = adapt_to_image(inpainter, holed, learning_rate=3e-3)
    after = restore_image(adapted, holed)
    # The given pixels come back as they were; only the missing ones change.
    given = ~np.isnan(holed)
    np.testing.assert_array_equal(after[given], clean[given])
    # Measured: 10.0 dB before, 26.1 after (the smooth model fills each gap
    # with its neighbours' mean); no clean pixel was used to adapt.
    assert _psnr(clean, after) > _psnr(clean, before) + 6
    np.testing.assert_array_equal(restore_image(inpainter, holed), before)
    assert adapted.get_params() == inpainter.get_params()


def test_an_image_with_a_hole_wider_than_a_patch_adapts(inpainter):
    holed = _with_gaps(_blocks(24, 3), share=0.3)
    holed[2:14, 2:14] = np.nan
    restored = restore_image(adapt_to_image(inpainter, holed, epochs=1), holed)
    assert np.isfinite(restored).all()


@pytest.mark.parametrize("model, image, message", [
    ("inpainter", np.zeros((8, 8)), "has all of its pixels given"),
    ("inpainter", np.full((8, 8), np.nan), "has none of its pixels given"),
    ("denoiser", _with_gaps(np.zeros((8, 8))), "NaN or infinite"),
    ("inpainter", np.full((8, 8), np.inf), "NaN or infinite"),
])
def test_an_image_the_model_cannot_learn_from_is_named(request, model, image, message):
    with pytest.raises(ValueError, match=message):
        adapt_to_image(request.getfixturevalue(model), image)


def test_the_hidden_share_sets_the_inpainting_adaptation_and_nothing_else(inpainter, denoiser):
    holed = _with_gaps((np.arange(24)[None, :] // 2 % 2) * np.ones((24, 1)))
    low, high = (restore_image(adapt_to_image(inpainter, holed, epochs=2, hidden_share=share),
                               holed) for share in (0.1, 0.5))
    assert not np.array_equal(low, high)
    # A noise model's pairs have no gaps: the share is not used there.
    noisy = _noisy(_blocks(16, 4))
    low, high = (restore_image(adapt_to_image(denoiser, noisy, epochs=1, hidden_share=share,
                                              random_state=0), noisy) for share in (0.1, 0.5))
    np.testing.assert_array_equal(low, high)


def test_the_automatic_learning_rate_depends_on_what_the_model_learns_from(inpainter, denoiser):
    holed = _with_gaps((np.arange(16)[None, :] // 2 % 2) * np.ones((16, 1)))

    def restored(model, image, rate, epochs=1):
        return restore_image(adapt_to_image(model, image, epochs=epochs, learning_rate=rate,
                                            random_state=0), image)

    # A masking model fine-tunes at 3e-4: the same outputs as that rate
    # given, and not another's.
    auto = restored(inpainter, holed, "auto")
    np.testing.assert_array_equal(auto, restored(inpainter, holed, 3e-4))
    assert not np.array_equal(auto, restored(inpainter, holed, 1e-4))
    # A noise model tries 1e-4 and 1e-3 and keeps the one SURE prefers:
    # large steps for hard edges the smooth training images never had,
    # small ones for an image like them (measured: 15.1 dB against 12.9 at
    # 1e-4 on the blocks; 28.4 against 28.2 at 1e-3 on the smooth image).
    blocks, smooth = _noisy(_blocks(32, 4)), _noisy(_smooth_images(1, 32, 5)[0])
    for image, kept, other in ((blocks, 1e-3, 1e-4), (smooth, 1e-4, 1e-3)):
        auto = restored(denoiser, image, "auto", epochs=3)
        np.testing.assert_array_equal(auto, restored(denoiser, image, kept, epochs=3))
        assert not np.array_equal(auto, restored(denoiser, image, other, epochs=3))


def _smoothing(width):
    return lambda image: gaussian_filter(image, width)


def test_sure_estimates_the_error_against_the_clean_image_it_never_sees(denoiser):
    clean = _smooth_images(1, 256, 3)[0]
    noisy = _noisy(clean, seed=2)
    # A linear filter, a network restoring patches, and keeping the noise.
    for denoise in (_smoothing(1.0), _smoothing(3.0), denoiser, lambda image: image):
        restored = (restore_image(denoise, noisy) if denoise is denoiser
                    else denoise(noisy))
        true = np.mean((restored - clean) ** 2)
        estimate = sure_mse(denoise, noisy, SIGMA, random_state=0)
        # The residual's mean square alone would be off by about sigma ** 2.
        assert abs(estimate - true) < 0.05 * true + 2e-4, (estimate, true)
    # It ranks denoisers as their true errors do, from the noisy image alone.
    widths = (0.5, 1.0, 2.0, 4.0, 8.0)
    true = [np.mean((_smoothing(w)(noisy) - clean) ** 2) for w in widths]
    estimates = [sure_mse(_smoothing(w), noisy, SIGMA, random_state=0) for w in widths]
    assert np.argsort(estimates).tolist() == np.argsort(true).tolist()


@pytest.mark.parametrize("arguments, message", [
    (dict(sigma=0.0), "sigma must be a positive number"),
    (dict(sigma=np.nan), "sigma must be a positive number"),
    (dict(sigma=0.1, epsilon=-1.0), "epsilon must be a positive number"),
])
def test_sure_refuses_parameters_that_name_no_noise(arguments, message):
    with pytest.raises(ValueError, match=message):
        sure_mse(_smoothing(1.0), np.zeros((8, 8)), **arguments)


def test_sure_refuses_an_image_with_missing_pixels():
    image = np.zeros((8, 8))
    image[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        sure_mse(_smoothing(1.0), image, 0.1)
