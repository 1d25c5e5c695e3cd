"""A minimal `SparseTensor` (indices, values, dense_shape), as `parse_example` returns for
`VarLenFeature`. It holds three tensors and converts to a dense NumPy value on request."""

import numpy as np

from ndflow.framework.tensor import convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape


class SparseTensor:
    """A sparse tensor: `values[i]` sits at `indices[i]` of a tensor of `dense_shape`."""

    def __init__(self, indices, values, dense_shape):
        self.indices = convert_to_tensor(indices) if not hasattr(indices, "dtype") else indices
        self.values = convert_to_tensor(values) if not hasattr(values, "dtype") else values
        self.dense_shape = (convert_to_tensor(dense_shape) if not hasattr(dense_shape, "dtype")
                            else dense_shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def shape(self):
        try:
            return TensorShape([int(d) for d in np.asarray(self.dense_shape)])
        except (TypeError, ValueError):
            return TensorShape([None] * (self.indices.shape[-1] or 0))

    def to_dense(self, default_value=None):
        """The dense NumPy array (eager only)."""
        values = np.asarray(self.values)
        shape = tuple(int(d) for d in np.asarray(self.dense_shape))
        fill = default_value if default_value is not None else (
            b"" if values.dtype == object else 0)
        dense = np.full(shape, fill, dtype=values.dtype)
        dense[tuple(np.asarray(self.indices).T)] = values
        return dense

    def __repr__(self):
        return (f"SparseTensor(indices={self.indices}, values={self.values}, "
                f"dense_shape={self.dense_shape})")
