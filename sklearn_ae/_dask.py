"""Inference on Dask arrays and DataFrames, block by block, lazily.

Dask is never imported here unless the user passes a Dask collection: a
collection is recognised by its module's name.
"""

from __future__ import annotations

import functools
import uuid

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["blockwise", "float_dtype", "is_dask", "over_blocks"]


def float_dtype(X):
    """The float dtype results take for input ``X``: float32 stays, the rest float64."""
    dtype = getattr(X, "dtype", None)
    if dtype is None and hasattr(X, "dtypes"):  # a DataFrame: its common dtype
        dtype = np.result_type(*X.dtypes)
    return np.float32 if dtype == np.float32 else np.float64


def is_dask(X):
    """A Dask array or DataFrame (checked by module, so Dask need not be installed)."""
    return type(X).__module__.split(".")[0] == "dask"


class _OnBlock:
    """An estimator's method applied to one block or partition of rows.

    It names itself to Dask (``__dask_tokenize__``): Dask would otherwise hash
    the estimator it carries (a torch module), which it cannot do
    deterministically. One name per call, so no stale result is reused.
    """

    def __init__(self, fn, columns, dtype):
        self.fn, self.columns, self.dtype = fn, columns, dtype
        self.token = f"sklearn_ae-{getattr(fn, '__name__', 'apply')}-{uuid.uuid4().hex}"

    def __dask_tokenize__(self):
        return self.token

    def __call__(self, block):
        out = self.fn(block)
        if not hasattr(block, "columns"):
            return out
        import pandas as pd

        if self.columns is None:
            return pd.Series(out, index=block.index, dtype=self.dtype)
        return pd.DataFrame(out, index=block.index, columns=self.columns)


def over_blocks(fn, X, columns, dtype):
    """Apply ``fn`` to each block of rows of a Dask collection, lazily.

    ``columns``: names of the output's columns (None for one value per row).
    Blocks are whole rows (all columns), so each worker runs the estimator's
    own method on its blocks; nothing is gathered on the client.
    """
    on_block = _OnBlock(fn, columns, dtype)
    if hasattr(X, "columns"):  # a Dask DataFrame: pandas partitions, names kept
        import pandas as pd

        meta = (pd.Series([], dtype=dtype) if columns is None else
                pd.DataFrame({c: pd.Series([], dtype=dtype) for c in columns}))
        return X.map_partitions(on_block, meta=meta, token=on_block.token)
    X = X.rechunk({1: -1})
    if columns is None:
        return X.map_blocks(on_block, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype),
                            name=on_block.token)
    return X.map_blocks(on_block, chunks=(X.chunks[0], (len(columns),)), dtype=dtype,
                        meta=np.empty((0, 0), dtype), name=on_block.token)


def blockwise(columns=None, dtype=None):
    """Make an inference method take Dask collections too, block by block.

    Parameters
    ----------
    columns : callable or None
        ``columns(estimator)``: the output's column names; None for one
        value per row.
    dtype : numpy dtype or None
        The output's dtype; None for the input's float dtype.
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, X, *args, **kwargs):
            if not is_dask(X):
                return method(self, X, *args, **kwargs)
            check_is_fitted(self)
            names = None if columns is None else columns(self)
            # The estimator's own method (a subclass's, where it has one)
            # runs on each block.
            return over_blocks(getattr(self, method.__name__), X, names,
                               dtype or float_dtype(X))

        return wrapper

    return decorate
