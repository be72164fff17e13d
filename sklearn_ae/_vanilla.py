"""Autoencoder: the plain fully connected autoencoder."""

from __future__ import annotations

from ._base import BaseAutoencoder
from .nn import MLPAutoencoder


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
    n_components : int or None, default=None
        Width of the code. None picks ``max(1, min(32, n_features // 2))``;
        the value used is stored in ``n_components_``.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Encoder widths between the input and the code; the decoder mirrors
        them. ``()`` gives a linear autoencoder.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers; the code and the output are linear.
    alpha : float, default=1e-4
        L2 penalty (weight decay) on the weights, not on the biases.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(256, n_samples)``.
    max_iter : int, default=200
        Most epochs per call of :meth:`fit`.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as progress.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stop when their loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
        the weights of the best epoch. When False, stop on the training loss
        in the same way and keep the last weights (as ``MLPRegressor`` does).
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    standardize : bool, default=True
        Centre and scale each feature inside the estimator. Reconstruction
        errors, and so outlier scores, are measured on the standardised
        features.
    contamination : float, default=0.1
        Expected share of outliers in the training data, in (0, 0.5]; sets
        ``offset_`` and so :meth:`predict`.
    device : str, default="auto"
        "auto" uses a CUDA GPU when PyTorch sees one, else the CPU; or
        "cpu", "cuda", "cuda:N".
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. Fits
        with the same seed are identical on the CPU. The caller's global
        torch and numpy random states are left untouched.
    verbose : int, default=0
        When positive, a progress bar with the training and validation loss
        of each epoch.
    warm_start : bool, default=False
        Continue training the fitted network (and its optimizer) on the next
        call of :meth:`fit` instead of starting afresh.

    Attributes
    ----------
    module_ : MLPAutoencoder
        The trained torch module.
    n_components_ : int
        Width of the code.
    hidden_layer_sizes_ : tuple of int
        Hidden widths used.
    mean_ : ndarray of shape (n_features_in_,)
        Per-feature mean subtracted before encoding (zeros when
        ``standardize=False``).
    scale_ : ndarray of shape (n_features_in_,)
        Per-feature scale divided out before encoding (ones when
        ``standardize=False``).
    n_iter_ : int
        Epochs run, summed over warm-started fits.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    validation_scores_ : list of float or None
        Mean validation loss of each epoch; None without early stopping.
    best_loss_ : float
        Lowest monitored loss of the last fit (validation loss with early
        stopping, else training loss).
    offset_ : float
        ``contamination`` quantile of the training rows' ``score_samples``;
        ``decision_function = score_samples - offset_``.
    device_ : torch.device
        Device the module lives on.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        column names.

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
