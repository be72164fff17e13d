"""The scikit-learn API as a user meets it, over every public estimator."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import Autoencoder
from sklearn_ae.utils import all_estimators

from .conftest import FAST_PARAMS

ESTIMATORS = [cls for _, cls in all_estimators()]


def make(cls, **params):
    return cls(**{**FAST_PARAMS, **params})


def labels_for(X):
    """Two classes for estimators that need y (conditional models); others ignore it."""
    return (X[:, 0] > np.median(X[:, 0])).astype(int)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_pipeline_gridsearch_without_scorer(cls, blobs):
    pipe = make_pipeline(StandardScaler(), make(cls, max_iter=3))
    name = pipe.steps[-1][0]
    search = GridSearchCV(pipe, {f"{name}__n_components": [1, 3]}, cv=3)
    search.fit(blobs, labels_for(blobs))
    assert search.best_params_[f"{name}__n_components"] in (1, 3)
    # GridSearchCV maximises score(): the mean of score_samples where that is
    # the model's own per-row loss (Autoencoder's combined outlier score is
    # not; its score() is checked in test_outlier_score.py).
    best = search.best_estimator_
    y = labels_for(blobs)
    assert search.score(blobs, y) == pytest.approx(best.score(blobs, y))
    if getattr(best[-1], "outlier_score", "reconstruction") == "reconstruction":
        assert best.score(blobs) == pytest.approx(np.mean(best.score_samples(blobs)))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_clone_and_unfitted(cls):
    est = make(cls, n_components=3)
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "module_")


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_round_trip(cls, blobs, dump, tmp_path):
    est = make(cls, n_components=2).fit(blobs, labels_for(blobs))
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(est))
    else:
        joblib.dump(est, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    assert_array_equal(loaded.transform(blobs), est.transform(blobs))
    assert_array_equal(loaded.score_samples(blobs), est.score_samples(blobs))
    assert loaded.offset_ == est.offset_
    # Pickling must not have touched the live estimator.
    assert isinstance(est.device_, torch.device)


def test_pickle_holds_cpu_tensors_and_falls_back_to_cpu(blobs):
    est = make(Autoencoder).fit(blobs)
    state = est.__getstate__()
    assert all(p.device.type == "cpu" for p in state["module_"].parameters())
    # A model saved on a GPU machine says device_='cuda:0'; where no GPU is
    # visible it must load on the CPU and work.
    state["device_"] = "cuda:0"
    loaded = Autoencoder.__new__(Autoencoder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.cuda, "is_available", lambda: False)
        loaded.__setstate__(state)
    assert loaded.device_ == torch.device("cpu")
    assert_allclose(loaded.score_samples(blobs), est.score_samples(blobs))


@pytest.mark.gpu
def test_fitted_on_gpu_unpickles_on_cpu_only_machine(blobs, tmp_path):
    est = make(Autoencoder, device="cuda").fit(blobs)
    path = tmp_path / "gpu_model.pkl"
    path.write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", blobs)
    code = (
        "import pickle, numpy as np, torch;"
        "assert not torch.cuda.is_available();"
        f"m = pickle.loads(open(r'{path}', 'rb').read());"
        f"print(m.device_, m.score_samples(np.load(r'{tmp_path / 'X.npy'}')).sum())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"CUDA_VISIBLE_DEVICES": "", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == "cpu"
    assert float(out[1]) == pytest.approx(est.score_samples(blobs).sum(), rel=1e-4)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_pandas_in_and_out(cls, blobs):
    df = pd.DataFrame(blobs, columns=[f"f{i}" for i in range(blobs.shape[1])])
    df.index = df.index + 1000
    est = make(cls, n_components=3).set_output(transform="pandas")
    out = est.fit_transform(df, labels_for(blobs))
    prefix = cls.__name__.lower()
    assert list(out.columns) == [f"{prefix}{i}" for i in range(3)]
    assert out.index.equals(df.index)
    assert_array_equal(est.feature_names_in_, df.columns)
    assert_array_equal(est.get_feature_names_out(), out.columns)
    assert est.n_features_in_ == 5
    with pytest.raises(ValueError, match="feature names"):
        est.transform(df.rename(columns={"f0": "other"}))


def test_default_n_components(blobs):
    assert make(Autoencoder).fit(blobs).n_components_ == 2  # 5 features // 2
    wide = np.random.RandomState(0).normal(size=(50, 100))
    est = make(Autoencoder).fit(wide)
    assert est.n_components_ == 32
    assert list(est.get_feature_names_out()) == [f"autoencoder{i}" for i in range(32)]


def test_standardisation_is_internal_and_undone(blobs):
    est = Autoencoder(n_components=2, max_iter=200, random_state=0).fit(blobs)
    scaler = StandardScaler().fit(blobs)
    assert_allclose(est.mean_, scaler.mean_)
    # Every feature varies over most rows: plain standardisation.
    assert_allclose(est.scale_, scaler.scale_)
    X_hat = est.inverse_transform(est.transform(blobs))
    # Back in X's units: every feature, whatever its scale, is rebuilt to a
    # small share of its spread (the data lie on a 2-d plane plus noise).
    inliers = slice(5, None)
    rel = np.abs(X_hat[inliers] - blobs[inliers]).mean(axis=0) / blobs[inliers].std(axis=0)
    assert np.all(rel < 0.3), rel
    raw = Autoencoder(n_components=2, standardize=False, **FAST_PARAMS).fit(blobs)
    assert_array_equal(raw.mean_, 0.0)
    assert_array_equal(raw.scale_, 1.0)


def test_outlier_api(blobs):
    est = Autoencoder(n_components=2, random_state=0, contamination=0.05).fit(blobs)
    scores = est.score_samples(blobs)
    assert est.offset_ == pytest.approx(np.percentile(scores, 5))
    assert_allclose(est.decision_function(blobs), scores - est.offset_)
    labels = est.predict(blobs)
    assert set(np.unique(labels)) == {-1, 1}
    assert np.mean(labels == -1) == pytest.approx(0.05, abs=1 / 300)
    assert_array_equal(est.fit_predict(blobs), labels)
    # The five planted outliers are the most anomalous rows.
    truth = np.zeros(len(blobs))
    truth[:5] = 1
    assert roc_auc_score(truth, -scores) > 0.95
    est.set_params(outlier_score="reconstruction").fit(blobs)
    assert est.score(blobs) == pytest.approx(est.score_samples(blobs).mean())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(blobs, dtype):
    X = StandardScaler().fit_transform(blobs).astype(dtype)
    est = make(Autoencoder, n_components=2).fit(X)
    assert est.transform(X).dtype == dtype
    assert est.inverse_transform(est.transform(X)).dtype == dtype
    assert est.score_samples(X).dtype == np.float64


def test_inverse_transform_checks_width(blobs):
    est = make(Autoencoder, n_components=2).fit(blobs)
    with pytest.raises(ValueError, match="expecting 2 features"):
        est.inverse_transform(np.zeros((3, 4)))


def _mps_available():
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def test_device_auto_resolves(blobs):
    est = make(Autoencoder, device="auto").fit(blobs)
    expected = ("cuda" if torch.cuda.is_available()
                else "mps" if _mps_available() else "cpu")
    assert est.device_.type == expected
    assert next(est.module_.parameters()).device.type == expected


@pytest.mark.skipif(_mps_available(), reason="checks the error where there is no Apple GPU")
def test_device_mps_without_apple_gpu_is_a_clear_error(blobs):
    with pytest.raises(ValueError, match="sees no Apple GPU"):
        make(Autoencoder, device="mps").fit(blobs)


@pytest.mark.skipif(_mps_available(), reason="checks the fallback where there is no Apple GPU")
def test_model_from_an_apple_gpu_unpickles_on_the_cpu(blobs):
    # Fitted on the CPU, where the loaded copy computes: equal to the last bit.
    est = make(Autoencoder, device="cpu").fit(blobs)
    expected = est.transform(blobs)
    est.device_ = torch.device("mps")  # as an MPS fit records it
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.device_.type == "cpu"
    assert_array_equal(loaded.transform(blobs), expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on CPU-only machines")
def test_device_cuda_without_gpu_is_a_clear_error(blobs):
    with pytest.raises(ValueError, match="sees no CUDA GPU"):
        make(Autoencoder, device="cuda").fit(blobs)


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "tpu", ""])
def test_device_bad_string(blobs, device):
    with pytest.raises(ValueError, match="device must be"):
        make(Autoencoder, device=device).fit(blobs)


@pytest.mark.gpu
def test_fit_on_gpu(blobs):
    est = make(Autoencoder, device="cuda").fit(blobs)
    assert est.device_.type == "cuda"
    assert est.transform(blobs).shape == (300, est.n_components_)


def _no_observed_column(X):
    X = X.copy()
    X[:, 1] = np.nan
    return X


BAD_INPUTS = {
    # Fit only: a batch to predict may lack a feature in every row.
    "unobserved": (_no_observed_column, "no observed value"),
    "inf": (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 7, np.inf, X), "infinity"),
    # Predictions only: in fit, text is categories (tests/test_categorical.py).
    "strings": (lambda X: np.array([["a"] * X.shape[1]] * 4, dtype=object),
                r"categories or text \['0', '1', '2', '3', '4'\].*fitted on numbers only"),
    "empty": (lambda X: X[:0], "0 sample"),
    "features": (lambda X: X[:, :3], "3 features"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_clear_and_leaves_fitted_model(blobs, case):
    corrupt, message = BAD_INPUTS[case]
    est = make(Autoencoder, n_components=2).fit(blobs)
    before = est.transform(blobs)
    attrs = dict(vars(est))
    # A new fit may change the width, unless it continues the old one.
    fits = ["fit"] if case not in ("features", "strings") else []
    predictions = ["transform", "score_samples", "predict"] if case != "unobserved" else []
    for method in fits + predictions:
        with pytest.raises(ValueError, match=message):
            getattr(est, method)(corrupt(blobs))
    if case == "features":
        est.set_params(warm_start=True)
        with pytest.raises(ValueError, match=message):
            est.fit(corrupt(blobs))
        est.set_params(warm_start=False)
    assert vars(est).keys() == attrs.keys()
    assert all(vars(est)[k] is v for k, v in attrs.items())
    assert_array_equal(est.transform(blobs), before)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "n_components"),
        ({"hidden_layer_sizes": (8, -1)}, "hidden_layer_sizes"),
        ({"activation": "swish"}, "activation"),
        ({"contamination": 0.7}, "contamination"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_parameter_is_named(blobs, params, message):
    with pytest.raises(ValueError, match=message):
        make(Autoencoder, **params).fit(blobs)


def test_diverging_fit_says_what_to_change(blobs):
    est = make(Autoencoder, n_components=2).fit(blobs)
    before = est.score_samples(blobs)
    est.set_params(learning_rate_init=1e12, standardize=False, max_iter=20)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        est.fit(blobs * 1e6)
    # The failed fit left the earlier model, with its parameters' effects, intact.
    assert_array_equal(est.score_samples(blobs), before)
    assert np.all(np.isfinite(est.transform(blobs)))


def test_verbose_progress(blobs, capsys):
    make(Autoencoder, verbose=0).fit(blobs)
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    make(Autoencoder, verbose=1).fit(blobs)
    err = capsys.readouterr().err
    assert "Autoencoder" in err and "loss=" in err and "val_loss=" in err


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_overflowing_row_is_never_an_inlier(cls):
    # Finite float32 input so large that the network's arithmetic overflows.
    X = (0.01 * np.random.RandomState(0).normal(size=(200, 6))).astype(np.float32)
    y = labels_for(X)
    est = make(cls, max_iter=3).fit(X, y)
    huge = np.full((1, 6), 1e37, dtype=np.float32)
    with warnings.catch_warnings():
        # Said where the standardised rows overflow float32 (not where the
        # network's own arithmetic does): expected here, either way.
        warnings.filterwarnings("ignore", "X has values that overflow", RuntimeWarning)
        assert est.predict(huge)[0] == -1


def test_overflowing_row_with_the_combined_score():
    X = (0.01 * np.random.RandomState(0).normal(size=(200, 6))).astype(np.float32)
    est = make(Autoencoder, outlier_score="combined").fit(X)
    huge = np.full((1, 6), 1e37, dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflow float32"):
        assert est.predict(np.vstack([X[:3], huge]))[-1] == -1
