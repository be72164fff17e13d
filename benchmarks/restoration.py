"""Image restoration and compression: the library's default against the classical tools.

Run: python -m benchmarks restoration --task {denoise,deblur,superres,inpaint,compress}...
     --train PATH... --test PATH... --out FILE.csv [--quick]

A PATH is
- an ``.npz`` with ``X`` (n x h*w, or n x h x w; uint8 grey, or floats in
  [0, 1]) and optionally ``image_shape``: a collection of small images,
  restored whole; ``PATH@a:b`` takes rows a to b (``mnist.npz@0:30000``);
- an image file (PNG, JPEG; any size, grey or colour, converted to grey): a
  photo, restored by overlapping patches (:func:`sklearn_ae.images.restore_image`);
- ``skimage:NAME``: one of scikit-image's bundled photos (``skimage:camera``),
  converted to grey.
Pixels are in [0, 1]. The model trains on the ``--train`` files (patches of
them where they are photos) and every method is scored on the ``--test``
files; a photo's row is its own, a collection's the mean over its images.

Degradations (fixed, seeded):
- denoise: Gaussian noise, sigma 25/255;
- deblur: Gaussian PSF, sigma 1.6 px (mirrored borders), then noise sigma 0.01;
- superres: 2x area downsampling, then bicubic upsampling back: the input;
- inpaint: 50% of the pixels missing at random (the mask known);
- compress: the clean image stored at about 0.1 to 2 bits per pixel and above.
  Photos: the DCT of 8x8 patches (``PatchDCT``) transform-coded
  (``compress_image(step=...)``) at ``PHOTO_STEPS``; ``sklearn_ae`` decodes
  with the default model trained on pairs of decoded and clean patches of the
  training photos at ``RESTORER_STEPS`` (``decompress_image(restorer=...)``),
  where ``compress_image(restorer=...)`` found on the image that it helps
  (else as ``dct``, the same bytes decoded without it). Collections: the
  codes of models
  of 8, 32 (and 128) components at 2 to 8 bits each, and the codes at 6 bits
  plus the residual (``residual_step``) at 128/255 to 8/255.

Baselines in the same run: denoise: scikit-image's ``denoise_nl_means``
(sigma estimated, ``fast_mode``, h = 0.8 sigma as its guide does),
``denoise_tv_chambolle`` (weight 0.1), ``denoise_wavelet`` (BayesShrink,
sigma estimated), ``bm3d`` (the true sigma), scikit-learn's
``MiniBatchDictionaryLearning`` (100 atoms on 7x7 patches of the training
images, OMP with 2 atoms, as scikit-learn's example) and PCA on the model's
patches (the same number of components); deblur: ``richardson_lucy`` (30
iterations) and ``unsupervised_wiener`` with the true PSF; superres: the
bicubic input; inpaint: ``inpaint_biharmonic``; compress: JPEG (Pillow, each
image its own file; a collection also as one mosaic, one header) at qualities
5 to 90, and PCA codes stored exactly as the model's: on collections at the
same bits, residual included, on photos PCA's complete code of the training
patches transform-coded at the same steps (same bytes accounting). Seconds:
training plus
restoring for the models, restoring for the others.

CSV columns: task, data, method, psnr, ssim, bpp, seconds; ``sklearn_ae`` is
:func:`sklearn_ae.images.make_restorer`'s model for the task, used as the
library documents: a photo to denoise or to inpaint is restored by the model
first adapted to it (:func:`sklearn_ae.images.adapt_to_image`, its seconds
counted).
``--candidate no-adapt`` adds the same fitted model without the adaptation
(row ``no_adapt``). ``--candidate
conv-map`` adds a row ``conv_map`` per image: ``ConvolutionalAutoencoder(
code="map")``, a candidate for the default measured in the same run;
``patch-12`` and ``patch-16`` the default model on wider patches;
``self-ensemble`` the default's fitted model, each patch restored in its 8
turns and the results averaged (``restore_image(..., self_ensemble=True)``);
``residual`` (deblurring and super-resolution, which train on pairs) the
default model trained to return what the degradation took away,
``fit(X_degraded, X_clean - X_degraded)``, and restored with
``restore_image(..., residual=True)``, as the default super-resolves photos;
``direct`` the default model trained on the clean patches themselves;
``dead-leaves`` the default model with a quarter of its training patches
replaced by patches of :func:`sklearn_ae.images.dead_leaves` images (hard
edges at every scale, which photos rarely show).
"""

from __future__ import annotations

import argparse
import io
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_ae import ConvolutionalAutoencoder
from sklearn_ae.corruptions import Blur, Downsample, GaussianNoise, Masking
from sklearn_ae.images import (
    PatchDCT,
    adapt_to_image,
    compress_image,
    compression_pairs,
    dead_leaves,
    decompress_image,
    image_patches,
    make_restorer,
    psnr,
    restore_image,
    ssim,
)

from ._harness import DATA, RESULTS, machine, save_figure, save_table

TASKS = ("denoise", "deblur", "superres", "inpaint", "compress")
SIGMA = 25 / 255
BLUR_SIGMA, BLUR_NOISE = 1.6, 0.01
BITS = (2, 3, 4, 5, 6, 8)
# Rates above the codes' own: codes at RESIDUAL_BITS plus the residual at
# these steps (in grey levels of 8-bit images).
RESIDUAL_BITS = 6
RESIDUAL_STEPS = tuple(s / 255 for s in (128, 96, 64, 48, 32, 24, 16, 12, 8))
JPEG_QUALITIES = (5, 10, 20, 30, 50, 75, 90)
# Photos: transform coding's steps (PCA's 64 components of 8x8 patches,
# pixels in [0, 1]), for about 0.1 to 2 bits per pixel. The restorer learns
# from the training photos decoded at RESTORER_STEPS (the coarse ones: in a
# probe on camera, one trained on all of them lowered the fine steps' PSNR
# by 0.6 to 1.7 dB and raised the coarse ones' less), and is checked on each
# image at compression (compress_image(restorer=...)). The coder is the DCT
# (PatchDCT): on camera, at each step, 0.1 to 0.6 dB above PCA's code of the
# training patches against JPEG at equal rates, confirmed on half B.
PHOTO_STEPS = (0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05, 0.035, 0.025)
RESTORER_STEPS = PHOTO_STEPS[:5]
HALF_A = ["camera", "astronaut", "coffee", "rocket", "brick", "grass"]
HALF_B = ["coins", "moon", "horse", "page", "hubble_deep_field", "immunohistochemistry"]
# Training patches, at most; their side.
MAX_PATCHES = 100000
PATCH = 8
# --quick: only checks that every path runs (so few patches, few test images).
QUICK_PATCHES = 5000
QUICK_IMAGES = 5


# -- data --------------------------------------------------------------------

def load_source(spec):
    """``(name, kind, images)``: kind "collection" (n, h, w) or "photo" [one (h, w)]."""
    spec = str(spec)
    if spec.startswith("skimage:"):
        import skimage.data
        from skimage.color import rgb2gray

        image = np.asarray(getattr(skimage.data, spec.split(":", 1)[1])())
        image = rgb2gray(image[..., :3]) if image.ndim == 3 else image
        return spec.split(":", 1)[1], "photo", [_unit(image)]
    path, _, rows = spec.partition("@")
    if path.endswith(".npz"):
        with np.load(path) as data:
            X = data["X"]
            shape = tuple(data["image_shape"])[-2:] if "image_shape" in data else None
        if rows:
            a, b = (int(v) if v else None for v in rows.split(":"))
            X = X[a:b]
        if X.ndim == 2:
            side = math.isqrt(X.shape[1])
            X = X.reshape(len(X), *(shape or (side, side)))
        return Path(path).stem + (f"@{rows}" if rows else ""), "collection", _unit(X)
    from PIL import Image

    return Path(path).stem, "photo", [_unit(np.asarray(Image.open(path).convert("L")))]


def _unit(images):
    images = np.asarray(images)
    if images.dtype == bool:
        return images.astype(np.float64)
    if images.dtype.kind in "ui" or images.max() > 1.5:
        return images.astype(np.float64) / 255.0
    return images.astype(np.float64)


# -- degradations ------------------------------------------------------------

def corruption_for(task):
    """The corruption a model for ``task`` trains on (and the test images get)."""
    return {"denoise": GaussianNoise(SIGMA),
            "deblur": [Blur(BLUR_SIGMA), GaussianNoise(BLUR_NOISE)],
            "superres": Downsample(2),
            "inpaint": Masking(0.5),
            "compress": None}[task]


def degrade(task, image, seed):
    """One image (h, w) degraded as the task says; NaN at missing pixels."""
    corruption = corruption_for(task)
    steps = corruption if isinstance(corruption, list) else [corruption]
    row = image.reshape(1, -1)
    for i, step in enumerate(steps):
        row = step(row, random_state=seed + i, image_shape=(1, *image.shape))
    return row.reshape(image.shape)


# -- the library's model ----------------------------------------------------

def _train_rows(task, sources, patch, seed, limit=None):
    """Training rows (X, y): patches of the images (``MAX_PATCHES`` at most).

    Noise and missing pixels are drawn afresh each batch by the model's
    corruption (y None); blur and low resolution act on the whole photo, so
    the patches' pairs are cut from the degraded and the clean photo alike.
    """
    rng = np.random.RandomState(seed)
    pairs = task in ("deblur", "superres")
    clean, degraded = [], []
    for _, kind, images in sources:
        # Small images: every 4th pixel as a corner is enough patches.
        stride = 2 if kind == "photo" else 4
        for i, image in enumerate(images if kind == "photo" else images[:20000]):
            clean.append(image_patches(image, patch, stride=stride))
            if pairs:
                degraded.append(image_patches(degrade(task, image, seed + 7 * i), patch,
                                              stride=stride))
    X = np.concatenate(clean)
    keep = rng.permutation(len(X))[:limit or MAX_PATCHES]
    return (np.concatenate(degraded)[keep], X[keep]) if pairs else (X[keep], None)


def _test_images(kind, images, quick):
    """The images a test source is scored on: a photo whole, a collection's first 200."""
    return images if kind == "photo" else images[: (QUICK_IMAGES if quick else 200)]


# The tasks whose photos the default adapts to (the degradation leaves enough
# of the photo to learn from: noise, missing pixels).
ADAPTED_TASKS = ("denoise", "inpaint")


def _restore(model, task, kind, degraded, how="default"):
    """Restored images; ``how``: the default, "plain" (never adapted), "self_ensemble"
    or "residual" (the restored residual added to the degraded image).

    The library's documented default for denoising or inpainting a photo
    first adapts the model to the degraded photo (:func:`adapt_to_image`);
    small images of a collection are restored by the model as trained.
    """
    if kind == "photo":
        if how == "default" and task in ADAPTED_TASKS:
            model = adapt_to_image(model, degraded, random_state=0)
        return restore_image(model, degraded, self_ensemble=how == "self_ensemble",
                             residual=how == "residual")
    return np.stack([restore_image(model, d, self_ensemble=how == "self_ensemble",
                                   residual=how == "residual") for d in degraded])


# -- classical tools ---------------------------------------------------------

def baselines(task, train_sources, patch, seed):
    """``{name: restore(degraded_image) -> image}`` for ``task`` (their training done here)."""
    import skimage.restoration as R

    if task == "denoise":
        def nl_means(x):
            sigma = float(np.mean(R.estimate_sigma(x)))
            return R.denoise_nl_means(x, h=0.8 * sigma, sigma=sigma, fast_mode=True,
                                      patch_size=5, patch_distance=6)

        out = {"nl_means": nl_means,
               "tv_chambolle": lambda x: R.denoise_tv_chambolle(x, weight=0.1),
               "wavelet": lambda x: R.denoise_wavelet(x, rescale_sigma=True)}
        try:
            import bm3d

            out["bm3d"] = lambda x: np.asarray(bm3d.bm3d(x, sigma_psd=SIGMA))
        except ImportError:
            print("bm3d is not installed (pip install 'sklearn_ae[images]'): the run "
                  "goes on without BM3D", flush=True)
        out.update(_patch_models(train_sources, patch, seed))
        return out
    if task == "deblur":
        psf = Blur(BLUR_SIGMA).psf()
        return {"richardson_lucy": lambda x: R.richardson_lucy(np.clip(x, 0, 1), psf, num_iter=30),
                "unsupervised_wiener": lambda x: R.unsupervised_wiener(
                    x, psf, rng=np.random.default_rng(seed))[0]}
    if task == "superres":
        return {"bicubic": lambda x: x}
    if task == "inpaint":
        return {"inpaint_biharmonic": lambda x: R.inpaint_biharmonic(
            np.nan_to_num(x), np.isnan(x))}
    return {}


def _patch_models(sources, patch, seed):
    """Dictionary learning (7x7 patches) and PCA (the model's rows) on clean training images."""
    from sklearn.decomposition import PCA, MiniBatchDictionaryLearning

    rng = np.random.RandomState(seed)
    photos = [im for _, kind, images in sources if kind == "photo" for im in images]
    if photos:
        patches = np.concatenate([image_patches(im, 7, stride=3) for im in photos])
    else:
        patches = np.concatenate([image_patches(im, 7, stride=7) for _, _, images in sources
                                  for im in images[:3000]])
    patches = patches[rng.permutation(len(patches))[:20000]]
    mean = patches.mean(axis=1, keepdims=True)
    dico = MiniBatchDictionaryLearning(n_components=100, batch_size=200, alpha=1.0,
                                       max_iter=10, random_state=seed,
                                       transform_algorithm="omp",
                                       transform_n_nonzero_coefs=2)
    dico.fit(patches - mean)
    rows = _train_rows("compress", sources, patch, seed)[0]
    pca = PCA(random_state=seed).fit(rows)
    # Keep the directions whose variance in clean images exceeds the noise's.
    k = max(1, int((pca.explained_variance_ > SIGMA ** 2).sum()))
    pca = PCA(n_components=k, random_state=seed).fit(rows)

    def dictionary(x):
        return restore_image(_Dictionary(dico), x, stride=1)

    def principal(x):
        return restore_image(pca, x, stride=max(1, patch // 4))

    return {"dictionary_learning": dictionary, f"pca_{k}": principal}


class _Dictionary:
    """A fitted dictionary as an estimator :func:`restore_image` takes (patch means kept)."""

    n_features_in_ = 49

    def __init__(self, dico):
        self.dico = dico

    def transform(self, P):
        self._mean = P.mean(axis=1, keepdims=True)
        return self.dico.transform(P - self._mean)

    def inverse_transform(self, C):
        return C @ self.dico.components_ + self._mean


# -- the run -----------------------------------------------------------------

def _score(clean, restored, kind):
    restored = np.clip(restored, 0, 1)
    if kind == "photo":
        return psnr(clean, restored), ssim(clean, restored)
    return (float(np.mean([psnr(c, r) for c, r in zip(clean, restored)])),
            float(np.mean([ssim(c, r) for c, r in zip(clean, restored)])))


def _restorer(side):
    """A builder of :func:`make_restorer`'s model on ``side`` x ``side`` patches."""
    def build(task, y, quick, seed):
        return make_restorer(corruption_for(task) if y is None else None,
                             image_shape=(side, side), random_state=seed,
                             max_iter=3 if quick else "auto")
    return build


def _conv_map_model(task, y, quick, seed):
    """``ConvolutionalAutoencoder(code="map")`` on 24 x 24 patches: one block of 64 maps.

    30,000 patches in batches of 64, 30 epochs of the cosine schedule run to
    the end (no early stopping: a loss on freshly noised batches is too
    noisy to stop on), about 7 minutes on two cores: the best of the
    settings tried on camera (docs/benchmarks.md).
    """
    return ConvolutionalAutoencoder(
        code="map", channels=(64,), image_shape=(1, 24, 24),
        corruption=corruption_for(task) if y is None else None,
        max_iter=3 if quick else 30, batch_size=64, early_stopping=False,
        n_iter_no_change=30, random_state=seed)


# The models a task is restored by: method (the CSV's), builder, patch side,
# training patches at most (None: MAX_PATCHES). Candidates for the default
# run beside it with --candidate NAME (patch-12, patch-16: the default's
# model with more context). A builder None is the default's fitted model,
# restored otherwise: with self_ensemble=True (its 8 turns of each patch,
# averaged), or as trained, never adapted to the photo (no-adapt).
DEFAULT = ("sklearn_ae", _restorer(PATCH), PATCH, None)
CANDIDATES = {"conv-map": ("conv_map", _conv_map_model, 24, 30000),
              "patch-12": ("patch_12", _restorer(12), 12, None),
              "patch-16": ("patch_16", _restorer(16), 16, None),
              "self-ensemble": ("self_ensemble", None, PATCH, None),
              "no-adapt": ("no_adapt", None, PATCH, None),
              "residual": ("residual", _restorer(PATCH), PATCH, None),
              "direct": ("direct", _restorer(PATCH), PATCH, None),
              "dead-leaves": ("dead_leaves", _restorer(PATCH), PATCH, None)}
# How the candidates restore, where not as the default does.
RESTORED_AS = {"self_ensemble": "self_ensemble", "no_adapt": "plain"}
# Models trained on pairs to return what the degradation took away
# (fit(X_degraded, X_clean - X_degraded)), restored with residual=True: the
# residual candidate, and the default where it super-resolves photos (chosen
# on camera, +0.13 dB; confirmed on half B, +0.16 dB in the mean, five of
# six photos; on digits it tied, so they keep the direct model). The
# direct candidate is the default's model trained on the clean patches.
RESIDUAL_MODELS = {"residual"}
RESIDUAL_TASKS = ("superres",)


def _residual(spec, task, train):
    """Whether ``spec``'s model trains on residuals (see RESIDUAL_MODELS)."""
    if spec[0] in RESIDUAL_MODELS:
        return True
    return (spec[0] == DEFAULT[0] and task in RESIDUAL_TASKS
            and all(kind == "photo" for _, kind, _ in train))


# The dead-leaves candidate: this share of the training patches replaced by
# patches of dead_leaves images (LEAF_IMAGES of 256 x 256), degraded as the
# photos are. In a probe (plain restoration, no adaptation; half-A training
# photos) a quarter took horse from 29.99 to 36.93 dB and camera from 29.42
# to 29.50.
LEAF_SHARE, LEAF_IMAGES = 0.25, 8


def _fitted(spec, task, train, quick, seed):
    """``(model, seconds)``: the model of ``spec`` fitted on the training images' patches."""
    _, build, patch, limit = spec
    X, y = _train_rows(task, train, patch, seed, limit=QUICK_PATCHES if quick else limit)
    if spec[0] == "dead_leaves":
        X, y = _with_leaves(task, X, y, patch, seed, 1 if quick else LEAF_IMAGES)
    model = build(task, y, quick, seed)
    if _residual(spec, task, train):
        if y is None:
            raise ValueError(f"a residual model trains on pairs; {task} trains on a corruption")
        y = y - X
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model, time.perf_counter() - start


def _with_leaves(task, X, y, patch, seed, n_images):
    """The training rows with ``LEAF_SHARE`` of them replaced by dead-leaves patches."""
    leaves = [("dead_leaves", "photo", list(dead_leaves(n_images, 256, random_state=seed)))]
    k = int(LEAF_SHARE * len(X))
    LX, Ly = _train_rows(task, leaves, patch, seed, limit=k)
    X = np.concatenate([X[: len(X) - k], LX])
    return X, (None if y is None else np.concatenate([y[: len(y) - k], Ly]))


def run_task(task, train, test, quick, seed=0, panels=None, candidates=()):
    """Rows of the CSV for one task; ``panels`` collects images for the figure."""
    if task == "compress":
        return _run_compress(train, test, quick, seed)
    specs = [spec for spec in [DEFAULT, *(CANDIDATES[c] for c in candidates)] if spec[1]]
    models = {spec[0]: _fitted(spec, task, train, quick, seed) for spec in specs}
    residual = {spec[0] for spec in specs if _residual(spec, task, train)}
    reused = {CANDIDATES[c][0] for c in candidates if CANDIDATES[c][1] is None}
    models.update(dict.fromkeys(reused, models["sklearn_ae"]))
    methods = {**dict.fromkeys(models), **baselines(task, train, PATCH, seed)}
    rows = []
    for name, kind, images in test:
        images = _test_images(kind, images, quick)
        degraded = [degrade(task, im, seed + 1000 + i) for i, im in enumerate(images)]
        clean = images if kind == "collection" else images[0]
        outputs = {}
        for method, fn in methods.items():
            start = time.perf_counter()
            if fn is None:
                model, fit_seconds = models[method]
                out = _restore(model, task, kind, np.asarray(degraded) if kind == "collection"
                               else degraded[0], "residual" if method in residual
                               else RESTORED_AS.get(method, "default"))
            else:
                fit_seconds = 0.0
                out = [fn(d) for d in degraded]
                out = np.asarray(out) if kind == "collection" else out[0]
            seconds = time.perf_counter() - start + fit_seconds
            value, similarity = _score(clean, out, kind)
            outputs[method] = (value, out if kind == "photo" else out[0])
            rows.append(dict(task=task, data=name, method=method, psnr=value,
                             ssim=similarity, bpp=np.nan, seconds=seconds))
            print(f"{task:9s} {name:24s} {method:22s} PSNR {value:6.2f} SSIM "
                  f"{similarity:.3f} {seconds:7.1f} s", flush=True)
        if panels is not None and not any(p[0] == task for p in panels):
            first = clean if kind == "photo" else clean[0]
            panels.append((task, name, first, degraded[0], outputs))
    return rows


def _figure(panels, name, quick):
    """Clean, degraded, ours and the best other method: the first test image of each task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 4, figsize=(10, 2.6 * len(panels)), squeeze=False)
    for row, (task, data, clean, degraded, outputs) in zip(axes, panels):
        others = {m: v for m, v in outputs.items() if m != "sklearn_ae"}
        best = max(others, key=lambda m: others[m][0])
        shown = [("clean", clean), ("degraded", np.nan_to_num(degraded)),
                 (f"sklearn_ae {outputs['sklearn_ae'][0]:.2f} dB", outputs["sklearn_ae"][1]),
                 (f"{best} {others[best][0]:.2f} dB", others[best][1])]
        for ax, (title, image) in zip(row, shown):
            ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"{task}\n{data}", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, name, quick)


def _run_compress(train, test, quick, seed):
    """Our codes, PCA's codes (both quantised at BITS) and JPEG, at several rates."""
    from sklearn.decomposition import PCA

    collection = all(kind == "collection" for _, kind, _ in train)
    if not collection:
        return _run_compress_photos(train, test, quick, seed) + _jpeg_rows(test, quick, False)
    # Small images are coded whole (one code per image), photos by patches.
    shape = tuple(train[0][2].shape[1:]) if collection else (PATCH, PATCH)
    if collection:
        X = np.concatenate([images.reshape(len(images), -1) for _, _, images in train])
    else:
        X, _ = _train_rows("compress", train, PATCH, seed, limit=QUICK_PATCHES if quick else None)
    rows = []
    # Code widths for rates of about 0.03 to 2 bits per pixel (whole small
    # images need wider codes than 8x8 patches to reach the upper rates).
    widths = (8, 32, 128) if math.prod(shape) >= 512 else (8, 32)
    for k in ((8,) if quick else widths):
        model = make_restorer(None, image_shape=shape, n_components=k, random_state=seed,
                              max_iter=5 if quick else "auto")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
        fit_seconds = time.perf_counter() - start
        pca = PCA(n_components=k, random_state=seed).fit(X)
        for method, coder, seconds in (("sklearn_ae", model, fit_seconds), ("pca", pca, 0.0)):
            for bits in BITS:
                rows += _coded(method, coder, bits, test, quick, seconds, f"k={k} bits={bits}")
            for step in RESIDUAL_STEPS[:1] if quick else RESIDUAL_STEPS:
                rows += _coded(method, coder, (RESIDUAL_BITS, step), test, quick, seconds,
                               f"k={k} bits={RESIDUAL_BITS} step={255 * step:.0f}/255")
    return rows + _jpeg_rows(test, quick, collection)


def _jpeg_rows(test, quick, collection):
    rows = []
    for quality in JPEG_QUALITIES:
        rows += _coded("jpeg", None, quality, test, quick, 0.0, f"quality={quality}")
        if collection:
            rows += _coded("jpeg_mosaic", None, quality, test, quick, 0.0, f"quality={quality}")
    return rows


def _run_compress_photos(train, test, quick, seed):
    """Photos, transform-coded at PHOTO_STEPS: the library's default (``sklearn_ae``:
    the DCT of 8x8 patches, decoded with the restorer where it helps), the DCT
    alone (``dct``) and PCA's complete code of the training patches (``pca``)."""
    from sklearn.decomposition import PCA

    X, _ = _train_rows("compress", train, PATCH, seed, limit=QUICK_PATCHES if quick else None)
    start = time.perf_counter()
    coder = PatchDCT().fit(X)
    restorer = _compression_restorer(coder, train, quick, seed)
    fit_seconds = time.perf_counter() - start
    pca = PCA(random_state=seed).fit(X)
    rows = []
    for step in PHOTO_STEPS[::3] if quick else PHOTO_STEPS:
        label = f"step={step}"
        rows += _coded("pca", pca, ("step", step, None), test, quick, 0.0, label)
        rows += _coded("dct", coder, ("step", step, None), test, quick, 0.0, label)
        rows += _coded("sklearn_ae", coder, ("step", step, restorer), test, quick,
                       fit_seconds, label)
    return rows


def _compression_restorer(coder, train, quick, seed):
    """The default model trained on pairs: training photos decoded at the restored steps."""
    X, y = compression_pairs(coder, [im for _, _, images in train for im in images],
                             RESTORER_STEPS, stride=2,
                             max_patches=QUICK_PATCHES if quick else MAX_PATCHES,
                             random_state=seed)
    restorer = make_restorer(None, image_shape=(PATCH, PATCH), random_state=seed,
                             max_iter=5 if quick else "auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return restorer.fit(X, y)


def _coded(method, coder, level, test, quick, fit_seconds, label):
    """Rows for one coder at one level on each test source.

    A level is JPEG's quality, the codes' bits, or (bits, residual step).
    """
    from sklearn_ae.images import compress_rows, decompress_rows

    # JPEG's quality, the codes' bits, (bits, residual step) or
    # ("step", transform coding's step, restorer or None).
    restorer, rate = None, {}
    if isinstance(level, tuple) and level[0] == "step":
        _, code_step, restorer = level
        level, step, rate = None, None, dict(step=code_step, restorer=restorer)
    else:
        level, step = level if isinstance(level, tuple) else (level, None)
        rate = dict(bits=level)
    out = []
    for name, kind, images in test:
        images = _test_images(kind, images, quick)
        start = time.perf_counter()
        if method == "jpeg":
            n_bytes, decoded = 0, []
            for im in images:
                data = _jpeg(im, level)
                n_bytes += len(data)
                decoded.append(_from_jpeg(data))
        elif method == "jpeg_mosaic":
            # The whole collection as one JPEG (one header), tiled in a grid.
            data = _jpeg(_tiled(images), level)
            n_bytes, decoded = len(data), _untiled(_from_jpeg(data), images.shape)
        elif kind == "photo":
            data = compress_image(coder, images[0], residual_step=step, **rate)
            n_bytes, decoded = len(data), [decompress_image(coder, data, restorer=restorer)]
        else:
            data = compress_rows(coder, images.reshape(len(images), -1), residual_step=step,
                                 **rate)
            n_bytes = len(data)
            decoded = decompress_rows(coder, data).reshape(images.shape)
        seconds = fit_seconds + time.perf_counter() - start
        clean = images[0] if kind == "photo" else images
        value, similarity = _score(clean, decoded[0] if kind == "photo" else np.asarray(decoded),
                                   kind)
        bpp = 8 * n_bytes / sum(im.size for im in images)
        out.append(dict(task="compress", data=name, method=method, psnr=value, ssim=similarity,
                        bpp=bpp, seconds=seconds))
        print(f"compress  {name:24s} {method:10s} {label:16s} bpp {bpp:6.3f} PSNR {value:6.2f}",
              flush=True)
    return out


def _tiled(images):
    """Images (n, h, w) side by side in a grid as square as it goes (blank cells at 0)."""
    n, h, w = images.shape
    cols = math.ceil(math.sqrt(n))
    grid = np.zeros((math.ceil(n / cols) * h, cols * w))
    for i, image in enumerate(images):
        grid[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w] = image
    return grid


def _untiled(grid, shape):
    n, h, w = shape
    cols = math.ceil(math.sqrt(n))
    return np.stack([grid[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w]
                     for i in range(n)])


def _jpeg(image, quality):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)).save(
        buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def _from_jpeg(data):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)), dtype=np.float64) / 255.0


def equal_rate_gaps(table):
    """Per test source: our PSNR minus JPEG's interpolated at our bits per pixel."""
    out = []
    for name, part in table[table.task == "compress"].groupby("data"):
        jpeg = part[part.method.str.startswith("jpeg")].sort_values("bpp")
        # The best JPEG at each rate: per image, or one mosaic for a collection.
        jpeg = jpeg[jpeg.psnr >= jpeg.psnr.cummax()]
        ours = part[part.method == "sklearn_ae"].sort_values("bpp")
        # Our best setting at each rate (a wider code or more bits that does
        # not raise the PSNR is not a rate anyone would pick).
        ours = ours[ours.psnr >= ours.psnr.cummax()]
        for _, row in ours.iterrows():
            if jpeg.bpp.min() <= row.bpp <= jpeg.bpp.max():
                out.append(dict(data=name, bpp=row.bpp, psnr=row.psnr,
                                jpeg_psnr=np.interp(row.bpp, jpeg.bpp, jpeg.psnr)))
    return pd.DataFrame(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks restoration",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--train", nargs="+", default=None,
                        help="default: scikit-image's photos of half A but camera "
                             "(--quick: MNIST rows 0-500)")
    parser.add_argument("--test", nargs="+", default=None,
                        help="default: skimage:camera (--quick: 5 MNIST rows from 25000)")
    parser.add_argument("--out", default=None, help="CSV file (also written to results/)")
    parser.add_argument("--name", default="restoration", help="stem of the results tables")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidate", nargs="*", choices=sorted(CANDIDATES), default=[],
                        help="models to run beside the default (their rows are named so)")
    parser.add_argument("--notes-only", action="store_true",
                        help="rewrite the notes of results/<name>.md from its CSV, run nothing")
    args = parser.parse_args(argv)
    if args.notes_only:
        return _rewrite_notes(args.name)
    table, panels = _run(args)
    if args.out:
        table.to_csv(args.out, index=False)
    command = "python -m benchmarks restoration " + " ".join(argv or [])
    notes = _notes(table)
    if panels:
        figure = _figure(panels, f"{args.name}_examples", args.quick)
        notes += f"\n\n![Clean, degraded, ours and the best other method]({figure.name})"
    print(save_table(table, args.name, "Image restoration and compression", command,
                     quick=args.quick, notes=notes))
    return table


def _run(args):
    mnist = str(DATA / "mnist.npz")
    train = args.train or ([f"{mnist}@0:500"] if args.quick
                           else [f"skimage:{n}" for n in HALF_A[1:]])
    quick_test = f"{mnist}@25000:{25000 + QUICK_IMAGES}"
    test = args.test or ([quick_test] if args.quick else ["skimage:camera"])
    train, test = [load_source(s) for s in train], [load_source(s) for s in test]
    print(machine(), flush=True)
    rows, panels = [], []
    for task in args.task:
        rows += run_task(task, train, test, args.quick, args.seed, panels, args.candidate)
    return pd.DataFrame(rows, columns=["task", "data", "method", "psnr", "ssim", "bpp",
                                       "seconds"]), panels


def _rewrite_notes(name):
    """The notes of an earlier run's page, recomputed from its CSV (the rest kept)."""
    md = RESULTS / f"{name}.md"
    table = pd.read_csv(RESULTS / f"{name}.csv")
    lines = md.read_text().split("\n")
    figure = [line for line in lines if line.startswith("![")]
    end = max(i for i, line in enumerate(lines) if line.startswith("|"))
    text = "\n".join([*lines[: end + 1], "", _notes(table), "", *figure]) + "\n"
    md.write_text(text)
    print(text)
    return table


def _notes(table):
    """Each task's margin over the best classical tool, and compression at equal rates."""
    lines = []
    candidates = {spec[0] for spec in CANDIDATES.values()}
    for (task, data), part in table[table.task != "compress"].groupby(["task", "data"]):
        ours = part[part.method == "sklearn_ae"].psnr.max()
        others = part[(part.method != "sklearn_ae") & ~part.method.isin(candidates)]
        best = others.loc[others.psnr.idxmax()]
        no_bm3d = others[others.method != "bm3d"]
        line = (f"- {task}, {data}: sklearn_ae {ours:.2f} dB, best other {best.method} "
                f"{best.psnr:.2f} ({ours - best.psnr:+.2f} dB)")
        if "bm3d" in set(others.method):
            line += f"; best but BM3D {no_bm3d.psnr.max():.2f} ({ours - no_bm3d.psnr.max():+.2f} dB)"
        for _, row in part[part.method.isin(candidates)].iterrows():
            line += (f"; candidate {row.method} {row.psnr:.2f} ({row.psnr - ours:+.2f} dB "
                     f"against sklearn_ae, {row.seconds:.0f} s against "
                     f"{part[part.method == 'sklearn_ae'].seconds.max():.0f} s)")
        lines.append(line)
    gaps = equal_rate_gaps(table)
    for data, part in gaps.groupby("data") if len(gaps) else []:
        diff = part.psnr - part.jpeg_psnr
        lines.append(f"- compress, {data}: against JPEG at equal bits per pixel, "
                     f"{diff.min():+.2f} to {diff.max():+.2f} dB over "
                     f"{part.bpp.min():.2f}-{part.bpp.max():.2f} bpp")
    if len(table[table.task == "compress"]) and not len(gaps):
        lines.append("- compress: no rate of ours falls within JPEG's range of rates "
                     "(see the bpp column)")
    return "\n".join(lines)
