"""``sample`` for the autoencoders whose code space has a prior to draw from."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._categorical import as_input_columns

__all__ = ["GenerativeMixin"]


class GenerativeMixin:
    """``sample`` for autoencoders whose code space has a prior to draw from."""

    def _draw_prior(self, n_samples, rng):
        """Codes drawn from the prior; standard normal unless a variant says otherwise."""
        return rng.standard_normal((n_samples, self.n_components_))

    def sample(self, n_samples=1, random_state=None):
        """Generate new rows by decoding draws from the prior over codes.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws; an int gives the same rows on every call.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Generated rows in the units of the training data (the decoder's
            expected value for each draw).
        """
        return as_input_columns(self, self._decode(self._prior_codes(n_samples, random_state)))

    def _prior_codes(self, n_samples, random_state):
        """``n_samples`` codes drawn from the prior, after checking the request."""
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        return self._draw_prior(int(n_samples), check_random_state(random_state))
