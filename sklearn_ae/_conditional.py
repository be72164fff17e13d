"""ConditionalAutoencoder: a conditional VAE, decoding under a given condition."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._base import FLOAT_DTYPES, BaseAutoencoder, GenerativeMixin, _inlier_labels, fill_doc
from ._variational import VariationalAutoencoder, _fixed_draws, _SCORE_DRAWS
from .nn import VariationalModule


@fill_doc
class ConditionalAutoencoder(GenerativeMixin, BaseAutoencoder):
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

    _parameter_constraints = VariationalAutoencoder._parameter_constraints

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
                labels = column_or_1d(y, warn=True)
                self.classes_, counts = np.unique(labels, return_counts=True)
                self.class_prior_ = counts / counts.sum()
                self.condition_mean_ = self.condition_scale_ = None
        conditions = self._encode_condition(y, n_samples)
        return conditions

    def _encode_condition(self, y, n_samples, broadcast=False):
        """float32 condition rows (one-hot or standardised) for ``n_samples`` rows."""
        if self.classes_ is None:
            conditions = check_array(np.asarray(y, dtype=float).reshape(-1, len(self.condition_mean_))
                                     if np.ndim(y) < 2 else y, dtype=FLOAT_DTYPES, input_name="y")
            if conditions.shape[1] != len(self.condition_mean_):
                raise ValueError(
                    f"y has {conditions.shape[1]} condition columns, but "
                    f"{type(self).__name__} was fitted with {len(self.condition_mean_)}."
                )
            conditions = (conditions - self.condition_mean_) / self.condition_scale_
        else:
            labels = np.atleast_1d(np.asarray(y, dtype=self.classes_.dtype))
            if labels.ndim != 1:
                labels = column_or_1d(labels)
            index = np.searchsorted(self.classes_, labels)
            index = np.clip(index, 0, len(self.classes_) - 1)
            unknown = self.classes_[index] != labels
            if np.any(unknown):
                raise ValueError(
                    f"y contains labels not seen in fit: {np.unique(labels[unknown])[:5].tolist()}; "
                    f"known: {self.classes_[:10].tolist()}."
                )
            conditions = np.eye(len(self.classes_))[index]
        if broadcast and len(conditions) == 1:
            conditions = np.repeat(conditions, n_samples, axis=0)
        if len(conditions) != n_samples:
            raise ValueError(
                f"y has {len(conditions)} rows but X has {n_samples}; pass one "
                "condition per row."
            )
        return conditions.astype(np.float32)

    def _require_y(self, y, method):
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.{method} needs y, the condition to use: "
                + ("a class label or one per row." if self.classes_ is not None
                   else "one row of conditions per row of X.")
            )

    # -- the model --------------------------------------------------------
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
        )

    _init_from_data = VariationalAutoencoder._init_from_data

    _loss = VariationalAutoencoder._loss
    _objective = VariationalAutoencoder._objective
    _validation_loss = VariationalAutoencoder._validation_loss

    def _sample_loss(self, module, X, y):
        if y is not None:
            return VariationalAutoencoder._sample_loss(self, module, X, y)
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
        X : array-like of shape (n_samples, n_components_)
            Codes.
        y : label, array-like of shape (n_samples,) or (n_samples, n_conditions)
            The condition of each row; one label is used for every row.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
        """
        Z = self._check_codes(X)
        self._require_y(y, "inverse_transform")
        conditions = self._encode_condition(y, len(Z), broadcast=True)
        return self._decode(Z, conditions).astype(Z.dtype, copy=False)

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
        return self._score_samples(X, conditions)

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
        return _inlier_labels(self.decision_function(X, y))

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
        X_new : ndarray of shape (n_samples, n_features_in_)
        """
        Z = self._prior_codes(n_samples, random_state)
        self._require_y(y, "sample")
        conditions = self._encode_condition(y, len(Z), broadcast=True)
        return self._decode(Z, conditions)
