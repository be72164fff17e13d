"""
Tuning the code size with GridSearchCV
======================================

:meth:`sklearn_ae.Autoencoder.score` is minus the mean reconstruction error, so
:class:`~sklearn.model_selection.GridSearchCV` needs no scorer, exactly as for
:class:`~sklearn.decomposition.PCA`. Here both are searched over the code size
on the digits, with the same grid and the same folds.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import Autoencoder

X, _ = load_digits(return_X_y=True)
sizes = [2, 4, 8, 16]

# max_iter=40 keeps the 12 fits of this search short; the default budget
# (about 200 epochs on 1,800 rows) trains further.
searches = {
    "PCA": GridSearchCV(make_pipeline(StandardScaler(), PCA(random_state=0)),
                        {"pca__n_components": sizes}, cv=3),
    "Autoencoder": GridSearchCV(
        make_pipeline(StandardScaler(), Autoencoder(max_iter=40, random_state=0)),
        {"autoencoder__n_components": sizes}, cv=3),
}
for name, search in searches.items():
    search.fit(X)
    print(name, "best:", search.best_params_)

# %%
# PCA's score is a log-likelihood and the autoencoder's minus a squared error,
# so each curve is read on its own: both pick the largest code in this grid.
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
for ax, (name, search) in zip(axes, searches.items()):
    ax.plot(sizes, search.cv_results_["mean_test_score"], "o-")
    ax.set_xticks(sizes)
    ax.set_xlabel("n_components")
    ax.set_title(f"{name}: mean CV score")
fig.tight_layout()
plt.show()
