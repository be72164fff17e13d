"""Fits on file-backed arrays (numpy.memmap) read chunk by chunk, never copied whole."""

import numpy as np
import pytest
import torch

import sklearn_ae._data as data
from sklearn_ae import Autoencoder, ConditionalAutoencoder, DenoisingAutoencoder
from sklearn_ae._streaming import StreamedRows, is_file_backed


def _memmap(tmp_path, X, name="X.f32"):
    path = tmp_path / name
    mm = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _data(n=3000, d=12, seed=0):
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n, 3))
    X = latent @ rng.normal(size=(3, d)) + 0.1 * rng.normal(size=(n, d))
    return (X * np.arange(1, d + 1) + 5).astype(np.float32)


class _Identity:
    def transform(self, X):
        return X


def test_file_backed_is_detected_through_views(tmp_path):
    mm = _memmap(tmp_path, _data(10))
    assert is_file_backed(mm) and is_file_backed(np.asarray(mm)) and is_file_backed(mm[2:5])
    assert not is_file_backed(np.array(mm)) and not is_file_backed(np.zeros(3))


@pytest.mark.parametrize("batch_size", [7, 64, 1000])
def test_each_row_once_per_pass_in_full_batches(tmp_path, batch_size):
    X = np.arange(1003 * 2, dtype=np.float32).reshape(1003, 2)
    rows = StreamedRows(_memmap(tmp_path, X), None, _Identity(), torch.device("cpu"),
                        chunk_rows=100)
    generator = torch.Generator().manual_seed(0)
    seen, sizes = [], []
    for X_batch, y_batch in rows.epoch_batches(batch_size, generator):
        assert y_batch is None
        seen.append(X_batch[:, 0].numpy())
        sizes.append(len(X_batch))
    seen = np.sort(np.concatenate(seen))
    np.testing.assert_array_equal(seen, X[:, 0])
    assert all(s == batch_size for s in sizes[:-1]) and 0 < sizes[-1] <= batch_size
    # Shuffled: neither the chunks nor the rows come in file order.
    first = next(iter(rows.epoch_batches(batch_size, generator)))[0][:, 0].numpy()
    assert not np.array_equal(first, X[: len(first), 0])


def test_train_and_validation_rows_split_the_file(tmp_path):
    X = np.arange(5000, dtype=np.float32).reshape(5000, 1)
    mm = _memmap(tmp_path, X)
    parts = {part: StreamedRows(mm, None, _Identity(), torch.device("cpu"), part=part,
                                fraction=0.2, seed=3, chunk_rows=512)
             for part in ("train", "validation")}
    values = {part: np.concatenate([c[0][:, 0].numpy() for c in rows.chunks()])
              for part, rows in parts.items()}
    assert parts["train"].shape[0] == len(values["train"])
    assert parts["validation"].shape[0] == len(values["validation"])
    np.testing.assert_array_equal(np.sort(np.concatenate(list(values.values()))), X[:, 0])
    assert 800 < len(values["validation"]) < 1200  # 20% of 5000, drawn per row


def test_fit_on_a_memmap_never_copies_it_whole(tmp_path, monkeypatch):
    X = _data()
    mm = _memmap(tmp_path, X)

    def no_copy(*args, **kwargs):
        raise AssertionError("the whole training array was copied into memory")

    in_memory = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=15,
                            random_state=0).fit(X)
    monkeypatch.setattr(data, "training_tensor", no_copy)
    streamed = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=15,
                           random_state=0).fit(mm)
    assert streamed.validation_scores_ is not None and len(streamed.loss_curve_) >= 5
    # The same scaling (from the same rows) and a model as good as in memory.
    np.testing.assert_allclose(streamed.mean_, in_memory.mean_, rtol=1e-6)
    mse = {name: np.mean((est.inverse_transform(est.transform(X)) - X) ** 2)
           for name, est in (("streamed", streamed), ("in memory", in_memory))}
    assert mse["streamed"] < 1.5 * mse["in memory"]
    # Inference reads the memmap in chunks too, with the results of an array.
    np.testing.assert_allclose(streamed.score_samples(mm), streamed.score_samples(X), rtol=1e-5)


def test_streamed_fit_is_seeded_and_variants_work(tmp_path):
    X = _data(1200)
    mm = _memmap(tmp_path, X)
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    a = DenoisingAutoencoder(n_components=3, hidden_layer_sizes=(8,), max_iter=3,
                             random_state=1).fit(mm)
    b = DenoisingAutoencoder(n_components=3, hidden_layer_sizes=(8,), max_iter=3,
                             random_state=1).fit(mm)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    cae = ConditionalAutoencoder(n_components=2, hidden_layer_sizes=(8,), max_iter=3,
                                 random_state=0).fit(mm, y)
    assert cae.transform(mm).shape == (1200, 2)
    assert np.isfinite(cae.score_samples(mm)).all()


def test_bad_values_in_a_memmap_are_reported(tmp_path):
    X = _data(500)
    X[17, 3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        Autoencoder(max_iter=2).fit(_memmap(tmp_path, X))


def test_a_memmap_with_gaps_trains_on_its_observed_entries(tmp_path):
    X = _data(500)
    X[17, 3] = X[40, 0] = np.nan
    model = Autoencoder(max_iter=2, random_state=0).fit(_memmap(tmp_path, X))
    assert np.isfinite(model.score_samples(X)).all()
