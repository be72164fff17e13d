"""What only ConvolutionalAutoencoder does: images as flat rows."""

import numpy as np
import pytest

from sklearn_ae import ConvolutionalAutoencoder


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
