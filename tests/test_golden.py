"""Golden outputs: every public estimator gives the same numbers, to the bit.

A guard for restructuring: on two small data sets, with fixed seeds, on the
CPU in float32, on one torch thread and two BLAS threads, each estimator's
``transform``, ``inverse_transform``, ``score_samples``,
``decision_function``, ``predict`` (and ``sample`` where it exists) are
compared with outputs recorded before the change. A change that means to
move outputs re-records them, and says so in its commit::

    python tests/test_golden.py --record

Floating-point results depend on the CPU's kernels (AVX2, AVX-512, AMX pick
different summation orders) and on the versions of torch, numpy, scipy and
scikit-learn (CI runs the suite at the newest and at the oldest versions
pyproject.toml allows), so recordings are kept per environment: the CPU
capability (as torch reports it) and those versions. An environment with no
recording yet is told how to make one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pathlib
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

from sklearn_ae import Autoencoder, OutlierAutoencoder
from sklearn_ae.utils import all_estimators

GOLDEN = pathlib.Path(__file__).with_name("golden_outputs.json")
FAST = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, device="cpu")


def _capability():
    """The environment a recording holds for: CPU capability and library versions."""
    import scipy
    import sklearn

    return (f"{torch.backends.cpu.get_cpu_capability()} torch {torch.__version__} "
            f"numpy {np.__version__} scipy {scipy.__version__} scikit-learn {sklearn.__version__}")


def _datasets():
    """Two small float32 sets: a table with planted outliers, and 8x8 digit images."""
    rng = np.random.RandomState(0)
    table = rng.normal(size=(160, 3)) @ rng.normal(size=(3, 6)) + 0.1 * rng.normal(size=(160, 6))
    table[:6] += rng.normal(scale=5.0, size=(6, 6))
    table = (table * [1.0, 10.0, 0.1, 3.0, 100.0, 1.0] + [0, 5, -2, 0, 1e3, 0]).astype(np.float32)
    X, y = load_digits(return_X_y=True)
    digits = (X[:240] / 16.0).astype(np.float32)
    return {
        "table": (table, (table[:, 0] > 0).astype(int)),
        "digits": (digits, y[:240] % 3),
    }


def _cases():
    """(name, estimator factory, needs y) for every estimator and a few paths of note."""
    cases = []
    for name, cls in all_estimators():
        cases.append((name, lambda cls=cls: cls(**FAST), name == "ConditionalAutoencoder"))
    cases += [
        # Default widths: the fit may keep PCA's linear autoencoder.
        ("Autoencoder-auto", lambda: Autoencoder(max_iter=5, random_state=0, device="cpu"),
         False),
        ("Autoencoder-combined-refit", lambda: Autoencoder(
            outlier_score="combined", refit_fraction=0.1, **FAST), False),
        ("OutlierAutoencoder-defaults", lambda: OutlierAutoencoder(
            max_iter=5, random_state=0, device="cpu"), False),
    ]
    return cases


# BLAS threads the recordings were made with: every recording machine had 2
# cores, and OpenBLAS ran one thread per core. Older OpenBLAS builds (numpy
# 1.24's) split even small products between threads, which moves the last bits
# of PCA's and MinCovDet's results; pinned here, the outputs do not depend on
# the machine's cores or on the workers a test runner starts (tests/conftest.py
# gives each worker its share).
_RECORDED_BLAS_THREADS = 2


@contextlib.contextmanager
def _recording_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(_RECORDED_BLAS_THREADS, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)


def _outputs(make, needs_y, X, y):
    est = make()
    if "Convolutional" in type(est).__name__ and X.shape[1] == 64:
        est.set_params(image_shape=(1, 8, 8))
    fit_y = y if needs_y else None
    with _recording_threads():
        est.fit(X, fit_y)
        # The conditional model's methods take the conditions too.
        given = (y,) if needs_y else ()
        out = {"transform": est.transform(X)}
        out["inverse_transform"] = est.inverse_transform(out["transform"], *given)
        out["score_samples"] = est.score_samples(X, *given)
        out["decision_function"] = est.decision_function(X, *given)
        out["predict"] = est.predict(X, *given)
        if hasattr(est, "sample"):
            args = (5, y[0]) if needs_y else (5,)
            out["sample"] = est.sample(*args, random_state=0)
        # Training further: partial_fit continues the fitted network.
        est.partial_fit(X, fit_y)
        out["partial_fit_scores"] = est.score_samples(X, *given)
    return out


def _fingerprint(value):
    """SHA-256 of an array's dtype, shape and bytes, and its sum (to say how far it moved)."""
    value = np.ascontiguousarray(value)
    digest = hashlib.sha256(f"{value.dtype.str}{value.shape}".encode())
    digest.update(value.tobytes())
    return {"sha256": digest.hexdigest(), "sum": float(np.sum(value, dtype=np.float64))}


def _all_outputs():
    found = {}
    for data_name, (X, y) in _datasets().items():
        for name, make, needs_y in _cases():
            for method, value in _outputs(make, needs_y, X, y).items():
                key = f"{_capability()}/{data_name}/{name}/{method}"
                found[key] = _fingerprint(np.asarray(value))
    return found


def _recorded():
    if not GOLDEN.exists():
        return {}
    return json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def outputs():
    return _all_outputs()


def test_golden_outputs_are_identical_to_the_bit(outputs):
    recorded = _recorded()
    mine = [k for k in recorded if k.startswith(_capability() + "/")]
    if not mine:
        pytest.skip(
            f"no golden outputs recorded for this environment ({_capability()}; "
            f"recorded: {sorted({k.split('/')[0] for k in recorded})}): run "
            "`python tests/test_golden.py --record` on the commit before your change")
    assert sorted(mine) == sorted(outputs), "estimators or methods differ from the recording"
    changed = [f"{k} (sum {recorded[k]['sum']!r} -> {outputs[k]['sum']!r})"
               for k in mine if recorded[k]["sha256"] != outputs[k]["sha256"]]
    assert not changed, f"{len(changed)} outputs changed: " + "; ".join(changed[:5])


def test_golden_outputs_are_reproducible(outputs):
    # What the recording relies on: a second run in this process agrees.
    X, y = _datasets()["table"]
    name, make, needs_y = _cases()[0]
    again = _outputs(make, needs_y, X, y)
    for method, value in again.items():
        assert _fingerprint(value) == outputs[f"{_capability()}/table/{name}/{method}"]


if __name__ == "__main__" and "--record" in sys.argv:
    stored = {k: v for k, v in _recorded().items() if not k.startswith(_capability() + "/")}
    stored.update(_all_outputs())
    GOLDEN.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(stored)} arrays in {GOLDEN}")
