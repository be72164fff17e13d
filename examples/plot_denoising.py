"""
Denoising images
================

A :class:`sklearn_ae.DenoisingAutoencoder` is trained to rebuild clean digits
from corrupted ones. Given noisy digits it has never seen, it returns digits
closer to the clean ones than a plain autoencoder or PCA does.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_ae import Autoencoder, DenoisingAutoencoder

X, _ = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test = X[:1400], X[1400:]
rng = np.random.RandomState(0)
noisy = np.clip(X_test + rng.normal(scale=0.3, size=X_test.shape), 0, 1)

models = {
    "PCA(16)": PCA(16, random_state=0),
    "Autoencoder": Autoencoder(16, random_state=0),
    "DenoisingAutoencoder": DenoisingAutoencoder(16, random_state=0),
}
cleaned = {}
for name, model in models.items():
    model.fit(X_train)
    cleaned[name] = model.inverse_transform(model.transform(noisy))
    error = np.mean((cleaned[name] - X_test) ** 2)
    print(f"{name:22s} error against the clean digits {error:.4f}")

# %%
# Rows: clean, noisy, then each model's reconstruction of the noisy digit.
rows = {"clean": X_test, "noisy": noisy, **cleaned}
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 1.1 * len(rows)))
for r, (name, images) in enumerate(rows.items()):
    for c in range(8):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
fig.tight_layout()
plt.show()
