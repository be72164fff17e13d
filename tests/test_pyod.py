"""PyOD interop: our detectors as PyOD detectors, and pythresh thresholders as contamination."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae import Autoencoder, OutlierAutoencoder

pyod = pytest.importorskip("pyod", reason="PyOD interop needs PyOD (the pyod extra)")

SMALL = dict(max_iter=20, random_state=0, device="cpu")


def _planted(seed=0):
    rng = np.random.RandomState(seed)
    X = np.vstack([rng.normal(size=(300, 5)), rng.normal(6.0, 1.0, size=(12, 5))])
    y = np.r_[np.zeros(300), np.ones(12)]
    return X, y


def test_adapter_is_a_pyod_detector_with_pyods_signs():
    from pyod.models.base import BaseDetector
    from pyod.utils.utility import check_detector

    from sklearn_ae.pyod import PyODDetector

    X, _ = _planted()
    detector = PyODDetector(OutlierAutoencoder(**SMALL), contamination=0.05)
    check_detector(detector)
    detector.fit(X)
    assert isinstance(detector, BaseDetector)
    ours = detector.estimator_
    assert_allclose(detector.decision_scores_, -ours.score_samples(X))
    assert_allclose(detector.decision_function(X[:7]), -ours.score_samples(X[:7]))
    assert set(np.unique(detector.labels_)) <= {0, 1}
    assert detector.labels_.mean() == pytest.approx(0.05, abs=0.01)
    assert_array_equal(detector.predict(X), (detector.decision_function(X)
                                             > detector.threshold_).astype(int))
    assert detector.predict_proba(X).shape == (len(X), 2)


def test_pyod_evaluation_helpers_run_on_the_adapter(capsys):
    from pyod.utils.data import evaluate_print
    from pyod.utils.utility import precision_n_scores

    from sklearn_ae.pyod import PyODDetector

    X, y = _planted()
    detector = PyODDetector(OutlierAutoencoder(**SMALL)).fit(X)
    evaluate_print("OutlierAutoencoder", y, detector.decision_scores_)
    assert "OutlierAutoencoder ROC:" in capsys.readouterr().out
    # The 12 planted rows are the 12 highest outlier scores.
    assert precision_n_scores(y, detector.decision_scores_) == 1.0


def test_default_adapter_is_the_detector_and_clones_it():
    from sklearn_ae.pyod import PyODDetector

    X, _ = _planted()
    template = OutlierAutoencoder(**SMALL)
    detector = PyODDetector(template).fit(X)
    assert detector.estimator_ is not template and not hasattr(template, "module_")
    assert isinstance(PyODDetector().fit(X[:100]).estimator_, OutlierAutoencoder)


def test_pyod_thresholds_the_adapter_with_pythresh():
    pytest.importorskip("pythresh")
    from pythresh.thresholds.iqr import IQR

    from sklearn_ae.pyod import PyODDetector

    X, y = _planted()
    detector = PyODDetector(OutlierAutoencoder(**SMALL), contamination=IQR()).fit(X)
    assert detector.labels_[y == 1].all() and detector.labels_.mean() < 0.1


@pytest.mark.parametrize("cls", [Autoencoder, OutlierAutoencoder])
def test_contamination_takes_a_pythresh_thresholder(cls):
    pytest.importorskip("pythresh")
    from pythresh.thresholds.iqr import IQR

    X, y = _planted()
    thresholder = IQR()
    model = cls(contamination=thresholder, **SMALL).fit(X)
    flagged = model.predict(X) == -1
    # The share of training rows the thresholder flags on the training
    # scores (PyOD's sign), not a share given in advance.
    found = IQR().fit(-model.score_samples(X)).labels_
    assert abs(flagged.sum() - found.sum()) <= 1 and 0 < flagged.mean() < 0.1
    if cls is OutlierAutoencoder:
        assert flagged[y == 1].all()
    # The parameter is not fitted in place: it stays the user's object.
    assert thresholder.labels_ is None
