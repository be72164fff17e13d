"""Dask: incremental training through dask-ml, inference block by block, a cluster."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

# Slow: starts Dask clusters; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

# ImportError too, not only a missing module: Dask's DataFrame refuses pandas < 2
# (the oldest-versions CI stage runs pandas 1.5.3), and dask-ml needs it.
da = pytest.importorskip("dask.array", reason="the dask extra is not installed",
                         exc_type=ImportError)
dd = pytest.importorskip("dask.dataframe", reason="Dask's DataFrame is not usable here "
                         "(the dask extra is missing, or pandas is older than 2.0)",
                         exc_type=ImportError)
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is not usable here",
                                       exc_type=ImportError)

from sklearn_ae import Autoencoder, VariationalAutoencoder  # noqa: E402


def data(n=2000):
    rng = np.random.RandomState(0)
    return rng.normal(size=(n, 2)) @ rng.normal(size=(2, 8)) + 0.05 * rng.normal(size=(n, 8))


def test_incremental_trains_block_by_block_through_partial_fit():
    X = data()
    dX = da.from_array(X, chunks=(500, 8))
    inc = dask_ml_wrappers.Incremental(
        Autoencoder(n_components=2, hidden_layer_sizes=(16,), random_state=0),
        shuffle_blocks=False)
    inc.fit(dX)
    model = inc.estimator_
    assert model.n_iter_ == 4  # one partial_fit per block
    direct = Autoencoder(n_components=2, hidden_layer_sizes=(16,), random_state=0)
    for start in range(0, 2000, 500):
        direct.partial_fit(X[start : start + 500])
    assert_array_equal(model.transform(X), direct.transform(X))


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder])
def test_inference_on_dask_arrays_is_lazy_and_blockwise(cls):
    X = data()
    model = cls(n_components=2, hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X)
    dX = da.from_array(X, chunks=(300, 4))  # columns split too: rechunked per row block
    codes = model.transform(dX)
    assert isinstance(codes, da.Array) and codes.shape == (2000, 2)
    assert_allclose(codes.compute(), model.transform(X), rtol=1e-6, atol=1e-9)
    assert_allclose(model.score_samples(dX).compute(), model.score_samples(X), rtol=1e-6)
    assert_array_equal(model.predict(dX).compute(), model.predict(X))
    assert_allclose(model.inverse_transform(codes).compute(),
                    model.inverse_transform(model.transform(X)), rtol=1e-6, atol=1e-9)


def test_inference_on_a_dask_dataframe_keeps_names_and_index():
    frame = pd.DataFrame(data(), columns=[f"s{i}" for i in range(8)])
    model = Autoencoder(n_components=2, hidden_layer_sizes=(16,), max_iter=3,
                        random_state=0).fit(frame)
    ddf = dd.from_pandas(frame, npartitions=4)
    codes = model.transform(ddf).compute()
    assert list(codes.columns) == ["autoencoder0", "autoencoder1"]
    assert_array_equal(codes.index, frame.index)
    assert_allclose(codes.to_numpy(), model.transform(frame), rtol=1e-6)
    scores = model.score_samples(ddf).compute()
    assert_allclose(scores.to_numpy(), model.score_samples(frame), rtol=1e-6)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_local_cluster_with_two_worker_processes(client):
    X = data()
    model = Autoencoder(n_components=2, hidden_layer_sizes=(16,), max_iter=3,
                        random_state=0).fit(X)
    scores = model.score_samples(da.from_array(X, chunks=(500, 8))).compute()
    assert_allclose(scores, model.score_samples(X), rtol=1e-6)


def test_grid_search_on_the_cluster_uses_one_thread_per_worker(client):
    import joblib
    import torch
    from sklearn.model_selection import GridSearchCV

    # Each worker process was given one thread; torch there takes just that.
    assert set(client.run(torch.get_num_threads).values()) == {1}
    X = data(600)
    search = dict(estimator=Autoencoder(hidden_layer_sizes=(16,), max_iter=4, random_state=0),
                  param_grid={"n_components": [1, 2, 3]}, cv=3)
    serial = GridSearchCV(**search, n_jobs=1).fit(X).cv_results_["mean_test_score"]
    with joblib.parallel_backend("dask"):
        spread = GridSearchCV(**search, n_jobs=-1).fit(X).cv_results_["mean_test_score"]
    assert_allclose(spread, serial, rtol=1e-6)
