"""`keras.Sequential`: a linear stack of layers.

When the input shape is known (an `Input`, or `input_shape=` on the first layer), the stack is
built as a functional graph right away; otherwise it is built on the first call with data.
"""

from ndflow.framework.tensor_shape import TensorShape
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.functional import Functional
from ndflow.keras.engine.input_layer import Input, InputLayer
from ndflow.keras.engine.keras_tensor import KerasTensor
from ndflow.keras.engine.training import Model


class Sequential(Functional):
    """Groups a linear stack of layers into a Model (`keras.Sequential`)."""

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._stack = []
        self._input_tensor = None
        self._graph_built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Appends a layer (or an `Input` tensor) to the stack."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: "
                            f"layer={layer!r} of type {type(layer)}.")
        if isinstance(layer, InputLayer):
            if self._stack and not isinstance(self._stack[0], InputLayer):
                raise ValueError("Sequential: an InputLayer can only be the first layer.")
            self._input_tensor = layer._input_tensor
        elif not self._stack and layer._batch_input_shape is not None:
            self._stack.append(InputLayer(batch_shape=layer._batch_input_shape,
                                          dtype=getattr(layer, "_input_dtype_hint", None)))
            self._input_tensor = self._stack[0]._input_tensor
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f'All layers added to a Sequential model should have unique names. '
                             f'Name "{layer.name}" is already the name of a layer in this model.'
                             f' Update the `name` argument to pass a unique name.')
        self._stack.append(layer)
        object.__setattr__(self, "_tracking", False)
        self._layers = [l for l in self._stack if not isinstance(l, InputLayer)]
        object.__setattr__(self, "_tracking", True)
        self._graph_built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes the last layer."""
        layers = self.layers
        if not layers:
            raise TypeError("There are no layers in the model.")
        removed = self._stack.pop()
        object.__setattr__(self, "_tracking", False)
        self._layers = [l for l in self._stack if not isinstance(l, InputLayer)]
        object.__setattr__(self, "_tracking", True)
        self._graph_built = False
        if rebuild:
            self._maybe_rebuild()
        return removed

    @property
    def layers(self):
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def _maybe_rebuild(self):
        if self._input_tensor is not None and len(self._stack) > 1:
            self._build_graph(self._input_tensor)

    def _build_graph(self, inputs):
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs)
        self._init_graph(inputs, outputs)
        object.__setattr__(self, "_tracking", False)
        self._layers = self.layers
        object.__setattr__(self, "_tracking", True)
        self._graph_built = True

    def build(self, input_shape=None):
        """Builds the stack for inputs of `input_shape` (batch dimension included)."""
        if self._graph_built:
            return
        if input_shape is None:
            if self._input_tensor is None:
                raise ValueError("You must provide an `input_shape` argument.")
            self._build_graph(self._input_tensor)
            return
        shape = tuple(TensorShape(input_shape).as_list())
        inputs = Input(batch_shape=(None,) + shape[1:], dtype=getattr(self, "_build_dtype",
                                                                      None))
        self._input_tensor = inputs
        self._stack.insert(0, inputs._keras_history[0])
        self._build_graph(inputs)

    def call(self, inputs, training=None, mask=None):
        if not self._graph_built:
            if isinstance(inputs, KerasTensor) or not hasattr(inputs, "shape"):
                outputs = inputs
                for layer in self.layers:
                    kwargs = {"training": training} if layer._call_has_training else {}
                    outputs = layer(outputs, **kwargs)
                return outputs
            self._build_dtype = inputs.dtype if inputs.dtype.is_floating else None
            self.build(inputs.shape)
        return Functional.call(self, inputs, training=training, mask=mask)

    @property
    def inputs(self):
        return [self._input_tensor] if self._input_tensor is not None else []

    @property
    def outputs(self):
        return list(self._outputs) if self._graph_built else []

    def get_config(self):
        """Keras 3's layout: every layer (InputLayer first) and `build_input_shape`."""
        from ndflow.keras.saving import functional_config

        return functional_config.sequential_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ndflow.keras.saving import functional_config

        return functional_config.sequential_from_config(cls, config, custom_objects)
