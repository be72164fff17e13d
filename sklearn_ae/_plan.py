"""Which rows a fit trains and validates on, and its seeds, in a fixed order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ._data import StreamPart
from ._streaming import is_file_backed

__all__ = ["RowPlan", "plan_pass", "plan_rows", "split_rows"]

_MAX_SEED = np.iinfo(np.int32).max


@dataclass
class RowPlan:
    """The rows and seeds of one fit, drawn in a fixed order.

    ``rng`` is None for ``partial_fit``, which neither holds rows out nor
    refits; else it draws the refit's seed and split after the first.
    """

    seed: int
    train_rows: object
    val_rows: object
    n_train: int
    density_seed: int
    rng: object = None

    def refit(self, n_rows, early_stopping, validation_fraction):
        """Seed and split of a second training on ``n_rows`` rows, drawn after the first's."""
        seed = int(self.rng.randint(_MAX_SEED))
        return (seed, *split_rows(n_rows, self.rng, early_stopping, validation_fraction))


def plan_rows(X, random_state, early_stopping, validation_fraction, group):
    """Seeds and rows of a fit: training and validation rows (or streamed parts).

    The draws keep one order: the network's seed, the split (or the stream's
    seed), the seed of the outlier score's draws; ``rng`` draws the refit's
    after them.
    """
    rng = check_random_state(random_state)
    # One initial network on every rank, whatever random_state is.
    seed = int(group.broadcast(int(rng.randint(_MAX_SEED))))
    if not sp.issparse(X) and is_file_backed(X):
        # A memmap is read chunk by chunk, never copied whole: the split is
        # drawn per chunk (no index of all rows), see _streaming.py.
        fraction = validation_fraction if early_stopping else 0.0
        split_seed = int(rng.randint(_MAX_SEED))
        train_rows = StreamPart("train" if fraction else "all", fraction, split_seed)
        val_rows = StreamPart("validation", fraction, split_seed) if fraction else None
        n_train = int(round(X.shape[0] * (1.0 - fraction)))
    else:
        train_rows, val_rows = split_rows(X.shape[0], rng, early_stopping, validation_fraction)
        n_train = X.shape[0] if train_rows is None else len(train_rows)
    density_seed = int(rng.randint(_MAX_SEED))
    n_train = int(group.sum([n_train])[0])
    return RowPlan(seed, train_rows, val_rows, n_train, density_seed, rng)


def plan_pass(random_state, n_iter):
    """Seed of one ``partial_fit`` pass: all rows, no validation, no refit."""
    # One seed per call, from random_state and the number of epochs so far:
    # a seeded sequence of calls is reproducible, and calls differ.
    base = check_random_state(random_state).randint(_MAX_SEED)
    seed = int((int(base) + 7919 * n_iter) % _MAX_SEED)
    return RowPlan(seed, None, None, 0, seed)


def split_rows(n_samples, rng, early_stopping, validation_fraction):
        """Row indices for training and validation (None: all rows, no validation)."""
        if not early_stopping:
            return None, None
        n_val = int(np.ceil(validation_fraction * n_samples))
        if n_samples - n_val < 1:
            if n_samples < 2:
                raise ValueError(
                    f"early_stopping=True needs at least 2 samples to hold out a "
                    f"validation set, got n_samples={n_samples}. Pass more rows or "
                    "set early_stopping=False."
                )
            raise ValueError(
                f"validation_fraction={validation_fraction} holds out "
                f"{n_val} of {n_samples} rows for early stopping and leaves none "
                "to train on. Lower validation_fraction or set early_stopping=False."
            )
        order = rng.permutation(n_samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

