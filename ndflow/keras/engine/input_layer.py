"""`keras.Input` and `InputLayer`: the entry points of functional and Sequential models."""

from ndflow.framework import dtypes
from ndflow.keras.engine import naming
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.keras_tensor import KerasTensor
from ndflow.keras.engine.node import Node


class InputLayer(Layer):
    """Holds the symbolic input tensor of a model."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, name=None, ragged=False, input_shape=None,
                 batch_input_shape=None, **kwargs):
        if input_shape is not None and shape is None:
            shape = input_shape
        if batch_input_shape is not None and batch_shape is None:
            batch_shape = batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: you must pass a `shape` argument.")
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name or naming.unique_name("input_layer"), dtype=None, **kwargs)
        self._batch_shape = tuple(batch_shape)
        self._input_dtype = dtypes.as_dtype(dtype or "float32")
        self.sparse = bool(sparse)
        self.built = True
        tensor = KerasTensor(self._batch_shape, self._input_dtype, name=self.name)
        Node(self, (), {}, tensor)
        self._input_tensor = tensor

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def dtype(self):
        return self._input_dtype

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self._batch_shape), "dtype": self._input_dtype.name,
                "sparse": self.sparse, "name": self.name}


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, batch_shape=None,  # noqa: N802
          tensor=None, ragged=None, optional=False):
    """A symbolic input of a functional model (`keras.Input`).

    >>> x = Input(shape=(784,))
    >>> x.shape.as_list()
    [None, 784]
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer._input_tensor
