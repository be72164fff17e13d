"""Standardisation inside the estimators: robust to features that barely vary."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_ae import Autoencoder, DenoisingAutoencoder
from sklearn_ae.utils import all_estimators

from .conftest import FAST_PARAMS


@pytest.fixture(scope="module")
def noisy_digits():
    """Digits in [0, 1]: 1400 clean rows to fit, the rest clean and with noise.

    Many pixels are zero in all but a handful of images; noise on them is
    what used to blow up standardised networks (MSE 4.5 against PCA's 0.03).
    """
    X = load_digits().data / 16.0
    rng = np.random.RandomState(0)
    train, test = X[:1400], X[1400:]
    noisy = np.clip(test + rng.normal(scale=0.3, size=test.shape), 0.0, 1.0)
    pca = PCA(16, random_state=0).fit(train)
    pca_noisy = np.mean((pca.inverse_transform(pca.transform(noisy)) - test) ** 2)
    return train, test, noisy, pca_noisy


def _denoising_error(model, test, noisy):
    return np.mean((model.inverse_transform(model.transform(noisy)) - test) ** 2)


def test_noisy_rows_stay_near_pca_with_defaults(noisy_digits):
    train, test, noisy, pca_noisy = noisy_digits
    ae = Autoencoder(n_components=16, random_state=0).fit(train)
    assert _denoising_error(ae, test, noisy) <= 1.5 * pca_noisy
    # The rare pixels are the ones scaled by the typical spread, not their own.
    floored = ae.scale_ > train.std(axis=0) + 1e-12
    assert floored.sum() >= 5
    assert np.all(np.percentile(train[:, floored], 75, axis=0)
                  == np.percentile(train[:, floored], 25, axis=0))


def test_denoising_autoencoder_beats_pca_on_noisy_rows(noisy_digits):
    train, test, noisy, pca_noisy = noisy_digits
    dae = DenoisingAutoencoder(n_components=16, random_state=0).fit(train)
    assert _denoising_error(dae, test, noisy) <= pca_noisy


def _near_constant(seed=0):
    """Five informative features and one stuck at 3.0 but for a few tiny blips."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(size=(400, 5))
    stuck = np.full((400, 1), 3.0)
    stuck[::50] += 1e-6 * rng.normal(size=(8, 1))
    return np.hstack([X, stuck])


@pytest.mark.parametrize("cls", [cls for _, cls in all_estimators()])
def test_a_moved_near_constant_feature_changes_outputs_boundedly(cls):
    X = _near_constant()
    y = (X[:, 0] > 0).astype(int)
    est = cls(**{**FAST_PARAMS, "max_iter": 30, "n_components": 2}).fit(X, y)
    moved = X[:20].copy()
    moved[:, 5] += 1.0  # a unit step: the other features' own spread
    kwargs = {"y": y[:20]} if "y" in est.inverse_transform.__code__.co_varnames else {}
    before = est.inverse_transform(est.transform(X[:20]), **kwargs)
    after = est.inverse_transform(est.transform(moved), **kwargs)
    spread = X[:, :5].std(axis=0)
    # Plain standardisation turned the step into ~1e7 standard deviations.
    assert np.all(np.abs(after - before)[:, :5] < 10 * spread)
    assert np.all(np.isfinite(est.score_samples(moved)))


def test_plain_standardisation_where_every_feature_varies(blobs):
    est = Autoencoder(**FAST_PARAMS).fit(blobs)
    scaler = StandardScaler().fit(blobs)
    assert_allclose(est.scale_, scaler.scale_)


@pytest.mark.parametrize("cls", [cls for _, cls in all_estimators()])
def test_sparse_input_gives_the_dense_result(cls, blobs):
    X = np.where(np.abs(blobs) > np.median(np.abs(blobs), axis=0), blobs, 0.0)
    y = (X[:, 0] > 0).astype(int)
    dense = cls(**FAST_PARAMS).fit(X, y)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        est = cls(**FAST_PARAMS).fit(fmt(X), y)
        assert_allclose(est.mean_, dense.mean_)
        assert_allclose(est.scale_, dense.scale_)
        assert_allclose(est.transform(fmt(X)), dense.transform(X), rtol=1e-5, atol=1e-6)
        assert_allclose(est.score_samples(fmt(X)), dense.score_samples(X),
                        rtol=1e-5, atol=1e-6)


def test_one_hot_pipeline_with_many_levels():
    rng = np.random.RandomState(0)
    n = 600
    city = rng.randint(0, 150, size=n).astype(str)
    numbers = rng.normal(size=(n, 3))
    import pandas as pd

    df = pd.DataFrame({"city": city, "a": numbers[:, 0], "b": numbers[:, 1],
                       "c": numbers[:, 2]})
    encode = ColumnTransformer([
        ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ("num", StandardScaler(), ["a", "b", "c"]),
    ], sparse_threshold=1.0)
    assert sp.issparse(encode.fit_transform(df))
    pipe = make_pipeline(encode, Autoencoder(n_components=4, **{
        k: v for k, v in FAST_PARAMS.items() if k != "n_components"}))
    Z = pipe.fit_transform(df)
    assert Z.shape == (n, 4)
    assert np.all(np.isfinite(pipe.score_samples(df)))
    assert set(np.unique(pipe.predict(df))) <= {-1, 1}
