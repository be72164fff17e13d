"""
Compressing images to bytes
===========================

:func:`sklearn_ae.images.compress_image` stores the codes of an image's
patches as bytes; :func:`~sklearn_ae.images.decompress_image` decodes them.
The rate in bits per pixel counts every byte, header included.

For photos the library's route is transform coding (``step=``): the DCT of
8x8 patches (:class:`~sklearn_ae.images.PatchDCT`, JPEG's transform), every
coefficient rounded at one step with a dead zone and entropy-coded; then, at
the coarse steps, an autoencoder trained on pairs of decoded and clean
patches removes the blocks and restores detail at decompression
(``restorer=``). Here the restorer learns from three photos and a fourth is
compressed, beside an autoencoder's own 8-number code per patch quantised to
a number of bits, and JPEG (Pillow) at several qualities.
"""

import io

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from skimage import data
from skimage.color import rgb2gray
from sklearn_ae.images import (
    PatchDCT,
    compress_image,
    decompress_image,
    image_patches,
    make_restorer,
    psnr,
)

training = [rgb2gray(data.astronaut()), rgb2gray(data.coffee()), data.brick() / 255.0]
patches = np.concatenate([image_patches(p, 8, stride=4) for p in training])
photo = data.camera() / 255.0


def rate_and_quality(stored, decoded):
    return 8 * len(stored) / photo.size, psnr(photo, np.clip(decoded, 0, 1))


# %%
# Transform coding: the coder is the DCT of 8x8 patches, which learns
# nothing. Larger steps give fewer bytes.
dct = PatchDCT().fit(patches)
steps = (0.35, 0.25, 0.18, 0.12, 0.08, 0.05)
curves = {"DCT, transform-coded": [
    rate_and_quality(s, decompress_image(dct, s))
    for s in (compress_image(dct, photo, step=step) for step in steps)]}

# %%
# The restorer: the library's default restoration model, trained on the
# training photos decoded at the coarse steps (degraded) against the photos
# themselves (clean). It is used at those steps only; at finer ones the
# decoded photo is already better than what it reconstructs. Given to
# compress_image too, it is checked there on the photo (one byte says
# whether it helps), and decoding keeps each block's coefficients within
# the cells the stored ones came from.
coarse = steps[:4]
pairs = [(decompress_image(dct, compress_image(dct, p, step=step)), p)
         for p in training for step in coarse]
restorer = make_restorer(None, image_shape=(8, 8), hidden_layer_sizes=(256, 128),
                         max_iter=10, random_state=0)
restorer.fit(np.concatenate([image_patches(d, 8, stride=4) for d, _ in pairs]),
             np.concatenate([image_patches(c, 8, stride=4) for _, c in pairs]))
curves["DCT + restorer"] = [
    rate_and_quality(s, decompress_image(dct, s, restorer=restorer))
    for s in (compress_image(dct, photo, step=step, restorer=restorer) for step in coarse)]

# %%
# An autoencoder's own code, 8 numbers per patch, each quantised to a number
# of bits: a short code caps the quality, whatever the rate.
model = make_restorer(image_shape=(8, 8), n_components=8, hidden_layer_sizes=(256, 128),
                      max_iter=10, random_state=0).fit(patches)
curves["autoencoder code"] = [
    rate_and_quality(s, decompress_image(model, s))
    for s in (compress_image(model, photo, bits=bits) for bits in (3, 4, 5, 6, 8))]

points = []
for quality in (5, 10, 20, 40, 70, 90):
    buffer = io.BytesIO()
    Image.fromarray(data.camera()).save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue()))) / 255.0
    points.append((8 * len(buffer.getvalue()) / photo.size, psnr(photo, decoded)))
curves["JPEG"] = points
for name, points in curves.items():
    print(name, ", ".join(f"{bpp:.2f} bpp: {value:.1f} dB" for bpp, value in points))

# %%
# Rate against quality. Transform coding of the DCT is ahead of JPEG at
# every rate here, and the restorer adds most at the lowest rates, where
# JPEG's blocks show (the benchmark page has the figures on seven photos).
# An autoencoder's short code is far behind on photos; on collections of
# small images, coded whole, it is far ahead of JPEG, whose header alone
# costs several bits per pixel.
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, points in curves.items():
    ax.plot(*zip(*points), marker="o", label=name)
ax.set_xlabel("bits per pixel (all bytes)")
ax.set_ylabel("PSNR (dB)")
ax.legend()
fig.tight_layout()
plt.show()
