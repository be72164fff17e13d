"""
Denoising a photo, beside dictionary learning
=============================================

scikit-learn's example *Image denoising using dictionary learning* learns a
dictionary of 7x7 patches on the clean left half of a photo and denoises the
noisy right half with it. Here the same setting, with scikit-image's camera
photo (bundled, no download), and beside it an autoencoder trained on the
same clean half with :class:`sklearn_ae.corruptions.GaussianNoise`: it learns
to return clean 8x8 patches from noisy ones, and
:func:`sklearn_ae.images.restore_image` averages the overlapping restored
patches back into the image. Last, the same model adapted to the noisy half
itself (:func:`sklearn_ae.images.adapt_to_image`: trained further on that
half's own noisy patches, without its clean version), the library's way to
denoise a photo.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.transform import downscale_local_mean
from sklearn.decomposition import MiniBatchDictionaryLearning

from sklearn_ae.corruptions import GaussianNoise
from sklearn_ae.images import (
    adapt_to_image,
    image_patches,
    make_restorer,
    psnr,
    restore_image,
)

# A quarter of the camera photo's resolution, as scikit-learn's example downsamples.
photo = downscale_local_mean(data.camera() / 255.0, (2, 2))
height, width = photo.shape
left, right = photo[:, : width // 2], photo[:, width // 2 :]
sigma = 0.075
noisy = right + np.random.RandomState(0).normal(0, sigma, right.shape)

# %%
# Dictionary learning, as scikit-learn's example: 50 atoms on 7x7 patches of
# the clean half (means removed), orthogonal matching pursuit with 2 atoms.
start = time.perf_counter()
patches = image_patches(left, 7, stride=2)
means = patches.mean(axis=1, keepdims=True)
dico = MiniBatchDictionaryLearning(n_components=50, batch_size=200, alpha=1.0, max_iter=5,
                                   transform_algorithm="omp", transform_n_nonzero_coefs=2,
                                   random_state=0).fit(patches - means)


class Dictionary:
    """The dictionary as restore_image takes a model: transform, inverse_transform."""

    n_features_in_ = 49

    def transform(self, P):
        self.means = P.mean(axis=1, keepdims=True)
        return dico.transform(P - self.means)

    def inverse_transform(self, codes):
        return codes @ dico.components_ + self.means


by_dictionary = restore_image(Dictionary(), noisy, stride=1)
dictionary_seconds = time.perf_counter() - start

# %%
# The autoencoder: make_restorer's model, with a smaller network and fewer
# epochs than its defaults so that this example runs in seconds.
start = time.perf_counter()
model = make_restorer(GaussianNoise(sigma), image_shape=(8, 8), hidden_layer_sizes=(256, 128),
                      max_iter=30, random_state=0)
model.fit(image_patches(left, 8, stride=1))
by_autoencoder = restore_image(model, noisy, stride=1)
autoencoder_seconds = time.perf_counter() - start

# %%
# The model adapted to the noisy half: each epoch pairs the noisy patches plus
# a little fresh noise (input) with the noisy patches minus its inverse
# (target), whose noises are independent, so no clean image is needed.
start = time.perf_counter()
adapted = adapt_to_image(model, noisy, epochs=5, random_state=0)
by_adapted = restore_image(adapted, noisy, stride=1)
adapted_seconds = autoencoder_seconds + time.perf_counter() - start

results = {
    "noisy": (noisy, 0.0),
    "dictionary learning": (by_dictionary, dictionary_seconds),
    "autoencoder": (by_autoencoder, autoencoder_seconds),
    "autoencoder, adapted": (by_adapted, adapted_seconds),
}
for name, (image, seconds) in results.items():
    print(f"{name:20s} PSNR {psnr(right, np.clip(image, 0, 1)):5.2f} dB  ({seconds:.1f} s)")

# %%
# The clean half, the noisy half and the three restorations, with their PSNR.
fig, axes = plt.subplots(1, 5, figsize=(15, 4.2))
axes[0].imshow(right, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("clean")
for ax, (name, (image, _)) in zip(axes[1:], results.items()):
    ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{name}\n{psnr(right, np.clip(image, 0, 1)):.2f} dB")
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()
