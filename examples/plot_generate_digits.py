"""
Generating digits: variational, conditional and adversarial autoencoders
========================================================================

Three generative autoencoders fitted on the 8x8 digits, each asked for new
digits with ``sample``. The :class:`sklearn_ae.ConditionalAutoencoder` is
fitted with the labels and generates the digit it is asked for.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sklearn_ae import AdversarialAutoencoder, ConditionalAutoencoder, VariationalAutoencoder

X, y = load_digits(return_X_y=True)
X = X / 16.0

vae = VariationalAutoencoder(n_components=8, random_state=0).fit(X)
cvae = ConditionalAutoencoder(n_components=8, random_state=0).fit(X, y)
aae = AdversarialAutoencoder(n_components=8, random_state=0).fit(X)

samples = {
    "VariationalAutoencoder": vae.sample(10, random_state=0),
    "ConditionalAutoencoder, y=0..9": np.vstack(
        [cvae.sample(1, y=digit, random_state=digit) for digit in range(10)]),
    "AdversarialAutoencoder": aae.sample(10, random_state=0),
}

# %%
# Each row: ten generated digits (the decoder's expected pixel values).
fig, axes = plt.subplots(3, 10, figsize=(9, 3.2))
for r, (name, images) in enumerate(samples.items()):
    for c in range(10):
        axes[r, c].imshow(np.clip(images[c], 0, 1).reshape(8, 8), cmap="gray_r")
        axes[r, c].axis("off")
    axes[r, 0].set_title(name, loc="left", fontsize=9)
fig.tight_layout()
plt.show()
