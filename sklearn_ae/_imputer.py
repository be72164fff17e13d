"""AutoencoderImputer: missing values filled from an autoencoder's reconstruction."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.impute import MissingIndicator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, MissingValues
from sklearn.utils.validation import check_is_fitted, validate_data

from ._data import FLOAT_DTYPES, check_columns, input_names
from ._denoising import DenoisingAutoencoder
from ._gaussian import GaussianFill
from ._missing import missing_per_feature

__all__ = ["AutoencoderImputer"]

# Cells of the training rows hidden once more, after the fit, to measure how
# far each feature's imputations fall from the truth (imputation_error_).
_HELD_OUT_SHARE = 0.1
_HELD_OUT_ROWS = 5_000
# With blend=True: the share of observed cells hidden from both models
# during the fit, on which the blend's weights and imputation_error_ are
# measured; and the cells a feature's own weight counts as, against the
# weight of all features pooled (few hidden cells of a feature give a noisy
# weight of its own).
_BLEND_SHARE = 0.05
_BLEND_PRIOR_CELLS = 30


def default_estimator(n_features):
    """The network :class:`AutoencoderImputer` trains when given none (see its docs).

    As many codes as features: a narrower code lost detail that the masking
    noise already keeps the network from copying through (chosen on half A
    of the ADBench tables, confirmed on half B: docs, Benchmarks).
    """
    return DenoisingAutoencoder(n_components=max(n_features, 8), noise="masking",
                                noise_level=0.25)


def _is_missing(X, missing_values):
    if isinstance(missing_values, float) and np.isnan(missing_values):
        return np.isnan(X)
    return X == missing_values


class AutoencoderImputer(TransformerMixin, BaseEstimator):
    """Fill missing values with an autoencoder's reconstruction of each row.

    A denoising autoencoder learns, from the observed entries only, to
    rebuild each row from a part of it (masking noise, as MIDAS does: Lall
    and Robinson, 2022): a missing entry is then filled with what the
    network reconstructs for it from the entries the row has. Observed
    entries are returned untouched. Like
    :class:`~sklearn.impute.IterativeImputer` it models every feature from
    all the others, but with one network for all features, and it
    learns non-linear relations. By default (``blend=True``) each feature's
    fills are blended with a linear model's, with weights measured on
    observed cells hidden from the fit: where the features are near-linear
    functions of each other (small tables), the linear model fills best.

    Parameters
    ----------
    estimator : estimator, default=None
        An autoencoder of this library (anything with ``fit``,
        ``transform`` and ``inverse_transform`` that accepts missing
        values); cloned. None: ``DenoisingAutoencoder(noise="masking",
        noise_level=0.25, n_components=n_features)``, chosen on half A of the
        ADBench tables and confirmed on half B (docs: Benchmarks).
    missing_values : int, float, str, np.nan or None, default=np.nan
        The placeholder of a missing value. All occurrences are imputed.
    blend : bool, default=True
        True: each feature's fills are a weighted mean of the network's and
        of a linear model's (each gap's conditional mean under a Gaussian
        fitted to the rows, what :class:`~sklearn.impute.IterativeImputer`
        with linear regressors approaches). The weights are chosen per
        feature on a twentieth of the observed cells, hidden from both
        models during the fit (shrunk towards the weight of all features
        pooled where a feature has few such cells), so that tables whose
        features are near-linear functions of each other are filled as well
        as a linear model fills them. False: the network's fills alone.
    max_iter : int, default=0
        Refills: after the first fill (the network seeing the row's gaps as
        gaps), each refill reconstructs the completed rows and takes the new
        values at the missing entries. 0, the first fill only, imputed
        better on the ADBench tables: the network learnt to fill gaps seen
        as gaps, not to correct its own fills.
    sample_posterior : bool, default=False
        True: each missing entry is drawn around its reconstruction, with
        the spread of that feature's imputation errors measured at fit
        (``imputation_error_``), afresh at each call of :meth:`transform`;
        for multiple imputation, transform several times (as with
        :class:`~sklearn.impute.IterativeImputer`). The draws carry the
        error of a single fitted network, not the uncertainty of the fit
        itself.
    add_indicator : bool, default=False
        True: a :class:`~sklearn.impute.MissingIndicator` is stacked onto
        the output (features with missing values at fit).
    keep_empty_features : bool, default=False
        True: features with no observed value at fit are kept and imputed
        with 0; else they are dropped, as :class:`~sklearn.impute.SimpleImputer`
        does.
    random_state : int, RandomState instance or None, default=None
        Seeds the network (when it has no ``random_state`` of its own) and
        the draws of ``sample_posterior``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted autoencoder.
    imputation_error_ : ndarray of shape (n_features,)
        Root mean squared error of each feature's imputations, in X's units
        (NaN for features not modelled): with ``blend``, on the observed
        cells hidden from the fit; else measured after the fit by hiding a
        tenth of the observed training cells once more.
    blend_weights_ : ndarray of shape (n_features,) or None
        With ``blend``: the network's weight in each feature's fills (the
        linear model has the rest; NaN for features not modelled).
    n_iter_ : int
        Epochs the network trained for.
    indicator_ : MissingIndicator or None
        The indicator, with ``add_indicator=True``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.impute.IterativeImputer : One regressor per feature, in rounds.
    sklearn.impute.KNNImputer : Means of the nearest rows' values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_ae import AutoencoderImputer
    >>> X, _ = load_diabetes(return_X_y=True)
    >>> X_gaps = X.copy()
    >>> X_gaps[::7, 2] = np.nan
    >>> filled = AutoencoderImputer(random_state=0).fit_transform(X_gaps)
    >>> bool(np.isnan(filled).any()), bool((filled[1::7] == X[1::7]).all())
    (False, True)
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "transform", "inverse_transform"])],
        "missing_values": [MissingValues()],
        "blend": ["boolean"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "sample_posterior": ["boolean"],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, missing_values=np.nan, blend=True, max_iter=0,
                 sample_posterior=False, add_indicator=False, keep_empty_features=False,
                 random_state=None):
        self.estimator = estimator
        self.missing_values = missing_values
        self.blend = blend
        self.max_iter = max_iter
        self.sample_posterior = sample_posterior
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.random_state = random_state

    def _validated(self, X, reset):
        """X as float, its missing entries NaN, checked against the fit."""
        check_columns(X)
        nan_marker = isinstance(self.missing_values, float) and np.isnan(self.missing_values)
        X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES,
                          ensure_all_finite="allow-nan" if nan_marker else True,
                          copy=not nan_marker)
        if not nan_marker:
            X[_is_missing(X, self.missing_values)] = np.nan
        return X

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the autoencoder on the observed entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with missing values, in their own units.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        X = self._validated(X, reset=True)
        self.random_state_ = check_random_state(self.random_state)
        self._modelled = missing_per_feature(X) < X.shape[0]
        empty = np.flatnonzero(~self._modelled)
        if len(empty) and not self.keep_empty_features:
            warnings.warn(
                "Skipping features without any observed values: "
                f"{[input_names(self, X.shape[1])[j] for j in empty][:10]}. At least one "
                "non-missing value is needed for imputation.", UserWarning, stacklevel=2)
        estimator = (clone(self.estimator) if self.estimator is not None
                     else default_estimator(int(self._modelled.sum())))
        if "random_state" in estimator.get_params() and estimator.random_state is None:
            estimator.set_params(random_state=self.random_state_.randint(np.iinfo(np.int32).max))
        self.blend_weights_, self._linear = None, None
        if self.blend:
            self._fit_blend(X, estimator)
        else:
            self.estimator_ = estimator.fit(X[:, self._modelled])
            self.imputation_error_ = self._held_out_errors(X)
        self.n_iter_ = int(getattr(self.estimator_, "n_iter_", 1))
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(X)
        return self

    def _fit_blend(self, X, estimator):
        """Both models fitted with a share of the observed cells hidden; weights from those."""
        modelled = X[:, self._modelled]
        # From the imputer's own seed, never a fixed one: cells drawn with a
        # user's own fixed seed would otherwise be hidden already.
        rng = np.random.RandomState(self.random_state_.randint(np.iinfo(np.int32).max))
        hidden = ~np.isnan(modelled) & (rng.rand(*modelled.shape) < _BLEND_SHARE)
        blanked = np.where(hidden, np.nan, modelled)
        self.estimator_ = estimator.fit(blanked)
        network = self._network_fill(blanked)
        linear = GaussianFill().fit(blanked).fill(blanked)
        truth = np.nan_to_num(modelled)
        weights = blend_weights(network - truth, linear - truth, hidden)
        self.imputation_error_ = np.full(X.shape[1], np.nan)
        self.imputation_error_[self._modelled] = _hidden_rmse(
            weights * network + (1 - weights) * linear, truth, hidden)
        self.blend_weights_ = np.full(X.shape[1], np.nan)
        self.blend_weights_[self._modelled] = weights
        # Refitted on every observed cell: a fit of the linear model costs
        # little, unlike the network's.
        self._linear = GaussianFill().fit(modelled)

    def _held_out_errors(self, X):
        """Each feature's RMSE of imputation on observed training cells hidden once more."""
        rng = np.random.RandomState(0)
        rows = rng.permutation(X.shape[0])[:_HELD_OUT_ROWS]
        truth = X[rows]
        hidden = ~np.isnan(truth) & (rng.rand(*truth.shape) < _HELD_OUT_SHARE)
        blanked = np.where(hidden, np.nan, truth)
        error = _hidden_rmse(self._fill(blanked), np.nan_to_num(truth), hidden)
        return np.where(self._modelled, error, np.nan)

    def _network_fill(self, current):
        """Rows of the modelled features with their gaps filled by the network (refills too)."""
        current = np.array(current, copy=True)
        gaps = np.isnan(current)
        if gaps.any():
            for _ in range(1 + self.max_iter):
                rebuilt = self.estimator_.inverse_transform(self.estimator_.transform(current))
                current[gaps] = rebuilt[gaps]
        return current

    def _fill(self, X):
        """X with its missing entries filled (the modelled features) or 0 (the others)."""
        out = np.array(X, dtype=np.float64, copy=True)
        current = X[:, self._modelled]  # in X's dtype, as the network was fitted
        if np.isnan(current).any():
            filled = self._network_fill(current).astype(np.float64)
            if self._linear is not None:
                weights = self.blend_weights_[self._modelled]
                filled = weights * filled + (1 - weights) * self._linear.fill(current)
            out[:, self._modelled] = np.where(np.isnan(current), filled, current)
        out[:, ~self._modelled] = 0.0
        return out

    def transform(self, X):
        """Fill the missing entries of ``X``; observed entries are returned as they are.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in the units seen by :meth:`fit`.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
            Without the features that had no observed value at fit (unless
            ``keep_empty_features``), with the indicator's columns after
            them when ``add_indicator``; of X's float dtype.
        """
        check_is_fitted(self)
        X = self._validated(X, reset=False)
        gaps = np.isnan(X)
        out = self._fill(X)
        if self.sample_posterior:
            spread = np.nan_to_num(self.imputation_error_)
            noise = self.random_state_.normal(size=X.shape) * spread
            out[gaps] += noise[gaps]
        out = out.astype(X.dtype, copy=False)
        if not self.keep_empty_features:
            out = out[:, self._modelled]
        if self.indicator_ is not None:
            out = np.hstack([out, self.indicator_.transform(X).astype(out.dtype)])
        return out

    def get_feature_names_out(self, input_features=None):
        """Get the output feature names: the kept inputs, then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; those seen in fit (or x0, x1, ...) when None.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        if input_features is None:
            input_features = input_names(self, self.n_features_in_)
        elif len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features has {len(input_features)} names, but the imputer was "
                f"fitted on {self.n_features_in_} features.")
        names = np.asarray(input_features, dtype=object)
        if not self.keep_empty_features:
            names = names[self._modelled]
        if self.indicator_ is not None:
            names = np.concatenate([names, self.indicator_.get_feature_names_out(
                np.asarray(input_features, dtype=object))])
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _hidden_rmse(filled, truth, hidden):
    """Per feature, the RMSE of ``filled`` on the ``hidden`` cells (NaN where none)."""
    squares = np.where(hidden, (filled - truth) ** 2, 0.0).sum(axis=0)
    counts = hidden.sum(axis=0)
    return np.sqrt(np.divide(squares, counts, out=np.full(len(counts), np.nan),
                             where=counts > 0))


def blend_weights(network_error, linear_error, hidden):
    """Per feature, the network's weight in ``w * network + (1 - w) * linear``, in [0, 1].

    Least squares on the ``hidden`` cells (errors are fill minus truth),
    each feature's weight shrunk towards the pooled one by
    ``_BLEND_PRIOR_CELLS`` cells' worth.
    """
    difference = np.where(hidden, linear_error - network_error, 0.0)
    numerator = (np.where(hidden, linear_error, 0.0) * difference).sum(axis=0)
    denominator = (difference**2).sum(axis=0)
    pooled = float(np.clip(numerator.sum() / denominator.sum(), 0, 1)) if (
        denominator.sum() > 0) else 0.5
    own = np.clip(np.divide(numerator, denominator, out=np.full(len(numerator), pooled),
                            where=denominator > 0), 0, 1)
    cells = hidden.sum(axis=0)
    return (cells * own + _BLEND_PRIOR_CELLS * pooled) / (cells + _BLEND_PRIOR_CELLS)
