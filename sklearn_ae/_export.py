"""Export a fitted estimator's encoder, decoder or outlier score to ONNX.

The exported graph takes rows in the units the estimator was fitted on and
includes everything between them and the answer (the standardisation, the
network, the score's normalisation), so a server needs onnxruntime only:
no Python training code, no torch.
"""

from __future__ import annotations

import logging
import math
import os
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["to_onnx"]

_METHODS = ("transform", "inverse_transform", "score_samples")


def _buffer(value):
    return torch.as_tensor(np.asarray(value), dtype=torch.float32)


class _Graph(torch.nn.Module):
    """One method of a fitted estimator as a float32 torch module on the CPU."""

    def __init__(self, estimator, method):
        super().__init__()
        self.estimator = estimator
        self.method = method
        self.module = _cpu_copy(estimator.module_)
        self.register_buffer("mean", _buffer(estimator.mean_))
        self.register_buffer("scale", _buffer(estimator.scale_))
        if method == "score_samples":
            self.score = estimator._score_module(self.module)
            # One eager call first, so that what a score computes once and
            # caches (the VAE's fixed draws) is a constant in the graph.
            with torch.no_grad():
                self.score(torch.zeros(1, estimator.n_features_in_))

    def forward(self, X, conditions=None):
        est = self.estimator
        if self.method == "inverse_transform":
            return est._decode_batch(self.module, X, conditions) * self.scale + self.mean
        A = (X - self.mean) / self.scale
        if self.method == "transform":
            return est._encode_batch(self.module, A, None)
        score = self.score(A)
        # As score_samples: a row too extreme to compute is -inf, never NaN.
        return torch.where(torch.isnan(score), torch.full_like(score, -math.inf), score)


def _cpu_copy(module):
    import copy

    return copy.deepcopy(module).to("cpu", torch.float32).eval()


def to_onnx(estimator, method="transform", path=None):
    """Export one method of a fitted estimator as an ONNX model.

    The graph computes, in float32, what the method computes: it takes rows
    in the units of ``fit`` (a float32 input named ``X`` with any number of
    rows) and returns ``Y``.

    Parameters
    ----------
    estimator : BaseAutoencoder
        A fitted estimator of this library.
    method : {"transform", "inverse_transform", "score_samples"}, default="transform"
        The method to export: the encoder (rows to codes), the decoder (codes
        to rows in X's units) or the outlier score (higher is more normal;
        ``decision_function`` is it minus ``estimator.offset_``; not for
        ``outlier_score="isolation"``, the default of
        :class:`~sklearn_ae.OutlierAutoencoder`, which raises). For
        :class:`~sklearn_ae.ConditionalAutoencoder`, "inverse_transform" takes
        a second input ``conditions``: the one-hot rows of the labels in the
        order of ``classes_``, or the numeric condition rows standardised
        with ``condition_mean_`` and ``condition_scale_``; "score_samples" is
        the score without conditions.
    path : str or os.PathLike, optional
        Where to write the model; not written when None.

    Returns
    -------
    model : onnx.ModelProto
        The model, ready for ``onnxruntime.InferenceSession(model.SerializeToString())``.

    Examples
    --------
    >>> import numpy as np, onnxruntime
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import Autoencoder, to_onnx
    >>> X = load_digits().data.astype(np.float32)
    >>> ae = Autoencoder(n_components=8, max_iter=3, random_state=0).fit(X)
    >>> session = onnxruntime.InferenceSession(to_onnx(ae).SerializeToString())
    >>> codes = session.run(None, {"X": X[:5]})[0]
    >>> bool(np.allclose(codes, ae.transform(X[:5]), atol=1e-5))
    True
    """
    _check_exportable(estimator, method)
    graph = _Graph(estimator, method).eval()
    program = _export_quietly(graph, *_example_inputs(estimator, method))
    model = program.model_proto
    if path is not None:
        import onnx

        onnx.save(model, os.fspath(path))
    return model


def _check_exportable(estimator, method):
    """Refuse, with a clear error, what cannot be exported."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "to_onnx needs onnx and onnxscript: pip install 'sklearn_ae[onnx]'."
        ) from exc
    from ._base import BaseAutoencoder

    if not isinstance(estimator, BaseAutoencoder):
        raise TypeError(
            f"to_onnx takes an estimator of sklearn_ae, got {type(estimator).__name__}; "
            "for scikit-learn's own estimators use skl2onnx.")
    check_is_fitted(estimator)
    if getattr(estimator, "categories_", None) is not None:
        raise ValueError(
            f"to_onnx exports a network of numbers, and this {type(estimator).__name__} was "
            "fitted on categorical columns it encodes itself. Encode them in the pipeline "
            "instead (OneHotEncoder in a ColumnTransformer) and export the whole pipeline "
            "with skl2onnx.to_onnx.")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")


def _example_inputs(estimator, method):
    """Example inputs, their names and their dynamic row dimension."""
    rows = torch.export.Dim("rows", min=1)
    width = estimator._n_features_out if method == "inverse_transform" else estimator.n_features_in_
    inputs, names, shapes = (torch.zeros(2, width),), ["X"], [{0: rows}]
    n_conditions = estimator._n_condition_columns()
    if method == "inverse_transform" and n_conditions is not None:
        inputs += (torch.zeros(2, n_conditions),)
        names.append("conditions")
        shapes.append({0: rows})
    return inputs, names, shapes


def _export_quietly(graph, inputs, names, shapes):
    """torch's dynamo ONNX export of ``graph``, without its own log and warnings."""
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # The exporter reports its own internals (deprecations of its
            # dependencies, torchvision operators it skips); none is about
            # this model.
            warnings.simplefilter("ignore")
            return torch.onnx.export(
                graph, inputs, dynamo=True, input_names=names, output_names=["Y"],
                dynamic_shapes=tuple(shapes), verbose=False, optimize=True,
            )
    finally:
        exporter_log.setLevel(level)
