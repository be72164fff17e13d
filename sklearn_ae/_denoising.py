"""DenoisingAutoencoder: learns to undo corruption of its inputs."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder, fill_doc
from ._indicator import INDICATOR_CONSTRAINTS, MISSING_INDICATOR_DOC, MISSING_INDICATOR_PARAM_DOC
from ._restoration import CORRUPTION_CLASSES, CORRUPTION_DOC, RestorationMixin
from .nn import MLPAutoencoder, corrupt


# Beyond this noise standard deviation, squared errors of noisy rows leave
# float32's range (about 3.4e38) once summed over features.
_LARGEST_NOISE = 1e16


def _is_interval(pair):
    """Whether ``pair`` is two real numbers, the first below the second."""
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        return False
    return low < high


@fill_doc(extra={"corruption": CORRUPTION_DOC, "missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_PARAM_DOC})
class DenoisingAutoencoder(RestorationMixin, BaseAutoencoder):
    """Autoencoder trained to rebuild clean rows from corrupted ones.

    Each training batch is corrupted afresh (``noise``, ``noise_level``) and the
    network is trained to reconstruct the uncorrupted batch, which keeps it
    from learning the identity and makes :meth:`inverse_transform` of
    :meth:`transform` a denoiser. Only training sees the noise: ``transform``,
    ``inverse_transform`` and ``score_samples`` use the data as given.

    Noise acts on the features as the network sees them: with
    ``standardize=True`` in units of each feature's ``scale_`` (its standard
    deviation, or the median one for features on which most rows share one
    value), so ``noise_level=0.5`` is half a standard deviation of a typical
    feature; with ``standardize=False`` in X's own units.

    Parameters
    ----------
{common_parameters}
    noise : {"gaussian", "masking", "salt_pepper"}, default="gaussian"
        "gaussian" adds normal noise of standard deviation ``noise_level``;
        "masking" sets a share ``noise_level`` of the entries to zero (the
        feature's mean when standardised); "salt_pepper" sets a share
        ``noise_level`` of the entries to the feature's training minimum or
        maximum, half each.
    noise_level : float, default=0.5
        Standard deviation ("gaussian", in the units above) or share of
        corrupted entries ("masking", "salt_pepper", at most 1). On digits
        with Gaussian pixel noise of 0.15 and 0.3 at test time, 0.5 denoised
        better than 0.2 and 1.0 at both, and still reconstructed clean rows
        better than PCA.
    clip : (float, float) or None, default=None
        Range the corrupted values are clipped to, in the units the network
        sees: e.g. ``(0, 1)`` for pixels in [0, 1] with ``standardize=False``,
        so that training noise looks like noise on a bounded sensor. None
        leaves them unclipped.
{corruption}
        Given, it replaces ``noise``, ``noise_level`` and ``clip``.
{missing_indicator_param}

    Attributes
    ----------
    module_ : MLPAutoencoder
        The trained torch module.
{missing_indicator}
    feature_min_, feature_max_ : ndarray of shape (n_features,)
        Per-feature minimum and maximum of the standardised training rows,
        the pepper and salt values.
{common_attributes}

    See Also
    --------
    Autoencoder : The same network trained without corruption.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import DenoisingAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> dae = DenoisingAutoencoder(n_components=16, noise_level=0.5, max_iter=5,
    ...                            random_state=0).fit(X)
    >>> noisy = X + np.random.RandomState(0).normal(scale=2.0, size=X.shape)
    >>> dae.inverse_transform(dae.transform(noisy)).shape
    (1797, 64)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions({"gaussian", "masking", "salt_pepper"})],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "clip": [None, "array-like"],
        **RestorationMixin._restoration_parameter_constraints,
        **INDICATOR_CONSTRAINTS,
    }
    _nested_estimators = CORRUPTION_CLASSES

    def __init__(
        self,
        n_components=None,
        *,
        hidden_layer_sizes="auto",
        activation="relu",
        alpha=1e-4,
        batch_size="auto",
        max_iter="auto",
        learning_rate_init=3e-3,
        learning_rate="cosine",
        precision="auto",
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        standardize=True,
        contamination=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        noise="gaussian",
        noise_level=0.5,
        clip=None,
        corruption=None,
        missing_indicator="auto",
    ):
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            learning_rate_init=learning_rate_init,
            learning_rate=learning_rate,
            precision=precision,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            standardize=standardize,
            contamination=contamination,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.noise = noise
        self.noise_level = noise_level
        self.clip = clip
        self.corruption = corruption
        self.missing_indicator = missing_indicator

    # The salt-and-pepper values on the training device: a cache, rebuilt
    # on the next fit (it may sit on a GPU).
    _transient_attributes = (*BaseAutoencoder._transient_attributes, "_salt_pepper",
                             *RestorationMixin._restoration_transients)

    def _check_params(self):
        super()._check_params()
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(
                f"noise_level is a share of entries for noise={self.noise!r} and "
                f"must be at most 1, got {self.noise_level}."
            )
        if self.noise == "gaussian" and self.noise_level > _LARGEST_NOISE:
            raise ValueError(
                f"noise_level={self.noise_level:g} is too large: noisy rows would overflow "
                "float32, the network's precision. Give the noise's standard deviation "
                "in the units the network sees (standardised with standardize=True), "
                "e.g. 0.1 to 1.")
        if self.clip is not None and not _is_interval(self.clip):
            raise ValueError(
                f"clip must be a pair of numbers (low, high) with low < high, got {self.clip!r}.")

    def _build_module(self, n_features):
        return MLPAutoencoder(
            n_features, self.n_components_, self.hidden_layer_sizes_, self.activation,
            missing_indicator=self._tells_missing(n_features),
        )

    def _init_from_data(self, X):
        self.feature_min_, self.feature_max_ = self._scaler().feature_range(X, self._group)
        self._salt_pepper = None

    def _salt_pepper_values(self, like):
        """Pepper and salt values as tensors beside ``like``, copied there once."""
        cached = getattr(self, "_salt_pepper", None)
        if cached is None or cached[0].device != like.device or cached[0].dtype != like.dtype:
            cached = tuple(
                torch.as_tensor(v, dtype=like.dtype, device=like.device)
                for v in (self.feature_min_, self.feature_max_)
            )
            self._salt_pepper = cached
        return cached

    def _corrupts(self):
        return True

    def _corrupt_batch(self, X, generator):
        if self._corruption_steps:
            return self._apply_corruption(X, generator)
        low = high = None
        if self.noise == "salt_pepper":
            low, high = self._salt_pepper_values(X)
        noisy = corrupt(X, self.noise, self.noise_level, low, high, generator=generator)
        if self.clip is not None:
            noisy = noisy.clamp(float(self.clip[0]), float(self.clip[1]))
        return noisy
