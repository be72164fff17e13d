"""Autoencoder: the plain fully connected autoencoder."""

from __future__ import annotations

from ._base import BaseAutoencoder, fill_doc
from .nn import MLPAutoencoder


@fill_doc
class Autoencoder(BaseAutoencoder):
    """Fully connected autoencoder with scikit-learn's transformer and outlier API.

    Encodes rows into ``n_components`` features, like
    :class:`~sklearn.decomposition.PCA` but non-linear, and scores each row by
    how well it is reconstructed, like an outlier detector.

    The network is ``n_features -> *hidden_layer_sizes -> n_components`` and a
    mirrored decoder, trained with Adam on the mean squared reconstruction
    error. With ``standardize=True`` (the default) each feature is centred and
    scaled to unit variance inside the estimator, so raw tabular data works
    out of the box; :meth:`inverse_transform` undoes the scaling. For images
    whose pixels already share one scale, ``standardize=False`` keeps rare
    pixels from being weighted up.

    Parameters
    ----------
{common_parameters}
    Attributes
    ----------
    module_ : MLPAutoencoder
        The trained torch module.
{common_attributes}
    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import Autoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = Autoencoder(n_components=8, max_iter=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 8)
    >>> ae.inverse_transform(ae.transform(X)).shape
    (1797, 64)
    >>> ae.predict(X[:5]).shape
    (5,)
    """

    def __init__(
        self,
        n_components=None,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        learning_rate_init=1e-3,
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
    ):
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            learning_rate_init=learning_rate_init,
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

    def _build_module(self, n_features):
        return MLPAutoencoder(
            n_features, self.n_components_, self.hidden_layer_sizes_, self.activation
        )
