"""Categorical columns, one-hot encoded inside the estimators.

A column of a DataFrame (or of a 2-D object array) is categorical where its
dtype is pandas' ``category``, or where it is ``object``, ``string`` or
boolean-like and holds values that are not all numbers. Text that is all
numbers ("3.5") stays a number, as it did before. Each categorical column
becomes one feature per category seen in ``fit`` and one more for a
category never seen (0 or 1, never standardised); a missing value (NaN,
None, NA) makes all of its column's features missing, so the gaps
machinery counts them as missing entries. An unseen category at
prediction time sets the last feature, which was 0 in every training row:
the network reconstructs it near 0 and some seen category near 1, so the
column's error is about 1 plus the squares of what it reconstructs for
the seen categories, above that of the row's own category, and the row
scores as unusual rather than failing. (A seen category that contradicts
the rest of the row can score lower still: it is unusual too.)

With squared errors on 0/1 features, a categorical column's error is the
Brier score of the network's reconstruction (a proper score of the
predicted categories), which every variant's loss takes as it is: the
variational one's Gaussian likelihood, the sparse one's penalty, the
adversarial one's prior. The column's category back (``inverse_transform``)
is the feature reconstructed highest.

Fitted state (saved by ``save``): ``categories_``, one entry per input
column, None for a numeric one; and ``_category_dtypes``, the pandas dtype
each categorical column comes back in.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_input_columns",
    "as_numbers",
    "check_unusable",
    "decode_columns",
    "encode_columns",
    "encoded_names",
    "has_categories",
    "n_inputs",
    "one_hot_scaling",
    "per_column",
    "validate_categorical",
]

# More categories than this in one column make it an identifier (a name, an
# order number), not a category: its one-hot features would outnumber the
# rest of the table and every row would be unseen elsewhere.
MAX_CATEGORIES = 1000


# A text column whose given values are numbers in more than this share is a
# numeric column with stray text, not a categorical one.
_MOSTLY_NUMBERS = 0.5

# The values an object or string column's categories may be.
_CATEGORY_TYPES = (str, bytes, bool, np.bool_, int, float, np.integer, np.floating)


def _is_frame(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _as_frame(X):
    """A DataFrame of ``X`` where it may hold categories (a frame, or a 2-D object array)."""
    if _is_frame(X):
        return X if not type(X).__module__.startswith("dask") else None
    if isinstance(X, np.ndarray) and X.dtype.kind == "O" and X.ndim == 2:
        import pandas as pd

        return pd.DataFrame(X)
    return None


def as_numbers(values):
    """``values`` (a Series) as float where every given value is a number, else None."""
    import pandas as pd

    given = values.notna()
    try:
        numbers = pd.to_numeric(values[given].astype(object), errors="coerce")
    except (TypeError, ValueError):
        return None
    if numbers.isna().any():
        return None
    out = np.full(len(values), np.nan)
    out[given.to_numpy()] = numbers.to_numpy(dtype=np.float64)
    return out


def _not_numbers(column):
    """Where a column's given values are not numbers."""
    import pandas as pd

    return column.notna() & pd.to_numeric(column.astype(object), errors="coerce").isna()


def _kind(column):
    """What a column is, for the encoding.

    'numeric', 'category' (pandas categorical), 'text' (categories found in
    its values), 'mixed' (mostly numbers, some text) or 'unusable' (a date).
    """
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if dtype.kind in "biufc" or pd.api.types.is_bool_dtype(dtype):
        return "numeric"
    if dtype.kind in "OSU" or pd.api.types.is_string_dtype(dtype):
        if as_numbers(column) is not None:
            return "numeric"
        given = column[column.notna()]
        # Anything but text, numbers and booleans (a dict, a date) is left to
        # the numeric path, whose error names the value's type.
        if not all(isinstance(v, _CATEGORY_TYPES) for v in given):
            return "numeric"
        parsed = pd.to_numeric(given.astype(object), errors="coerce").notna().mean()
        # Mostly numbers with some text: a typo or a marker ("n/a", "?"),
        # not categories (each number would become one).
        return "mixed" if parsed > _MOSTLY_NUMBERS else "text"
    return "unusable"


def check_unusable(frame, names):
    """Refuse, naming them and saying what to do, the columns no estimator can use."""
    kinds = [_kind(frame.iloc[:, j]) for j in range(frame.shape[1])]
    mixed = [names[j] for j, kind in enumerate(kinds) if kind == "mixed"]
    if mixed:
        column = frame.iloc[:, kinds.index("mixed")]
        text = column[_not_numbers(column)].unique()[:5].tolist()
        raise ValueError(
            f"X has columns of numbers with some text: {mixed[:10]} (e.g. {text}). Blank "
            "those entries (NaN) or fix them; to treat the column as categories, give it "
            "pandas' category dtype.")
    bad = [j for j, kind in enumerate(kinds) if kind == "unusable"]
    if bad:
        dtypes = sorted({str(frame.iloc[:, j].dtype) for j in bad})
        raise ValueError(
            "X has columns that are neither numbers nor categories: "
            f"{[names[j] for j in bad][:10]} (dtypes {dtypes}). Turn them into numbers "
            "first (a date into its year, month or day of the week; a duration into "
            "seconds) or drop them.")


def _not_numeric(frame):
    """Positions of a frame's columns whose dtype is not a plain number (those to inspect)."""
    import pandas as pd

    return [j for j, dtype in enumerate(frame.dtypes)
            if isinstance(dtype, pd.CategoricalDtype) or getattr(dtype, "kind", "O") not in "biuf"]


def has_categories(X):
    """Whether ``X`` holds a column to one-hot encode (a check of dtypes and values only)."""
    frame = _as_frame(X)
    # Numeric dtypes first, at once: a wide numeric frame costs no per-column look.
    return frame is not None and any(
        _kind(frame.iloc[:, j]) in ("category", "text") for j in _not_numeric(frame))


def _categories_of(column, name):
    """The categories of a categorical ``column``, in the order of their features."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = np.asarray(column.cat.categories, dtype=object)
    else:
        try:
            # Sorted within each type: a column may mix text and numbers.
            values = sorted(column.dropna().unique(), key=lambda v: (str(type(v)), v))
            categories = np.asarray(values, dtype=object)
        except TypeError as exc:
            raise ValueError(
                f"column {name!r} holds values that are neither numbers nor categories "
                f"({exc}). Turn them into numbers or text first, or drop the column.") from exc
    if len(categories) > MAX_CATEGORIES:
        raise ValueError(
            f"column {name!r} has {len(categories)} categories (more than {MAX_CATEGORIES}): "
            "an identifier rather than a category. Drop it, or encode it yourself (e.g. "
            "scikit-learn's TargetEncoder) and pass numbers.")
    if not len(categories):
        raise ValueError(f"column {name!r} has no observed value (all missing). Drop it.")
    return categories


def _dtype_tag(column):
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        return "category"
    return "string" if pd.api.types.is_string_dtype(column.dtype) and column.dtype.kind != "O" \
        else "object"


def fit_columns(X, names):
    """``(categories, dtypes)`` of a frame: per column None (numeric) or its categories.

    Unusable columns were refused before (:func:`_takes_categories`).
    """
    frame = _as_frame(X)
    categories, dtypes = [], []
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if _kind(column) in ("category", "text"):
            categories.append(_categories_of(column, names[j]))
            dtypes.append(_dtype_tag(column))
        else:
            categories.append(None)
            dtypes.append(None)
    return categories, dtypes


def _numeric_values(column, name):
    """A numeric column's values as float (NaN where missing); an error naming it for text."""
    import pandas as pd

    if column.dtype.kind in "biuf" or pd.api.types.is_bool_dtype(column.dtype):
        return pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
    values = as_numbers(column)
    if values is None:
        text = column[_not_numbers(column)].unique()[:5].tolist()
        raise ValueError(
            f"column {name!r} was numbers in fit and now holds text {text}: blank those "
            "entries (NaN) or fix them.")
    return values


def encode_columns(X, categories, names):
    """``X`` (a frame or 2-D object array) as float rows: numbers, then each category's 0/1.

    Missing values are NaN (for a categorical column, in each of its
    features); an unseen category is all zeros.
    """
    import pandas as pd

    frame = _as_frame(X)
    parts = []
    for j, cats in enumerate(categories):
        column = frame.iloc[:, j]
        if cats is None:
            parts.append(_numeric_values(column, names[j])[:, None])
            continue
        codes = pd.Index(cats, dtype=object).get_indexer(column.astype(object))
        # Unseen (code -1) takes the last feature; missing is blanked below.
        codes = np.where(codes < 0, len(cats), codes)
        block = (codes[:, None] == np.arange(len(cats) + 1)[None, :]).astype(np.float64)
        block[column.isna().to_numpy()] = np.nan
        parts.append(block)
    return np.hstack(parts) if parts else np.empty((frame.shape[0], 0))


def n_inputs(n_features, categories):
    """Features the network takes: one per numeric column, one per category and one unseen."""
    if categories is None:
        return n_features
    return int(sum(1 if c is None else len(c) + 1 for c in categories))


def _slices(categories):
    """Each input column's slice of the encoded features."""
    start = 0
    for cats in categories:
        width = 1 if cats is None else len(cats) + 1
        yield slice(start, start + width)
        start += width


def encoded_names(names, categories):
    """Names of the encoded features: a numeric column's own, ``column=category`` for the rest.

    Each categorical column ends with ``column=<unseen>``.
    """
    out = []
    for name, cats in zip(names, categories):
        out.extend([name] if cats is None else [f"{name}={c}" for c in cats]
                   + [f"{name}=<unseen>"])
    return out


def one_hot_scaling(mean, scale, categories):
    """``(mean, scale)`` with every categorical feature left as 0/1 (mean 0, scale 1).

    Standardised, a rare category's 1 would be tens of units and its errors
    would swamp every other column's.
    """
    if categories is None:
        return mean, scale
    mean, scale = np.array(mean, dtype=np.float64), np.array(scale, dtype=np.float64)
    for cats, columns in zip(categories, _slices(categories)):
        if cats is not None:
            mean[columns], scale[columns] = 0.0, 1.0
    return mean, scale


def per_column(parts, categories):
    """Per-feature parts summed per input column (NaN where the column is missing)."""
    if categories is None:
        return parts
    out = np.empty((parts.shape[0], len(categories)), dtype=parts.dtype)
    for j, columns in enumerate(_slices(categories)):
        block = parts[:, columns]
        out[:, j] = block.sum(axis=1)  # NaN where the column's features are (missing)
    return out


def as_input_columns(estimator, rows):
    """Rows in the encoded features as the estimator's input columns (unchanged without categories).

    A DataFrame with the input's column names, each categorical column in
    its own dtype.
    """
    categories = getattr(estimator, "categories_", None)
    if categories is None:
        return rows
    from ._data import input_names

    return decode_columns(rows, categories, estimator._category_dtypes,
                          input_names(estimator, estimator.n_features_in_))


def decode_columns(rows, categories, dtypes, names, index=None):
    """Encoded rows (reconstructions) back as a DataFrame of the input's columns.

    A categorical column takes the category whose feature is reconstructed
    highest, in the column's own dtype.
    """
    import pandas as pd

    data = {}
    for name, cats, tag, columns in zip(names, categories, dtypes, _slices(categories)):
        block = rows[:, columns]
        if cats is None:
            data[name] = block[:, 0]
            continue
        values = cats[np.argmax(block[:, :-1], axis=1)]  # a seen category
        if tag == "category":
            data[name] = pd.Categorical(values, categories=cats)
        else:
            data[name] = pd.array(values, dtype="string" if tag == "string" else object)
    return pd.DataFrame(data, index=index, columns=list(names))


def validate_categorical(estimator, X, reset):
    """Rows of a table with categorical columns, checked and encoded; None for other input.

    None where ``X`` has no categorical column (with ``reset``) or the
    estimator was fitted without one: the numeric path checks those. With
    ``reset`` the columns' categories are learnt (``categories_``);
    ``n_features_in_`` and ``feature_names_in_`` are the input's columns,
    as scikit-learn records them.
    """
    from sklearn.utils.validation import FLOAT_DTYPES, _check_feature_names, _check_n_features
    from sklearn.utils.validation import check_array

    from ._data import input_names

    if not _takes_categories(estimator, X, reset):
        return None
    frame = _as_frame(X)
    if frame is None:
        frame = _any_frame(X, estimator)
    _check_feature_names(estimator, X, reset=reset)
    _check_n_features(estimator, frame, reset=reset)
    if reset:
        estimator.categories_, estimator._category_dtypes = fit_columns(
            frame, input_names(estimator, frame.shape[1]))
    rows = encode_columns(frame, estimator.categories_,
                          input_names(estimator, estimator.n_features_in_))
    return check_array(rows, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan",
                       estimator=estimator)


def _takes_categories(estimator, X, reset):
    """Whether ``X`` goes the categorical path; with ``reset``, a former fit's categories go."""
    if reset:
        estimator.__dict__.pop("categories_", None)
        estimator.__dict__.pop("_category_dtypes", None)
        frame = _as_frame(X)
        if frame is not None and _not_numeric(frame):
            # Dates, stray text: named here, whether or not X has categories.
            check_unusable(frame, [str(c) for c in frame.columns] if _is_frame(X)
                           else [f"x{j}" for j in range(frame.shape[1])])
        return has_categories(X)
    if getattr(estimator, "categories_", None) is not None:
        return True
    if has_categories(X):
        frame = _as_frame(X)
        names = [str(c) for c in frame.columns if _kind(frame[c]) in ("category", "text")]
        raise ValueError(
            f"X has columns of categories or text {names[:10]}, but "
            f"{type(estimator).__name__} was fitted on numbers only: fit it on a table "
            "with these columns to use them.")
    return False


def _any_frame(X, estimator):
    """Rows for a model fitted on categorical columns, as a DataFrame (by position)."""
    import pandas as pd
    import scipy.sparse as sp

    if sp.issparse(X) or np.ndim(X) != 2:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on a table with categorical columns: "
            "pass a DataFrame (or a 2-D array) with the same columns, got "
            f"{'a sparse matrix' if sp.issparse(X) else f'an array of {np.ndim(X)} dimensions'}.")
    return pd.DataFrame(np.asarray(X, dtype=object))
