"""KerasTensor: the symbolic tensor of the functional API (`keras.Input(...)`, layer outputs).

It carries a shape (batch dimension usually None), a dtype and `_keras_history` = (layer,
node_index, tensor_index). Any ndflow op applied to KerasTensors outside a graph becomes an
`OpLayer` node (TF's TFOpLambda), so `x + 1` or `tf.concat([a, b], 1)` work in functional
models.
"""

from ndflow.framework import dtypes
from ndflow.framework.tensor import Tensor
from ndflow.framework.tensor_shape import TensorShape, as_shape


class KerasTensor(Tensor):
    """A symbolic placeholder for the value a layer will produce."""

    __slots__ = ("_shape", "_dtype", "_keras_history", "_name", "_keras_mask", "sparse",
                 "ragged", "__weakref__")

    def __init__(self, shape, dtype=dtypes.float32, name=None, keras_history=None):
        self._shape = as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name
        self._keras_history = keras_history
        self._keras_mask = None
        self.sparse = False
        self.ragged = False

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return self._shape.rank

    @property
    def name(self):
        return self._name

    @property
    def node(self):
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def __hash__(self):
        return id(self)

    def __len__(self):
        raise TypeError(f"KerasTensor {self._name} of shape {self._shape} has no length until "
                        f"the model runs; use its .shape instead")

    def __bool__(self):
        raise TypeError(
            f"A KerasTensor ({self._name}, shape {self._shape}) cannot be used as a Python bool: "
            f"it is a symbolic placeholder for a value computed when the model runs. Put "
            f"data-dependent logic inside a layer's call() method.")

    def __iter__(self):
        raise TypeError(f"Iterating over a symbolic KerasTensor ({self._name}, shape "
                        f"{self._shape}) is not supported; use tf.unstack inside a layer")

    def numpy(self):
        raise TypeError(f"KerasTensor {self._name} has no value: it is symbolic (part of a "
                        f"functional model definition). Call the model on data to get values.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"You are passing a symbolic KerasTensor ({self._name}, shape {self._shape}) to a "
            f"NumPy function; it has no value yet. Use ndflow ops, or a Lambda layer.")

    def __repr__(self):
        shape = tuple(self._shape.as_list()) if self._shape.rank is not None else None
        return f"<KerasTensor shape={shape}, dtype={self._dtype.name}, name={self._name}>"


def is_keras_tensor(value):
    return isinstance(value, KerasTensor)


def spec_shape(shape):
    return TensorShape(shape)
