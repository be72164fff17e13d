"""
Outlier detection on a table, and why a row is flagged
======================================================

An :class:`sklearn_ae.OutlierAutoencoder` learns what ordinary rows of a
table look like; rows it reconstructs badly, or that an isolation forest
isolates quickly, are outliers. We use the breast cancer table
shipped with scikit-learn, keep the benign tumours as the ordinary rows and
mix in a few malignant ones. The detector never sees the labels: they only
judge it at the end.

``decision_function`` is the score minus the threshold ``offset_``;
negative means outlier. ``feature_contributions`` then splits a flagged row's
score by feature: the reconstruction error's part by each feature's error, the
forest's part by the splits that isolate the row.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_ae import OutlierAutoencoder

data = load_breast_cancer(as_frame=True)
X, y = data.data, 1 - data.target  # 1 = malignant
rng = np.random.RandomState(0)
keep = np.flatnonzero(y == 0).tolist() + rng.choice(np.flatnonzero(y == 1), 20, replace=False).tolist()
X, y = X.iloc[keep], y.iloc[keep]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y,
                                                    random_state=0)

detector = OutlierAutoencoder(contamination="auto", random_state=0).fit(X_train)
decision = detector.decision_function(X_test)
print(f"ROC-AUC on the test rows: {roc_auc_score(y_test, -decision):.3f}")
print(f"flagged: {np.mean(decision < 0):.1%} of the test rows")

# %%
# The decision function of benign and malignant test rows, and the threshold.
fig, ax = plt.subplots(figsize=(7, 3))
bins = np.linspace(decision.min(), decision.max(), 40)
ax.hist(decision[y_test == 0], bins=bins, alpha=0.7, label="benign")
ax.hist(decision[y_test == 1], bins=bins, alpha=0.7, label="malignant")
ax.axvline(0, color="k", linestyle="--", label="threshold (offset_)")
ax.set_xlabel("decision_function (negative: outlier)")
ax.legend()
fig.tight_layout()

# %%
# Why is the most anomalous test row flagged? Each feature's part of its
# score; with ``normalize=True`` the parts are shares that sum to 1.
contributions = detector.feature_contributions(X_test, normalize=True)
worst = decision.argmin()
row = contributions.iloc[worst].sort_values(ascending=False)[:8]
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(row.index[::-1], row.values[::-1])
ax.set_xlabel("share of the row's outlier score")
ax.set_title(f"test row {X_test.index[worst]} (malignant: {bool(y_test.iloc[worst])})")
fig.tight_layout()
plt.show()
