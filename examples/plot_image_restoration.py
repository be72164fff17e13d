"""
Deblurring, super-resolution and inpainting
===========================================

One recipe for every degradation: train an autoencoder on clean patches with
the degradation as its ``corruption`` (:mod:`sklearn_ae.corruptions`), then
restore whole images with :func:`sklearn_ae.images.restore_image`. Here on
scikit-image's bundled photos: the model trains on patches of three photos
and restores a fourth it has never seen, against the classical tool for each
task (Richardson-Lucy deconvolution, bicubic interpolation, biharmonic
inpainting). For inpainting, the model is first adapted to the photo with
its holes (:func:`sklearn_ae.images.adapt_to_image`: trained further on the
pixels the photo has, hiding some and filling them). ``python -m benchmarks
restoration`` measures the library's defaults at full size.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data, restoration
from skimage.color import rgb2gray

from sklearn_ae.corruptions import Blur, Downsample, GaussianNoise, Masking
from sklearn_ae.images import (adapt_to_image, image_patches, make_restorer, psnr,
                               restore_image)

training = [rgb2gray(data.astronaut()), rgb2gray(data.coffee()), data.brick() / 255.0]
patches = np.concatenate([image_patches(p[::2, ::2], 8, stride=2) for p in training])
clean = data.camera()[96:352:2, 128:384:2] / 255.0  # a 128x128 part, never trained on
image_shape = (1, *clean.shape)

tasks = {
    "deblur": ([Blur(1.6), GaussianNoise(0.01)],
               lambda x: restoration.richardson_lucy(np.clip(x, 0, 1), Blur(1.6).psf(),
                                                     num_iter=30),
               "Richardson-Lucy"),
    "super-resolution 2x": (Downsample(2), lambda x: x, "bicubic"),
    "inpainting (50% missing)": (Masking(0.5),
                                 lambda x: restoration.inpaint_biharmonic(np.nan_to_num(x),
                                                                          np.isnan(x)),
                                 "biharmonic"),
}

fig, axes = plt.subplots(len(tasks), 4, figsize=(11, 3 * len(tasks)))
for row, (task, (corruption, classical, classical_name)) in zip(axes, tasks.items()):
    steps = corruption if isinstance(corruption, list) else [corruption]
    degraded = clean.reshape(1, -1)
    for i, step in enumerate(steps):
        degraded = step(degraded, random_state=i, image_shape=image_shape)
    degraded = degraded.reshape(clean.shape)
    # A smaller network and fewer epochs than make_restorer's defaults, for speed.
    model = make_restorer(corruption, image_shape=(8, 8), hidden_layer_sizes=(256, 128),
                          max_iter=20, random_state=0).fit(patches)
    name = "autoencoder"
    if isinstance(corruption, Masking):
        # The documented way to inpaint a photo: adapt the model to it first.
        model, name = adapt_to_image(model, degraded), "autoencoder, adapted"
    ours = np.clip(restore_image(model, degraded, stride=2), 0, 1)
    theirs = np.clip(classical(degraded), 0, 1)
    shown = {"degraded": np.nan_to_num(degraded), classical_name: theirs, name: ours}
    print(f"{task:26s} {classical_name} {psnr(clean, theirs):5.2f} dB, "
          f"{name} {psnr(clean, ours):5.2f} dB")
    row[0].imshow(clean, cmap="gray", vmin=0, vmax=1)
    row[0].set_title("clean")
    row[0].set_ylabel(task)
    for ax, (name, image) in zip(row[1:], shown.items()):
        ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}\n{psnr(clean, np.clip(image, 0, 1)):.2f} dB")
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()
plt.show()
