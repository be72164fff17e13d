"""What only DenoisingAutoencoder does: learn to remove noise."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import train_test_split

from sklearn_ae import Autoencoder, DenoisingAutoencoder


def test_denoises_digits_better_than_plain_autoencoder(digits):
    X, _ = digits
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    noisy = X_test + np.random.RandomState(0).normal(scale=4.0, size=X_test.shape)
    # Same network, epochs and seed; pixels share one scale, so no standardising.
    budget = dict(n_components=64, hidden_layer_sizes=(64,), max_iter=60,
                  standardize=False, random_state=0)
    plain = Autoencoder(**budget).fit(X_train)
    dae = DenoisingAutoencoder(noise="gaussian", noise_level=4.0, **budget).fit(X_train)

    def error(model):
        return np.mean((model.inverse_transform(model.transform(noisy)) - X_test) ** 2)

    assert error(dae) < 0.95 * error(plain)
    assert error(dae) < 0.5 * np.mean((noisy - X_test) ** 2)


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_pepper"])
def test_noise_only_while_training(blobs, noise):
    dae = DenoisingAutoencoder(noise=noise, n_components=2, max_iter=10, random_state=0)
    dae.fit(blobs)
    assert_array_equal(dae.transform(blobs), dae.transform(blobs))
    # score_samples is the error of the rows as given, no corruption.
    standardised = (blobs - dae.mean_) / dae.scale_
    rebuilt = (dae.inverse_transform(dae.transform(blobs)) - dae.mean_) / dae.scale_
    assert_allclose(dae.score_samples(blobs), -np.mean((rebuilt - standardised) ** 2, axis=1))


def test_salt_pepper_uses_training_range(blobs):
    dae = DenoisingAutoencoder(noise="salt_pepper", max_iter=2, random_state=0).fit(blobs)
    standardised = (blobs - dae.mean_) / dae.scale_
    assert_allclose(dae.feature_min_, standardised.min(axis=0))
    assert_allclose(dae.feature_max_, standardised.max(axis=0))


def test_share_of_entries_at_most_one(blobs):
    with pytest.raises(ValueError, match="at most 1"):
        DenoisingAutoencoder(noise="masking", noise_level=1.5).fit(blobs)
    # For Gaussian noise the level is a standard deviation and may exceed 1.
    DenoisingAutoencoder(noise="gaussian", noise_level=1.5, max_iter=2).fit(blobs)


def test_clip_bounds_training_noise(digits):
    X, _ = digits
    X = X / 16
    seen = []

    class Watched(DenoisingAutoencoder):
        """Records the range of the rows the network trains on (a documented hook)."""

        def _build_module(self, n_features):
            module = super()._build_module(n_features)

            def watch(mod, args):
                if mod.training:
                    seen.append((args[0].min().item(), args[0].max().item()))

            module.register_forward_pre_hook(watch)
            return module

    params = dict(noise_level=0.5, standardize=False, max_iter=3, random_state=0)
    Watched(clip=(0, 1), **params).fit(X)
    assert seen and min(low for low, _ in seen) >= 0.0 and max(high for _, high in seen) <= 1.0
    # Without the clip the same noise leaves [0, 1]: the check can fail.
    seen.clear()
    Watched(**params).fit(X)
    assert min(low for low, _ in seen) < 0.0 and max(high for _, high in seen) > 1.0
    with pytest.raises(ValueError, match="clip must be a pair"):
        DenoisingAutoencoder(clip=(1, 0)).fit(X)
