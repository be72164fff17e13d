"""Shared fixtures (small data sets), the gpu marker, and each pytest-xdist
worker's share of the cores."""

import os

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits


def _share_the_cores():
    """Under ``pytest -n N`` (pytest-xdist), give each worker its share of the cores.

    Each worker would otherwise start as many torch and BLAS threads as the
    machine has cores, and N workers oversubscribing them run slower together
    than one alone. Subprocesses the tests start (torchrun, examples) inherit
    the share through OMP_NUM_THREADS.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = max(1, (cores or 1) // workers)
    os.environ["OMP_NUM_THREADS"] = str(share)
    torch.set_num_threads(share)
    threadpool_limits(share)


_share_the_cores()

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
