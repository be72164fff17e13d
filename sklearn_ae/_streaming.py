"""Training rows read from a file-backed array (``numpy.memmap``) chunk by chunk.

A fit on an array that lives in a file does not copy it into memory: each
epoch visits the file in chunks of contiguous rows, in a random order, and
shuffles the rows inside each chunk. A background thread reads and
standardises the next chunk while the current one trains (on CUDA into
pinned memory, copied to the GPU without blocking), so the memory a fit
holds beyond the network is a few chunks, whatever the number of rows.
"""

from __future__ import annotations

import math
import mmap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

__all__ = ["StreamedRows", "is_file_backed"]

# Values per chunk: 4 M float32 values are 16 MB, large enough that reading
# and standardising a chunk costs little next to training on it.
_CHUNK_VALUES = 1 << 22


def is_file_backed(X) -> bool:
    """Whether the dense array ``X`` (or the array it views) is mapped from a file."""
    for _ in range(32):
        if X is None:
            return False
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


class StreamedRows:
    """Standardised float32 rows of a file-backed ``X``, one chunk at a time.

    Stands in for the training tensor in the training loop: ``shape`` and
    ``device`` as a tensor has them, ``epoch_batches`` for one shuffled pass,
    ``chunks`` for an ordered pass (validation).

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        File-backed rows, float32 or float64, in the user's units.
    y : numpy.ndarray or None
        Per-row side information (conditions), in memory.
    scaler : Standardizer
        Its ``transform`` scales the rows.
    device : torch.device
        Where batches go.
    part : {"all", "train", "validation"}, default="all"
        Which rows: with "train" and "validation", each row belongs to the
        validation rows with probability ``fraction``, drawn per chunk from
        ``seed`` (the same draw on every pass, and no index of all rows).
    fraction : float, default=0.0
        Share of rows held out for validation.
    seed : int, default=0
        Seed of the split.
    chunk_rows : int or None
        Rows per chunk; default about 4 M values.
    """

    def __init__(self, X, y, scaler, device, part="all", fraction=0.0, seed=0,
                 chunk_rows=None):
        self.X, self.y = X, y
        self.scaler = scaler
        self.device = device
        self.part = part
        self.fraction = float(fraction)
        self.seed = int(seed)
        n_rows, n_features = X.shape
        self.chunk_rows = int(chunk_rows or max(1, _CHUNK_VALUES // max(1, n_features)))
        self.n_chunks = max(1, math.ceil(n_rows / self.chunk_rows))
        count = n_rows
        if part != "all":
            count = sum(int(np.count_nonzero(self._mask(k))) for k in range(self.n_chunks))
        self.shape = (count, n_features)

    def _bounds(self, k):
        start = k * self.chunk_rows
        return start, min(self.X.shape[0], start + self.chunk_rows)

    def _mask(self, k):
        if self.part == "all":
            return None
        start, stop = self._bounds(k)
        held_out = np.random.default_rng([self.seed, k]).random(stop - start) < self.fraction
        return held_out if self.part == "validation" else ~held_out

    def _load(self, k):
        """Chunk ``k`` read, selected and standardised, as host tensors."""
        start, stop = self._bounds(k)
        rows = self.X[start:stop]
        y = None if self.y is None else self.y[start:stop]
        mask = self._mask(k)
        if mask is not None:
            rows = rows[mask]
            y = None if y is None else y[mask]
        # A copy in any case: the file's pages are read-only and stay in the
        # page cache, not in this process's memory.
        out = np.array(self.scaler.transform(rows), dtype=np.float32, order="C")
        if np.isinf(out).any():
            raise ValueError(
                "X has values that overflow float32, the network's precision, "
                f"after standardisation (rows {start} to {stop - 1}). Rescale X to a "
                "smaller range."
            )
        tensor = torch.from_numpy(out)
        if self.device.type == "cuda":
            tensor = tensor.pin_memory()
        return tensor, None if y is None else torch.as_tensor(y)

    def chunks(self, order=None):
        """Yield ``(X_chunk, y_chunk)`` on the device for the chunks in ``order``.

        The next chunk is read in a background thread while the caller
        works on the current one.
        """
        order = list(range(self.n_chunks)) if order is None else list(order)
        non_blocking = self.device.type == "cuda"
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sklearn_ae-read") as pool:
            pending = pool.submit(self._load, order[0])
            for i in range(len(order)):
                rows, y = pending.result()
                if i + 1 < len(order):
                    pending = pool.submit(self._load, order[i + 1])
                if rows.shape[0] == 0:
                    continue
                yield (rows.to(self.device, non_blocking=non_blocking),
                       None if y is None else y.to(self.device, non_blocking=non_blocking))

    def epoch_batches(self, batch_size, generator):
        """Yield ``(X_batch, y_batch)`` for one pass: chunks in random order, rows shuffled in each.

        Batches have ``batch_size`` rows (rows left at the end of a chunk join
        the first of the next), except the last of the pass.
        """
        order = torch.randperm(self.n_chunks, generator=generator).tolist()
        carry = None
        for rows, y in self.chunks(order):
            perm = torch.randperm(rows.shape[0], generator=generator).to(rows.device)
            start = 0
            if carry is not None:
                need = batch_size - carry[0].shape[0]
                take = perm[:need]
                joined = (torch.cat([carry[0], rows[take]]),
                          None if y is None else torch.cat([carry[1], y[take]]))
                start = take.numel()
                if joined[0].shape[0] < batch_size:
                    carry = joined
                    continue
                carry = None
                yield joined
            while start + batch_size <= rows.shape[0]:
                index = perm[start : start + batch_size]
                yield rows[index], None if y is None else y[index]
                start += batch_size
            if start < rows.shape[0]:
                index = perm[start:]
                carry = (rows[index], None if y is None else y[index])
        if carry is not None:
            yield carry
