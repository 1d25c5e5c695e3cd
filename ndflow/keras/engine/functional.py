"""Functional models: a graph of layer calls from `keras.Input`s to outputs.

`Model(inputs, outputs)` walks the nodes recorded when layers were called on KerasTensors,
orders them, and runs them in that order on real tensors when the model is called.
"""

from ndflow.framework import context
from ndflow.framework.tensor import EagerTensor, Tensor
from ndflow.keras.engine.input_layer import InputLayer
from ndflow.keras.engine.keras_tensor import KerasTensor
from ndflow.keras.engine.training import Model
from ndflow.util import nest


def _ordered_nodes(outputs):
    """Nodes needed for `outputs`, dependencies first."""
    ordered = []
    visited = set()

    def visit(node, stack):
        if id(node) in visited:
            return
        if id(node) in stack:
            raise ValueError(f"The functional graph has a cycle through layer "
                             f"{node.layer.name}")
        stack.add(id(node))
        for parent in node.parent_nodes:
            visit(parent, stack)
        stack.discard(id(node))
        visited.add(id(node))
        ordered.append(node)

    for tensor in nest.flatten(outputs):
        if not isinstance(tensor, KerasTensor) or tensor._keras_history is None:
            raise ValueError(f"Output tensors of a functional Model must be the output of a "
                             f"Keras layer, got {tensor!r}")
        layer, index, _ = tensor._keras_history
        visit(layer._inbound_nodes[index], set())
    return ordered


def _single_tensor_call(node):
    """The node's single output KerasTensor when it was `layer(keras_tensor)` with no other
    arguments; else None."""
    if (len(node.call_args) == 1 and not node.call_kwargs
            and isinstance(node.call_args[0], KerasTensor)
            and isinstance(node.outputs, KerasTensor)):
        return node.outputs
    return None


def _plan_step(node):
    """How `call` runs a node: (layer, input key, output key, takes training) for the usual
    one-tensor-in, one-out node, with the node itself last only when it needs the general path."""
    simple = _single_tensor_call(node)
    if simple is None:
        return node.layer, None, None, node.layer._call_has_training, node
    return node.layer, id(node.call_args[0]), id(simple), node.layer._call_has_training, None


class Functional(Model):
    """A model defined by calling layers on `keras.Input` tensors."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        if isinstance(inputs, dict):
            self._input_structure = dict(inputs)
        else:
            self._input_structure = inputs
        self._output_structure = outputs
        self._inputs = [t for t in nest.flatten(inputs)]
        self._outputs = [t for t in nest.flatten(outputs)]
        for tensor in self._inputs:
            if not isinstance(tensor, KerasTensor) or tensor._keras_history is None or not \
                    isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(f"Model inputs must come from `keras.Input`, got {tensor!r}")
        self._nodes = _ordered_nodes(outputs)
        self._plan = [_plan_step(node) for node in self._nodes if not node.is_input]
        input_ids = {id(t) for t in self._inputs}
        for node in self._nodes:
            for tensor in node.input_tensors:
                if tensor._keras_history[0]._inbound_nodes[tensor._keras_history[1]].is_input \
                        and id(tensor) not in input_ids:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor {tensor.name} at "
                        f"layer '{node.layer.name}'. It is not one of the model's inputs "
                        f"{[t.name for t in self._inputs]}.")
        layers = []
        for node in self._nodes:
            if all(node.layer is not layer for layer in layers):
                layers.append(node.layer)
        object.__setattr__(self, "_tracking", False)
        self._layers = layers
        object.__setattr__(self, "_tracking", True)
        self._self_layers = layers
        self.built = True

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._input_structure if nest.is_nested(self._input_structure) else \
            self._inputs[0]

    @property
    def output(self):
        return self._output_structure

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self._outputs]

    def call(self, inputs, training=None, mask=None):
        if not training and mask is None and type(inputs) is EagerTensor and \
                context.state.graph is None and not context.state.tapes:
            traced = self._traced_inference()
            if traced is not None:
                return traced(inputs)
        values = {}
        flat = self._flatten_inputs(inputs)
        for keras_input, value in zip(self._inputs, flat):
            if not isinstance(value, Tensor):
                from ndflow.framework.tensor import convert_to_tensor

                value = convert_to_tensor(value, dtype=keras_input.dtype
                                          if keras_input.dtype.is_floating else None)
            values[id(keras_input)] = value
        for layer, source, target, takes_training, node in self._plan:
            if node is None:
                # The usual node: one KerasTensor in, one out (no structure walks).
                if training is None or not takes_training:
                    values[target] = layer(values[source])
                else:
                    values[target] = layer(values[source], training=training)
                continue

            def fetch(item):
                return values[id(item)] if isinstance(item, KerasTensor) else item

            args = nest.map_structure(fetch, list(node.call_args))
            kwargs = nest.map_structure(fetch, dict(node.call_kwargs))
            if training is not None and takes_training and kwargs.get("training") is None:
                kwargs["training"] = training
            outputs = layer(*args, **kwargs)
            for tensor, value in zip(node.output_tensors, nest.flatten(outputs)):
                values[id(tensor)] = value
        return nest.pack_sequence_as(self._output_structure,
                                     [values[id(t)] for t in self._outputs])

    def _traced_inference(self):
        """An eager inference call of a model built only from stateless built-in layers runs
        as a traced function (one compiled plan, with its fusions) instead of layer by layer:
        the same numbers, ~2x less time for a small CNN on one sample. None when the model
        has a layer whose call could have Python side effects (a custom or stateful layer), or
        when it is being recorded for gradients."""
        cached = getattr(self, "_inference_function", None)
        if cached is not None and cached[0] is self._plan:
            return cached[1]
        function = None
        if len(self._inputs) == 1 and len(self._outputs) == 1 and all(
                type(layer) in _traceable_layers() and
                getattr(layer, "_activity_regularizer", None) is None
                for layer, *_ in self._plan):
            from ndflow.function.polymorphic import function as tf_function  # noqa: PLC0415

            function = tf_function(
                lambda x: Functional.call(self, x, training=False), reduce_retracing=True)
        self._inference_function = (self._plan, function)
        return function

    def _flatten_inputs(self, inputs):
        if isinstance(self._input_structure, dict) and isinstance(inputs, dict):
            return [inputs[name] for name in sorted(self._input_structure)]
        if isinstance(inputs, dict):
            by_name = {t._keras_history[0].name: i for i, t in enumerate(self._inputs)}
            flat = [None] * len(self._inputs)
            for key, value in inputs.items():
                if key not in by_name:
                    raise ValueError(f"Model {self.name}: unknown input name '{key}'; inputs "
                                     f"are {sorted(by_name)}")
                flat[by_name[key]] = value
            return flat
        flat = nest.flatten(inputs) if nest.is_nested(inputs) else [inputs]
        if len(flat) != len(self._inputs):
            raise ValueError(f"Model {self.name} expects {len(self._inputs)} input(s), but it "
                             f"received {len(flat)} input tensors.")
        return flat

    def compute_output_shape(self, input_shape):
        return nest.map_structure(lambda t: tuple(t.shape.as_list()), self._output_structure)

    def get_layer(self, name=None, index=None):
        return Model.get_layer(self, name, index)

    def get_config(self):
        """The Keras 3 config: layers with their inbound nodes, input and output layers."""
        from ndflow.keras.saving import functional_config

        return functional_config.functional_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A model rebuilt from `get_config()` (Keras 3 or Keras 2 layout)."""
        from ndflow.keras.saving import functional_config

        return functional_config.functional_from_config(cls, config, custom_objects)


_TRACEABLE = []


def _traceable_layers():
    """Built-in layers whose inference call is a pure function of inputs and weights."""
    if not _TRACEABLE:
        from ndflow.keras import layers  # noqa: PLC0415

        names = ("Dense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "MaxPooling1D",
                 "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                 "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
                 "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten", "Reshape", "Dropout",
                 "Activation", "ReLU", "Softmax", "BatchNormalization", "LayerNormalization",
                 "Add", "Concatenate")
        _TRACEABLE.append(frozenset(getattr(layers, name) for name in names
                                    if hasattr(layers, name)))
    return _TRACEABLE[0]
