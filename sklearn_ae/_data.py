"""Rows on their way to the network: dense, sparse, streamed, and chunked inference.

Plain functions of plain arguments (rows, a fitted :class:`Standardizer`, a
torch module, a device); none calls back into the estimator.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_array

from ._categorical import as_numbers, encoded_names
from ._dask import is_dask
from ._missing import chunk_with_gaps, observed_row_means
from ._streaming import StreamedRows

__all__ = [
    "FLOAT_DTYPES",
    "SparseRows",
    "StreamPart",
    "apply_chunked",
    "as_tensor",
    "check_codes",
    "check_columns",
    "chunk_rows",
    "device_rows",
    "input_names",
    "row_shares",
    "contributions_table",
    "training_tensor",
]

FLOAT_DTYPES = (np.float64, np.float32)

# Inference runs in chunks of about this many float32 values per layer
# (16 MiB), so transform on a million rows never holds them all on the device.
_INFERENCE_BUDGET = 1 << 22


def check_columns(X):
    """Refuse, naming them, the columns of a DataFrame of text that is not numbers.

    Missing values (NaN, NA, None) are allowed: the estimators learn from
    the observed entries. Other inputs pass unchecked: scikit-learn's
    validation says what is wrong with them.
    """
    if not hasattr(X, "columns") or not hasattr(X, "isna") or is_dask(X):
        return
    text = [name for name in X.columns
            if X[name].dtype.kind not in "biufc" and as_numbers(X[name]) is None]
    if text:
        raise ValueError(
            f"X has columns of text that is not numbers: {text[:10]}. Encode them first, "
            "e.g. OneHotEncoder in a ColumnTransformer, or drop them.")


def input_names(fitted, n_features):
    """Names of a fitted step's input features: those seen in fit, else x0, x1, ..."""
    names = getattr(fitted, "feature_names_in_", None)
    categories = getattr(fitted, "categories_", None)
    if categories is None:
        return list(names) if names is not None else [f"x{i}" for i in range(n_features)]
    names = list(names) if names is not None else [f"x{i}" for i in range(len(categories))]
    # Where the encoded features are asked for: one name per category.
    return names if n_features == len(names) else encoded_names(names, categories)


def row_shares(parts):
    """Each row's parts divided by their sum (rows whose parts sum to 0: zeros)."""
    # Missing entries' parts (NaN) count as none.
    total = np.nansum(parts, axis=1, keepdims=True)
    return np.divide(parts, total, out=np.zeros_like(parts), where=total != 0)


def contributions_table(parts, X, names, normalize):
    """Contributions as returned: each row's shares with ``normalize``; a DataFrame for one."""
    if normalize:
        parts = row_shares(parts)
    if not hasattr(X, "columns"):
        return parts
    import pandas as pd

    return pd.DataFrame(parts, index=X.index, columns=names)


def check_codes(X, n_components, name):
    """Codes for ``inverse_transform`` checked: a float array ``n_components`` wide."""
    Z = check_array(X, dtype=FLOAT_DTYPES)
    if Z.shape[1] != n_components:
        raise ValueError(
            f"X has {Z.shape[1]} features, but {name}.inverse_transform is expecting "
            f"{n_components} features (n_components_) as input."
        )
    return Z


def chunk_rows(widest):
    """Rows per inference chunk for a network whose widest layer has ``widest`` units."""
    return max(1, _INFERENCE_BUDGET // max(widest, 1))


def as_tensor(array, device, dtype=np.float32):
    """Tensor on ``device`` from a numpy array, never sharing read-only memory."""
    array = np.asarray(array, dtype=dtype)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, dtype=dtype, order="C")
    return torch.from_numpy(array).to(device)


class SparseRows:
    """Scipy CSR rows that become dense, scaled tensors one batch at a time.

    Stands in for the training tensor in the training loop, which only needs
    ``shape``, ``device`` and ``rows[index]``; the whole matrix is never made
    dense.
    """

    def __init__(self, X, scaler, device):
        self.X = X.tocsr()
        self.scaler = scaler
        self.device = device
        self.shape = X.shape

    def __getitem__(self, index):
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        part = self.X[index].toarray()
        return as_tensor(self.scaler.transform(part), self.device)


class StreamPart:
    """Which rows of a file-backed X a training reads: see StreamedRows."""

    def __init__(self, part, fraction, seed):
        self.part, self.fraction, self.seed = part, fraction, seed


def training_tensor(X, rows, scaler, device):
    """Standardised float32 rows ``rows`` of dense ``X`` (all when None) on ``device``.

    Built chunk by chunk into one float32 array, so the extra memory is
    that array alone, whatever X's dtype; when nothing needs changing
    (float32, no scaling, all rows) X itself is used without a copy.
    """
    if rows is None and scaler.is_identity and X.dtype == np.float32:
        return as_tensor(X, device)
    n_rows = X.shape[0] if rows is None else len(rows)
    out = np.empty((n_rows, X.shape[1]), dtype=np.float32)
    # Chunks of 1 M values: their two transient copies stay a few MB.
    step = max(1, (1 << 20) // max(X.shape[1], 1))
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        chunk = X[start:stop] if rows is None else X[rows[start:stop]]
        out[start:stop] = scaler.transform(chunk)
        # NaN is a missing value; inf is a value beyond float32.
        if np.isinf(out[start:stop]).any():
            raise ValueError(
                "X has values that overflow float32, the network's precision, "
                f"after standardisation (largest |X| {float(np.abs(chunk).max()):.3g}). "
                "Rescale X to a smaller range."
            )
    return torch.from_numpy(out).to(device)


def device_rows(X, y, rows, scaler, device):
    """``(X_rows, y_rows)`` as the training loop takes them.

    ``rows``: indices (None for all) or a :class:`StreamPart` of a
    file-backed X. Dense rows become one tensor on the device, CSR rows a
    :class:`SparseRows`, streamed ones a :class:`StreamedRows` (which
    carries its own y).
    """
    if isinstance(rows, StreamPart):
        return StreamedRows(X, y, scaler, device, part=rows.part, fraction=rows.fraction,
                            seed=rows.seed), None
    if sp.issparse(X):
        X_rows = SparseRows(X if rows is None else X[rows], scaler, device)
    else:
        X_rows = training_tensor(X, rows, scaler, device)
    if y is None:
        return X_rows, None
    return X_rows, torch.as_tensor(y if rows is None else y[rows], device=device)


def _in_precision(module, A):
    """The module and numpy dtype that compute on rows of ``A``'s dtype."""
    if A.dtype == np.float64:
        # float64 input is computed in float64, as scikit-learn estimators
        # do: float32 matrix products (MKL on the CPU, cuBLAS on a GPU)
        # pick kernels by the number of rows and round differently, so a
        # row's result would depend on its batch in the 7th digit.
        # Pass float32 for speed (about 3x on CPU transform).
        return copy.deepcopy(module).to(torch.float64), np.float64
    return module, np.float32


class _Results:
    """Chunks' results gathered into one array.

    Per-row results fill one array in ``out_dtype`` (rather than stacking
    chunks and converting: three copies); anything else (one row of sums
    per chunk) is stacked in float64.
    """

    def __init__(self, n_rows, out_dtype):
        self.n_rows, self.out_dtype = n_rows, out_dtype
        self.filled, self.parts = None, []

    def add(self, start, n_in, result):
        if start == 0 and result.shape[0] == n_in:
            self.filled = np.empty((self.n_rows, *result.shape[1:]), dtype=self.out_dtype)
        if self.filled is not None:
            self.filled[start : start + len(result)] = result.numpy()
        else:
            self.parts.append(result.to(torch.float64).numpy())

    def array(self):
        return self.filled if self.filled is not None else np.concatenate(self.parts, axis=0)


def apply_chunked(fn, A, module, *, scaler, device, chunk, y=None, standardize=True,
                  out_dtype=np.float64, row_means=False):
    """Run ``fn(module, A_chunk, y_chunk)`` over chunks of ``A`` on ``device``.

    ``A`` (dense or CSR) is standardised with ``scaler`` unless
    ``standardize`` is False (codes). Returns a numpy array with the chunks'
    results stacked, in ``out_dtype`` (float64 when ``fn`` does not return
    one row per row). Rows that overflow the network's precision give
    non-finite results and one RuntimeWarning.

    A chunk with missing values (NaN) is handed to ``fn`` with its gaps at
    0 and the module seen through a :class:`~sklearn_ae._missing.GapModule`
    (reconstructions 0 at the gaps); with ``row_means``, ``fn`` returns
    per-row means over the features, made means over the observed ones.
    """
    module.eval()
    module, dtype = _in_precision(module, A)
    results = _Results(A.shape[0], out_dtype)
    overflowed = False
    with torch.inference_mode():
        for start in range(0, A.shape[0], chunk):
            part = A[start : start + chunk]
            part = part.toarray() if sp.issparse(part) else part
            tensor = as_tensor(scaler.transform(part) if standardize else part, device, dtype)
            y_part = None if y is None else torch.as_tensor(y[start : start + chunk],
                                                            device=device)
            overflowed = overflowed or bool(torch.isinf(tensor).any())
            network, tensor, observed = chunk_with_gaps(module, tensor)
            result = fn(network, tensor, y_part)
            if observed is not None and row_means:
                result = observed_row_means(result, observed)
            results.add(start, tensor.shape[0], result.to("cpu"))
    if overflowed:
        warnings.warn(
            f"X has values that overflow {np.dtype(dtype).name} in the network's "
            "units; their results are not finite (scores -inf, so predict "
            "calls them outliers). Pass X as float64 to compute them.",
            RuntimeWarning,
            stacklevel=4,
        )
    return results.array()
