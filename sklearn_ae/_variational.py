"""VariationalAutoencoder: a generative model with a Gaussian code."""

from __future__ import annotations

import functools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder, fill_doc
from ._generative import GenerativeMixin
from ._indicator import (INDICATOR_CONSTRAINTS, MISSING_INDICATOR_DOC, MISSING_INDICATOR_GAPS_DOC,
                         MissingIndicatorMixin)
from .nn import VariationalModule, gaussian_nll

# Standard normal draws shared by every row when scoring: the ELBO estimate is
# then deterministic and a row's score does not depend on its batch.
_SCORE_DRAWS = 16


@functools.lru_cache(maxsize=16)
def _standard_normal_draws(n_draws, n_components):
    generator = torch.Generator().manual_seed(0)
    return torch.randn(n_draws, n_components, generator=generator, dtype=torch.float64)


def _fixed_draws(n_draws, n_components, like):
    # Cached: drawn once, and a constant to graph exporters (to_onnx).
    return _standard_normal_draws(n_draws, n_components).to(device=like.device, dtype=like.dtype)


class _VariationalBase(MissingIndicatorMixin, BaseAutoencoder):
    """What the variational estimators share: the ELBO as loss and score.

    A subclass's module has ``negative_elbo(X, c, eps=, beta=, generator=)``;
    ``y`` is the condition (None for the unconditional model).
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        **INDICATOR_CONSTRAINTS,
    }

    _network_params = (*BaseAutoencoder._network_params, "likelihood")

    def _init_from_data(self, X):
        if self.likelihood != "bernoulli":
            return
        low, high = self._scaler().feature_range(X, self._group)
        if low.min() < 0 or high.max() > 1:
            raise ValueError(
                "likelihood='bernoulli' needs every value in [0, 1] as the network "
                "sees it: scale X to [0, 1] and pass standardize=False (now "
                f"standardize={self.standardize})."
            )

    def _per_row_negative_elbo(self, module, X, y):
        # Per feature, so learning rates and tol mean what they mean for the
        # other estimators whatever the width of X.
        return module.negative_elbo(
            X, y, beta=self.beta, generator=self._train_generator) / X.shape[1]

    def _loss(self, module, X, y):
        return self._per_row_negative_elbo(module, X, y).mean()

    def _validation_loss(self, module, X, y):
        # One fixed draw: the same noise every epoch, so epochs compare.
        eps = _fixed_draws(1, self.n_components_, X)
        return module.negative_elbo(X, y, eps=eps, beta=self.beta) / X.shape[1]

    def _sample_loss(self, module, X, y):
        return module.negative_elbo(X, y, eps=_fixed_draws(_SCORE_DRAWS, self.n_components_, X))



@fill_doc(extra={"missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_GAPS_DOC})
class VariationalAutoencoder(GenerativeMixin, _VariationalBase):
    """Variational autoencoder (VAE), with the beta-VAE weight ``beta``.

    The encoder maps a row to a Gaussian posterior over codes, the decoder a
    code to a distribution over rows, and training maximises the evidence
    lower bound (ELBO): expected log-likelihood of the row minus ``beta``
    times the KL divergence of the posterior from the standard normal prior.
    The KL term is always on.

    With ``likelihood="gaussian"`` (default) the decoder learns one variance
    per feature, so how much reconstruction weighs against the KL term is
    fitted rather than set by hand. ``likelihood="bernoulli"`` is for data in
    [0, 1] such as pixel intensities, with ``standardize=False``. Log-variances
    are squashed into finite bounds, so long fits cannot end in NaN.

    :meth:`transform` returns the posterior mean; :meth:`sample` decodes
    draws from the prior; :meth:`score_samples` is each row's ELBO in nats,
    estimated with the same fixed draws for every row, so it is deterministic;
    :meth:`log_likelihood` gives an importance-sampled estimate of log p(x).

    Parameters
    ----------
{common_parameters}
    beta : float, default=1.0
        Weight of the KL term in the training loss (beta-VAE). Scores use the
        plain ELBO (beta = 1) whatever ``beta`` is.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution.
{missing_indicator_param}

    Attributes
    ----------
    module_ : VariationalModule
        The trained torch module.
{common_attributes}
{missing_indicator}

    See Also
    --------
    Autoencoder : Deterministic codes, squared-error scores.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import VariationalAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VariationalAutoencoder(n_components=8, max_iter=5, random_state=0).fit(X)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    >>> vae.score_samples(X[:2]).shape
    (2,)
    """

    _parameter_constraints = _VariationalBase._parameter_constraints

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
        beta=1.0,
        likelihood="gaussian",
        missing_indicator=False,
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
        self.beta = beta
        self.likelihood = likelihood
        self.missing_indicator = missing_indicator

    def _build_module(self, n_features):
        return VariationalModule(
            n_features,
            self.n_components_,
            self.hidden_layer_sizes_,
            self.activation,
            likelihood=self.likelihood,
            missing_indicator=self._tells_missing(n_features),
        )

    def score_samples(self, X):
        """ELBO of each row, in nats: higher is more normal.

        The expectation over the posterior is estimated with 16 standard
        normal draws that are the same for every row and every call, so the
        scores are deterministic. The ELBO is of the standardised rows when
        ``standardize=True``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return super().score_samples(X)

    def log_likelihood(self, X, n_samples=100, random_state=None):
        """Importance-sampled estimate of log p(x) for each row, in nats.

        Uses ``n_samples`` draws from each row's posterior (the IWAE bound);
        tighter than the ELBO, and random unless ``random_state`` is fixed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_samples : int, default=100
            Importance samples per row.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.

        Returns
        -------
        log_px : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        X = self._validate_rows(X)
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)

        def importance_sampled(module, x, c):
            mu, log_var = module.encode_distribution(x)
            terms = []
            for _ in range(n_samples):
                eps = torch.randn(mu.shape, generator=generator, dtype=torch.float64)
                z = mu + torch.exp(0.5 * log_var) * eps.to(mu.device, mu.dtype)
                log_q = -gaussian_nll(z, mu, log_var)
                log_prior = -gaussian_nll(z, torch.zeros_like(z), torch.zeros_like(z))
                terms.append(log_prior - log_q - module.nll(x, z))
            return torch.logsumexp(torch.stack(terms), dim=0) - np.log(n_samples)

        return self._over_chunks(importance_sampled, X)
