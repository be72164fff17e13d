"""Training to restore: corrupted inputs, or clean targets passed to ``fit``.

:class:`RestorationMixin` gives an estimator that reconstructs the
``corruption`` parameter (see :mod:`sklearn_ae.corruptions`) and ``fit(X,
y)`` with ``y`` the clean versions of the rows of ``X`` (real pairs of
degraded and clean images). The network then learns ``degraded -> clean``,
and ``inverse_transform(transform(X))`` restores. With neither, the
estimator trains exactly as it did without the mixin.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_array
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._indicator import MissingIndicatorMixin
from ._missing import GapModule
from .corruptions import as_corruptions, corrupt_rows
from .nn import reconstruction_error, reconstruction_loss

__all__ = ["CORRUPTION_CLASSES", "CORRUPTION_DOC", "RestorationMixin", "clean_targets"]

CORRUPTION_DOC = """    corruption : Corruption, callable, list of them, or None, default=None
        What degrades each training batch before the network sees it; the
        network learns to return the clean batch, so that
        ``inverse_transform(transform(X_degraded))`` restores. A
        :mod:`sklearn_ae.corruptions` object (``GaussianNoise``,
        ``SaltPepper``, ``Masking``, ``Blur``, ``Downsample``), a function
        ``f(X, random_state) -> X_degraded`` on numpy rows (called on the CPU
        once per batch), or a list of them applied in order. They act in X's
        units. The validation rows are degraded by the same draws every
        epoch, so early stopping watches the restoration error. Training on
        real pairs needs no corruption: pass the clean rows as ``y`` to
        :meth:`fit`. None: no corruption."""

def clean_targets(y, n_samples, n_features):
    """``y`` as float32 clean rows when it is an (n_samples, n_features) array, else None.

    A 1-D ``y`` (labels a pipeline passes along) or a single column for a
    wider X is ignored, as before; any other 2-D shape is an error.
    """
    if y is None or sp.issparse(y):
        return None
    # Not np.shape: scikit-learn's checks pass array-likes that refuse numpy's functions.
    shape = y.shape if hasattr(y, "shape") else np.asarray(y).shape
    shape = tuple(shape)
    if len(shape) != 2 or (shape[1] == 1 and n_features != 1):
        return None
    if shape != (n_samples, n_features):
        raise ValueError(
            f"y of shape {shape} is read as the clean versions of X's rows (training "
            f"on pairs) and must have X's shape ({n_samples}, {n_features}); pass "
            "labels as a 1-D array.")
    return check_array(y, dtype=np.float32, input_name="y (clean rows)")


# The corruptions a saved model's parameter may hold (rebuilt by load()).
CORRUPTION_CLASSES = tuple(f"sklearn_ae.corruptions.{name}" for name in (
    "Blur", "Downsample", "GaussianNoise", "Masking", "SaltPepper"))


class RestorationMixin(MissingIndicatorMixin):
    """The ``corruption`` parameter and training on (degraded, clean) pairs.

    Placed before the base class, it overrides the hooks ``_check_params``,
    ``_validate_y``, ``_loss``, ``_validation_loss`` and ``_fallback_watch``;
    each falls through to the parent where neither a corruption nor clean
    rows are given, so such fits are unchanged to the bit.
    """

    _restoration_parameter_constraints = {"corruption": [None, callable, list, tuple]}
    # Transient: the parsed corruption, whether this fit has clean targets,
    # and the scaling as tensors on the training device.
    _restoration_transients = ("_corruption_steps", "_has_targets", "_scaling_on_device")
    _corruption_steps = ()
    _has_targets = False

    def _check_params(self):
        super()._check_params()
        self._corruption_steps = tuple(as_corruptions(self.corruption))
        self._scaling_on_device = None  # this fit's scaling is copied afresh

    def _validate_y(self, y, n_samples, reset):
        targets = clean_targets(y, n_samples, self.n_features_in_)
        self._has_targets = targets is not None
        if (self._has_targets or self._corruption_steps) and hasattr(self, "categories_"):
            raise ValueError("corruption and clean targets restore numbers (pixels, readings); "
                             "X has categorical columns. Fit without them, or without "
                             "corruption and y.")
        if targets is None:
            return super()._validate_y(y, n_samples, reset)
        return targets

    def _corrupts(self):
        """Whether training batches are degraded (a variant with its own noise: always)."""
        return bool(self._corruption_steps)

    def _image_shape(self):
        """``(channels, height, width)`` offered to image corruptions; None: square grey."""
        return None

    def _scaling_tensors(self, like):
        """``mean_`` and ``scale_`` beside ``like`` (None for the identity), copied once."""
        if not self.standardize:
            return None, None
        cached = getattr(self, "_scaling_on_device", None)
        if cached is None or cached[0].device != like.device or cached[0].dtype != like.dtype:
            cached = tuple(torch.as_tensor(v, dtype=like.dtype, device=like.device)
                           for v in (self.mean_, self.scale_))
            self._scaling_on_device = cached
        return cached

    def _apply_corruption(self, X, generator):
        """Standardised rows degraded by ``corruption`` in X's units (NaN: hidden)."""
        if not self._corruption_steps:
            return X
        mean, scale = self._scaling_tensors(X)
        raw = X if mean is None else X * scale + mean
        out = corrupt_rows(self._corruption_steps, raw, generator, self._image_shape())
        return out if mean is None else (out - mean) / scale

    def _hides_entries(self):
        """Whether the corruption hides entries (NaN), as ``Masking`` does."""
        return any(step.hides_entries for step in self._corruption_steps)

    def _corrupt_batch(self, X, generator):
        """A training batch's input: the batch degraded (a variant adds its noise)."""
        return self._apply_corruption(X, generator)

    def _restoration_batch(self, module, X, y, generator, training):
        """``(module, inputs, target)`` for a loss that compares ``module(inputs)`` to ``target``."""
        if y is None:
            target = X
        else:
            mean, scale = self._scaling_tensors(y)
            target = y if mean is None else (y - mean) / scale
        inputs = (self._corrupt_batch(X, generator) if training
                  else self._apply_corruption(X, generator))
        if self._hides_entries() or (y is not None and isinstance(module, GapModule)):
            module, inputs = _seen_through(module, inputs, keep_blanks=y is None)
        return module, inputs, target

    def _loss(self, module, X, y):
        if y is None and not self._corrupts():
            return super()._loss(module, X, y)
        module, inputs, target = self._restoration_batch(
            module, X, y, self._train_generator, training=True)
        return reconstruction_loss(module, inputs, target)

    def _validation_loss(self, module, X, y):
        if y is None and not self._corruption_steps:
            return super()._validation_loss(module, X, y)
        # The same draws every epoch: the curve moves with the network only.
        generator = torch.Generator(device=X.device).manual_seed(0)
        module, inputs, target = self._restoration_batch(module, X, y, generator,
                                                         training=False)
        return reconstruction_error(module(inputs), target)

    def score(self, X, y=None):
        """Opposite of the mean per-row loss; with clean rows ``y``, of the restoration error.

        Without ``y`` (or with labels), as for every estimator: minus the
        mean squared reconstruction error of the standardised features. With
        ``y`` the clean versions of the rows of ``X`` (as ``fit`` takes
        pairs), minus the mean squared error between the restoration
        ``inverse_transform(transform(X))`` and ``y``, in the same
        standardised units, so that a grid search over pairs picks the best
        restorer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_features) or None, default=None
            Clean rows, or None.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        targets = clean_targets(y, _num_samples(X), self.n_features_in_)
        if targets is None:
            return super().score(X, y)
        restored = self.inverse_transform(self.transform(X))
        errors = ((restored - targets) / self.scale_) ** 2
        return float(-np.mean(errors))

    def _fallback_watch(self, X, train_rows, val_rows):
        # PCA of the rows is a model of reconstruction, not of restoration.
        if self._corruption_steps or self._has_targets:
            return None
        return super()._fallback_watch(X, train_rows, val_rows)


def _seen_through(module, inputs, keep_blanks):
    """The network seen through the inputs' NaN (hidden entries) and a batch's own gaps.

    ``keep_blanks``: the loss skips the batch's own gaps (its target is the
    batch); else (clean targets) it counts every entry.
    """
    gaps = module if isinstance(module, GapModule) else None
    network = module if gaps is None else gaps.network
    hidden = torch.isnan(inputs)
    seen = ~hidden if gaps is None else gaps.seen & ~hidden
    observed = gaps.observed if (gaps is not None and keep_blanks) else torch.ones_like(hidden)
    return GapModule(network, observed, seen), inputs.masked_fill(hidden, 0.0)
