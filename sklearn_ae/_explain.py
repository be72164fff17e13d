"""Feature contributions of a fitted Pipeline, in the user's own columns.

The estimator at the end of a pipeline sees the preprocessed features (a
``ColumnTransformer``'s scaled columns and one-hot dummies); a person asks
about the columns of their table. Contributions are a split of a row's
score, so the parts of the features that come from one column add up to
that column's part.
"""

from __future__ import annotations

import numpy as np

from ._data import input_names, row_shares

__all__ = ["pipeline_feature_contributions"]


def _one_hot_groups(encoder):
    """Input column of each output of a fitted OneHotEncoder."""
    counts = getattr(encoder, "_n_features_outs", None)
    if counts is None:  # derive it from the categories where the private count is absent
        counts = [len(c) - (encoder.drop_idx_ is not None and encoder.drop_idx_[i] is not None)
                  for i, c in enumerate(encoder.categories_)]
    return np.repeat(np.arange(len(counts)), counts)


def _column_transformer_map(ct, n_in):
    """Input column (index) of each output of a fitted ColumnTransformer."""
    out = np.full(max(where.stop for where in ct.output_indices_.values()), -1)
    names = list(ct.feature_names_in_) if hasattr(ct, "feature_names_in_") else None
    for name, transformer, columns in ct.transformers_:
        where = ct.output_indices_[name]
        if where.stop == where.start:
            continue
        index = np.arange(n_in)[_column_selection(columns, names, n_in)]
        out[where] = index[_step_map(transformer, len(index))]
    return out


def _column_selection(columns, names, n_in):
    """The ColumnTransformer's column selection as a boolean mask."""
    mask = np.zeros(n_in, dtype=bool)
    if isinstance(columns, slice) or (np.ndim(columns) and np.asarray(columns).dtype == bool):
        mask[columns] = True
        return mask
    for column in np.atleast_1d(columns):
        mask[names.index(column) if isinstance(column, str) else int(column)] = True
    return mask


def _step_map(step, n_in):
    """Input feature (index) of each output feature of a fitted pipeline step."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    if step in ("passthrough", None):
        return np.arange(n_in)
    if isinstance(step, Pipeline):
        index = np.arange(n_in)
        for _, inner in step.steps:
            index = index[_step_map(inner, len(index))]
        return index
    if isinstance(step, ColumnTransformer):
        return _column_transformer_map(step, n_in)
    if isinstance(step, OneHotEncoder):
        return _one_hot_groups(step)
    n_out = len(step.get_feature_names_out())
    if n_out == n_in:  # scalers, imputers, encoders of one output per column
        return np.arange(n_in)
    raise ValueError(
        f"{type(step).__name__} turns {n_in} features into {n_out}: its outputs cannot be "
        "traced back to single input columns, so the contributions cannot be either.")


def _final(pipeline):
    """The pipeline's last step, a fitted estimator of sklearn_ae, or an error."""
    from sklearn.utils.validation import check_is_fitted

    from ._base import BaseAutoencoder

    final = pipeline.steps[-1][1]
    if not isinstance(final, BaseAutoencoder):
        raise TypeError(
            f"the pipeline must end with an estimator of sklearn_ae, got {type(final).__name__}.")
    check_is_fitted(final)
    return final


def pipeline_feature_contributions(pipeline, X, *, normalize=False):
    """Feature contributions of a fitted pipeline, per column of the input table.

    The pipeline's last step is an estimator of sklearn_ae; the steps before
    it (scalers, imputers, ``OneHotEncoder``, ``ColumnTransformer``, nested
    pipelines) may turn columns into several features. Each input column's
    part is the sum of the parts of the features made from it (a one-hot
    column's dummies), so a row's parts still sum to its score's split.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted, ending with an estimator of sklearn_ae.
    X : array-like or DataFrame of shape (n_samples, n_columns)
        Rows as the pipeline takes them.
    normalize : bool, default=False
        True: each row's parts divided by their sum (shares summing to 1).

    Returns
    -------
    contributions : DataFrame of shape (n_samples, n_columns)
        One column per input column, named as the pipeline's input (``x0``,
        ... where it had no names), with X's index where X has one.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from sklearn_ae import Autoencoder, pipeline_feature_contributions
    >>> table = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0] * 10,
    ...                       "grade": ["low", "high"] * 20})
    >>> pipe = make_pipeline(
    ...     make_column_transformer((StandardScaler(), ["size"]),
    ...                             (OneHotEncoder(), ["grade"])),
    ...     Autoencoder(n_components=1, max_iter=3, random_state=0)).fit(table)
    >>> list(pipeline_feature_contributions(pipe, table).columns)
    ['size', 'grade']
    """
    import pandas as pd

    first, n_in = pipeline.steps[0][1], _final(pipeline).n_features_in_
    if len(pipeline.steps) > 1:
        n_in = getattr(first, "n_features_in_", n_in)
        origin = _step_map(pipeline[:-1], n_in)
        parts = np.asarray(_final(pipeline).feature_contributions(pipeline[:-1].transform(X)))
    else:
        origin, parts = np.arange(n_in), np.asarray(_final(pipeline).feature_contributions(X))
    out = np.zeros((parts.shape[0], n_in))
    np.add.at(out.T, origin, parts.T)
    if normalize:
        out = row_shares(out)
    index = X.index if hasattr(X, "index") and hasattr(X, "columns") else None
    return pd.DataFrame(out, columns=input_names(first, n_in), index=index)
