"""What only ConvolutionalAutoencoder does: images as flat rows."""

import numpy as np
import pytest

from sklearn_ae import ConvolutionalAutoencoder, load, save
from sklearn_ae.corruptions import GaussianNoise


def test_flat_rows_in_and_out(digits):
    X, _ = digits
    X = X / 16
    cae = ConvolutionalAutoencoder(n_components=8, image_shape=(1, 8, 8), max_iter=30,
                                   random_state=0).fit(X)
    assert cae.image_shape_ == (1, 8, 8)
    X_hat = cae.inverse_transform(cae.transform(X))
    assert X_hat.shape == X.shape
    # It learned the images: far better than predicting the mean image.
    assert np.mean((X_hat - X) ** 2) < 0.5 * np.mean((X - X.mean(axis=0)) ** 2)


def test_infers_square_images_and_odd_shapes():
    rng = np.random.RandomState(0)
    assert ConvolutionalAutoencoder(max_iter=1).fit(rng.rand(20, 49)).image_shape_ == (1, 7, 7)
    assert ConvolutionalAutoencoder(max_iter=1).fit(rng.rand(20, 10)).image_shape_ == (1, 1, 10)
    X = rng.rand(20, 3 * 7 * 5)
    cae = ConvolutionalAutoencoder(image_shape=(3, 7, 5), channels=(4, 8), kernel_size=5,
                                   max_iter=2).fit(X)
    assert cae.inverse_transform(cae.transform(X)).shape == X.shape


def test_row_length_must_match_image_shape():
    X = np.random.RandomState(0).rand(10, 100)
    with pytest.raises(ValueError, match=r"100 features per row.*needs 784"):
        ConvolutionalAutoencoder(image_shape=(1, 28, 28)).fit(X)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvolutionalAutoencoder(kernel_size=4).fit(X)


def test_map_code_is_feature_maps_of_the_image():
    rng = np.random.RandomState(0)
    X = rng.rand(30, 3 * 7 * 5)
    cae = ConvolutionalAutoencoder(image_shape=(3, 7, 5), channels=(4, 8), code="map",
                                   max_iter=2, random_state=0).fit(X)
    # 7 x 5 halved twice (rounding up): 2 x 2 maps, channels[-1] of them.
    assert cae.code_shape_ == (8, 2, 2)
    assert cae.n_components_ == 32
    assert cae.transform(X).shape == (30, 32)
    assert cae.inverse_transform(cae.transform(X)).shape == X.shape
    assert len(cae.get_feature_names_out()) == 32
    six = ConvolutionalAutoencoder(n_components=6, image_shape=(3, 7, 5), channels=(4,),
                                   code="map", max_iter=1).fit(X)
    assert six.code_shape_ == (6, 4, 3)
    assert ConvolutionalAutoencoder(max_iter=1).fit(X).code_shape_ is None


def test_map_code_moves_with_the_image():
    # The same filters code every part of the image: an image shifted by two
    # pixels (one step of the stride-2 block) has its code shifted by one,
    # away from the borders. A dense code has no such structure.
    rng = np.random.RandomState(0)
    images = rng.rand(40, 1, 16, 16)
    cae = ConvolutionalAutoencoder(image_shape=(1, 16, 16), channels=(6,), code="map",
                                   max_iter=2, random_state=0).fit(images.reshape(40, -1))
    shifted = np.roll(images, 2, axis=3)
    codes = cae.transform(images.reshape(40, -1)).reshape(40, *cae.code_shape_)
    moved = cae.transform(shifted.reshape(40, -1)).reshape(40, *cae.code_shape_)
    # Code column j sees input columns 2j - 3 to 2j + 3: columns 2-5 see no
    # border (zero padding, or the pixels the roll wrapped round) either way.
    np.testing.assert_allclose(moved[:, :, :, 3:7], codes[:, :, :, 2:6], rtol=1e-5, atol=1e-6)
    assert not np.allclose(moved, codes, atol=1e-3)


def test_map_code_denoises_digits(digits):
    X = digits[0] / 16
    noise = GaussianNoise(0.2)
    noisy = noise(X[1500:], random_state=1)
    cae = ConvolutionalAutoencoder(image_shape=(1, 8, 8), channels=(32,), code="map",
                                   corruption=noise, max_iter=60, random_state=0).fit(X[:1500])
    restored = cae.inverse_transform(cae.transform(noisy))
    assert np.mean((restored - X[1500:]) ** 2) < 0.4 * np.mean((noisy - X[1500:]) ** 2)


def test_map_code_refuses_dense_layers_and_survives_saving(tmp_path):
    X = np.random.RandomState(0).rand(20, 64)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be empty"):
        ConvolutionalAutoencoder(code="map", hidden_layer_sizes=(16,)).fit(X)
    with pytest.raises(ValueError, match="code"):
        ConvolutionalAutoencoder(code="grid").fit(X)
    cae = ConvolutionalAutoencoder(code="map", channels=(4,), max_iter=2, random_state=0,
                                   warm_start=True).fit(X)
    save(cae, tmp_path / "map.safetensors")
    again = load(tmp_path / "map.safetensors")
    np.testing.assert_array_equal(again.transform(X), cae.transform(X))
    assert again.code_shape_ == cae.code_shape_
    with pytest.raises(ValueError, match="code changed"):
        cae.set_params(code="vector").fit(X)
