"""
A table with holes: impute it, and find its outliers without imputing
=====================================================================

Real tables have missing cells. The usual fix, a
:class:`~sklearn.impute.SimpleImputer` in front, fills every gap with its
column's mean: a model downstream then learns those invented values, and an
outlier score judges a row partly by them.

Every estimator of sklearn_ae takes the gaps as they are: it trains on the
observed cells only and scores a row by the cells it has. When another model
needs a complete table, :class:`sklearn_ae.AutoencoderImputer` fills the gaps
from an autoencoder's reconstruction of each row.

We take the breast cancer table shipped with scikit-learn, keep the benign
tumours as the ordinary rows with a few malignant ones mixed in, and blank a
fifth of the cells at random.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import AutoencoderImputer, OutlierAutoencoder

data = load_breast_cancer(as_frame=True)
X, y = data.data, 1 - data.target  # 1 = malignant
rng = np.random.RandomState(0)
keep = np.flatnonzero(y == 0).tolist() + rng.choice(np.flatnonzero(y == 1), 20,
                                                     replace=False).tolist()
X, y = X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)
holes = rng.rand(*X.shape) < 0.2
X_gaps = X.mask(holes)
print(f"{holes.mean():.0%} of the cells missing; "
      f"{X_gaps.isna().any(axis=1).mean():.0%} of the rows have a gap")

# %%
# Filling the gaps
# ----------------
# Each imputer fits on the table with gaps, as a user would, and fills it;
# the error is measured on the blanked cells, in units of each column's
# standard deviation.

scale = X.std().to_numpy()


def rmse(filled):
    return np.sqrt(np.mean(((np.asarray(filled) - X.to_numpy()) / scale)[holes] ** 2))


imputers = {
    "SimpleImputer (mean)": SimpleImputer(),
    "IterativeImputer": IterativeImputer(random_state=0),
    "AutoencoderImputer": AutoencoderImputer(random_state=0),
}
errors = {name: rmse(imp.fit_transform(X_gaps)) for name, imp in imputers.items()}
for name, value in errors.items():
    print(f"{name:22s} RMSE {value:.3f}")

# %%
# On this table :class:`~sklearn.impute.IterativeImputer` fills best: its
# columns are near-linear functions of each other (radius, perimeter and area
# of the same nuclei), which its linear regressions capture exactly. The
# autoencoder is well ahead of the column mean, and on the ADBench tables
# the two trade places (docs: Benchmarks, "Missing values").

# %%
# Finding the outliers
# --------------------
# The detector takes the gaps as they are. Against it: the same detector and
# an isolation forest behind mean imputation, and the detector on the
# complete table (what the gaps cost).

train, test = train_test_split(np.arange(len(X)), test_size=0.4, stratify=y, random_state=0)
detectors = {
    "OutlierAutoencoder, gaps as they are": (OutlierAutoencoder(random_state=0), X_gaps),
    "SimpleImputer + OutlierAutoencoder": (
        make_pipeline(SimpleImputer(), OutlierAutoencoder(random_state=0)), X_gaps),
    "SimpleImputer + IsolationForest": (
        make_pipeline(SimpleImputer(), StandardScaler(), IsolationForest(random_state=0)),
        X_gaps),
    "OutlierAutoencoder, complete table": (OutlierAutoencoder(random_state=0), X),
}
auc = {}
for name, (model, table) in detectors.items():
    model.fit(table.iloc[train])
    auc[name] = roc_auc_score(y.iloc[test], -model.score_samples(table.iloc[test]))
    print(f"{name:40s} ROC-AUC {auc[name]:.3f}")

# %%
# A flagged row's reasons are given for the cells it has: its missing cells
# get no part (NaN) of its score.

detector = detectors["OutlierAutoencoder, gaps as they are"][0]
worst = X_gaps.iloc[test].iloc[[np.argmin(detector.score_samples(X_gaps.iloc[test]))]]
parts = detector.feature_contributions(worst, normalize=True).iloc[0]
print(parts.sort_values(ascending=False).head(5).round(3))
print("missing in this row:", list(parts.index[parts.isna()]))

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
left.barh(list(errors), list(errors.values()), color=["#bbb", "#88a", "#c33"])
left.set(xlabel="RMSE on the blanked cells (column SDs)", title="Imputation")
right.barh(list(auc), list(auc.values()), color=["#c33", "#e99", "#88a", "#bbb"])
right.set(xlim=(0.5, 1.0), xlabel="test ROC-AUC", title="Outlier detection, 20% missing")
fig.tight_layout()
plt.show()
