"""
A 2-D map of codes
==================

With ``n_components=2`` an autoencoder draws a map of the data, as PCA does,
but along curved directions. Each point is a digit, coloured by its label,
which neither model saw.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_ae import Autoencoder

X, y = load_digits(return_X_y=True)
maps = {
    "PCA": PCA(2, random_state=0).fit_transform(X),
    "Autoencoder": Autoencoder(2, random_state=0).fit_transform(X),
}

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, codes) in zip(axes, maps.items()):
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=6)
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()
