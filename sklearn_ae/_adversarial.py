"""AdversarialAutoencoder: codes shaped to a prior by a discriminator."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder, _layer_sizes, fill_doc
from ._generative import GenerativeMixin
from ._indicator import (INDICATOR_CONSTRAINTS, MISSING_INDICATOR_DOC, MISSING_INDICATOR_GAPS_DOC,
                         MissingIndicatorMixin)
from .nn import AdversarialModule, prior_sample

_bce = torch.nn.functional.binary_cross_entropy_with_logits


@fill_doc(extra={"missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_GAPS_DOC})
class AdversarialAutoencoder(MissingIndicatorMixin, GenerativeMixin, BaseAutoencoder):
    """Adversarial autoencoder (Makhzani et al., 2016).

    A discriminator learns to tell codes of training rows from draws of a
    prior, and the encoder learns, besides reconstructing, to fool it, which
    pushes the distribution of codes toward the prior. Each training step
    has three phases, each with its own Adam optimizer, as in the paper: a
    reconstruction step of encoder and decoder, a discriminator step, and an
    adversarial step of the encoder. :meth:`sample` decodes draws from the
    prior.

    ``early_stopping`` is off by default here: the held-out reconstruction
    error levels off long before the codes match the prior (measured on
    scikit-learn's digits: stopped at 26-64 epochs with codes far from a
    uniform or mixture prior; with the adversarial loss or a distance to the
    prior added to the monitored loss, stopped even earlier), so the fit
    runs until the training reconstruction error has not improved for
    ``n_iter_no_change=50`` epochs (default here). How closely the codes
    then match each prior is measured in the benchmarks (see the
    documentation's benchmark page).

    Parameters
    ----------
{common_parameters}
    prior : {"normal", "uniform", "mixture"}, default="normal"
        Distribution the codes are pushed toward: standard normal; uniform
        with zero mean and unit variance per axis; or an equal mixture of
        ``2 * n_components`` Gaussians (sd 0.5) centred at +2 and -2 on each
        axis.
    discriminator_layer_sizes : tuple of int, default=(64, 64)
        Hidden widths of the discriminator.
    adversarial_weight : float, default=1.0
        Learning rate of the encoder's adversarial step, relative to
        ``learning_rate_init``; 0 turns the adversarial step off.
{missing_indicator_param}

    Attributes
    ----------
    module_ : AdversarialModule
        The trained autoencoder and discriminator.
{common_attributes}
{missing_indicator}
    prior_ : str
        The prior :meth:`sample` draws from: ``prior`` as it was at the
        latest fit.

    See Also
    --------
    VariationalAutoencoder : A KL term instead of a discriminator.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import AdversarialAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> aae = AdversarialAutoencoder(n_components=4, max_iter=3, random_state=0).fit(X)
    >>> aae.sample(5, random_state=0).shape
    (5, 64)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "prior": [StrOptions({"normal", "uniform", "mixture"})],
        "discriminator_layer_sizes": ["array-like"],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        **INDICATOR_CONSTRAINTS,
    }

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
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=50,
        standardize=True,
        contamination=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        prior="normal",
        discriminator_layer_sizes=(64, 64),
        adversarial_weight=1.0,
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
        self.prior = prior
        self.discriminator_layer_sizes = discriminator_layer_sizes
        self.adversarial_weight = adversarial_weight
        self.missing_indicator = missing_indicator

    _network_params = (*BaseAutoencoder._network_params, "discriminator_layer_sizes")

    def _check_params(self):
        super()._check_params()
        _layer_sizes("discriminator_layer_sizes", self.discriminator_layer_sizes)
        # What sample() draws from: the prior of the latest training.
        self.prior_ = self.prior

    def _build_module(self, n_features):
        return AdversarialModule(
            n_features,
            self.n_components_,
            self.hidden_layer_sizes_,
            self.activation,
            _layer_sizes("discriminator_layer_sizes", self.discriminator_layer_sizes),
            missing_indicator=self._tells_missing(n_features),
        )

    def _make_optimizers(self, module, batch_size):
        (autoencoder,) = super()._make_optimizers(module.autoencoder, batch_size)
        discriminator = torch.optim.Adam(
            module.discriminator.parameters(), lr=self.learning_rate_init, fused=True
        )
        # The encoder's adversarial step has an optimizer of its own: Adam
        # then sizes it independently of how large the reconstruction error
        # is. Summed into one loss, a reconstruction error of 0.05 (pixels
        # in [0, 1]) was swamped by the adversarial term and the codes of
        # MNIST collapsed to a constant.
        encoder = torch.optim.Adam(
            module.encoder_parameters(),
            lr=self.learning_rate_init * self.adversarial_weight,
            fused=True,
        )
        return [autoencoder, discriminator, encoder]

    def _train_step(self, module, optimizers, X, y):
        autoencoder_opt, discriminator_opt, encoder_opt = optimizers
        autoencoder_opt.zero_grad(set_to_none=True)
        reconstruction = torch.nn.functional.mse_loss(module(X), X)
        reconstruction.backward()
        autoencoder_opt.step()

        codes = module.encode(X)
        prior = prior_sample(
            self.prior, X.shape[0], self.n_components_, generator=self._train_generator,
            device=X.device, dtype=X.dtype,
        )
        real, fake = module.discriminator(prior), module.discriminator(codes.detach())
        discriminator_loss = _bce(real, torch.ones_like(real)) + _bce(fake, torch.zeros_like(fake))
        discriminator_opt.zero_grad(set_to_none=True)
        discriminator_loss.backward()
        discriminator_opt.step()

        if self.adversarial_weight > 0:
            fooled = module.discriminator(codes)
            encoder_opt.zero_grad(set_to_none=True)
            _bce(fooled, torch.ones_like(fooled)).backward()
            encoder_opt.step()
        return reconstruction.detach()

    def _draw_prior(self, n_samples, rng):
        generator = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        z = prior_sample(self.prior_, n_samples, self.n_components_, generator=generator)
        return z.double().numpy()
