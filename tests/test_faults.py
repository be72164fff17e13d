"""Faults found by a run of bad-input and fault cases against PCA, MLPRegressor and IsolationForest.

Each test here failed before its fix (issue 31, item 6).
"""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ae import (
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    OutlierAutoencoder,
    to_onnx,
)

SMALL = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0, device="cpu")


def _rows(n=60, d=4, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d))


def _interrupting(after):
    """An Autoencoder whose ``_train_step`` hook raises KeyboardInterrupt at step ``after``."""
    calls = {"n": 0}

    class Interrupting(Autoencoder):
        def _train_step(self, module, optimizers, X, y):
            calls["n"] += 1
            if calls["n"] == after:
                raise KeyboardInterrupt
            return super()._train_step(module, optimizers, X, y)

    return Interrupting


def test_ctrl_c_inside_partial_fit_stops_the_loop_and_keeps_the_last_pass():
    X = _rows()
    # Two batches per pass: the first call runs steps 1-2, the second is
    # interrupted at its second step.
    model = _interrupting(after=4)(batch_size=30, **SMALL).partial_fit(X)
    before = model.transform(X)
    n_iter = model.n_iter_
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X)
    assert model.n_iter_ == n_iter
    np.testing.assert_array_equal(model.transform(X), before)


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_detector_fitted_on_one_row_scores_finitely(how):
    X = _rows()
    model = OutlierAutoencoder(max_iter=2, random_state=0, early_stopping=how == "partial_fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(model, how)(X[:1])
    assert np.isfinite(model.offset_)
    assert np.all(np.isfinite(model.score_samples(X)))
    assert np.all(np.isfinite(model.decision_function(X)))
    # The training row itself is an inlier; rows far from it are not all.
    assert model.predict(X[:1])[0] == 1


@pytest.mark.parametrize("cls, params", [
    (Autoencoder, {"alpha": -1}),
    (Autoencoder, {"learning_rate_init": -1}),
    (Autoencoder, {"batch_size": 0}),
    (DenoisingAutoencoder, {"noise_level": -1}),
])
def test_partial_fit_after_set_params_validates_them(cls, params):
    X = _rows()
    model = cls(**SMALL).fit(X)
    before = model.transform(X)
    with pytest.raises(InvalidParameterError, match=list(params)[0]):
        model.set_params(**params).partial_fit(X)
    np.testing.assert_array_equal(model.transform(X), before)


def test_warm_start_refuses_a_changed_standardisation():
    X = _rows() * 100
    model = Autoencoder(warm_start=True, **SMALL).fit(X)
    with pytest.raises(ValueError, match="standardize changed from True to False"):
        model.set_params(standardize=False).fit(X)


@pytest.mark.parametrize("param", ["n_components", "batch_size", "max_iter", "n_iter_no_change"])
def test_a_boolean_is_not_a_count(param):
    with pytest.raises(ValueError, match=f"{param} must be an int, not a boolean"):
        Autoencoder(**{**SMALL, param: True}).fit(_rows())


def test_score_is_minus_inf_where_score_samples_is():
    X = _rows().astype(np.float32)
    model = Autoencoder(**SMALL).fit(X)
    big = np.full((1, 4), np.finfo(np.float32).max, dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert model.score_samples(big)[0] == -np.inf
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert model.score(big) == -np.inf


def test_exported_score_is_minus_inf_where_the_estimator_says_so():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    X = _rows().astype(np.float32)
    model = Autoencoder(**SMALL).fit(X)
    session = ort.InferenceSession(to_onnx(model, "score_samples").SerializeToString())
    big = np.full((1, 4), np.finfo(np.float32).max, dtype=np.float32)
    scores = session.run(None, {"X": np.vstack([X[:2], big])})[0]
    assert scores[-1] == -np.inf and np.all(np.isfinite(scores[:2]))


def test_to_onnx_of_a_foreign_estimator_says_what_it_takes():
    with pytest.raises(TypeError, match="estimator of sklearn_ae, got PCA"):
        to_onnx(PCA(2).fit(_rows()))


def test_sample_with_too_few_numeric_conditions_says_so():
    X = _rows()
    model = ConditionalAutoencoder(**SMALL).fit(X, X[:, :2])
    with pytest.raises(ValueError, match="1 condition value.*2 condition columns"):
        model.sample(3, y=[1.0])
    assert model.sample(3, y=[1.0, -1.0], random_state=0).shape == (3, 4)


@pytest.mark.parametrize("params, message", [
    ({"clip": ("a", "b")}, "clip must be a pair of numbers"),
    ({"noise_level": 1e30}, "noise_level=1e\\+30 is too large"),
])
def test_denoising_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        DenoisingAutoencoder(**{**SMALL, **params}).fit(_rows())


def test_divergence_from_the_scale_of_x_names_the_scale():
    X = np.abs(_rows(d=16)) * 1e30  # valid float64 data; images have standardize=False
    with pytest.raises(FloatingPointError, match="X reaches .* rescale X") as info:
        ConvolutionalAutoencoder(max_iter=2, random_state=0).fit(X)
    assert "learning_rate_init" not in str(info.value)


# -- load: the whole file checked against the class -------------------------
def _forge(path, change_document=None, change_tensors=None, header=None):
    """Rewrite a saved model with a changed description or tensors and a valid checksum."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    from sklearn_ae._persistence import _METADATA_KEY, _checksum

    with safe_open(path, framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        document = json.loads(handle.metadata()[_METADATA_KEY])
    if change_document:
        change_document(document)
    if change_tensors:
        change_tensors(tensors)
    header = json.dumps(document, sort_keys=True) if header is None else header(document)
    save_file(tensors, path, metadata={_METADATA_KEY: header,
                                       "checksum": _checksum(tensors, header)})
    return path


def _first_weight(tensors):
    return next(k for k in sorted(tensors) if k.startswith("module_/") and "weight" in k)


def _nan_weights(tensors):
    key = _first_weight(tensors)
    tensors[key] = torch_full_like(tensors[key], float("nan"))


def torch_full_like(t, value):
    import torch

    return torch.full_like(t, value)


def _reshaped(tensors):
    key = _first_weight(tensors)
    tensors[key] = tensors[key][:-1].clone()


@pytest.mark.parametrize("case, change_document, change_tensors, header, message", [
    ("missing module_", lambda d: d["state"].pop("module_"), None, None,
     "not a valid Autoencoder model: fitted attributes \\['module_'\\] are missing"),
    ("missing state key", lambda d: d["state"].pop("mean_"), None, None,
     "fitted attributes \\['mean_'\\] are missing"),
    ("NaN weights", None, _nan_weights, None, "are not finite"),
    ("ndarray as text", lambda d: d["state"].update(mean_="[0.0, 1.0]"), None, None,
     "mean_ must be 16 finite floats"),
    ("key shadows a method", lambda d: d["state"].update(transform=1.0), None, None,
     "\\['transform'\\] are not fitted attributes"),
    ("relabelled class", lambda d: d.update({"class": "VariationalAutoencoder"}), None, None,
     "not a valid VariationalAutoencoder model: .*unexpected keyword argument"),
    ("extra tensor", None, lambda t: t.update(extra=t[_first_weight(t)].clone()), None,
     "belong to no fitted attribute"),
    ("missing tensor", None, lambda t: t.pop(sorted(k for k in t if k.startswith("mean"))[0]),
     None, "names a tensor .* the file lacks"),
    ("reshaped tensor", None, _reshaped, None, "weights do not fit"),
    ("non-object JSON", None, None, lambda d: "[1, 2]", "must be a JSON object"),
    ("cut JSON", None, None, lambda d: __import__("json").dumps(d)[:-40], "is not JSON"),
])
def test_load_refuses_a_file_whose_structure_is_wrong(
        tmp_path, case, change_document, change_tensors, header, message):
    from sklearn_ae import load, save

    X = _rows(120, 16)
    model = Autoencoder(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    path = _forge(save(model, tmp_path / "m.safetensors"), change_document, change_tensors,
                  header)
    with pytest.raises(ValueError, match=message):
        load(path)


# -- DataFrame columns of text: categories in fit, named where the fit had none --
@pytest.mark.parametrize("column", [["low", "medium"] * 20, "category"])
def test_dataframe_text_columns_are_categories_or_named(column):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_rows(40, 3), columns=["a", "b", "c"])
    if column == "category":
        column = pd.Series(["low", "medium"] * 20).astype("category")
    frame["grade"] = column
    model = Autoencoder(**SMALL).fit(frame)
    np.testing.assert_array_equal(model.categories_[3], ["low", "medium"])
    fitted = Autoencoder(**SMALL).fit(frame[["a", "b", "c"]].assign(grade=1.0))
    with pytest.raises(ValueError, match=r"categories or text \['grade'\].*fitted on numbers"):
        fitted.score_samples(frame)


def test_a_nullable_column_with_na_is_a_column_with_gaps():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_rows(40, 3), columns=["a", "b", "c"])
    frame["grade"] = pd.Series([True, False, None, True] * 10, dtype="boolean")
    frame["level"] = pd.Series([1.5, None, 2.5, 3.0] * 10, dtype="Float64")
    model = Autoencoder(**SMALL).fit(frame)
    parts = model.feature_contributions(frame)
    assert np.all(np.isfinite(model.score_samples(frame)))
    assert parts["grade"].isna().sum() == 10 and parts["level"].isna().sum() == 10
    assert parts["a"].notna().all()


def test_numbers_as_categories_strings_and_nullable_booleans_are_numbers():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"]).assign(
        level=pd.Series(rng.randint(0, 3, 40)).astype("category"),
        reading=pd.Series(rng.normal(size=40)).astype(str).astype("string"),
        flag=pd.Series([True, False] * 20, dtype="boolean"))
    model = Autoencoder(**SMALL).fit(frame)
    assert np.all(np.isfinite(model.score_samples(frame)))


def test_a_small_move_in_a_near_constant_column_stays_small():
    X = _rows(200, 4)
    X[:, 3] = 5.0 + 1e-8 * np.random.RandomState(1).normal(size=200)  # spread 1e-8
    model = Autoencoder(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X)
    codes = model.transform(X)
    moved = X.copy()
    moved[:, 3] += 1e-3
    change = np.abs(model.transform(moved) - codes).max() / np.abs(codes).max()
    # It was about 5,800x the codes' size (StandardScaler + PCA: about 400x).
    assert change < 1.0
    # Features on ordinary scales keep their own spread.
    assert np.allclose(model.scale_[:3], X[:, :3].std(axis=0))
