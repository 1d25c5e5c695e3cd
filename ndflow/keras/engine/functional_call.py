"""Calling layers on symbolic KerasTensors: shape inference by tracing `call` on graph
placeholders, node recording, and `OpLayer` for raw ndflow ops applied to KerasTensors."""

import itertools

from ndflow.framework import context
from ndflow.framework.graph import SymbolicTensor, placeholder
from ndflow.framework.tensor import Tensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.function.func_graph import FuncGraph
from ndflow.keras.engine.keras_tensor import KerasTensor
from ndflow.keras.engine.node import Node
from ndflow.util import nest

_names = itertools.count()


def _shape_of(value):
    return TensorShape(value.shape) if isinstance(value, (Tensor, KerasTensor)) else None


def build_if_needed(layer, args):
    if layer.built:
        return
    inputs = args[0]
    shapes = nest.map_structure(_shape_of, inputs)
    layer._build_with_shape(shapes)


def trace_outputs(layer, args, kwargs):
    """Runs `layer.__call__` on placeholders standing for the KerasTensors; returns the symbolic
    outputs of that scratch graph."""
    graph = FuncGraph(f"{layer.name}_spec")
    saved_tapes = context.state.tapes
    context.state.tapes = ()
    try:
        with graph.as_default():
            def to_placeholder(value):
                if isinstance(value, KerasTensor):
                    ph = placeholder(graph, value.dtype, value.shape)
                    if value._keras_mask is not None:
                        ph._keras_mask = placeholder(graph, _bool(), value.shape[:-1]
                                                     if value.shape.rank else value.shape)
                    return ph
                return value

            traced_args = nest.map_structure(to_placeholder, list(args))
            traced_kwargs = nest.map_structure(to_placeholder, dict(kwargs))
            return layer(*traced_args, **traced_kwargs)
    finally:
        context.state.tapes = saved_tapes


def _bool():
    from ndflow.framework import dtypes  # noqa: PLC0415

    return dtypes.bool


def symbolic_call(layer, args, kwargs):
    """`layer(*args)` where some inputs are KerasTensors: records a Node and returns
    KerasTensors with the inferred shapes and dtypes."""
    build_if_needed(layer, args)
    outputs = trace_outputs(layer, args, kwargs)

    def to_keras(value):
        if isinstance(value, SymbolicTensor):
            tensor = KerasTensor(value.shape, value.dtype, name=f"keras_tensor_{next(_names)}")
            if getattr(value, "_keras_mask", None) is not None:
                tensor._keras_mask = True
            return tensor
        return value

    keras_outputs = nest.map_structure(to_keras, outputs)
    Node(layer, args, kwargs, keras_outputs)
    return keras_outputs


def output_spec(layer, args, kwargs):
    outputs = trace_outputs(layer, args, kwargs)
    return nest.map_structure(
        lambda t: KerasTensor(t.shape, t.dtype) if isinstance(t, SymbolicTensor) else t, outputs)


def output_shape_by_tracing(layer, input_shape):
    """`compute_output_shape` for any layer: trace `call` on a placeholder of that shape."""
    def make(shape):
        return KerasTensor(TensorShape(shape), layer.compute_dtype)

    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
            input_shape[0], (list, tuple, TensorShape)):
        inputs = [make(s) for s in input_shape]
    else:
        inputs = make(input_shape)
    build_if_needed(layer, (inputs,))
    outputs = trace_outputs(layer, (inputs,), {})
    return nest.map_structure(
        lambda t: tuple(t.shape.as_list()) if isinstance(t, SymbolicTensor) else t, outputs)


def _op_layer_handler(opdef, inputs, attrs, name):
    """execute() met KerasTensors outside any graph: record an OpLayer node."""
    from ndflow.keras.engine.op_layer import OpLayer  # noqa: PLC0415

    layer = OpLayer(opdef.name, list(inputs), attrs)
    keras_inputs = [t for t in inputs if isinstance(t, KerasTensor)]
    return layer(keras_inputs)


def install():
    from ndflow.framework import graph as graph_module  # noqa: PLC0415

    graph_module.set_symbolic_handler(KerasTensor, _op_layer_handler)


