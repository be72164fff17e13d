"""Our detectors as PyOD detectors, for PyOD's tooling (evaluation, combination, thresholds).

``PyODDetector`` is a :class:`pyod.models.base.BaseDetector`: it is defined on
first use, so importing this module does not need PyOD
(``pip install 'sklearn_ae[pyod]'``).

Examples
--------
>>> import numpy as np
>>> from sklearn_ae import OutlierAutoencoder
>>> from sklearn_ae.pyod import PyODDetector
>>> X = np.random.RandomState(0).normal(size=(200, 4))
>>> detector = PyODDetector(OutlierAutoencoder(max_iter=5, random_state=0),
...                         contamination=0.05).fit(X)
>>> float(detector.labels_.mean())  # PyOD's labels: 1 for outliers
0.05
"""

from __future__ import annotations

__all__ = ["PyODDetector"]  # noqa: F822 (defined on first use, by __getattr__)

_CLASS = None


def _doc():
    return """A detector of sklearn_ae as a PyOD detector (``BaseDetector``).

    PyOD's conventions: ``decision_function`` and ``decision_scores_`` are
    outlier scores, higher for more anomalous rows (minus our
    ``score_samples``); ``labels_`` and ``predict`` give 1 for outliers and
    0 for inliers; ``threshold_`` is on the outlier scores. So PyOD's
    evaluation, combination and thresholding utilities take it as they
    take PyOD's own detectors.

    Parameters
    ----------
    estimator : estimator of sklearn_ae or None, default=None
        The detector to adapt (cloned on fit); None for
        :class:`~sklearn_ae.OutlierAutoencoder` with its defaults.
    contamination : float in (0, 0.5] or a pythresh thresholder, default=0.1
        As PyOD's: the share of outliers that sets ``threshold_``, or a
        ``pythresh`` thresholder that finds it.

    Attributes
    ----------
    estimator_ : estimator of sklearn_ae
        The fitted detector.
    decision_scores_ : ndarray of shape (n_samples,)
        Outlier scores of the training rows (higher is more anomalous).
    threshold_ : float
        Outlier scores above it are outliers.
    labels_ : ndarray of shape (n_samples,)
        1 for the training rows above ``threshold_``, else 0.
    """


def _build():
    """The adapter class, subclassing PyOD's ``BaseDetector`` (imported here)."""
    try:
        from pyod.models.base import BaseDetector
    except ImportError as exc:
        raise ImportError(
            "PyODDetector needs PyOD: pip install 'sklearn_ae[pyod]'.") from exc
    from sklearn.base import clone
    from sklearn.utils.validation import check_is_fitted

    class PyODDetector(BaseDetector):
        __doc__ = _doc()

        def __init__(self, estimator=None, contamination=0.1):
            super().__init__(contamination=contamination)
            self.estimator = estimator

        def fit(self, X, y=None):
            """Fit the detector on ``X`` (``y`` is ignored, as PyOD's detectors ignore it).

            Parameters
            ----------
            X : array-like of shape (n_samples, n_features)
            y : None
                Ignored.

            Returns
            -------
            self : object
            """
            from . import OutlierAutoencoder

            self._set_n_classes(y)
            template = OutlierAutoencoder() if self.estimator is None else self.estimator
            self.estimator_ = clone(template).fit(X)
            self.decision_scores_ = -self.estimator_.score_samples(X)
            self._process_decision_scores()
            return self

        def decision_function(self, X):
            """Outlier score of each row: higher is more anomalous (PyOD's sign).

            Parameters
            ----------
            X : array-like of shape (n_samples, n_features)

            Returns
            -------
            scores : ndarray of shape (n_samples,)
            """
            check_is_fitted(self, ["estimator_"])
            return -self.estimator_.score_samples(X)

    PyODDetector.__module__ = __name__
    return PyODDetector


def __getattr__(name):
    global _CLASS
    if name == "PyODDetector":
        if _CLASS is None:
            _CLASS = _build()
        return _CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
