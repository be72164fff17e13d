"""``offset_`` from the training rows' scores: what ``contamination`` says.

A share of outliers (a quantile), Tukey's outer fence ("auto"), or a
thresholder of `pythresh <https://github.com/KulikDM/pythresh>`_ that finds
the share from the scores, for users who do not know it.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["contamination_offset", "inlier_labels"]


def _thresholded_share(scores, thresholder):
    """The share of rows a pythresh thresholder flags among these scores."""
    # A copy: fitting must not change the estimator's parameter.
    thresholder = copy.deepcopy(thresholder)
    outlying = -np.asarray(scores, dtype=np.float64)  # PyOD's sign: higher is more anomalous
    finite = np.isfinite(outlying)
    if not finite.all():
        # Rows too extreme to score are the most outlying of all, but a
        # thresholder needs finite numbers.
        top = outlying[finite].max() if finite.any() else 0.0
        outlying = np.where(finite, outlying, top + 1.0)
    thresholder.fit(outlying)
    return float(np.mean(np.asarray(thresholder.labels_) == 1))


def contamination_offset(scores, contamination):
    """``offset_``: rows whose score is below it are outliers.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        The training rows' ``score_samples`` (higher is more normal).
    contamination : float, "auto" or a pythresh thresholder
        A share of outliers: its quantile of the scores. "auto": Tukey's
        outer fence, ``Q1 - 3 * IQR``. A thresholder (an object with
        ``fit(scores)`` and ``labels_``, as pythresh's): the quantile at the
        share of training rows it flags.

    Returns
    -------
    float
    """
    if isinstance(contamination, str):  # "auto"
        q1, q3 = np.percentile(scores, [25, 75])
        return float(q1 - 3.0 * (q3 - q1))
    if hasattr(contamination, "fit"):
        contamination = _thresholded_share(scores, contamination)
    return float(np.percentile(scores, 100.0 * contamination))


def inlier_labels(decision):
    """+1 where ``decision >= 0``, else -1 (also where the score is NaN: an outlier)."""
    return np.where(decision >= 0, 1, -1)
