"""Ops that rearrange elements: concat, stack/unstack, split, transpose, tile, pad, reverse,
roll, squeeze/expand_dims, and friends."""

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops

ANY = dtypes.ANY


def _axis_in_range(op_name, axis, rank):
    if not -rank <= axis < rank:
        raise errors.InvalidArgumentError(
            f"{op_name}: axis {axis} is out of range for tensors of rank {rank}; expected "
            f"[-{rank}, {rank})")
    return axis % rank


@primitive("ConcatV2", dtypes=ANY)
class ConcatV2:
    def infer(*values, axis):
        ranks = {v.rank for v in values if v.rank is not None}
        if len(ranks) > 1:
            raise errors.InvalidArgumentError(
                f"ConcatV2: all inputs must have the same rank, got shapes "
                f"{[v.shape for v in values]}")
        if not ranks:
            return Spec(None, values[0].dtype)
        rank = ranks.pop()
        axis = _axis_in_range("ConcatV2", axis, rank)
        shape = []
        for dim in range(rank):
            sizes = [v.shape[dim] if v.shape is not None else None for v in values]
            if dim == axis:
                shape.append(None if None in sizes else sum(sizes))
                continue
            known = {s for s in sizes if s is not None}
            if len(known) > 1:
                raise errors.InvalidArgumentError(
                    f"ConcatV2: dimension {dim} of the inputs must match outside the concat "
                    f"axis {axis}, got shapes {[list(v.shape) for v in values]}")
            shape.append(known.pop() if known else None)
        return Spec(shape, values[0].dtype)

    def kernel(xp, *values, axis):
        return xp.concatenate(values, axis=axis)

    def grad(op, dy):
        axis = op.get_attr("axis")
        sizes = [v.shape[axis] for v in op.inputs]
        return split(dy, sizes, axis=axis)


def concat(values, axis, name=None):
    """Concatenates tensors along `axis` (`tf.concat`)."""
    values = list(values)
    if len(values) == 1:
        return array_ops.identity(values[0], name=name)
    return execute("ConcatV2", *values, axis=int(axis), name=name)


@primitive("SplitV", dtypes=ANY, num_outputs=None)
class SplitV:
    def infer(value, size_splits, axis):
        shape = value.shape
        if shape is None:
            return tuple(Spec(None, value.dtype) for _ in size_splits)
        axis = _axis_in_range("SplitV", axis, len(shape))
        if shape[axis] is not None and sum(size_splits) != shape[axis]:
            raise errors.InvalidArgumentError(
                f"SplitV: sizes {list(size_splits)} must sum to dimension {axis} of the input "
                f"(shape {list(shape)})")
        return tuple(Spec(shape[:axis] + (s,) + shape[axis + 1:], value.dtype)
                     for s in size_splits)

    def kernel(xp, value, size_splits, axis):
        offsets = []
        total = 0
        for s in size_splits[:-1]:
            total += s
            offsets.append(total)
        return tuple(xp.split(value, offsets, axis=axis))

    def grad(op, *dys):
        return [concat(list(dys), op.get_attr("axis"))]


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    """Splits a tensor into equal parts or parts of given sizes along `axis` (`tf.split`)."""
    value = convert_to_tensor(value)
    axis = int(axis)
    dim = value.shape[axis]
    if isinstance(num_or_size_splits, int):
        if dim is None or dim % num_or_size_splits:
            raise errors.InvalidArgumentError(
                f"Split: dimension {axis} of shape {value.shape} is not divisible into "
                f"{num_or_size_splits} parts")
        sizes = [dim // num_or_size_splits] * num_or_size_splits
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if -1 in sizes and dim is not None:
            sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
    return list(execute("SplitV", value, size_splits=tuple(sizes), axis=axis, name=name))


@primitive("Pack", dtypes=ANY)
class Pack:
    def infer(*values, axis):
        shapes = [v.shape for v in values if v.shape is not None]
        base = shapes[0] if shapes else None
        for s in shapes:
            if len(s) != len(base) or any(a is not None and b is not None and a != b
                                          for a, b in zip(s, base)):
                raise errors.InvalidArgumentError(
                    f"Pack: shapes of all inputs must match, got {[v.shape for v in values]}")
        if base is None:
            return Spec(None, values[0].dtype)
        axis = _axis_in_range("Pack", axis, len(base) + 1)
        return Spec(base[:axis] + (len(values),) + base[axis:], values[0].dtype)

    def kernel(xp, *values, axis):
        return xp.stack(values, axis=axis)

    def grad(op, dy):
        return unstack(dy, axis=op.get_attr("axis"))


def stack(values, axis=0, name="stack"):
    """Stacks tensors of one shape into a tensor of rank + 1 (`tf.stack`)."""
    return execute("Pack", *values, axis=int(axis), name=name)


@primitive("Unpack", dtypes=ANY, num_outputs=None)
class Unpack:
    def infer(value, axis):
        if value.shape is None:
            raise ValueError("Unpack: cannot unstack a tensor of unknown rank")
        axis = _axis_in_range("Unpack", axis, len(value.shape))
        count = value.shape[axis]
        if count is None:
            raise ValueError(f"Unpack: cannot infer num from shape {value.shape}")
        rest = value.shape[:axis] + value.shape[axis + 1:]
        return tuple(Spec(rest, value.dtype) for _ in range(count))

    def kernel(xp, value, axis):
        moved = xp.moveaxis(value, axis, 0)
        return tuple(moved[i] for i in range(moved.shape[0]))

    def grad(op, *dys):
        return [stack(list(dys), axis=op.get_attr("axis"))]


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits a tensor along `axis` into a list of tensors of rank - 1 (`tf.unstack`)."""
    value = convert_to_tensor(value)
    if value.shape.rank is not None:
        axis = _axis_in_range("Unpack", int(axis), value.shape.rank)
    return list(execute("Unpack", value, axis=axis, name=name))

API = {
    "": ["concat", "split", "stack", "unstack"],
}
