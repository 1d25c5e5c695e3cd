"""OpLayer: an ndflow op applied to KerasTensors in a functional model (TF's TFOpLambda)."""

from ndflow.framework.op_registry import execute
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.keras_tensor import KerasTensor


class OpLayer(Layer):
    """Replays one op: `template` holds the op's inputs, with the KerasTensor positions
    filled from the layer's inputs at call time."""

    def __init__(self, op_type, template, attrs, name=None, **kwargs):
        super().__init__(name=name or f"tf.{op_type}", autocast=False, **kwargs)
        self.op_type = op_type
        self._template = [None if isinstance(t, KerasTensor) else t for t in template]
        self._positions = [i for i, t in enumerate(template) if isinstance(t, KerasTensor)]
        self._attrs = attrs
        self.built = True

    def call(self, inputs):
        values = list(self._template)
        for position, value in zip(self._positions, inputs):
            values[position] = value
        return execute(self.op_type, *values, **self._attrs)

    def get_config(self):
        config = super().get_config()
        config.update(op_type=self.op_type)
        return config
