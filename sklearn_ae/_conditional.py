"""ConditionalAutoencoder: a conditional VAE, decoding under a given condition."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._base import FLOAT_DTYPES, fill_doc
from ._categorical import as_input_columns
from ._generative import GenerativeMixin
from ._indicator import MISSING_INDICATOR_DOC, MISSING_INDICATOR_GAPS_DOC
from ._thresholds import inlier_labels
from ._variational import _SCORE_DRAWS, _fixed_draws, _VariationalBase
from .nn import VariationalModule


def _label_key(value):
    """A label as a dictionary key: its type and value, so that "1" is not 1."""
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (int, float, np.number)):
        return ("number", float(value))
    return (type(value).__name__, value)


def _check_object_labels(values):
    """Refuse None among labels, and labels of mixed types (strings and numbers)."""
    kinds = {type(v).__name__ for v in values}
    if any(v is None for v in values):
        raise ValueError("y contains None; every row of X needs a class label.")
    if len({"str" if k in ("str", "str_") else "number" for k in kinds}) > 1:
        raise ValueError(
            f"y mixes label types ({', '.join(sorted(kinds))}); pass labels of "
            "one type, e.g. all strings or all integers."
        )


def _class_labels(y):
    """The sorted classes of a 1-D label array and their counts, or a clear error."""
    labels = column_or_1d(y, warn=True)
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(
            "y contains NaN. ConditionalAutoencoder needs a class label (or a row "
            "of numeric conditions) for every row of X."
        )
    if labels.dtype == object:
        _check_object_labels(labels.tolist())
    if labels.dtype.kind in "fc" and type_of_target(labels) == "continuous":
        raise ValueError(
            "y looks continuous (non-integer floats): 1-D y is read as class "
            "labels, one condition per distinct value. Pass numeric conditions "
            "as a 2-D array of shape (n_samples, n_conditions), e.g. "
            "y.reshape(-1, 1), or integer class labels."
        )
    try:
        return np.unique(labels, return_counts=True)
    except TypeError as exc:
        raise ValueError(f"y holds labels that cannot be sorted: {exc}.") from exc


@fill_doc(extra={"missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_GAPS_DOC})
class ConditionalAutoencoder(GenerativeMixin, _VariationalBase):
    """Conditional variational autoencoder: ``fit(X, y)``, then generate per ``y``.

    The decoder models p(x | z, y); the encoder q(z | x) does not see ``y``,
    so the code keeps what the condition does not already say (the "style"
    of a digit, not which digit it is). That makes the methods useful
    without ``y``, as a Pipeline calls them:

    - :meth:`transform` (X only) returns the posterior mean of the code.
    - :meth:`score_samples` with ``y`` is the ELBO of log p(x | y); without
      ``y`` (class conditions only) it is a lower bound on log p(x), the
      ELBOs of every class combined with the class frequencies.
    - :meth:`inverse_transform` and :meth:`sample` truly need the condition
      and raise a clear error without it.

    ``y`` is either class labels (1-D, any hashable values; one-hot encoded
    inside) or a numeric 2-D array of conditions (standardised inside).

    Parameters
    ----------
{common_parameters}
    beta : float, default=1.0
        Weight of the KL term in the training loss.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution, as in :class:`VariationalAutoencoder`.
{missing_indicator_param}

    Attributes
    ----------
    module_ : VariationalModule
        The trained torch module, with ``n_conditions`` decoder inputs.
    classes_ : ndarray of shape (n_classes,) or None
        Class labels, or None for numeric conditions.
    class_prior_ : ndarray of shape (n_classes,) or None
        Share of each class in the training rows.
    condition_mean_, condition_scale_ : ndarray of shape (n_conditions,) or None
        Standardisation of numeric conditions, or None for classes.
{common_attributes}
{missing_indicator}

    See Also
    --------
    VariationalAutoencoder : The unconditional model.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import ConditionalAutoencoder
    >>> X, y = load_digits(return_X_y=True)
    >>> cvae = ConditionalAutoencoder(n_components=4, max_iter=3, random_state=0).fit(X, y)
    >>> cvae.sample(5, y=7, random_state=0).shape
    (5, 64)
    >>> cvae.transform(X[:3]).shape
    (3, 4)
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # -- conditions -------------------------------------------------------
    def _validate_y(self, y, n_samples, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if reset:
            y_arr = np.asarray(y)
            if y_arr.ndim == 2 and y_arr.shape[1] >= 1 and y_arr.dtype.kind in "fiub":
                self.classes_ = self.class_prior_ = None
                conditions = check_array(y_arr, dtype=FLOAT_DTYPES, input_name="y")
                self.condition_mean_ = conditions.mean(axis=0)
                scale = conditions.std(axis=0)
                self.condition_scale_ = np.where(scale > 0, scale, 1.0)
            else:
                self.classes_, counts = _class_labels(y)
                self.class_prior_ = counts / counts.sum()
                self.condition_mean_ = self.condition_scale_ = None
        conditions = self._encode_condition(y, n_samples)
        return conditions

    def _encode_condition(self, y, n_samples, broadcast=False):
        """float32 condition rows (one-hot or standardised) for ``n_samples`` rows."""
        if self.classes_ is None:
            width = len(self.condition_mean_)
            if np.ndim(y) < 2 and np.size(y) % width:
                raise ValueError(
                    f"y has {np.size(y)} condition value(s), but {type(self).__name__} was "
                    f"fitted with {width} condition columns: pass one row of {width} values "
                    "(or one row per sample).")
            conditions = check_array(np.asarray(y, dtype=float).reshape(-1, width)
                                     if np.ndim(y) < 2 else y, dtype=FLOAT_DTYPES, input_name="y")
            if conditions.shape[1] != len(self.condition_mean_):
                raise ValueError(
                    f"y has {conditions.shape[1]} condition columns, but "
                    f"{type(self).__name__} was fitted with {len(self.condition_mean_)}."
                )
            conditions = (conditions - self.condition_mean_) / self.condition_scale_
        else:
            index = self._class_index(y)
            conditions = np.eye(len(self.classes_))[index]
        if broadcast and len(conditions) == 1:
            conditions = np.repeat(conditions, n_samples, axis=0)
        if len(conditions) != n_samples:
            raise ValueError(
                f"y has {len(conditions)} rows but X has {n_samples}; pass one "
                "condition per row."
            )
        return conditions.astype(np.float32)

    def _class_index(self, y):
        """Index in ``classes_`` of each label of ``y``; an error for any other label."""
        labels = np.atleast_1d(np.asarray(y))
        if labels.ndim != 1:
            labels = column_or_1d(labels)
        if labels.dtype.kind == "f" and np.isnan(labels).any():
            raise ValueError("y contains NaN; pass a class label seen in fit for every row.")
        # Labels are compared as they are, never cast to the classes' dtype:
        # a cast would truncate "dogs" to "dog" or round 1.5 to 1.
        numeric = labels.dtype.kind in "biuf" and self.classes_.dtype.kind in "biuf"
        text = labels.dtype.kind in "US" and self.classes_.dtype.kind in "US"
        if numeric or text:
            index = np.clip(np.searchsorted(self.classes_, labels), 0, len(self.classes_) - 1)
            unknown = self.classes_[index] != labels
        else:
            lookup = {_label_key(c): i for i, c in enumerate(self.classes_.tolist())}
            found = [lookup.get(_label_key(v), -1) for v in labels.tolist()]
            index = np.asarray(found, dtype=np.intp)
            unknown = index < 0
        if np.any(unknown):
            seen = list(dict.fromkeys(labels[unknown].tolist()))
            raise ValueError(
                f"y contains labels not seen in fit: {seen[:5]!r}; the classes are "
                f"{self.classes_[:10].tolist()!r}"
                + (" and more." if len(self.classes_) > 10 else ".")
            )
        return index

    def _require_y(self, y, method):
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.{method} needs y, the condition to use: "
                + ("a class label or one per row." if self.classes_ is not None
                   else "one row of conditions per row of X.")
            )

    # -- the model --------------------------------------------------------
    def _n_condition_columns(self):
        # One-hot rows of the classes, or the standardised condition rows.
        return len(self.classes_) if self.classes_ is not None else len(self.condition_mean_)

    def _check_distributed(self, X):
        # Every rank must see the same classes of y.
        self._group.check_inputs(X, self.classes_)

    def _build_module(self, n_features):
        n_conditions = (
            len(self.classes_) if self.classes_ is not None else len(self.condition_mean_)
        )
        return VariationalModule(
            n_features,
            self.n_components_,
            self.hidden_layer_sizes_,
            self.activation,
            likelihood=self.likelihood,
            n_conditions=n_conditions,
            condition_encoder=False,
            missing_indicator=self._tells_missing(n_features),
        )

    def _sample_loss(self, module, X, y):
        if y is not None:
            return super()._sample_loss(module, X, y)
        eps = _fixed_draws(_SCORE_DRAWS, self.n_components_, X)
        # Without a condition: log sum_k p(k) exp(ELBO(x | k)) <= log p(x).
        log_prior = torch.as_tensor(np.log(self.class_prior_), dtype=X.dtype, device=X.device)
        elbos = []
        for k in range(len(self.classes_)):
            onehot = torch.zeros(X.shape[0], len(self.classes_), dtype=X.dtype, device=X.device)
            onehot[:, k] = 1.0
            elbos.append(-module.negative_elbo(X, onehot, eps=eps) + log_prior[k])
        return -torch.logsumexp(torch.stack(elbos), dim=0)

    def _decode_batch(self, module, Z, y):
        return module.decode(Z, y)

    def _fit_offset(self, X, y, scores=None):
        # Calibrated on the scores predict(X) computes in a Pipeline: without y
        # for class conditions (numeric conditions always need y).
        return super()._fit_offset(X, None if self.classes_ is not None else y, scores)

    # -- public methods that take the condition ---------------------------
    def inverse_transform(self, X, y=None):
        """Decode codes under condition ``y`` back to rows in X's units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.
        y : label, array-like of shape (n_samples,) or (n_samples, n_conditions)
            The condition of each row; one label is used for every row.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        Z = self._check_codes(X)
        self._require_y(y, "inverse_transform")
        conditions = self._encode_condition(y, len(Z), broadcast=True)
        return as_input_columns(self, self._decode(Z, conditions).astype(Z.dtype, copy=False))

    def score_samples(self, X, y=None):
        """ELBO of each row in nats; with ``y`` of log p(x | y), else of log p(x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like or None, default=None
            Conditions; may be omitted for class conditions.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_rows(X)
        if y is None and self.classes_ is None:
            self._require_y(y, "score_samples")
        conditions = None if y is None else self._encode_condition(y, len(X), broadcast=True)
        return self._public_scores(X, conditions)

    def feature_contributions(self, X, y=None, *, units="standardized", normalize=False):
        """Each feature's part of each row's reconstruction error under condition ``y``.

        As :meth:`BaseAutoencoder.feature_contributions`; the reconstruction
        decodes each row's code under its condition.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : label, or array-like of shape (n_samples,) or (n_samples, n_conditions)
            The condition of each row; one label is used for every row.
        units : {"standardized", "original"}, default="standardized"
        normalize : bool, default=False

        Returns
        -------
        contributions : ndarray or DataFrame of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        self._require_y(y, "feature_contributions")
        n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
        conditions = self._encode_condition(y, n_rows, broadcast=True)
        return self._feature_contributions(X, conditions, units, normalize)

    def decision_function(self, X, y=None):
        """``score_samples(X, y) - offset_``; negative for outliers.

        ``offset_`` is calibrated on scores without ``y`` for class conditions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like or None, default=None

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X, y) - self.offset_

    def predict(self, X, y=None):
        """-1 for outliers, +1 for inliers (see :meth:`decision_function`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like or None, default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return inlier_labels(self.decision_function(X, y))

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`, with ``y`` when given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like or None, default=None

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X, y)))

    def fit_predict(self, X, y=None):
        """Fit on ``(X, y)``, then label the training rows as in :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like
            Conditions, required.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 for outliers, +1 for inliers; scored without ``y`` for class
            conditions, so the share of -1 is ``contamination``.
        """
        self.fit(X, y)
        return self.predict(X, None if self.classes_ is not None else y)

    def sample(self, n_samples=1, y=None, random_state=None):
        """Generate rows under condition ``y`` by decoding prior draws.

        Parameters
        ----------
        n_samples : int, default=1
        y : label, or array-like of n_samples labels or condition rows
            The condition; one label (or one condition row) is used for all.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        Z = self._prior_codes(n_samples, random_state)
        self._require_y(y, "sample")
        conditions = self._encode_condition(y, len(Z), broadcast=True)
        return as_input_columns(self, self._decode(Z, conditions))
