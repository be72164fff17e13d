"""Shared fixtures: small data sets and the gpu marker."""

import numpy as np
import pytest
import torch

# Tiny networks and few epochs: these settings make every estimator fast
# enough for the whole compliance suite to run in seconds.
FAST_PARAMS = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; PyTorch sees none")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture
def blobs():
    """300 rows, 5 features on very different scales, with 5 planted outliers."""
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(300, 2))
    mixing = rng.normal(size=(2, 5))
    X = latent @ mixing + 0.05 * rng.normal(size=(300, 5))
    X[:5] += rng.normal(scale=6.0, size=(5, 5))
    X *= np.array([1.0, 10.0, 100.0, 0.1, 1000.0])
    X += np.array([0.0, -50.0, 3.0, 7.0, 1e4])
    return X


@pytest.fixture
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X, y
