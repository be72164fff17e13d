"""Corruptions and training on pairs: the estimators that reconstruct learn to restore."""

import numpy as np
import pytest
from scipy import ndimage
from sklearn.base import clone
from sklearn.datasets import load_digits

from sklearn_ae import (
    Autoencoder,
    BaseAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    OutlierAutoencoder,
    load,
    save,
)
from sklearn_ae.corruptions import Blur, Downsample, GaussianNoise, Masking, SaltPepper

RESTORERS = [Autoencoder, DenoisingAutoencoder, ConvolutionalAutoencoder, OutlierAutoencoder]


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return X[:1200] / 16.0, X[1200:] / 16.0


def _restored(est, X):
    return est.inverse_transform(est.transform(X))


def _mse(a, b):
    return float(np.mean((a - b) ** 2))


# -- the corruptions on numpy rows -------------------------------------------

def test_blur_is_scipys_gaussian_filter_with_mirrored_borders():
    rng = np.random.RandomState(0)
    images = rng.rand(3, 12, 10)
    ours = Blur(1.3, image_shape=(1, 12, 10))(images.reshape(3, -1)).reshape(3, 12, 10)
    for image, blurred in zip(images, ours):
        expected = ndimage.gaussian_filter(image, 1.3, mode="mirror", truncate=4.0)
        np.testing.assert_allclose(blurred, expected, atol=1e-12)


def test_blur_blurs_each_channel_alone():
    X = np.zeros((1, 2 * 9 * 9))
    X[0, 40] = 1.0  # the centre of the first channel only
    blurred = Blur(1.0, image_shape=(2, 9, 9))(X).reshape(2, 9, 9)
    assert blurred[1].max() == 0.0 and blurred[0].max() < 0.2


def test_downsample_is_area_mean_then_bicubic():
    image = np.arange(16.0).reshape(1, 16)       # a 4x4 ramp
    low = image.reshape(4, 4).reshape(2, 2, 2, 2).mean(axis=(1, 3))
    out = Downsample(2)(image).reshape(4, 4)
    # Bicubic interpolation keeps a linear ramp's centre and its mean.
    assert out.mean() == pytest.approx(low.mean())
    assert not np.allclose(out, image.reshape(4, 4))


def test_masking_hides_the_share_asked_in_blocks():
    X = np.ones((200, 16 * 16))
    hidden = np.isnan(Masking(0.3, block_size=4)(X, random_state=0))
    assert 0.25 < hidden.mean() < 0.35
    # Blocks: a hidden pixel's right neighbour is hidden far more often than chance.
    images = hidden.reshape(200, 16, 16)
    both = (images[:, :, :-1] & images[:, :, 1:]).sum() / images[:, :, :-1].sum()
    assert both > 0.6


def test_salt_and_pepper_use_the_extremes():
    X = np.random.RandomState(0).uniform(0.2, 0.8, size=(50, 40))
    X[0, 0], X[0, 1] = 0.0, 1.0
    out = SaltPepper(0.2)(X, random_state=0)
    changed = out != X
    assert 0.15 < changed.mean() < 0.25
    assert set(np.unique(out[changed])) <= {0.0, 1.0}


def test_corruptions_are_seeded_and_shape_keeping():
    X = np.random.RandomState(0).rand(20, 64)
    for corruption in (GaussianNoise(0.1), SaltPepper(0.1), Masking(0.2), Blur(1.0),
                       Downsample(2)):
        a, b = corruption(X, random_state=3), corruption(X, random_state=3)
        assert a.shape == X.shape
        np.testing.assert_array_equal(a, b)


def test_image_corruption_of_rows_that_are_not_square_names_image_shape():
    with pytest.raises(ValueError, match="image_shape"):
        Blur(1.0)(np.zeros((2, 10)))


def test_a_wrong_corruption_parameter_is_named():
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-1.0)(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="corruption"):
        Autoencoder(corruption=["blur"], max_iter=1).fit(np.zeros((10, 4)))
    with pytest.raises(ValueError, match="share"):
        Autoencoder(corruption=Masking(2.0), max_iter=1).fit(np.random.rand(10, 4))


# -- estimators that learn to restore ----------------------------------------

def test_training_on_noise_denoises_better_than_plain_training(digits):
    train, test = digits
    noisy = GaussianNoise(0.25)(test, random_state=1)
    params = dict(n_components=24, hidden_layer_sizes=(128,), max_iter=40, random_state=0)
    plain = Autoencoder(**params).fit(train)
    trained = Autoencoder(corruption=GaussianNoise(0.25), **params).fit(train)
    assert _mse(_restored(trained, noisy), test) < 0.8 * _mse(_restored(plain, noisy), test)


def test_pairs_passed_as_y_teach_deblurring(digits):
    train, test = digits
    blur = Blur(1.0)
    params = dict(n_components=32, hidden_layer_sizes=(128,), max_iter=40, random_state=0)
    paired = Autoencoder(**params).fit(blur(train), train)
    synthetic = Autoencoder(corruption=blur, **params).fit(train)
    blurred = blur(test)
    before = _mse(blurred, test)
    assert _mse(_restored(paired, blurred), test) < 0.7 * before
    assert _mse(_restored(synthetic, blurred), test) < 0.7 * before


def test_masking_teaches_inpainting_of_nan_pixels(digits):
    train, test = digits
    ae = Autoencoder(n_components=32, corruption=Masking(0.5), max_iter=100,
                     random_state=0).fit(train)
    holes = Masking(0.5)(test, random_state=2)
    missing = np.isnan(holes)
    filled = _restored(ae, holes)[missing]
    mean_fill = np.broadcast_to(train.mean(axis=0), test.shape)[missing]
    # 0.42x measured (default epochs: 0.41x).
    assert _mse(filled, test[missing]) < 0.6 * _mse(mean_fill, test[missing])


def test_superresolution_beats_the_bicubic_input(digits):
    train, test = digits
    cae = ConvolutionalAutoencoder(n_components=32, corruption=Downsample(2), max_iter=30,
                                   random_state=0).fit(train)
    low = Downsample(2)(test)
    assert _mse(_restored(cae, low), test) < 0.8 * _mse(low, test)


def test_a_user_function_is_called_with_a_random_state(digits):
    train, _ = digits
    seen = []

    def drop_rows(X, random_state):
        seen.append(type(random_state).__name__)
        return X * (random_state.rand(len(X), 1) > 0.1)

    Autoencoder(n_components=4, corruption=drop_rows, max_iter=2, random_state=0).fit(train)
    assert seen and set(seen) == {"RandomState"}


def test_a_user_function_of_the_wrong_shape_is_refused(digits):
    train, _ = digits
    with pytest.raises(ValueError, match="shape"):
        Autoencoder(corruption=lambda X, rs: X[:, :3], max_iter=1).fit(train)


@pytest.mark.parametrize("Estimator", RESTORERS)
def test_seeded_corrupted_fits_repeat(Estimator, digits):
    train, _ = digits
    est = Estimator(n_components=8, hidden_layer_sizes=(16,), max_iter=3, random_state=0,
                    corruption=[Blur(0.8), GaussianNoise(0.05)])
    a = clone(est).fit(train).transform(train[:50])
    b = clone(est).fit(train).transform(train[:50])
    np.testing.assert_array_equal(a, b)


def test_a_label_vector_as_y_changes_nothing(digits):
    train, _ = digits
    labels = np.arange(len(train)) % 10
    est = Autoencoder(n_components=8, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    np.testing.assert_array_equal(clone(est).fit(train).transform(train),
                                  clone(est).fit(train, labels).transform(train))


def test_clean_rows_of_another_shape_are_refused(digits):
    train, _ = digits
    with pytest.raises(ValueError, match="clean versions"):
        Autoencoder(max_iter=1).fit(train, train[:, :10])
    with pytest.raises(ValueError, match="y"):
        Autoencoder(max_iter=1).fit(train, np.full_like(train, np.nan))


def test_restoration_skips_the_pca_fallback(digits):
    # With default widths a plain fit on digits keeps PCA's linear model; PCA
    # of the rows cannot deblur, so a restoring fit keeps its network.
    train, _ = digits
    est = Autoencoder(n_components=32, max_iter=3, random_state=0, corruption=Blur(1.0))
    assert est.fit(train).hidden_layer_sizes_ != ()


def test_corruption_parameters_tune_through_the_estimator():
    est = DenoisingAutoencoder(corruption=GaussianNoise(0.1))
    est.set_params(corruption__sigma=0.3)
    assert est.get_params()["corruption__sigma"] == 0.3
    assert clone(est).corruption is not est.corruption


def test_a_model_with_a_corruption_saves_and_loads(tmp_path, digits):
    train, test = digits
    est = ConvolutionalAutoencoder(n_components=8, max_iter=2, random_state=0,
                                   corruption=[Masking(0.3, block_size=2), Blur(1.0)]).fit(train)
    save(est, tmp_path / "model")
    loaded = load(tmp_path / "model")
    assert repr(loaded.corruption) == repr(est.corruption)
    np.testing.assert_array_equal(loaded.transform(test), est.transform(test))


def test_score_with_clean_rows_measures_the_restoration(digits):
    train, test = digits
    blur = Blur(1.0)
    params = dict(n_components=32, hidden_layer_sizes=(64,), max_iter=10, random_state=0)
    good = Autoencoder(**params).fit(blur(train), train)
    untrained = Autoencoder(**{**params, "max_iter": 1}).fit(blur(train), train)
    blurred = blur(test)
    assert good.score(blurred, test) > untrained.score(blurred, test)
    expected = -np.mean(((_restored(good, blurred) - test) / good.scale_) ** 2)
    assert good.score(blurred, test) == pytest.approx(expected)
    # Without clean rows, the reconstruction score every estimator has.
    assert good.score(blurred) == BaseAutoencoder.score(good, blurred)


def test_outlier_autoencoder_trains_on_pairs_and_scores(digits):
    train, test = digits
    detector = OutlierAutoencoder(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    detector.fit(Blur(1.0)(train), train)
    assert np.isfinite(detector.score_samples(test)).all()
