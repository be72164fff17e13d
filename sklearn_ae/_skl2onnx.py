"""Converters for skl2onnx: whole pipelines with our estimators as one ONNX graph.

``skl2onnx`` converts scikit-learn's own steps (scalers, encoders, column
transformers); :func:`register_onnx_converters` teaches it ours, by placing
the graph :func:`~sklearn_ae.to_onnx` exports (standardisation, network,
score) inside the pipeline's graph. skl2onnx is imported only when the
converters are registered.
"""

from __future__ import annotations

__all__ = ["register_onnx_converters"]

# The opset our exported graphs use (torch's exporter): the pipeline's graph
# must target at least this one.
_OPSET = 20


def _alias(cls):
    return f"SklearnAe{cls.__name__}"


def _parse(scope, model, inputs, custom_parsers=None):
    """One operator with the codes as output, and the scores too when asked."""
    from skl2onnx.common.data_types import FloatTensorType

    operator = scope.declare_local_operator(_alias(type(model)), model)
    operator.inputs = inputs
    operator.outputs.append(scope.declare_local_variable("codes", FloatTensorType()))
    if scope.get_options(model, {"score_samples": False})["score_samples"]:
        operator.outputs.append(scope.declare_local_variable("scores", FloatTensorType()))
    return operator.outputs


def _shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, operator.raw_operator.n_components_])
    if len(operator.outputs) > 1:
        operator.outputs[1].type = FloatTensorType([rows])


def _embed(model, source, target, scope, container):
    """Copy an exported graph into the pipeline's: its input read from ``source``."""
    graph = model.graph
    prefix = scope.get_unique_operator_name("sklearn_ae") + "_"
    rename = {graph.input[0].name: source, graph.output[0].name: target}

    def name(value):
        return rename.get(value, prefix + value) if value else value

    for initializer in graph.initializer:
        copy = type(initializer)()
        copy.CopyFrom(initializer)
        copy.name = name(initializer.name)
        container.initializers.append(copy)
    for node in graph.node:
        copy = type(node)()
        copy.CopyFrom(node)
        copy.input[:] = [name(value) for value in node.input]
        copy.output[:] = [name(value) for value in node.output]
        copy.name = prefix + (node.name or node.op_type)
        container.nodes.append(copy)
    for opset in model.opset_import:
        container.node_domain_version_pair_sets.add((opset.domain, opset.version))


def _convert(scope, operator, container):
    from skl2onnx.common.data_types import FloatTensorType

    from ._export import to_onnx

    if container.target_opset_any_domain("") < _OPSET:
        raise RuntimeError(
            f"sklearn_ae's graphs need target_opset >= {_OPSET}; "
            f"got {container.target_opset_any_domain('')}.")
    estimator, source = operator.raw_operator, operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, FloatTensorType):
        # The exported network computes in float32.
        cast = scope.get_unique_variable_name("sklearn_ae_float32")
        container.add_node("Cast", [source], [cast], to=1, name=scope.get_unique_operator_name(
            "sklearn_ae_cast"))
        source = cast
    _embed(to_onnx(estimator, "transform"), source, operator.outputs[0].full_name, scope,
           container)
    if len(operator.outputs) > 1:
        _embed(to_onnx(estimator, "score_samples"), source, operator.outputs[1].full_name,
               scope, container)


def register_onnx_converters():
    """Teach skl2onnx to convert the estimators of sklearn_ae, also inside pipelines.

    After this call, ``skl2onnx.to_onnx`` converts a pipeline whose steps
    include our estimators (after scikit-learn's scalers, encoders and
    column transformers) into one ONNX graph. An estimator's output is its
    codes (``transform``); with the option ``score_samples=True``
    (``options={id(estimator): {"score_samples": True}}``) also its
    ``score_samples``, as a second output named ``scores``. The graph needs
    ``target_opset`` 20 or newer, computes in float32, and exports what
    :func:`~sklearn_ae.to_onnx` exports (not ``OutlierAutoencoder``'s
    isolation score, which it refuses).

    Returns
    -------
    registered : list of str
        The aliases registered, one per estimator class.

    Examples
    --------
    >>> import numpy as np, onnxruntime, skl2onnx
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_ae import Autoencoder, register_onnx_converters
    >>> _ = register_onnx_converters()
    >>> X = load_digits().data.astype(np.float32)
    >>> pipe = make_pipeline(StandardScaler(), Autoencoder(8, max_iter=3, random_state=0)).fit(X)
    >>> onx = skl2onnx.to_onnx(pipe, X[:1], options={id(pipe[-1]): {"score_samples": True}})
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString())
    >>> codes, scores = session.run(None, {"X": X[:5]})
    >>> bool(np.allclose(scores, pipe.score_samples(X[:5]), atol=1e-4))
    True
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:
        raise ImportError(
            "register_onnx_converters needs skl2onnx: pip install 'sklearn_ae[onnx]'.") from exc
    from .utils import all_estimators

    registered = []
    for _, cls in all_estimators():
        update_registered_converter(cls, _alias(cls), _shape, _convert, parser=_parse,
                                    options={"score_samples": [False, True]})
        registered.append(_alias(cls))
    return registered
