"""Reductions (`reduce_sum`, `reduce_mean`, ...), and the run-time form of `unbroadcast`."""

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor
from ndflow.ops import array as array_ops

NUM = dtypes.NUMERIC


def normalize_axis(axis, op_name):
    """`axis` argument (None, int, list, tensor) -> None or a tuple of ints."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        if not isinstance(axis, EagerTensor):
            raise TypeError(f"{op_name}: axis must be known when the graph is built")
        axis = axis._value
    array = np.asarray(axis)
    if array.dtype.kind not in "iu" and array.size:
        raise TypeError(f"{op_name}: axis must be integers, got {axis!r}")
    return tuple(int(a) for a in array.reshape(-1))


def reduced_shape(op_name, shape, axis, keepdims):
    """Static output shape of a reduction; validates the axes against the rank."""
    if shape is None:
        return None
    rank = len(shape)
    if axis is None:
        axes = set(range(rank))
    else:
        axes = set()
        for a in axis:
            if not -rank <= a < max(rank, 1):
                raise errors.InvalidArgumentError(
                    f"{op_name}: Invalid reduction dimension {a} for input with {rank} "
                    f"dimensions (shape {list(shape)})")
            axes.add(a % rank if rank else 0)
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _reduce_infer(name):
    def infer(x, axis, keepdims):
        return Spec(reduced_shape(name, x.shape, axis, keepdims), x.dtype)

    return infer


def _restore_reduced(dy, op):
    """Reshapes a reduction's upstream gradient so it broadcasts against the op's input."""
    x = op.inputs[0]
    axis = op.get_attr("axis")
    if op.get_attr("keepdims"):
        return dy
    if not x.shape.is_fully_defined():
        raise NotImplementedError  # replaced with a Shape-based path by the graph issue (#4)
    dims = x.shape.as_list()
    rank = len(dims)
    axes = range(rank) if axis is None else [a % rank for a in axis]
    kept = [1 if i in axes else d for i, d in enumerate(dims)]
    return array_ops.reshape(dy, kept)


@primitive("Sum", dtypes=NUM)
class Sum:
    infer = _reduce_infer("Sum")

    def kernel(xp, x, axis, keepdims):
        return xp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def grad(op, dy):
        x = op.inputs[0]
        return [array_ops.broadcast_to(_restore_reduced(dy, op), array_ops.shape_of(x))]


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum of elements across `axis` (all axes when None) (`tf.reduce_sum`)."""
    axis = normalize_axis(axis, "Sum")
    return execute("Sum", input_tensor, axis=axis, keepdims=bool(keepdims), name=name)


def unbroadcast_dynamic(dy, x):
    """`unbroadcast` for shapes known only at run time (graph mode with None dims)."""
    raise NotImplementedError("dynamic-shape unbroadcast arrives with graph mode (issue #4)")

API = {
    "": ["reduce_sum"],
    "math": ["reduce_sum"],
}
