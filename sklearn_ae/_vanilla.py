"""Autoencoder: the plain fully connected autoencoder."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import BaseAutoencoder, fill_doc
from ._fallback import LinearFallbackMixin
from ._outlier import OutlierScoreMixin
from ._indicator import INDICATOR_CONSTRAINTS, MISSING_INDICATOR_DOC, MISSING_INDICATOR_PARAM_DOC
from ._restoration import CORRUPTION_CLASSES, CORRUPTION_DOC, RestorationMixin
from .nn import MLPAutoencoder, MLPEnsemble

# Share of each ensemble member's connections kept (see MLPEnsemble).
CONNECTION_KEEP = 0.5

N_MEMBERS_DOC = """    n_members : int, default={default}
        Train this many networks of the same shape at once, as one network
        (:class:`~sklearn_ae.nn.MLPEnsemble`: stacked weights, batched
        matrix products), each from its own initial weights and with its
        own random half of the connections kept, each trained on its own
        reconstruction error. The model's reconstruction is the mean of the
        members'; :meth:`transform` gives the members' codes side by side
        (``n_members * n_components_`` columns) and :meth:`inverse_transform`
        takes them so. The isolation and combined scores measure each entry's
        error as the members' mean squared error (their mean's error plus
        how far they disagree); ``outlier_score="reconstruction"`` and
        :meth:`score` measure their mean reconstruction's. On a CPU 8
        members of a small network cost 3-5x one (``python -m benchmarks
        ensemble``); a GPU, which one small network leaves mostly idle, runs
        them in the same kernels. 1 trains one
        :class:`~sklearn_ae.nn.MLPAutoencoder`. An ensemble is never
        replaced by PCA's linear model (the ``hidden_layer_sizes="auto"``
        fallback). As an outlier detector, 8 members scored slightly below
        one network on the ADBench tables and embedding sets at about 3x
        its CPU time, so 1 is the default (the user guide has the
        figures)."""


@fill_doc(extra={"corruption": CORRUPTION_DOC, "missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_PARAM_DOC,
                 "n_members": N_MEMBERS_DOC.format(default=1)})
class Autoencoder(RestorationMixin, LinearFallbackMixin, OutlierScoreMixin, BaseAutoencoder):

    """Fully connected autoencoder with scikit-learn's transformer and outlier API.

    Encodes rows into ``n_components`` features, like
    :class:`~sklearn.decomposition.PCA` but non-linear, and scores each row by
    how well it is reconstructed, like an outlier detector.

    The network is ``n_features -> *hidden_layer_sizes -> n_components`` and a
    mirrored decoder, trained with Adam on the mean squared reconstruction
    error. With ``standardize=True`` (the default) each feature is centred and
    scaled inside the estimator, so raw tabular data works out of the box;
    :meth:`inverse_transform` undoes the scaling.

    The defaults are chosen for dimensionality reduction on any data: widths
    from the number of features, a cosine learning-rate schedule over an
    epoch budget counted in rows, and one training per fit. How they compare
    with PCA on MNIST and on other data is measured by
    ``python -m benchmarks dimred`` and ``families`` (see the documentation's
    benchmark page).

    With ``hidden_layer_sizes="auto"`` and ``early_stopping=True`` (the
    defaults), the fit also computes PCA of the standardised training rows
    (and, where the features share a unit, their scales within 10x of each
    other as pixels do, PCA of X as given) and keeps the linear autoencoder
    spanning the better one's ``n_components``-dimensional subspace instead
    of the network when that reconstructs the held-out validation rows
    better: in X's units where the features share one, else in standardised
    units. A small table that a network overfits then gets PCA's
    generalisation rather than a worse model. ``hidden_layer_sizes_`` is
    ``()`` when that happened, and ``best_loss_`` is the linear model's
    validation loss (``loss_curve_`` still describes the network's training).
    Pass explicit ``hidden_layer_sizes`` to always keep the network.

    For outlier detection use :class:`OutlierAutoencoder`: this model with
    defaults chosen for that (``outlier_score="isolation"``,
    ``refit_fraction=0.1`` and a smaller network trained longer).

    Parameters
    ----------
{common_parameters}
    outlier_score : {"reconstruction", "combined", "isolation"}, default="reconstruction"
        What :meth:`score_samples` (and so :meth:`decision_function` and
        :meth:`predict`) measure. "reconstruction": the opposite of the mean
        squared reconstruction error, the classic autoencoder detector.
        "combined": minus the sum of three robust z-scores (median and
        interquartile range over the training rows): the reconstruction error
        with each feature's error divided by its mean training error; the
        negative log-density of the row's code under a Gaussian mixture (up
        to three components) fitted to the standardised training codes; and
        the row's mean squared distance from the training mean, in the units
        the network sees (standardised features, or raw ones with
        ``standardize=False``). Rows can be anomalous by reconstructing badly,
        by mapping to a rare region of the code space, or by lying far out in
        a direction the network learnt to reconstruct. "isolation": the
        reconstruction error, an isolation forest's score and, on up to 64
        features, a robust covariance's Mahalanobis distance, each ranked
        among the training rows' (see :class:`OutlierAutoencoder`, whose
        default it is). :meth:`score` measures the reconstruction error
        whatever this is.
    refit_fraction : float in [0, 0.5), default=0.0
        After a first fit, leave out this share of the training rows, those
        the first network scores as most anomalous (the forest and the
        covariance, with ``outlier_score="isolation"``), and train a fresh network
        on the rest; the returned model is the second one, and ``offset_`` is
        still taken over all training rows. A network learns the anomalies it
        is trained on and then reconstructs them well; training without them
        sharpens the outlier scores. It doubles the fit time, so the default, 0,
        trains once. With ``outlier_score="isolation"`` on rows without gaps
        the forest and the covariance pick the rows before any network is
        trained, so one network is: on the kept rows. Not applied to
        warm-started fits.
{corruption}
{missing_indicator_param}
{n_members}

    Attributes
    ----------
    module_ : MLPAutoencoder or MLPEnsemble
        The trained torch module (an ensemble with ``n_members > 1``).
{common_attributes}
{missing_indicator}
    outlier_score_ : str
        The ``outlier_score`` the fit learnt its score for; what
        :meth:`score_samples` computes until the next fit, whatever
        ``outlier_score`` is set to meanwhile.
    error_scale_ : ndarray of shape (n_features,)
        Mean squared training error of each standardised feature
        (``outlier_score="combined"`` or ``"isolation"``).
    code_mean_, code_scale_ : ndarray of shape (n_components,)
        Standardisation of the codes before the density
        (``outlier_score="combined"`` only).
    code_density_ : sklearn.mixture.GaussianMixture or None
        Density of the standardised training codes
        (``outlier_score="combined"`` only; None after a fit on one row).
    input_center_ : ndarray of shape (n_features,)
        Mean of the training rows in the network's units, the origin of the
        distance term (``outlier_score="combined"`` only).
    score_center_, score_scale_ : ndarray of shape (3,)
        Median and interquartile range over the training rows of the three
        parts of the combined score (``outlier_score="combined"`` only).

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.

    Notes
    -----
    With ``outlier_score="isolation"`` the fit also learns the attributes
    :class:`OutlierAutoencoder` lists (``forest_*``, ``error_center_``,
    ...). The earlier outlier settings (``outlier_score="combined"``,
    ``refit_fraction=0.1``, ``hidden_layer_sizes=(128, 64)``,
    ``learning_rate="constant"``, ``learning_rate_init=1e-3``,
    ``max_iter=200``) are still measured by ``python -m benchmarks outliers``;
    docs/benchmarks.md has the figures.

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

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        **OutlierScoreMixin._outlier_parameter_constraints,
        **RestorationMixin._restoration_parameter_constraints,
        **INDICATOR_CONSTRAINTS,
        "n_members": [Interval(Integral, 1, None, closed="left")],
    }
    _network_params = (*BaseAutoencoder._network_params, "n_members")
    _transient_attributes = (*BaseAutoencoder._transient_attributes,
                             *RestorationMixin._restoration_transients)
    _nested_estimators = (*OutlierScoreMixin._nested_estimators, *CORRUPTION_CLASSES)

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
        outlier_score="reconstruction",
        refit_fraction=0.0,
        corruption=None,
        missing_indicator="auto",
        n_members=1,
    ):
        self.outlier_score = outlier_score
        self.refit_fraction = refit_fraction
        self.corruption = corruption
        self.missing_indicator = missing_indicator
        self.n_members = n_members
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

    def _build_module(self, n_features):
        if self.n_members > 1:
            return MLPEnsemble(
                n_features, self.n_components_, self.hidden_layer_sizes_, self.activation,
                n_members=self.n_members, connection_keep=CONNECTION_KEEP,
                missing_indicator=self._tells_missing(n_features),
            )
        return MLPAutoencoder(
            n_features, self.n_components_, self.hidden_layer_sizes_, self.activation,
            missing_indicator=self._tells_missing(n_features),
        )

    @property
    def _n_features_out(self):
        # An ensemble's codes are its members' side by side.
        return self.n_components_ * getattr(self.module_, "n_members", 1)
