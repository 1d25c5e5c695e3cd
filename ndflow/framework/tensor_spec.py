"""`tf.TensorSpec`: the dtype and (partial) shape a tensor argument must have."""

from ndflow.framework import dtypes
from ndflow.framework.tensor_shape import TensorShape, as_shape


class TensorSpec:
    """Describes a tensor by shape and dtype (`tf.TensorSpec`); None dims match any size."""

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self._shape = as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    @classmethod
    def from_spec(cls, spec, name=None):
        return cls(spec.shape, spec.dtype, name or spec.name)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    def is_compatible_with(self, other):
        """True if `other` (a spec or tensor) has this dtype and a compatible shape."""
        return (self._dtype is dtypes.as_dtype(other.dtype)
                and self._shape.is_compatible_with(other.shape))

    def most_specific_compatible_type(self, other):
        if self._dtype is not other.dtype:
            raise ValueError(f"No TensorSpec is compatible with both {self} and {other}")
        return TensorSpec(self._shape.most_specific_compatible_shape(other.shape), self._dtype)

    def _key(self):
        return (self._shape.as_tuple(), self._dtype.name)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self._key() == other._key()
                and self._name == other._name)

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"


def shape_of_spec(spec):
    return spec.shape if isinstance(spec.shape, TensorShape) else as_shape(spec.shape)
