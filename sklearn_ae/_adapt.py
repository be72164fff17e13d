"""Fine-tuning a restorer on the one degraded image it is to restore.

:func:`adapt_to_image` trains a copy of a restorer further on the degraded
image's own patches, without its clean version; :func:`sure_mse` estimates
how far a denoised image lies from the clean one it cannot see (Stein's
unbiased risk estimate), which picks the adaptation's learning rate.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["adapt_to_image", "sure_mse"]

# Fine-tuning steps, by the degradation the model learns from: chosen on
# camera (half A), confirmed on the six half-B photos (docs/benchmarks.md, the
# restoration_adapt_* pages). A noise model tries both of its rates and keeps
# the one whose restoration sure_mse scores lower (restoration_adapt_sure_*).
_ADAPT_LEARNING_RATES = {"noise": (1e-4, 1e-3), "masking": (3e-4,)}
# Epochs each rate of a noise model is tried for before one is kept.
_TRIAL_EPOCHS = 2


def sure_mse(denoiser, image, sigma, *, epsilon=1e-3, random_state=None):
    """Estimate the mean squared error of a denoised image without the clean image.

    For an image degraded by additive white Gaussian noise of a known
    ``sigma``, Stein's unbiased risk estimate (SURE) of the error of a
    denoiser ``f`` is ``mean((image - f(image)) ** 2) - sigma ** 2 + 2 *
    sigma ** 2 * div f / n``; the divergence ``div f`` is estimated by one
    random probe ``b`` as ``b . (f(image + epsilon b) - f(image)) /
    epsilon`` (Monte-Carlo SURE, Ramani, Blu and Unser, 2008). It compares
    denoisers, or one denoiser's settings, on the noisy image alone. Over
    many pixels its error is mostly the noise's own sample variance, which
    is the same for every denoiser compared on one image.

    Parameters
    ----------
    denoiser : fitted estimator or callable
        An estimator restored with :func:`~sklearn_ae.images.restore_image`
        (one trained on patches with ``corruption=GaussianNoise(sigma)``),
        or a function ``f(image) -> denoised image`` (a classical denoiser,
        for comparison). It should not depend on the noise through
        anything but its input: a model trained on this very image is
        scored as if its weights were fixed, which leaves the estimate
        optimistic by what it learnt of the noise.
    image : ndarray of shape (height, width) or (height, width, channels)
        The noisy image.
    sigma : float
        Standard deviation of the noise, in the image's units.
    epsilon : float, default=1e-3
        Step of the finite difference, in the image's units.
    random_state : int, RandomState instance or None, default=None
        Draws the probe.

    Returns
    -------
    float
        The estimated mean squared error per pixel (can be slightly negative
        for a near-perfect denoiser).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.images import sure_mse
    >>> rng = np.random.RandomState(0)
    >>> noisy = 0.5 + 0.1 * rng.randn(64, 64)          # a flat grey image, noised
    >>> keep_all = sure_mse(lambda im: im, noisy, 0.1, random_state=0)  # the noise stays
    >>> round(keep_all, 2)
    0.01
    >>> mean_only = sure_mse(lambda im: np.full_like(im, im.mean()), noisy, 0.1,
    ...                      random_state=0)
    >>> bool(mean_only < 1e-3)
    True
    """
    image = np.asarray(image, dtype=np.float64)
    _check_positive("sigma", sigma)
    _check_positive("epsilon", epsilon)
    if not np.isfinite(image).all():
        raise ValueError("the image has NaN or infinite pixels; SURE scores a noisy image "
                         "with every pixel given")
    if callable(denoiser) and not hasattr(denoiser, "transform"):
        restore = denoiser
    else:
        from .images import restore_image

        def restore(im):
            return restore_image(denoiser, im)
    probe = check_random_state(random_state).standard_normal(image.shape)
    restored = np.asarray(restore(image), dtype=np.float64)
    moved = np.asarray(restore(image + epsilon * probe), dtype=np.float64)
    divergence = float(np.sum(probe * (moved - restored))) / epsilon
    return float(np.mean((image - restored) ** 2) - sigma ** 2
                 + 2 * sigma ** 2 * divergence / image.size)


def adapt_to_image(estimator, image, *, epochs=10, alpha=0.35, hidden_share=0.2,
                   learning_rate="auto", random_state=None):
    """Return a copy of a restorer fine-tuned on the degraded image it is to restore.

    A model trained on other images knows their patches, not this image's
    own (a silhouette's hard edges, a page's letters). Without the clean
    image, the copy is trained further on the degraded image's own patches
    (stride 1), one :meth:`partial_fit` over them per epoch. Two
    degradations leave enough of the image to learn from:

    - Gaussian noise (a model trained with ``corruption=GaussianNoise(sigma)``):
      recorrupted-to-recorrupted pairs (Pang et al., CVPR 2021). With ``y``
      a noisy patch and ``z`` fresh noise of the model's ``sigma``, the
      input ``y + alpha z`` and the target ``y - z / alpha`` carry
      independent noise, so the expected loss is the error against the
      clean patch plus a constant. ``alpha`` below 1 keeps the input's
      noise near the trained level (``sigma * sqrt(1 + alpha ** 2)``).
    - Missing pixels (a model trained with ``corruption=Masking(...)``, NaN
      in the image): the patches are rows with gaps, which the estimators
      train on as they do on any data with gaps. Each step hides
      ``hidden_share`` of the pixels the image has and the network learns
      to fill them from the rest; the loss counts the given pixels only (a
      blind-spot target, as Noise2Self's).

    How far to move depends on the image: a photo like the training ones
    needs small steps, a silhouette or a page of print large ones. So a
    noise model, at ``learning_rate="auto"``, tries two fine-tuning rates
    (1e-4 and 1e-3) for two epochs each and keeps on with the one whose
    restoration :func:`sure_mse` scores lower, an estimate of the error
    against the clean image made from the noisy image alone. It costs two
    epochs more than ``epochs``.

    Measured on scikit-image's photos (the default restorer of
    :func:`make_restorer` on 8x8 patches; the ``restoration_adapt_*``
    results in the benchmarks page): denoising (Gaussian noise 25/255) at
    1e-4, chosen on camera (+0.22 dB there) and confirmed on six other
    photos (+0.21 to +2.73 dB); the choice between the two rates, set on
    camera (which keeps 1e-4) and confirmed on the same six photos (page
    +0.32 dB at 1e-3, the five others kept 1e-4), in the
    ``restoration_adapt_sure_*`` pages. Inpainting (half the pixels
    missing): the same settings but ``hidden_share`` and the learning rate
    chosen on camera (+0.67 dB there), +0.57 to +2.15 dB on the six
    others. It costs about ``epochs`` passes of training over the image's
    patches (two more for a noise model's trial), and two restorations
    per rate tried: about 4 to 5 minutes for a 512x512 photo on two CPU
    cores.

    Parameters
    ----------
    estimator : fitted estimator
        Trained with ``corruption=GaussianNoise(sigma)`` alone (the noise
        the image has) or ``corruption=Masking(...)`` alone, on patches as
        :func:`restore_image` takes them.
    image : ndarray of shape (height, width) or (height, width, channels)
        The degraded image, in the units the estimator was trained in: NaN
        at the missing pixels for a masking model, none for a noise model.
    epochs : int, default=10
        Passes over the image's patches (the kept rate's trial included).
    alpha : float, default=0.35
        Gaussian noise: share of ``sigma`` added to the input (and its
        inverse taken from the target).
    hidden_share : float, default=0.2
        Missing pixels: share of the given pixels hidden in each step, from
        0.1 to 0.5. Small keeps the inputs near the trained share of gaps
        (half the pixels hidden at 0.5 would leave a quarter of them seen).
    learning_rate : float or "auto", default="auto"
        The copy's ``learning_rate_init`` while adapting, a fine-tuning
        step. "auto": for a noise model, 1e-4 or 1e-3, whichever
        :func:`sure_mse` prefers after two epochs (on camera 1e-4, a tenth
        of the training default; 3e-4 lost 0.20 dB there); for a masking
        model 3e-4 (chosen on camera: +0.18 dB against 1e-4).
    random_state : int, RandomState instance or None, default=None
        Seeds the Gaussian noise drawn and SURE's probe (the copy's own
        ``random_state`` orders the patches and draws the pixels hidden).

    Returns
    -------
    estimator
        A fitted copy; the estimator given is not changed. Restore with
        ``restore_image(adapted, image)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae import Autoencoder
    >>> from sklearn_ae.corruptions import GaussianNoise
    >>> from sklearn_ae.images import adapt_to_image, image_patches, restore_image
    >>> photo = np.random.RandomState(0).rand(24, 24)
    >>> ae = Autoencoder(n_components=16, corruption=GaussianNoise(0.1), max_iter=2,
    ...                  random_state=0).fit(image_patches(photo, 4))
    >>> noisy = photo + 0.1 * np.random.RandomState(1).randn(24, 24)
    >>> adapted = adapt_to_image(ae, noisy, epochs=1, random_state=0)
    >>> restore_image(adapted, noisy).shape
    (24, 24)
    """
    check_is_fitted(estimator)
    sigma = _adaptation_noise(estimator)
    rates = _checked_adaptation(epochs, alpha, hidden_share, learning_rate, sigma)
    image = np.asarray(image, dtype=np.float64)
    patches = _adaptation_patches(estimator, image, sigma)
    params = estimator.get_params()
    # The pairs or the gaps carry the degradation; a DenoisingAutoencoder's
    # own noise (used when corruption is None) would be added on top of it.
    changes = {"corruption": None, **({"noise_level": 0.0} if "noise_level" in params else {})}
    if random_state is None:
        random_state = np.random.randint(np.iinfo(np.int32).max)
    trial = min(epochs, _TRIAL_EPOCHS) if len(rates) > 1 else epochs
    # Each rate draws the same noise from a generator of its own, so that
    # the trial compares rates only.
    runs = []
    for rate in rates:
        adapted = copy.deepcopy(estimator).set_params(**changes, learning_rate_init=float(rate))
        rng = _fresh(random_state)
        _adapt_epochs(adapted, patches, sigma, alpha, hidden_share, rng, trial)
        runs.append((adapted, rng))
    if len(runs) > 1:
        scores = [sure_mse(adapted, image, sigma, random_state=_fresh(random_state))
                  for adapted, _ in runs]
        runs = [runs[int(np.argmin(scores))]]
    adapted, rng = runs[0]
    _adapt_epochs(adapted, patches, sigma, alpha, hidden_share, rng, epochs - trial)
    # The copy's parameters back to the estimator's, so that a refit of it
    # trains as the estimator was trained.
    return adapted.set_params(**{name: params[name]
                                 for name in [*changes, "learning_rate_init"]})


def _fresh(random_state):
    """A generator that draws what ``random_state`` would, leaving it untouched."""
    if isinstance(random_state, np.random.RandomState):
        return copy.deepcopy(random_state)
    return check_random_state(random_state)


def _check_positive(name, value, hint=""):
    """Refuse ``value`` unless it is a finite real number above 0."""
    if not (isinstance(value, numbers.Real) and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number{hint}; got {value!r}")


def _checked_adaptation(epochs, alpha, hidden_share, learning_rate, sigma):
    """The learning rates to try, once ``adapt_to_image``'s parameters are checked."""
    from ._missing import HIDING_BOUNDS

    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    if isinstance(learning_rate, str) and learning_rate == "auto":
        rates = _ADAPT_LEARNING_RATES["noise" if sigma is not None else "masking"]
    else:
        rates = (learning_rate,)
    _check_positive("alpha", alpha)
    _check_positive("learning_rate", rates[0], " or 'auto'")
    # The bounds of the library's training on gaps (_missing.training_drop).
    low, high = HIDING_BOUNDS
    if not (isinstance(hidden_share, numbers.Real) and low <= hidden_share <= high):
        raise ValueError(f"hidden_share must be a number from {low} to {high}; "
                         f"got {hidden_share!r}")
    return rates


def _adapt_epochs(adapted, patches, sigma, alpha, hidden_share, rng, epochs):
    """``epochs`` passes of ``partial_fit`` over the patches: recorrupted pairs, or gaps."""
    from ._missing import hiding_share

    for _ in range(epochs):
        if sigma is None:
            with hiding_share(hidden_share):
                adapted.partial_fit(patches)
            continue
        # float32, as partial_fit takes them: half the memory of float64 pairs.
        z = (sigma * rng.standard_normal(patches.shape)).astype(np.float32)
        adapted.partial_fit(patches + np.float32(alpha) * z, patches - z / np.float32(alpha))


def _adaptation_noise(estimator):
    """The ``sigma`` of a model trained on ``GaussianNoise`` alone, None for ``Masking`` alone."""
    from .corruptions import GaussianNoise, Masking, as_corruptions

    corruption = estimator.get_params().get("corruption")
    steps = as_corruptions(corruption)
    if len(steps) == 1 and isinstance(steps[0], Masking) and steps[0].share > 0:
        return None
    if len(steps) != 1 or not isinstance(steps[0], GaussianNoise) or steps[0].sigma <= 0:
        raise ValueError(
            "adapt_to_image needs an estimator trained with corruption=GaussianNoise(sigma) "
            "alone, the noise the image has (recorrupted pairs are exact for additive "
            "Gaussian noise only), or with corruption=Masking(...) alone (missing pixels); "
            f"this one has corruption={corruption!r}")
    return float(steps[0].sigma)


def _adaptation_patches(estimator, image, sigma):
    """The image's stride-1 patches as float32 rows, the image checked for the model's kind."""
    from .images import _per_estimator_channels, image_patches, patch_shape

    missing = np.isnan(image)
    if np.isinf(image).any() or (sigma is not None and missing.any()):
        raise ValueError("the image has NaN or infinite pixels; a noise model adapts to a "
                         "noisy image with every pixel given")
    if sigma is None and (missing.all() or not missing.any()):
        raise ValueError("a masking model adapts to an image with some pixels missing (NaN) "
                         "and some given, learning to fill the one from the other; this one "
                         f"has {'none' if missing.all() else 'all'} of its pixels given")
    channels, ph, pw = patch_shape(estimator)
    # A patch inside a hole stays: it adds nothing to the loss, as a row
    # with no given value.
    return np.concatenate([image_patches(plane, (ph, pw), stride=1).astype(np.float32)
                           for plane in _per_estimator_channels(image, channels)])
