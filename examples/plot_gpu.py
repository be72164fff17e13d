"""
Using a GPU
===========

``device="auto"`` (the default) trains on a CUDA GPU when PyTorch sees one and
on the CPU otherwise; nothing else changes. ``device_`` says where the network
went. A model fitted on a GPU can be pickled or saved and loaded on a machine
without one. This page was built on whatever machine built the docs; the
training curve below comes from it.
"""

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

from sklearn_ae import Autoencoder

X, _ = load_digits(return_X_y=True)
print("CUDA available:", torch.cuda.is_available())

ae = Autoencoder(n_components=16, device="auto", random_state=0).fit(X)
print("trained on:", ae.device_, "in", ae.precision_)

# %%
# Ask for a device explicitly with ``device="cuda"`` or ``"cuda:1"``; asking
# for one that is not there is an error that says so, never a silent fallback.
if not torch.cuda.is_available():
    try:
        Autoencoder(device="cuda").fit(X)
    except ValueError as error:
        print(error)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(ae.loss_curve_, label="training")
ax.plot(ae.validation_scores_, label="validation")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.set_yscale("log")
ax.legend()
ax.set_title(f"fitted on {ae.device_}")
fig.tight_layout()
plt.show()
