"""SparseAutoencoder: a code with few active units."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder, fill_doc
from ._indicator import (INDICATOR_CONSTRAINTS, MISSING_INDICATOR_DOC, MISSING_INDICATOR_GAPS_DOC,
                         MissingIndicatorMixin)
from .nn import MLPAutoencoder, kl_sparsity


@fill_doc(extra={"missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_GAPS_DOC})
class SparseAutoencoder(MissingIndicatorMixin, BaseAutoencoder):
    """Autoencoder with a sparsity penalty on its code.

    With ``sparsity="kl"`` the code units are logistic (in (0, 1)) and the loss
    adds ``sparsity_weight`` times the KL divergence of each unit's mean
    activation over the batch from ``sparsity_target``, summed over units (Ng's
    sparse autoencoder). With ``sparsity="l1"`` the code units are ReLU and the
    loss adds ``sparsity_weight`` times the mean absolute activation, which
    drives units to exact zeros. Sparse codes are often wider than the input
    (``n_components > n_features``): the penalty, not the bottleneck, keeps
    the network from copying its input.

    Parameters
    ----------
{common_parameters}
    sparsity : {"kl", "l1"}, default="kl"
        Form of the penalty.
    sparsity_target : float, default=0.05
        Target mean activation of each code unit, in (0, 1); used by "kl".
    sparsity_weight : float, default=0.1
        Weight of the penalty against the mean squared reconstruction error;
        0 turns it off.
{missing_indicator_param}

    Attributes
    ----------
    module_ : MLPAutoencoder
        The trained torch module, with a logistic ("kl") or ReLU ("l1") code.
{common_attributes}
{missing_indicator}

    See Also
    --------
    Autoencoder : The same network without the penalty, and a linear code.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import SparseAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> sae = SparseAutoencoder(n_components=32, max_iter=5, random_state=0).fit(X)
    >>> sae.transform(X).shape
    (1797, 32)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "sparsity": [StrOptions({"kl", "l1"})],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        **INDICATOR_CONSTRAINTS,
    }

    _network_params = (*BaseAutoencoder._network_params, "sparsity")

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
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=0.1,
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
        self.sparsity = sparsity
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.missing_indicator = missing_indicator

    def _build_module(self, n_features):
        return MLPAutoencoder(
            n_features,
            self.n_components_,
            self.hidden_layer_sizes_,
            self.activation,
            code_activation="logistic" if self.sparsity == "kl" else "relu",
            missing_indicator=self._tells_missing(n_features),
        )

    def _loss(self, module, X, y):
        codes = module.encode(X)
        loss = torch.nn.functional.mse_loss(module.decode(codes), X)
        if self.sparsity == "kl":
            penalty = kl_sparsity(codes, self.sparsity_target)
        else:
            penalty = codes.abs().mean()
        return loss + self.sparsity_weight * penalty
