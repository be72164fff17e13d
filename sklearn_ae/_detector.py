"""OutlierAutoencoder: the autoencoder with settings chosen for outlier detection."""

from __future__ import annotations

from ._base import fill_doc
from ._indicator import MISSING_INDICATOR_DOC, MISSING_INDICATOR_PARAM_DOC
from ._restoration import CORRUPTION_DOC
from ._vanilla import N_MEMBERS_DOC, Autoencoder

_ISOLATION_DOC = """    outlier_score : {"isolation", "combined", "reconstruction"}, default="isolation"
        What :meth:`score_samples` (and so :meth:`decision_function` and
        :meth:`predict`) measure. "isolation": minus the weighted sum of two
        robust z-scores (``(value - median) / IQR`` over the training rows).
        One is of the log of the row's reconstruction error (each
        standardised feature's squared error divided by that feature's mean
        training error, floored at the median feature's, then averaged over
        features); the other is of the row's anomaly score under an
        isolation forest (:class:`~sklearn.ensemble.IsolationForest` with
        its defaults, grown on all training rows). So 0 is a typical
        training row and each unit down one interquartile range of the
        training rows on a scale added; on the log scale, a row the network
        misses by 100 times the typical error moves by a few units, not
        hundreds. The error weighs 0.75; the forest 1 up to 16 features and
        ``16 / n_features`` beyond, where its splits on one feature at a
        time carry less. On up to 64 features (the network's columns) and
        at least ``2 (n_features + 1)`` rows a third z-score, of weight 0.5,
        is added: of the log squared Mahalanobis distance of the row under a
        robust covariance of the standardised training rows
        (:class:`~sklearn.covariance.MinCovDet` with 75% of them in its
        support, 0.1 times the mean variance added to its diagonal), which
        catches rows that break the linear relations between features.
        "combined" and "reconstruction"
        are :class:`Autoencoder`'s scores (see there). :meth:`score`
        measures the reconstruction error whatever this is.
    refit_fraction : float in [0, 0.5), default=0.1
        Leave out this share of the training rows and train the network on
        the rest: with ``outlier_score="isolation"`` those the forest and the
        covariance (their weighted z-scores) score as most anomalous, picked
        before any network is trained (where rows have gaps a first network
        fills them for the forest, and a fresh one is trained after it),
        else those a first network scores so, and a fresh network is
        trained. A network learns the anomalies it is trained on
        and then reconstructs them well (a tight cluster of identical
        attacks in network traffic, say); training without them sharpens
        the scores. The z-scores' units and ``offset_`` are still learnt from
        all training rows. 0 trains once. Not applied to warm-started fits."""


@fill_doc(extra={"isolation_score": _ISOLATION_DOC, "corruption": CORRUPTION_DOC,
                 "missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_PARAM_DOC,
                 "n_members": N_MEMBERS_DOC.format(default=1)})
class OutlierAutoencoder(Autoencoder):

    """Autoencoder outlier detector: reconstruction error, isolation forest, robust covariance.

    An :class:`Autoencoder` whose defaults are chosen for unsupervised
    outlier detection on tabular data and on embeddings, as
    :class:`~sklearn.covariance.EllipticEnvelope` is
    :class:`~sklearn.covariance.MinCovDet` set up as a detector. The
    network (two hidden layers of 128 and 64, 200 epochs at a constant
    learning rate, early stopping on 10% of the rows) is trained without the
    10% of training rows an isolation forest and the robust covariance flag
    first. A row's score adds how far its log reconstruction
    error, its forest score and (on tables of up to 64 features) its log
    robust Mahalanobis distance lie above the training rows' typical ones:
    the autoencoder catches rows that break the non-linear relations
    between features, the forest rows that sit apart on a few of them, the
    covariance rows that break the linear ones.

    Measured with ``python -m benchmarks outliers`` (29 ADBench tabular and
    18 embedding sets, 3 seeds, each family split into halves A and B by
    name; the settings chosen on A, confirmed on B): see the user guide
    and docs/benchmarks.md for the figures against IsolationForest, PyOD's
    AutoEncoder, KNN, ECOD and PCA.

    It is a transformer too (:meth:`transform` gives the codes), but for
    dimensionality reduction use :class:`Autoencoder`, whose defaults are
    chosen for that.

    Parameters
    ----------
{common_parameters}
{isolation_score}
{corruption}
{missing_indicator_param}
{n_members}

    Attributes
    ----------
    module_ : MLPAutoencoder or MLPEnsemble
        The trained torch module (the second one when a first network was
        trained to fill gaps; an ensemble with ``n_members > 1``).
{common_attributes}
{missing_indicator}
    outlier_score_ : str
        The ``outlier_score`` the fit learnt its score for.
    error_scale_ : ndarray of shape (n_features,)
        Mean squared training error of each standardised feature (of the
        rows the returned network was trained on), floored at the median
        feature's.
    error_center_, forest_center_ : float
        Medians over the training rows of the log scaled error and of the
        forest score: the zeros of the two z-scores.
    error_spread_, forest_spread_ : float
        Their interquartile ranges (the standard deviation where that is
        0): the z-scores' units.
    forest_weight_ : float
        Weight of the forest's z-score: ``min(1, 16 / n_features_in_)``.
    covariance_weight_ : float
        Weight of the covariance's z-score: 0.5, or 0 where the part is not
        used (more than 64 features, fewer than ``2 (n_features + 1)``
        training rows, or three quarters of them one repeated row, which leaves
        the covariance no spread).
    covariance_location_ : ndarray of shape (n_features,) or None
        The robust location (:class:`~sklearn.covariance.MinCovDet`'s) of
        the standardised training rows; None where the part is not used.
    covariance_precision_ : ndarray of shape (n_features, n_features) or None
        Inverse of the robust covariance plus 0.1 times its mean variance on
        the diagonal.
    covariance_floor_ : float
        First percentile of the training rows' squared distances, the floor
        below which a distance counts as that one (its log would run to
        minus infinity at the center).
    covariance_center_, covariance_spread_ : float
        Median and interquartile range of the training rows' log distances.
    forest_left_, forest_right_, forest_feature_ : ndarray of shape (n_trees, n_nodes)
        Each tree's nodes: children (-1 at a leaf) and the feature split on.
    forest_threshold_ : ndarray of shape (n_trees, n_nodes)
        Each node's split: rows at or below it go left.
    forest_leaf_ : ndarray of shape (n_trees, n_nodes)
        What a leaf adds to a path's length (the average path length of the
        training rows it holds; 0 elsewhere).
    forest_depth_ : int
        Depth of the deepest tree.
    forest_norm_ : float
        Average path length of the forest's subsample size: path lengths
        are divided by it.

    See Also
    --------
    Autoencoder : The same model with defaults for dimensionality reduction.
    sklearn.ensemble.IsolationForest : The forest alone.
    sklearn.covariance.EllipticEnvelope : The robust covariance alone.

    Notes
    -----
    With ``outlier_score="combined"`` or ``"reconstruction"`` and the other
    parameters left alone, this is :class:`Autoencoder` with the outlier
    settings measured before the isolation score existed.
    :meth:`feature_contributions` splits the whole isolation score by
    feature: the error part by each feature's scaled error, the forest part
    by the splits that isolate the row, the covariance part by each
    feature's term of the squared distance.

    A fit that uses its 200 epochs while the training loss still falls does
    not warn, as :class:`Autoencoder` does: the budget is one of the
    measured settings, not a cap on convergence (a network trained to
    convergence reconstructs its training anomalies better).

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from sklearn_ae import OutlierAutoencoder
    >>> X, _ = load_wine(return_X_y=True)
    >>> detector = OutlierAutoencoder(max_iter=20, random_state=0).fit(X)
    >>> detector.predict(X).shape
    (178,)
    >>> bool((detector.predict(X) == -1).mean() <= 0.15)
    True
    """

    _warn_unconverged = False

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
        learning_rate="constant",
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
        outlier_score="isolation",
        refit_fraction=0.1,
        corruption=None,
        missing_indicator="auto",
        n_members=1,
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
            outlier_score=outlier_score,
            refit_fraction=refit_fraction,
            corruption=corruption,
            missing_indicator=missing_indicator,
            n_members=n_members,
        )
