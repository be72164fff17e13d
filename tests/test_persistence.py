"""save/load on safetensors + JSON: identical outputs, no code run, damage detected."""

import json
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from safetensors.torch import save_file

from sklearn_ae import (
    Autoencoder,
    ConditionalAutoencoder,
    load,
    save,
)
from sklearn_ae._persistence import _METADATA_KEY, _checksum
from sklearn_ae.utils import all_estimators

ESTIMATORS = [cls for _, cls in all_estimators()]


def fitted(cls, **params):
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(120, 16)), np.array(["a", "b", "c"] * 40)
    model = cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0, **params)
    return (model.fit(X, y) if cls is ConditionalAutoencoder else model.fit(X)), X, y


def outputs(model, X, y):
    conditional = isinstance(model, ConditionalAutoencoder)
    Z = model.transform(X)
    out = [Z, model.score_samples(X), model.decision_function(X), model.predict(X),
           model.inverse_transform(Z, y) if conditional else model.inverse_transform(Z)]
    if hasattr(model, "sample"):
        out.append(model.sample(4, y="a", random_state=0) if conditional
                   else model.sample(4, random_state=0))
    return out


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_round_trip_gives_identical_outputs(cls, tmp_path):
    model, X, y = fitted(cls)
    loaded = load(save(model, tmp_path / "model.safetensors"))
    assert type(loaded) is cls
    assert loaded.get_params() == model.get_params()
    for before, after in zip(outputs(model, X, y), outputs(loaded, X, y)):
        assert_array_equal(after, before)
    assert loaded.loss_curve_ == model.loss_curve_
    assert_array_equal(loaded.feature_names_in_ if hasattr(model, "feature_names_in_")
                       else [], getattr(model, "feature_names_in_", []))


def test_round_trip_of_the_combined_score_and_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    model, X, y = fitted(Autoencoder, outlier_score="combined", refit_fraction=0.1)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(16)])
    model.fit(frame)
    loaded = load(save(model, tmp_path / "m.safetensors"))
    assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    assert_array_equal(loaded.score_samples(frame), model.score_samples(frame))
    assert loaded.code_density_.n_components == model.code_density_.n_components


def test_warm_start_continues_from_the_saved_optimizer(tmp_path):
    model, X, _ = fitted(Autoencoder, warm_start=True, early_stopping=False)
    loaded = load(save(model, tmp_path / "m.safetensors"))
    assert_array_equal(loaded.fit(X).transform(X), model.fit(X).transform(X))


def test_optimizer_state_is_kept_only_for_warm_start(tmp_path):
    model, _, _ = fitted(Autoencoder)
    small = (tmp_path / "small.safetensors")
    large = (tmp_path / "large.safetensors")
    save(model, small)
    save(model, large, include_optimizer=True)
    assert small.stat().st_size < 0.6 * large.stat().st_size
    assert "_optimizer_state" not in pickle.loads(pickle.dumps(model)).__dict__
    model.set_params(warm_start=True)
    assert "_optimizer_state" in pickle.loads(pickle.dumps(model)).__dict__


def test_truncated_file_is_an_error(tmp_path):
    model, _, _ = fitted(Autoencoder)
    path = save(model, tmp_path / "m.safetensors")
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable model file"):
        load(path)


def test_modified_weights_are_an_error(tmp_path):
    model, _, _ = fitted(Autoencoder)
    path = save(model, tmp_path / "m.safetensors")
    data = bytearray(open(path, "rb").read())
    data[-5] ^= 0xFF  # a byte of the last tensor
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        load(path)


def test_other_safetensors_files_are_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not one written by sklearn_ae"):
        load(path)


def test_a_file_cannot_name_arbitrary_classes(tmp_path):
    """Even with a valid checksum, only this library's estimators are built."""
    model, _, _ = fitted(Autoencoder)
    path = save(model, tmp_path / "m.safetensors")
    from safetensors import safe_open

    with safe_open(path, framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        document = json.loads(handle.metadata()[_METADATA_KEY])
    for field, value in [("class", "Popen"), ("state", {"x": {"__estimator__": "os.system"}})]:
        forged = {**document, field: value}
        header = json.dumps(forged, sort_keys=True)
        save_file(tensors, path, metadata={_METADATA_KEY: header,
                                           "checksum": _checksum(tensors, header)})
        with pytest.raises(ValueError, match="unknown estimator"):
            load(path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback of a CPU-only machine")
def test_model_fitted_on_a_gpu_loads_on_the_cpu(tmp_path):
    model, X, y = fitted(Autoencoder)
    expected = model.transform(X)
    model.device_ = torch.device("cuda:0")  # as a GPU fit records it
    loaded = load(save(model, tmp_path / "m.safetensors"))
    assert loaded.device_ == torch.device("cpu")
    assert_array_equal(loaded.transform(X), expected)


def test_save_refuses_what_it_cannot_restore(tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.exceptions import NotFittedError

    with pytest.raises(TypeError, match="estimator of sklearn_ae"):
        save(PCA(), tmp_path / "m.safetensors")
    with pytest.raises(NotFittedError):
        save(Autoencoder(), tmp_path / "m.safetensors")
