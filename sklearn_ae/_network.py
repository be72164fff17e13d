"""The network's shape and how its training ends.

Layer sizes, the epoch budget, what a warm start may not change, and the
warnings of a fit that ended early or unconverged.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval

__all__ = [
    "check_no_bool_counts",
    "divergence_message",
    "hidden_layer_sizes",
    "network_signature",
    "resolve_max_iter",
    "warn_if_unfinished",
]

# max_iter="auto": epochs enough to pass this many rows through the network.
# Chosen on MNIST (rows 0-50000 to train, 50000-60000 to judge): with the
# cosine schedule, 30 epochs of 50,000 rows reach 0.42x PCA-64's error.
_ROWS_BUDGET = 1_600_000


def _layer_sizes(name, value):
    """``value`` (an int or a sequence of them) as a tuple of positive ints, or an error."""
    sizes = list(value) if np.iterable(value) else [value]
    if not all(isinstance(h, Integral) and not isinstance(h, bool) and h > 0 for h in sizes):
        raise ValueError(f"{name} must hold positive integers only, got {value!r}.")
    return tuple(int(h) for h in sizes)


def _comparable(value):
    """A parameter value in a form that compares by content (lists as tuples)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_comparable(v) for v in value)
    return value


def hidden_layer_sizes(param, n_features, n_components):
    """The widths ``hidden_layer_sizes`` stands for ("auto": from the number of features)."""
    if isinstance(param, str):  # "auto", the only string the constraints let in
        first = int(np.clip(2 ** int(np.ceil(np.log2(2 * n_features))), 64, 1024))
        return (first, max(first // 2, 2 * n_components))
    return _layer_sizes("hidden_layer_sizes", param)


def resolve_max_iter(max_iter, n_train):
    """Epochs of a fit: ``max_iter``, or for "auto" a budget in rows within [20, 200]."""
    if max_iter != "auto":
        return int(max_iter)
    return int(np.clip(np.ceil(_ROWS_BUDGET / max(n_train, 1)), 20, 200))


def network_signature(params, fitted, how):
    """The network-shaping ``params`` as comparable values; an error if ``fitted`` differs.

    ``fitted``: the signature the network was built with, None for a new one.
    """
    network = {name: _comparable(value) for name, value in params.items()}
    if fitted is None:
        return network
    # Keys absent from the fitted signature (a model saved before they were
    # checked) are not compared.
    changed = [k for k, v in network.items() if k in fitted and v != fitted[k]]
    if changed:
        raise ValueError(
            f"{how} trains the fitted network further, but "
            + ", ".join(f"{k} changed from {fitted.get(k)!r} to {network[k]!r}"
                        for k in changed)
            + " since it was built. Call fit (with warm_start=False) to train a new one."
        )
    return network


def warn_if_unfinished(history, name, n_iter, max_iter, constant_rate):
    """Warn where a fit ended early (Ctrl-C) or unconverged at a constant rate.

    A cosine schedule that ran its course has converged by design: its last
    epochs take steps near zero. Only a constant rate (``constant_rate``,
    and the estimator warns at all) that ran out of epochs while still
    improving is worth a warning.
    """
    if history.interrupted:
        warnings.warn(
            f"{name} training was interrupted after {n_iter} epoch(s); the model keeps "
            "the best weights so far.",
            UserWarning,
            stacklevel=6,
        )
    if constant_rate and not (history.converged or history.interrupted):
        warnings.warn(
            f"{name} ran max_iter={max_iter} epochs and the loss was still improving; "
            "consider a larger max_iter or learning_rate='cosine'.",
            ConvergenceWarning,
            stacklevel=6,
        )


def check_no_bool_counts(estimator):
    """Refuse True or False where a parameter counts something (an int is asked).

    ``bool`` is an ``Integral`` to Python, so the constraints alone would
    take ``n_components=True`` as 1.
    """
    for name, constraints in estimator._parameter_constraints.items():
        counts = any(isinstance(c, Interval) and c.type is Integral for c in constraints)
        value = getattr(estimator, name, None)
        if counts and "boolean" not in constraints and isinstance(value, (bool, np.bool_)):
            raise ValueError(
                f"{name} must be an int, not a boolean; got {name}={value!r}.")


# Inputs beyond this magnitude (in the network's units) overflow float32 once
# squared and summed: a fit on them fails whatever the learning rate.
_LARGEST_INPUT = 1e15


def divergence_message(name, error, largest, learning_rate_init, standardize):
    """What to change after a fit diverged: the scale of X, or the learning rate.

    ``largest``: the largest magnitude of the network's inputs (X after the
    standardisation, if any).
    """
    if largest > _LARGEST_INPUT:
        return (
            f"{name} diverged: {error}. X reaches {largest:.3g} in the network's units "
            f"(standardize={standardize}), beyond what float32, the network's precision, "
            "can square and sum: rescale X to a smaller range"
            + (" or set standardize=True." if not standardize else "."))
    return (
        f"{name} diverged: {error}. Lower learning_rate_init (now {learning_rate_init}), "
        f"or put the features on a common scale (standardize=True, now {standardize}).")
