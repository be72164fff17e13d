"""Saving and loading fitted estimators without pickle.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_
file: the network's weights and every fitted array as tensors, and
everything else (the class name, its parameters, fitted scalars, the
library version, a checksum) as JSON in the file's metadata. Loading parses
JSON and copies tensors: nothing in the file is ever executed, unlike a
pickle, so a model from an untrusted source cannot run code on load.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["load", "save"]

_FORMAT = "sklearn_ae.model"
_FORMAT_VERSION = 1
_METADATA_KEY = "sklearn_ae"

def _safetensors():
    try:
        import safetensors
        import safetensors.torch
    except ImportError as exc:
        raise ImportError(
            "save() and load() need safetensors: pip install 'sklearn_ae[persist]'."
        ) from exc
    return safetensors


def _version():
    from . import __version__

    return __version__


def _class_name(value):
    return f"{type(value).__module__.split('._')[0]}.{type(value).__qualname__}"


class _Encoder:
    """Turns fitted state into JSON-able values and named tensors.

    ``nested``: the names of the fitted scikit-learn estimators the model's
    class declares it may hold (``_nested_estimators``), saved by their
    parameters and attributes.
    """

    def __init__(self, nested=()):
        self.tensors = {}
        self.nested = set(nested)

    def tensor(self, key, value):
        # A copy: safetensors refuses tensors that share memory.
        self.tensors[key] = value.detach().to("cpu").clone().contiguous()
        return key

    def __call__(self, value, key):
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        for kind, encode in self._ENCODERS:
            if isinstance(value, kind):
                return encode(self, value, key)
        if _class_name(value) in self.nested:
            return self._estimator(value, key)
        raise TypeError(f"cannot save an attribute {key!r} of type {type(value).__name__}")

    def _ndarray(self, value, key):
        if value.dtype.kind in "biuf":
            array = np.ascontiguousarray(value)
            return {"__ndarray__": self.tensor(key, torch.from_numpy(array.copy())),
                    "dtype": array.dtype.str}
        if value.dtype.kind in "USO":  # labels, feature names
            return {"__ndarray_list__": [self(v, f"{key}.{i}")
                                         for i, v in enumerate(value.tolist())],
                    "dtype": value.dtype.str if value.dtype.kind != "O" else "O",
                    "shape": list(value.shape)}
        raise TypeError(f"cannot save an attribute {key!r} of dtype {value.dtype}")

    def _module(self, value, key):
        for name, tensor in value.state_dict().items():
            self.tensor(f"{key}/{name}", tensor)
        return {"__module__": key}

    def _estimator(self, value, key):
        params = {k: self(v, f"{key}.params.{k}") for k, v in value.get_params().items()}
        state = {k: self(v, f"{key}.{k}") for k, v in vars(value).items() if k not in params}
        return {"__estimator__": _class_name(value), "params": params, "state": state}

    _ENCODERS = (
        (np.generic, lambda self, v, key: v.item()),
        (torch.device, lambda self, v, key: {"__device__": str(v)}),
        (torch.Tensor, lambda self, v, key: {"__tensor__": self.tensor(key, v)}),
        (np.ndarray, _ndarray),
        (tuple, lambda self, v, key: {"__tuple__": [self(x, f"{key}.{i}")
                                                    for i, x in enumerate(v)]}),
        (list, lambda self, v, key: [self(x, f"{key}.{i}") for i, x in enumerate(v)]),
        (dict, lambda self, v, key: {"__items__": [[self(k, f"{key}.k{i}"), self(x, f"{key}.{i}")]
                                                   for i, (k, x) in enumerate(v.items())]}),
        # Consumed during the fit; a loaded model never draws from it.
        (np.random.RandomState, lambda self, v, key: None),
        (torch.nn.Module, _module),
    )


class _Decoder:
    """The inverse of :class:`_Encoder`: each tagged value by its tag."""

    def __init__(self, tensors, nested=()):
        self.tensors = tensors
        self.nested = set(nested)
        self.used = set()  # the tensors' names the document refers to

    def tensor(self, key):
        if key not in self.tensors:
            raise ValueError(f"the document names a tensor {key!r} the file lacks")
        self.used.add(key)
        return self.tensors[key]

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        for tag, decode in self._DECODERS.items():
            if tag in value:
                return decode(self, value)
        raise ValueError(f"the file holds a value this version cannot read: {sorted(value)}")

    def _ndarray_list(self, value):
        items = [self(v) for v in value["__ndarray_list__"]]
        array = np.empty(len(items), dtype=object)
        array[:] = items
        if value["dtype"] != "O":
            array = array.astype(np.dtype(value["dtype"]))
        return array.reshape(value["shape"])

    def _module(self, value):
        prefix = value["__module__"] + "/"
        weights = {k[len(prefix):]: self.tensor(k) for k in self.tensors if k.startswith(prefix)}
        return _PendingModule(weights)

    def _estimator(self, value):
        name = value["__estimator__"]
        if name not in self.nested:
            raise ValueError(f"the file names an unknown estimator {name!r}")
        module, _, qualname = name.rpartition(".")
        estimator = getattr(importlib.import_module(module), qualname)(
            **{k: self(v) for k, v in value["params"].items()})
        for k, v in value["state"].items():
            setattr(estimator, k, self(v))
        return estimator

    _DECODERS = {
        "__device__": lambda self, v: torch.device(v["__device__"]),
        "__tensor__": lambda self, v: self.tensor(v["__tensor__"]),
        "__ndarray__": lambda self, v: self.tensor(v["__ndarray__"]).numpy().astype(
            np.dtype(v["dtype"]), copy=False),
        "__ndarray_list__": _ndarray_list,
        "__tuple__": lambda self, v: tuple(self(x) for x in v["__tuple__"]),
        "__items__": lambda self, v: {_hashable(self(k)): self(x) for k, x in v["__items__"]},
        "__module__": _module,
        "__estimator__": _estimator,
    }


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


class _PendingModule:
    """A module's weights, built into the module once the estimator is restored."""

    def __init__(self, state_dict):
        self.state_dict = state_dict


def _checksum(tensors, header):
    digest = hashlib.sha256(header.encode())
    for key in sorted(tensors):
        tensor = tensors[key]
        digest.update(key.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes()
                      if tensor.numel() else b"")
    return digest.hexdigest()


def save(estimator, path, *, include_optimizer=None):
    """Save a fitted estimator to a safetensors file, without pickle.

    Parameters
    ----------
    estimator : BaseAutoencoder
        A fitted estimator of this library.
    path : str or os.PathLike
        File to write (conventionally ``*.safetensors``); overwritten.
    include_optimizer : bool or None, default=None
        Also save the optimiser's state (Adam's moments, about twice the
        weights' size), which a later ``warm_start`` fit continues from.
        None: only when the estimator has ``warm_start=True``. Without it,
        a warm start after :func:`load` starts Adam afresh.

    Returns
    -------
    path : str
        The path written.

    See Also
    --------
    load : Read the file back.
    """
    save_file = _safetensors().torch.save_file

    from .utils import all_estimators

    if type(estimator) not in dict(all_estimators()).values():
        raise TypeError(
            f"save() takes an estimator of sklearn_ae, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if include_optimizer is None:
        include_optimizer = bool(estimator.warm_start)
    encode = _Encoder(type(estimator)._nested_estimators)
    params = estimator.get_params(deep=False)
    skip = set(params) | set(estimator._transient_attributes)
    if not include_optimizer:
        skip.add("_optimizer_state")
    document = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "sklearn_ae_version": _version(),
        "class": type(estimator).__name__,
        "params": {k: encode(v, f"params.{k}") for k, v in params.items()},
        "state": {k: encode(v, k) for k, v in vars(estimator).items() if k not in skip},
    }
    header = json.dumps(document, sort_keys=True)
    metadata = {_METADATA_KEY: header, "checksum": _checksum(encode.tensors, header)}
    path = os.fspath(path)
    save_file(encode.tensors, path, metadata=metadata)
    return path


def load(path, *, device=None):
    """Load an estimator saved with :func:`save`; no code from the file runs.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.
    device : str or None, default=None
        Where to put the network: None keeps the device it was fitted on when
        this machine has it, else the CPU (a GPU-fitted model loads on a
        machine without one); or ``"cpu"``, ``"cuda"``, ``"cuda:N"``.

    Returns
    -------
    estimator : BaseAutoencoder
        The fitted estimator, giving the same outputs as the one saved.

    Raises
    ------
    ValueError
        If the file is not a model file of this library, was truncated or
        modified after it was written, or names an unknown estimator.

    See Also
    --------
    save : Write a fitted estimator.
    """
    from .utils import all_estimators

    path = os.fspath(path)
    document, tensors = _read_document(path)
    classes = dict(all_estimators())
    if document["class"] not in classes:
        raise ValueError(f"{path!r} names an unknown estimator {document['class']!r}.")
    return _restore(classes[document["class"]], document, tensors, device)


def _read_document(path):
    """The JSON document and the tensors of a model file, checked."""
    safetensors = _safetensors()
    try:
        with safetensors.safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (safetensors.SafetensorError, OSError, ValueError, RuntimeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(
            f"{path!r} is not a readable model file (truncated or not safetensors): {exc}"
        ) from exc
    header = metadata.get(_METADATA_KEY)
    if header is None:
        raise ValueError(f"{path!r} is a safetensors file but not one written by sklearn_ae.save.")
    if metadata.get("checksum") != _checksum(tensors, header):
        raise ValueError(
            f"{path!r} does not match the checksum written with it: the file was "
            "modified or damaged after it was saved."
        )
    try:
        document = json.loads(header)
    except ValueError as exc:
        raise ValueError(f"{path!r} holds a model description that is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not all(
            isinstance(document.get(k), kind) for k, kind in _DOCUMENT_FIELDS.items()):
        raise ValueError(
            f"{path!r} is not a valid model file: its description must be a JSON object "
            f"with {', '.join(f'{k} ({kind.__name__})' for k, kind in _DOCUMENT_FIELDS.items())}.")
    _check_format(path, document)
    return document, tensors


# The fields of a model file's description, and their JSON types.
_DOCUMENT_FIELDS = {"format": str, "format_version": int, "sklearn_ae_version": str,
                    "class": str, "params": dict, "state": dict}

# Fitted attributes every model has; the network and the arrays are checked
# against n_features_in_.
_REQUIRED_STATE = ("module_", "n_features_in_", "n_components_", "mean_", "scale_", "offset_",
                   "device_")


def _check_format(path, document):
    if document.get("format") != _FORMAT or document.get("format_version", 0) > _FORMAT_VERSION:
        raise ValueError(
            f"{path!r} holds format {document.get('format')!r} version "
            f"{document.get('format_version')!r}; this sklearn_ae reads {_FORMAT!r} up to "
            f"version {_FORMAT_VERSION}."
        )
    if document["sklearn_ae_version"] != _version():
        warnings.warn(
            f"{path!r} was saved by sklearn_ae {document['sklearn_ae_version']} and is "
            f"loaded by {_version()}; check its outputs.",
            UserWarning,
            stacklevel=4,
        )


def _restore(cls, document, tensors, device):
    """An estimator of class ``cls`` from a checked document and its tensors."""
    from ._device import resolve_device, usable_or_cpu

    decode = _Decoder(tensors, cls._nested_estimators)
    try:
        estimator = cls(**{k: decode(v) for k, v in document["params"].items()})
        estimator._validate_params()
        state = {name: decode(value) for name, value in document["state"].items()}
        _check_state(cls, state, set(tensors) - decode.used)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"the file is not a valid {cls.__name__} model: {exc}") from exc
    pending = {k: v for k, v in state.items() if isinstance(v, _PendingModule)}
    for name, value in state.items():
        if name not in pending:
            setattr(estimator, name, value)
    target = usable_or_cpu(estimator.device_) if device is None else resolve_device(device)
    for name, value in pending.items():
        setattr(estimator, name, _rebuild_module(estimator, value).to(target))
    estimator.device_ = target
    return estimator


def _check_state(cls, state, unused):
    """Refuse fitted state that is not what ``cls`` fits: one clear error."""
    missing = [k for k in _REQUIRED_STATE if k not in state]
    if missing:
        raise ValueError(f"fitted attributes {missing} are missing")
    shadowing = [k for k in state if not k.isidentifier() or hasattr(cls, k)]
    if shadowing:
        raise ValueError(f"state keys {shadowing} are not fitted attributes of {cls.__name__}")
    _check_shapes(state)
    if unused:
        raise ValueError(f"tensors {sorted(unused)[:5]} belong to no fitted attribute")


def _check_shapes(state):
    """The attributes every model has are of their kinds and sizes."""
    n_features = state["n_features_in_"]
    if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
        raise ValueError(f"n_features_in_ must be a positive int, got {n_features!r}")
    width = _encoded_width(state, n_features)
    for name in ("mean_", "scale_"):
        value = state[name]
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"
                and value.shape == (width,) and np.all(np.isfinite(value))):
            raise ValueError(f"{name} must be {width} finite floats, got {value!r:.80}")
    if not (isinstance(state["offset_"], (int, float)) and np.isfinite(state["offset_"])):
        raise ValueError(f"offset_ must be a finite number, got {state['offset_']!r}")
    if not isinstance(state["module_"], _PendingModule):
        raise ValueError("module_ must be the network's weights")


def _encoded_width(state, n_features):
    """Features the network takes: ``n_features``, or one per category where there are some."""
    from ._categorical import n_inputs

    categories = state.get("categories_")
    if categories is None:
        return n_features
    if not (isinstance(categories, list) and len(categories) == n_features
            and all(c is None or (isinstance(c, np.ndarray) and c.ndim == 1 and len(c))
                    for c in categories)
            and isinstance(state.get("_category_dtypes"), list)
            and len(state["_category_dtypes"]) == n_features):
        raise ValueError("categories_ must hold, per input column, None or its categories")
    return n_inputs(n_features, categories)


def _rebuild_module(estimator, weights):
    """The estimator's network, built afresh and loaded with ``weights`` (all finite)."""
    from ._device import forked_rng

    bad = [k for k, t in weights.state_dict.items()
           if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ValueError(f"the file is not a valid model: weights {bad[:5]} are not finite")
    with forked_rng(0):
        module = estimator._build_module(_encoded_width(vars(estimator), estimator.n_features_in_))
    try:
        module.load_state_dict(weights.state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(
            f"the file is not a valid {type(estimator).__name__} model: its weights do not "
            f"fit the network its parameters build ({' '.join(first[:3])})") from exc
    return module
