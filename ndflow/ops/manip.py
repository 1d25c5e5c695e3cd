"""Ops that rearrange elements: concat, stack/unstack, split, transpose, squeeze/expand_dims,
tile, pad, reverse, roll, sort/argsort, unique and repeat.

Slicing and index-based ops (slice, strided_slice, gather, scatter, where, boolean_mask) live in
`indexing.py`; creation and reshaping in `array.py`.
"""

import collections

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.ops import array as array_ops

ANY = dtypes.ANY


def static_ints(value, op_name, what):
    """An int or int list argument (Python, NumPy or eager tensor) as a tuple of ints."""
    if isinstance(value, Tensor):
        if not isinstance(value, EagerTensor):
            raise TypeError(f"{op_name}: {what} must be known when the graph is built, got "
                            f"{value!r}")
        value = value._value
    array = np.asarray(value)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"{op_name}: {what} must be integers, got {value!r}")
    return tuple(int(v) for v in array.reshape(-1))


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
        if None not in sizes:
            return split(dy, sizes, axis=axis)
        return _concat_grad_dynamic(op, dy, axis)


def _concat_grad_dynamic(op, dy, axis):
    """ConcatV2's gradient when input sizes along `axis` are known only at run time."""
    from ndflow.ops import indexing  # noqa: PLC0415 - indexing imports manip

    rank = dy.shape.rank
    axis %= rank
    grads = []
    offset = array_ops.constant(0, dtypes.int32)
    for value in op.inputs:
        size = array_ops.shape(value)
        begin = stack([offset if i == axis else 0 for i in range(rank)])
        grads.append(indexing.slice(dy, begin, size))
        offset = offset + size[axis]
    return grads


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
    if value.shape.rank is not None:
        _axis_in_range("Split", axis, value.shape.rank)
    splits = static_ints(num_or_size_splits, "Split", "num_or_size_splits")
    if np.ndim(np.asarray(num_or_size_splits)) == 0:
        count = splits[0]
        if count <= 0 or dim is None or dim % count:
            raise errors.InvalidArgumentError(
                f"Split: the number of ways to split must evenly divide the split dimension, "
                f"got dimension {axis} of shape {value.shape.as_list()} and num_split {count}")
        sizes = [dim // count] * count
    else:
        sizes = list(splits)
        if sizes.count(-1) > 1:
            raise errors.InvalidArgumentError(
                f"SplitV: there can only be one -1 in size_splits, got {sizes}")
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

# --- transpose -------------------------------------------------------------------------------

def _transpose_infer(name):
    def infer(x, perm):
        if perm is None or x.shape is None:
            return Spec(None if x.shape is None else x.shape[::-1], x.dtype)
        if sorted(perm) != list(range(len(x.shape))):
            raise errors.InvalidArgumentError(
                f"{name}: perm must be a permutation of [0, ..., {len(x.shape) - 1}], got "
                f"{list(perm)} (input shape {list(x.shape)})")
        return Spec([x.shape[p] for p in perm], x.dtype)

    return infer


def _inverse_perm(perm):
    return None if perm is None else tuple(int(i) for i in np.argsort(perm))


@primitive("Transpose", dtypes=ANY)
class Transpose:
    infer = _transpose_infer("Transpose")

    def kernel(xp, x, perm):
        return xp.transpose(x, perm)

    def grad(op, dy):
        return [transpose(dy, _inverse_perm(op.get_attr("perm")))]


@primitive("ConjugateTranspose", dtypes=ANY)
class ConjugateTranspose:
    infer = _transpose_infer("ConjugateTranspose")

    def kernel(xp, x, perm):
        return xp.conj(xp.transpose(x, perm))

    def grad(op, dy):
        return [transpose(dy, _inverse_perm(op.get_attr("perm")), conjugate=True)]


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permutes the dimensions of `a`: output dim i is input dim `perm[i]` (`tf.transpose`).

    `perm` defaults to reversing the dimensions; `conjugate=True` also conjugates complex
    values (the adjoint).
    """
    a = convert_to_tensor(a)
    if perm is not None:
        perm = static_ints(perm, "Transpose", "perm")
    op = "ConjugateTranspose" if conjugate and a.dtype.is_complex else "Transpose"
    return execute(op, a, perm=perm, name=name)


@primitive("InvertPermutation", dtypes=frozenset([dtypes.int32, dtypes.int64]))
class InvertPermutation:
    def infer(x):
        if x.rank not in (None, 1):
            raise errors.InvalidArgumentError(
                f"InvertPermutation: x must be a vector, got shape {list(x.shape)}")
        if x.value is not None and sorted(x.value.tolist()) != list(range(x.value.size)):
            raise errors.InvalidArgumentError(
                f"InvertPermutation: x must be a permutation of 0..{x.value.size - 1}, got "
                f"{x.value.tolist()}")
        return Spec(x.shape if x.shape is not None else (None,), x.dtype)

    def kernel(xp, x):
        result = xp.full(x.shape, -1, dtype=x.dtype)
        result[x] = xp.arange(x.size, dtype=x.dtype)  # IndexError for out-of-range entries
        if x.size and result.min() < 0:
            raise ValueError("InvertPermutation: x is not a permutation")
        return result


def invert_permutation(x, name=None):
    """The inverse of a permutation vector: `y[x[i]] = i` (`tf.math.invert_permutation`)."""
    return execute("InvertPermutation", x, name=name)


# --- adding and removing dimensions of size 1 -----------------------------------------------

@primitive("Squeeze", dtypes=ANY)
class Squeeze:
    def infer(x, squeeze_dims):
        if x.shape is None:
            return Spec(None, x.dtype)
        rank = len(x.shape)
        if not squeeze_dims:
            if None in x.shape:
                return Spec(None, x.dtype)
            return Spec([d for d in x.shape if d != 1], x.dtype)
        axes = set()
        for axis in squeeze_dims:
            if not -rank <= axis < rank:
                raise errors.InvalidArgumentError(
                    f"Squeeze: Tried to squeeze dim index {axis} for tensor with {rank} "
                    f"dimensions (shape {list(x.shape)})")
            axis %= rank
            if x.shape[axis] not in (None, 1):
                raise errors.InvalidArgumentError(
                    f"Squeeze: Can not squeeze dim[{axis}], expected a dimension of 1, got "
                    f"{x.shape[axis]} (shape {list(x.shape)})")
            axes.add(axis)
        return Spec([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)

    def kernel(xp, x, squeeze_dims):
        return xp.squeeze(x, axis=squeeze_dims or None)

    def grad(op, dy):
        return [array_ops.reshape(dy, array_ops.shape_of(op.inputs[0]))]


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002 - TF's argument name
    """Removes dimensions of size 1: all of them, or those listed in `axis` (`tf.squeeze`)."""
    axis = squeeze_dims if axis is None else axis
    dims = () if axis is None else static_ints(axis, "Squeeze", "axis")
    return execute("Squeeze", input, squeeze_dims=dims, name=name)


@primitive("ExpandDims", dtypes=ANY)
class ExpandDims:
    def infer(x, axis):
        if x.shape is None:
            return Spec(None, x.dtype)
        rank = len(x.shape)
        if not -rank - 1 <= axis <= rank:
            raise errors.InvalidArgumentError(
                f"ExpandDims: Tried to expand dim index {axis} for tensor with {rank} "
                f"dimensions (shape {list(x.shape)})")
        shape = list(x.shape)
        shape.insert(axis % (rank + 1), 1)
        return Spec(shape, x.dtype)

    def kernel(xp, x, axis):
        return xp.expand_dims(x, axis)

    def grad(op, dy):
        return [array_ops.reshape(dy, array_ops.shape_of(op.inputs[0]))]


def expand_dims(input, axis, name=None):  # noqa: A002
    """Inserts a dimension of size 1 at `axis`; negative counts from the end (`tf.expand_dims`)."""
    (axis,) = static_ints(axis, "ExpandDims", "axis")
    return execute("ExpandDims", input, axis=axis, name=name)


# --- tile and pad ----------------------------------------------------------------------------

@primitive("Tile", dtypes=ANY, same_dtype=False, input_dtypes={1: dtypes.int32})
class Tile:
    def infer(x, multiples):
        if multiples.rank not in (None, 1):
            raise errors.InvalidArgumentError(
                f"Tile: multiples must be a vector, got shape {list(multiples.shape)}")
        if x.shape is None:
            return Spec(None, x.dtype)
        rank = len(x.shape)
        if multiples.shape is not None and multiples.shape[0] not in (None, rank):
            raise errors.InvalidArgumentError(
                f"Tile: Expected multiples argument to be a vector of length {rank} but got "
                f"length {multiples.shape[0]} (input shape {list(x.shape)})")
        if multiples.value is None:
            return Spec((None,) * rank, x.dtype)
        counts = [int(m) for m in multiples.value]
        if min(counts, default=0) < 0:
            raise errors.InvalidArgumentError(
                f"Tile: Expected multiples to be non-negative, got {counts}")
        return Spec([None if d is None else d * m for d, m in zip(x.shape, counts)], x.dtype)

    def kernel(xp, x, multiples):
        if len(multiples) != x.ndim:
            raise ValueError("Tile: multiples must have one entry per dimension")
        return xp.tile(x, tuple(multiples.tolist()))

    def grad(op, dy):
        # dy viewed as [m0, d0, m1, d1, ...] and summed over the m axes, as TF does
        x, multiples = op.inputs
        rank = x.shape.rank
        pairs = stack([array_ops.cast(multiples, dtypes.int32), array_ops.shape(x)], axis=1)
        split_dy = array_ops.reshape(dy, array_ops.reshape(pairs, [-1]))
        from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415

        return [reduce_ops.reduce_sum(split_dy, axis=list(range(0, 2 * rank, 2))), None]


def tile(input, multiples, name=None):  # noqa: A002
    """Repeats `input` `multiples[i]` times along each dimension i (`tf.tile`)."""
    return execute("Tile", input, array_ops._shape_input(multiples), name=name)


def _pad_infer(name, x, paddings):
    """Output shape of a pad op; validates paddings' shape [rank, 2] and sign."""
    if paddings.rank not in (None, 2) or paddings.shape is not None and \
            paddings.shape[1] not in (None, 2):
        raise errors.InvalidArgumentError(
            f"{name}: paddings must be a matrix with 2 columns, got shape "
            f"{list(paddings.shape)}")
    if x.shape is None:
        rank = None if paddings.shape is None else paddings.shape[0]
        return None if rank is None else (None,) * rank
    rank = len(x.shape)
    if paddings.shape is not None and paddings.shape[0] not in (None, rank):
        raise errors.InvalidArgumentError(
            f"{name}: The first dimension of paddings must be the rank of inputs, got paddings "
            f"shape {list(paddings.shape)} and input shape {list(x.shape)}")
    if paddings.value is None:
        return (None,) * rank
    pads = np.asarray(paddings.value).reshape(rank, 2)
    if pads.size and pads.min() < 0:
        raise errors.InvalidArgumentError(
            f"{name}: paddings must be non-negative, got {pads.tolist()}")
    return tuple(None if d is None else d + int(a) + int(b) for d, (a, b) in zip(x.shape, pads))


@primitive("PadV2", dtypes=ANY, same_dtype=(0, 2), input_dtypes={1: dtypes.int32})
class PadV2:
    def infer(x, paddings, constant_values):
        if constant_values.rank not in (None, 0):
            raise errors.InvalidArgumentError(
                f"PadV2: constant_values must be a scalar, got shape "
                f"{list(constant_values.shape)}")
        return Spec(_pad_infer("PadV2", x, paddings), x.dtype)

    def kernel(xp, x, paddings, constant_values):
        if paddings.shape != (x.ndim, 2):
            raise ValueError("PadV2: paddings must have shape [rank, 2]")
        return xp.pad(x, paddings.tolist(), mode="constant", constant_values=constant_values)

    def grad(op, dy):
        x, paddings = op.inputs[:2]
        return [_unpad(dy, x, paddings), None, None]


def _unpad(dy, x, paddings):
    """The part of `dy` that lies over the unpadded input (the gradient of a constant pad)."""
    from ndflow.ops import indexing  # noqa: PLC0415 - indexing imports manip

    begin = array_ops.reshape(indexing.slice(paddings, [0, 0], [-1, 1]), [-1])
    return indexing.slice(dy, begin, array_ops.cast(array_ops.shape(x), begin.dtype))


def _mirror_limits(name, x, paddings, mode):
    """Checks TF's MirrorPad bound: pads < dim for REFLECT, <= dim for SYMMETRIC."""
    if x.shape is None or paddings.value is None:
        return
    pads = np.asarray(paddings.value).reshape(-1, 2)
    for dim, (before, after) in zip(x.shape, pads):
        if dim is None:
            continue
        if mode == "REFLECT" and max(before, after) >= dim:
            raise errors.InvalidArgumentError(
                f"{name}: paddings must be less than the dimension size: {before}, {after} not "
                f"less than {dim} (input shape {list(x.shape)}, mode REFLECT)")
        if mode == "SYMMETRIC" and max(before, after) > dim:
            raise errors.InvalidArgumentError(
                f"{name}: paddings must be no greater than the dimension size: {before}, "
                f"{after} greater than {dim} (input shape {list(x.shape)}, mode SYMMETRIC)")


def _mirror_ok(shape, paddings, mode):
    offset = 1 if mode == "REFLECT" else 0
    if paddings.shape != (len(shape), 2):
        return False
    return all(0 <= min(pair) and max(pair) <= dim - offset
               for dim, pair in zip(shape, paddings.tolist()))


@primitive("MirrorPad", dtypes=ANY, same_dtype=(0,), input_dtypes={1: dtypes.int32})
class MirrorPad:
    def infer(x, paddings, mode):
        shape = _pad_infer("MirrorPad", x, paddings)
        _mirror_limits("MirrorPad", x, paddings, mode)
        return Spec(shape, x.dtype)

    def kernel(xp, x, paddings, mode):
        if not _mirror_ok(x.shape, paddings, mode):
            raise ValueError("MirrorPad: paddings out of range")
        return xp.pad(x, paddings.tolist(), mode=mode.lower())

    def grad(op, dy):
        return [execute("MirrorPadGrad", dy, op.inputs[1], mode=op.get_attr("mode")), None]


@primitive("MirrorPadGrad", dtypes=ANY, same_dtype=(0,), input_dtypes={1: dtypes.int32})
class MirrorPadGrad:
    """Folds the mirrored borders of `dy` back onto the input positions they copied."""

    def infer(dy, paddings, mode):
        shape = _pad_infer("MirrorPadGrad", dy, paddings)
        if shape is not None and paddings.value is not None:
            pads = np.asarray(paddings.value).reshape(-1, 2)
            shape = tuple(None if d is None else d - 2 * int(a) - 2 * int(b)
                          for d, (a, b) in zip(shape, pads))
        return Spec(shape, dy.dtype)

    def kernel(xp, dy, paddings, mode):
        offset = 1 if mode == "REFLECT" else 0
        result = dy
        for axis, (before, after) in enumerate(paddings.tolist()):
            size = result.shape[axis] - before - after
            core = xp.array(xp.take(result, xp.arange(before, before + size), axis=axis))
            left = xp.flip(xp.take(result, xp.arange(before), axis=axis), axis)
            right = xp.flip(xp.take(result, xp.arange(before + size, before + size + after),
                                    axis=axis), axis)
            index = [slice(None)] * result.ndim
            index[axis] = slice(offset, offset + before)
            core[tuple(index)] += left
            index[axis] = slice(size - offset - after, size - offset)
            core[tuple(index)] += right
            result = core
        return result

    def grad(op, ddy):
        return [execute("MirrorPad", ddy, op.inputs[1], mode=op.get_attr("mode")), None]


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads a tensor: `paddings[i] = [before, after]` for dimension i (`tf.pad`).

    Args:
      tensor: the tensor to pad.
      paddings: int matrix of shape [rank, 2].
      mode: 'CONSTANT' (fill with `constant_values`), 'REFLECT' (mirror without the edge;
        pads must be < the dimension) or 'SYMMETRIC' (mirror with the edge; pads <= dim).
      constant_values: the scalar fill value for CONSTANT mode, of the tensor's dtype.
      name: ignored in eager mode.
    """
    mode = mode.upper()
    paddings = array_ops._shape_input(paddings)
    if mode == "CONSTANT":
        return execute("PadV2", tensor, paddings, constant_values, name=name)
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise ValueError(f"Pad: mode must be one of CONSTANT, REFLECT or SYMMETRIC, got {mode!r}")
    return execute("MirrorPad", tensor, paddings, mode=mode, name=name)


# --- reverse and roll ------------------------------------------------------------------------

@primitive("ReverseV2", dtypes=ANY)
class ReverseV2:
    def infer(tensor, axis):
        if tensor.shape is None:
            return Spec(None, tensor.dtype)
        rank = len(tensor.shape)
        seen = set()
        for a in axis:
            if not -rank <= a < rank:
                raise errors.InvalidArgumentError(
                    f"ReverseV2: axis {a} is out of valid range [{-rank}, {rank}) for shape "
                    f"{list(tensor.shape)}")
            if a % rank in seen:
                raise errors.InvalidArgumentError(
                    f"ReverseV2: axis {a % rank} specified more than once, got axis "
                    f"{list(axis)}")
            seen.add(a % rank)
        return Spec(tensor.shape, tensor.dtype)

    def kernel(xp, tensor, axis):
        normal = {a % max(tensor.ndim, 1) for a in axis}
        if len(normal) != len(axis) or any(not -tensor.ndim <= a < tensor.ndim for a in axis):
            raise ValueError("ReverseV2: invalid axis")
        return xp.flip(tensor, axis=axis) if axis else tensor

    def grad(op, dy):
        return [reverse(dy, op.get_attr("axis"))]


def reverse(tensor, axis, name=None):
    """Reverses the order of elements along each dimension in `axis` (`tf.reverse`)."""
    return execute("ReverseV2", tensor, axis=static_ints(axis, "ReverseV2", "axis"), name=name)


@primitive("Roll", dtypes=ANY)
class Roll:
    def infer(x, shift, axis):
        if len(shift) != len(axis):
            raise errors.InvalidArgumentError(
                f"Roll: shift and axis must have the same size, got shift {list(shift)} and "
                f"axis {list(axis)}")
        if x.shape is None:
            return Spec(None, x.dtype)
        rank = len(x.shape)
        for a in axis:
            if not -rank <= a < rank:
                raise errors.InvalidArgumentError(
                    f"Roll: axis {a} is out of range for shape {list(x.shape)}")
        return Spec(x.shape, x.dtype)

    def kernel(xp, x, shift, axis):
        if len(shift) != len(axis):
            raise ValueError("Roll: shift and axis differ in size")
        return xp.roll(x, shift, axis) if axis else x

    def grad(op, dy):
        return [roll(dy, [-s for s in op.get_attr("shift")], op.get_attr("axis"))]


def roll(input, shift, axis, name=None):  # noqa: A002
    """Rolls elements along `axis` by `shift` (wrapping around); shifts on a repeated axis add."""
    return execute("Roll", input, shift=static_ints(shift, "Roll", "shift"),
                   axis=static_ints(axis, "Roll", "axis"), name=name)


# --- sorting and unique ----------------------------------------------------------------------

@primitive("ArgSort", dtypes=dtypes.REAL)
class ArgSort:
    """Stable argsort along one axis (TF builds sort from TopKV2; ties keep index order)."""

    def infer(values, axis, descending):
        if values.shape is not None:
            if not values.shape:
                raise errors.InvalidArgumentError("ArgSort: input must be at least rank 1, "
                                                  "got a scalar")
            _axis_in_range("ArgSort", axis, len(values.shape))
        return Spec(values.shape, dtypes.int32)

    def kernel(xp, values, axis, descending):
        if not descending:
            return xp.argsort(values, axis=axis, kind="stable").astype(xp.int32)
        # Stable descending: argsort the reversed array, reverse, and map indices back.
        size = values.shape[axis]
        order = xp.argsort(xp.flip(values, axis), axis=axis, kind="stable")
        return (size - 1 - xp.flip(order, axis)).astype(xp.int32)


def _direction(direction):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Sort: direction should be one of ASCENDING, DESCENDING, got "
                         f"{direction!r}")
    return direction == "DESCENDING"


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices (int32) that sort `values` along `axis`; equal values keep their order."""
    return execute("ArgSort", values, axis=int(axis), descending=_direction(direction),
                   name=name)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Sorts `values` along `axis` (`tf.sort`); differentiable through a gather."""
    values = convert_to_tensor(values)
    order = argsort(values, axis, direction)
    return take_along_axis(values, order, int(axis))


def take_along_axis(values, indices, axis):
    """`values` gathered along `axis` at `indices` (same shape), as a batched gather."""
    from ndflow.ops import indexing  # noqa: PLC0415 - indexing imports manip

    rank = values.shape.rank
    axis = _axis_in_range("GatherV2", axis, rank)
    if axis == rank - 1:
        return indexing.gather(values, indices, axis=axis, batch_dims=rank - 1)
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = indexing.gather(transpose(values, perm), transpose(indices, perm), axis=rank - 1,
                            batch_dims=rank - 1)
    return transpose(moved, perm)


UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])


@primitive("Unique", dtypes=ANY, num_outputs=2)
class Unique:
    def infer(x, out_idx):
        if x.rank not in (None, 1):
            raise errors.InvalidArgumentError(
                f"Unique: unique expects a 1D vector, got shape {list(x.shape)}")
        return Spec((None,), x.dtype), Spec(x.shape or (None,), out_idx)

    def kernel(xp, x, out_idx):
        if x.ndim != 1:
            raise ValueError("Unique: input must be 1-D")
        _, first, inverse = xp.unique(x, return_index=True, return_inverse=True)
        order = xp.argsort(first, kind="stable")  # TF lists values by first occurrence
        rank = xp.empty_like(order)
        rank[order] = xp.arange(order.size)
        return x[first[order]], rank[inverse.reshape(-1)].astype(out_idx._np)


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct values of a 1-D tensor in order of first occurrence, and for each input
    element the index of its value in `y` (`tf.unique`)."""
    y, idx = execute("Unique", x, out_idx=dtypes.as_dtype(out_idx), name=name)
    return UniqueOutput(y, idx)


# --- repeat ----------------------------------------------------------------------------------

def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    """Repeats each element of `input` `repeats` times along `axis` (`tf.repeat`).

    `repeats` is a scalar or one count per element along `axis`; `axis=None` flattens first.
    """
    from ndflow.ops import indexing  # noqa: PLC0415

    data = convert_to_tensor(input)
    if axis is None:
        data = array_ops.reshape(data, [-1])
        axis = 0
    rank = data.shape.rank
    axis = _axis_in_range("Repeat", int(axis), rank)
    repeats = array_ops.cast(convert_to_tensor(repeats, dtype_hint=dtypes.int32), dtypes.int32)
    if repeats.shape.rank == 0:
        if data.shape.is_fully_defined():
            dims = data.shape.as_list()
            dims[axis] = -1
        else:
            dynamic = array_ops.shape(data)
            dims = concat([dynamic[:axis], [-1], dynamic[axis + 1:]], 0)
        return array_ops.reshape(_tile_axis(data, axis, repeats), dims, name=name)
    # TF's algorithm: tile to the longest count, then drop the extra copies with a mask
    from ndflow.ops import math as math_ops  # noqa: PLC0415 - math imports manip's users
    from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415

    repeats = array_ops.broadcast_to(repeats, [data.shape[axis]])
    longest = math_ops.maximum(reduce_ops.reduce_max(repeats), 0)
    mask = array_ops.sequence_mask(repeats, longest)
    return indexing.boolean_mask(_tile_axis(data, axis, longest), mask, axis=axis, name=name)


def _tile_axis(data, axis, count):
    """`data` with a new axis after `axis` holding `count` copies."""
    multiples = [1] * (data.shape.rank + 1)
    multiples[axis + 1] = count
    return tile(expand_dims(data, axis + 1), stack(multiples))


API = {
    "": ["concat", "split", "stack", "unstack", "transpose", "squeeze", "expand_dims", "tile",
         "pad", "reverse", "roll", "sort", "argsort", "unique", "repeat"],
    "math": ["invert_permutation"],
}
