"""Parameter and attribute documentation shared by every estimator, written once.

Each shared entry is written here once. :func:`fill_doc` puts them into a
class docstring in place of ``{common_parameters}`` and
``{common_attributes}``, with each parameter's ``default=`` taken from that
class's own ``__init__``, so a variant with other defaults documents its own.
``tests/test_docstrings.py`` validates the result with numpydoc.
"""

from __future__ import annotations

import inspect

# Parameter and attribute documentation shared by every estimator, written once
# and spliced into each class docstring by ``fill_doc``.
COMMON_PARAMETERS = """    n_components : int or None, default=None
        Width of the code. None picks ``max(1, min(32, n_features // 2))``;
        the value used is stored in ``n_components_``.
    hidden_layer_sizes : tuple of int or "auto", default="auto"
        Encoder widths between the input and the code; the decoder mirrors
        them. ``()`` gives a linear autoencoder. "auto": two layers, the
        first the power of two at or above ``2 * n_features`` within
        [64, 1024], the second half as wide (at least ``2 * n_components``);
        e.g. (1024, 512) for 784 pixels, (128, 64) for 64 features.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers; the code and the output are linear.
    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights (not the biases), on
        ``MLPRegressor``'s scale: the penalty is divided by the batch size.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(256, n_samples)``.
    max_iter : int or "auto", default="auto"
        Most epochs per call of :meth:`fit`. "auto" gives a budget in rows
        rather than epochs: enough epochs to pass about 1.6 million rows
        through the network, within [20, 200] (30 epochs for 54,000 rows,
        200 for 8,000 rows or fewer).
    learning_rate_init : float, default=3e-3
        Adam's peak learning rate.
    learning_rate : {"cosine", "constant"}, default="cosine"
        Schedule of Adam's learning rate within one call of :meth:`fit`:
        "cosine" rises linearly over the first 5% of the steps of
        ``max_iter`` epochs, then decays to zero along a cosine, so the last
        epochs refine rather than wander; "constant" keeps
        ``learning_rate_init``. A warm-started fit runs a fresh schedule.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the training steps. "bfloat16" runs them under
        :func:`torch.autocast` in bfloat16 (weights, optimizer state,
        validation and inference stay float32). "auto" picks bfloat16 when
        training on a CPU with AMX bfloat16 units and a hidden layer at least
        256 wide, where it was measured to halve the epoch time at the same
        reconstruction error, and float32 everywhere else.
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as progress.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stop when their loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
        the weights of the best epoch. When False, stop on the training loss
        in the same way and keep the last weights (as ``MLPRegressor`` does).
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    standardize : bool, default=True
        Centre each feature and divide it by its standard deviation inside
        the estimator. A feature on which most rows share one value (zero
        interquartile range: a rarely inked pixel, a rare category, a sensor
        stuck but for a few blips) is divided by the median standard
        deviation of the other features instead, when that is larger, so that
        a small change in it stays a small change for the network; every
        other feature by at least a thousandth of that median.
        Reconstruction errors, and so outlier scores, are measured on the
        scaled features. With False the network sees X as given.
    contamination : float, "auto" or a thresholder, default=0.1
        Expected share of outliers in the training data, in (0, 0.5]; sets
        ``offset_`` and so :meth:`predict`. "auto", for when the share is
        unknown: a row is an outlier when its score falls below Tukey's
        outer fence of the training scores, ``Q1 - 3 * IQR`` ("far out"), so
        the share follows the data: almost none of normally distributed
        scores, more where the scores have a long tail of anomalies. The
        inner fence, ``1.5 * IQR``, flagged 7% of the ordinary rows of a plain
        table: squared errors have a long tail of their own. Or a
        thresholder of ``pythresh`` (e.g. ``pythresh.thresholds.iqr.IQR()``,
        any object with ``fit(scores)`` and ``labels_``): the share is the
        one it flags among the training rows' scores (a copy is fitted).
    device : str, default="auto"
        "auto" uses a CUDA GPU when PyTorch sees one, else an Apple GPU
        (MPS) when there is one, else the CPU; or "cpu", "cuda", "cuda:N",
        "mps". Asking for a device that is not there is an error.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split and the
        noise of training. An int gives identical fits on the same CPU with
        the same number of torch threads, also in parallel threads (each fit
        draws from generators of its own). The caller's global torch random
        state is left untouched; numpy's is too with an int or a
        ``RandomState``, while None draws a seed from numpy's global stream
        (as scikit-learn's estimators do).
    verbose : int, default=0
        When positive, a progress bar with the training and validation loss
        of each epoch.
    warm_start : bool, default=False
        Continue training the fitted network (and its optimizer) on the next
        call of :meth:`fit` instead of starting afresh."""

COMMON_ATTRIBUTES = """    n_components_ : int
        Width of the code.
    hidden_layer_sizes_ : tuple of int
        Hidden widths used.
    mean_ : ndarray of shape (n_features_encoded,)
        Per-feature mean subtracted before encoding (zeros when
        ``standardize=False``). One entry per input column, or, for a table
        with categorical columns, per numeric column and per category
        (there 0: categories stay 0/1).
    scale_ : ndarray of shape (n_features_encoded,)
        Per-feature scale divided out before encoding: the standard
        deviation, floored at the median one for features on which most rows
        share one value (ones when ``standardize=False``, and for
        categories).
    categories_ : list of (ndarray or None)
        Only when ``X`` had categorical columns (pandas ``category``, or
        text that is not all numbers): per input column, the categories
        seen in fit, in the order of their one-hot features (one more
        feature stands for a category never seen), or None for a numeric
        column.
    max_iter_ : int
        Epochs the last call of :meth:`fit` was allowed (``max_iter``
        resolved).
    precision_ : str
        Arithmetic of the training steps, "float32" or "bfloat16".
    n_iter_ : int
        Epochs run, summed over warm-started fits (and over both trainings
        of a fit with a refit).
    loss_curve_ : list of float
        Mean training loss of each epoch, of every training in the fit.
    validation_scores_ : list of float or None
        Mean validation loss of each epoch; None without early stopping.
    best_loss_ : float
        Lowest monitored loss of the last fit (validation loss with early
        stopping, else training loss).
    offset_ : float
        ``contamination`` quantile of the training rows' ``score_samples``
        (of 2,000 of them drawn at random, for more rows and the plain
        reconstruction score), or Tukey's outer fence ``Q1 - 3 * IQR`` of
        them with ``contamination="auto"``; ``decision_function = score_samples - offset_``.
        For the combined and isolation scores (sums of robust z-scores)
        lowered by ``1e-6 * max(1, |quantile|)``, so that rows equal to the
        quantile up to float32 rounding are inliers, as exact ties are.
    device_ : torch.device
        Device the module lives on.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        column names."""




def _entries(section):
    """Split a numpydoc section into (name, type, description lines) entries."""
    entries = []
    for line in section.splitlines():
        if line.startswith("    ") and not line.startswith("     "):
            name, _, type_text = line.strip().partition(" : ")
            entries.append([name, type_text, []])
        elif line.strip():
            entries[-1][2].append(line)
    return entries


_PARAMETER_ENTRIES = _entries(COMMON_PARAMETERS)


def _parameters_for(cls):
    """The shared parameter section with ``cls.__init__``'s own defaults."""
    defaults = {
        name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
    }
    lines = []
    for name, type_text, description in _PARAMETER_ENTRIES:
        kind = type_text.split(", default=")[0]
        lines.append(f"    {name} : {kind}, default={defaults[name]!r}")
        lines.extend(description)
    return "\n".join(lines)


def fill_doc(cls=None, *, extra=None):
    """Put the shared parameter and attribute docs into ``cls.__doc__``.

    Parameters
    ----------
    cls : type
        An estimator class whose docstring holds ``{common_parameters}`` and
        ``{common_attributes}``.
    extra : dict of str to str, optional
        More text to put in place of ``{name}`` marks, by name (a variant's
        own shared paragraphs). Used as ``@fill_doc(extra={...})``.

    Returns
    -------
    cls : type
        The same class, its docstring completed (or, when ``cls`` is None, a
        decorator that does so).
    """
    if cls is None:
        return lambda klass: fill_doc(klass, extra=extra)
    doc = cls.__doc__.replace("{common_parameters}", _parameters_for(cls)).replace(
        "{common_attributes}", COMMON_ATTRIBUTES
    )
    for name, text in (extra or {}).items():
        doc = doc.replace("{" + name + "}", text)
    cls.__doc__ = doc
    return cls
