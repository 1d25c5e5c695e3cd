"""Array ops that create, reshape and convert tensors: constant, fill, zeros/ones, cast, reshape,
identity, stop_gradient, shape/size/rank, broadcast_to, and the gradient helper `unbroadcast`.

Ops that move elements around (transpose, concat, slicing, gather ...) live in `manip.py` and
`indexing.py`.
"""

import builtins

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor, constant_array, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape

ANY = dtypes.ANY
builtins_range = builtins.range


def static_shape(value, op_name):
    """A shape argument (list, tuple, TensorShape, array or eager tensor) as a tuple of ints,
    with -1 for a dimension to infer; None when it is only known at run time."""
    if isinstance(value, TensorShape):
        return tuple(-1 if d is None else d for d in value.as_list())
    if isinstance(value, Tensor):
        if not isinstance(value, EagerTensor):
            return None
        value = value._value
    array = np.asarray(value)
    if array.ndim > 1 or array.dtype.kind not in "iu" and array.size:
        raise errors.InvalidArgumentError(f"{op_name}: shape must be a vector of integers, "
                                          f"got {value!r}")
    return tuple(int(d) for d in array.reshape(-1))


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _shape_input(shape):
    """Shape arguments become int32 tensors (int64 when given as int64)."""
    if isinstance(shape, TensorShape):
        shape = [-1 if d is None else d for d in shape.as_list()]
    if isinstance(shape, Tensor):
        return shape if shape.shape.rank != 0 else reshape(shape, [1])
    if isinstance(shape, (int, np.integer)):
        shape = [shape]  # tf.zeros(3) means shape [3], as in TF
    if type(shape) in (list, tuple) and all(
            type(d) is int and _INT32_MIN <= d <= _INT32_MAX for d in shape):
        # The usual `[-1, 128]`: what convert_to_tensor gives, without its range checks.
        return EagerTensor(np.array(shape, dtype=np.int32), dtypes.int32)
    return convert_to_tensor(shape, dtype_hint=dtypes.int32)


def _value_shape(spec, op_name):
    """Static shape from a shape-input Spec: a tuple with None dims, or None (unknown rank)."""
    if spec.value is not None:
        return tuple(None if int(d) < 0 else int(d) for d in np.asarray(spec.value).reshape(-1))
    if spec.partial is not None:
        return tuple(None if d is None or d < 0 else d for d in spec.partial)
    if spec.shape is not None and len(spec.shape) == 1 and spec.shape[0] is not None:
        return (None,) * spec.shape[0]
    return None


# --- creation --------------------------------------------------------------------------------

def constant(value, dtype=None, shape=None, name=None):
    """Creates a constant tensor from a Python or NumPy value (`tf.constant`).

    Python floats become float32 and ints int32 unless `dtype` says otherwise; a NumPy array
    keeps its dtype. With `shape`, a scalar is broadcast and a value of the same size reshaped.

    >>> constant([1, 2]).dtype
    tf.int32
    """
    if isinstance(value, Tensor) and not isinstance(value, EagerTensor):
        return value if dtype is None else cast(value, dtype)
    if isinstance(value, EagerTensor):
        array, out_dtype = value._value, value._dtype
        if dtype is not None and dtypes.as_dtype(dtype) is not out_dtype:
            array, out_dtype = constant_array(np.asarray(array), dtype)
    elif hasattr(type(value), "__tf_tensor__"):
        tensor = value.__tf_tensor__()
        array, out_dtype = constant_array(np.asarray(tensor._value), dtype or tensor.dtype)
    else:
        array, out_dtype = constant_array(value, dtype)
    if shape is not None:
        shape = static_shape(shape, "Const")
        if array.size == 1:
            array = np.broadcast_to(array.reshape(()), shape).copy()
        elif int(np.prod(shape)) == array.size:
            array = array.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                            f"{value!r} (converted from {array.shape}) has {array.size} elements,"
                            f" but got `shape` {shape} with {int(np.prod(shape))} elements.")
    return EagerTensor(array, out_dtype)


@primitive("Fill", dtypes=ANY, same_dtype=False, input_dtypes={0: dtypes.int32})
class Fill:
    def infer(dims, value):
        if value.rank not in (None, 0):
            raise errors.InvalidArgumentError(f"Fill: value must be a scalar, got shape "
                                              f"{value.shape}")
        return Spec(_value_shape(dims, "Fill"), value.dtype)

    def kernel(xp, dims, value):
        return xp.full(tuple(dims.tolist()), value, dtype=value.dtype)

    def grad(op, dy):
        return [None, reduce_sum_all(dy)]


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with the scalar `value` (`tf.fill`)."""
    return execute("Fill", _shape_input(dims), value, name=name)


def zeros(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of zeros (`tf.zeros`)."""
    dtype = dtypes.as_dtype(dtype)
    return fill(shape, constant(0, dtype), name=name)


def ones(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of ones (`tf.ones`)."""
    dtype = dtypes.as_dtype(dtype)
    return fill(shape, constant(1, dtype), name=name)


@primitive("ZerosLike", dtypes=ANY)
class ZerosLike:
    def infer(x):
        return Spec(x.shape, x.dtype)

    def kernel(xp, x):
        return xp.zeros_like(x)


@primitive("OnesLike", dtypes=ANY)
class OnesLike:
    def infer(x):
        return Spec(x.shape, x.dtype)

    def kernel(xp, x):
        return xp.ones_like(x)


def zeros_like(input, dtype=None, name=None, layout=None):  # noqa: A002 - TF's argument name
    """A tensor of zeros with the shape (and by default the dtype) of `input`."""
    result = execute("ZerosLike", input, name=name)
    return result if dtype is None else cast(result, dtype)


def ones_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """A tensor of ones with the shape (and by default the dtype) of `input`."""
    result = execute("OnesLike", input, name=name)
    return result if dtype is None else cast(result, dtype)


# --- conversion and identity -----------------------------------------------------------------

@primitive("Cast", dtypes=ANY)
class Cast:
    def infer(x, DstT):
        return Spec(x.shape, DstT)

    def kernel(xp, x, DstT):
        if DstT is dtypes.string:
            raise errors.UnimplementedError(f"Cast: cannot cast {x.dtype} to string; use "
                                            f"tf.strings.as_string")
        if x.dtype.kind == "c" and DstT._np.kind != "c":
            x = x.real  # TF's cast from complex drops the imaginary part
        if x.dtype.kind == "f" and DstT._np.kind in "iu":
            with xp.errstate(invalid="ignore"):  # TF casts NaN/overflow silently
                return x.astype(DstT._np)
        return x.astype(DstT._np, copy=False)

    def grad(op, dy):
        source = op.inputs[0].dtype
        if source.is_floating or source.is_complex:
            return [cast(dy, source)]
        return [None]


def cast(x, dtype, name=None):
    """Casts a tensor to `dtype` (`tf.cast`). Float to int truncates toward zero, as in TF."""
    dtype = dtypes.as_dtype(dtype)
    if isinstance(x, Tensor) and x.dtype is dtype:
        return x
    if not isinstance(x, Tensor) and not hasattr(type(x), "__tf_tensor__"):
        x = convert_to_tensor(x, dtype_hint=dtype)
    return execute("Cast", x, DstT=dtype, name=name)


def saturate_cast(value, dtype, name=None):
    """Casts with clipping to the range of `dtype` (`tf.dtypes.saturate_cast`)."""
    dtype = dtypes.as_dtype(dtype)
    value = convert_to_tensor(value)
    if value.dtype.is_floating or value.dtype.is_integer:
        if dtype.is_integer or dtype.is_floating:
            low, high = _saturation_bounds(value.dtype, dtype)
            from ndflow.ops import math as math_ops  # noqa: PLC0415 - cycle: math uses array

            value = math_ops.clip_by_value(value, low, high)
    return cast(value, dtype, name=name)


def _saturation_bounds(source, target):
    """Clip bounds representable in `source` that stay inside `target`'s range (float32 cannot
    hold int32.max: its nearest value rounds up to 2**31, so the bound steps down, as TF)."""
    if not source.is_floating:
        return max(target.min, source.min), min(target.max, source.max)
    np_type = source.as_numpy_dtype
    low, high = np_type(target.min), np_type(target.max)
    if target.is_integer:
        if float(high) > target.max:
            high = np.nextafter(high, np_type(0))
        if float(low) < target.min:
            low = np.nextafter(low, np_type(0))
    return low, high


@primitive("Identity", dtypes=ANY)
class Identity:
    def infer(x):
        return Spec(x.shape, x.dtype)

    def kernel(xp, x):
        return x

    def grad(op, dy):
        return [dy]


def identity(input, name=None):  # noqa: A002
    """Returns a tensor with the same value as `input` (`tf.identity`); reads a variable."""
    return execute("Identity", input, name=name)


@primitive("StopGradient", dtypes=ANY)
class StopGradient:
    def infer(x):
        return Spec(x.shape, x.dtype)

    def kernel(xp, x):
        return x


def stop_gradient(input, name=None):  # noqa: A002
    """Returns `input`, blocking gradients from flowing through it (`tf.stop_gradient`)."""
    return execute("StopGradient", input, name=name)


# --- shapes ----------------------------------------------------------------------------------

@primitive("Reshape", dtypes=ANY, same_dtype=False, input_dtypes={1: dtypes.int32})
class Reshape:
    def infer(x, shape):
        target = _value_shape(shape, "Reshape")
        if target is None or x.shape is None or shape.value is None:
            return Spec(target, x.dtype)  # None dims here are unknown, not -1
        known = [d for d in target if d is not None]
        size = int(np.prod(known)) if known else 1
        if None not in x.shape:
            total = int(np.prod(x.shape)) if x.shape else 1
            unknown = target.count(None)
            if unknown == 0 and size != total or unknown == 1 and (size == 0 or total % size):
                raise errors.InvalidArgumentError(
                    f"Reshape: cannot reshape a tensor with {total} elements to shape "
                    f"{[-1 if d is None else d for d in target]} (input shape {list(x.shape)})")
            if unknown > 1:
                raise errors.InvalidArgumentError(
                    f"Reshape: only one input size may be -1, got {list(target)}")
            if unknown == 1:
                target = tuple(total // size if d is None else d for d in target)
        return Spec(target, x.dtype)

    def kernel(xp, x, shape):
        return xp.reshape(x, tuple(shape.tolist()))

    def grad(op, dy):
        return [reshape(dy, shape_of(op.inputs[0])), None]


def shape_of(x):
    """The shape of x for gradients: a static tuple when fully known, else a `Shape` op."""
    static = x.shape
    if static.is_fully_defined():
        return static.as_list()
    return shape(x)


def reshape(tensor, shape, name=None):
    """Reshapes a tensor; one dimension may be -1 (`tf.reshape`)."""
    return execute("Reshape", tensor, _shape_input(shape), name=name)


@primitive("Shape", dtypes=ANY)
class Shape:
    def infer(x, out_type):
        return Spec((x.rank,), out_type)

    def kernel(xp, x, out_type):
        return xp.asarray(x.shape, dtype=out_type._np)


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The shape of a tensor as an int32 (or `out_type`) vector (`tf.shape`)."""
    return execute("Shape", input, out_type=dtypes.as_dtype(out_type), name=name)


@primitive("Size", dtypes=ANY)
class Size:
    def infer(x, out_type):
        return Spec((), out_type)

    def kernel(xp, x, out_type):
        return xp.asarray(x.size, dtype=out_type._np)


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The number of elements of a tensor (`tf.size`)."""
    return execute("Size", input, out_type=dtypes.as_dtype(out_type), name=name)


@primitive("Rank", dtypes=ANY)
class Rank:
    def infer(x):
        return Spec((), dtypes.int32)

    def kernel(xp, x):
        return xp.asarray(x.ndim, dtype=xp.int32)


def rank(input, name=None):  # noqa: A002
    """The number of dimensions of a tensor, as an int32 scalar (`tf.rank`)."""
    return execute("Rank", input, name=name)


@primitive("BroadcastTo", dtypes=ANY, same_dtype=False, input_dtypes={1: dtypes.int32})
class BroadcastTo:
    def infer(x, shape):
        from ndflow.ops._factory import broadcast_shape  # noqa: PLC0415

        target = _value_shape(shape, "BroadcastTo")
        result = broadcast_shape("BroadcastTo", x.shape, target)
        if result is not None and target is not None and len(result) != len(target):
            raise errors.InvalidArgumentError(
                f"BroadcastTo: cannot broadcast shape {list(x.shape)} to {list(target)}")
        return Spec(result, x.dtype)

    def kernel(xp, x, shape):
        return xp.broadcast_to(x, tuple(shape.tolist()))

    def grad(op, dy):
        return [unbroadcast(dy, op.inputs[0]), None]


def broadcast_to(input, shape, name=None):  # noqa: A002
    """Broadcasts `input` to `shape` with NumPy rules (`tf.broadcast_to`)."""
    return execute("BroadcastTo", input, _shape_input(shape), name=name)


# --- sequences, identity matrices, one-hot, grids --------------------------------------------

_RANGE_DTYPES = (dtypes.int32, dtypes.int64, dtypes.float16, dtypes.bfloat16, dtypes.float32,
                 dtypes.float64)  # TF's order for inferring range's dtype: the widest wins


def _range_size(start, limit, delta):
    """The length of `range(start, limit, delta)`, validating the arguments as TF does."""
    if delta == 0:
        raise errors.InvalidArgumentError(f"Range: Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise errors.InvalidArgumentError(
            f"Range: Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise errors.InvalidArgumentError(
            f"Range: Requires start >= limit when delta < 0: {start}/{limit}")
    if isinstance(start, int):
        return (abs(limit - start) + abs(delta) - 1) // abs(delta)
    return int(np.ceil(abs((limit - start) / delta)))


def _range_scalars(start, limit, delta):
    values = []
    for name, spec in (("start", start), ("limit", limit), ("delta", delta)):
        if spec.rank not in (None, 0):
            raise errors.InvalidArgumentError(
                f"Range: {name} must be a scalar, not shape {list(spec.shape)}")
        if spec.value is not None:
            item = np.asarray(spec.value)[()]
            values.append(int(item) if spec.dtype.is_integer else float(item))
    return values


@primitive("Range", dtypes=frozenset(_RANGE_DTYPES))
class Range:
    def infer(start, limit, delta):
        values = _range_scalars(start, limit, delta)
        size = _range_size(*values) if len(values) == 3 else None
        return Spec((size,), start.dtype)

    def kernel(xp, start, limit, delta):
        kind = int if start.dtype.kind in "iu" else float
        size = _range_size(kind(start), kind(limit), kind(delta))
        # TF computes start + i * delta in the output dtype (not a running sum)
        return start + xp.arange(size).astype(start.dtype) * delta


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's name
    """A 1-D tensor of numbers from `start` up to (not including) `limit` by `delta`.

    `range(n)` counts from 0. Without `dtype`, the widest of the arguments' dtypes is used in
    the order int32, int64, float16, bfloat16, float32, float64 (Python ints are int32,
    floats float32).

    >>> range(1, 2, 0.25).numpy()
    array([1.  , 1.25, 1.5 , 1.75], dtype=float32)
    """
    if limit is None:
        start, limit = 0, start
    args = [convert_to_tensor(v, dtype=None if isinstance(v, Tensor) else dtype)
            for v in (start, limit, delta)]
    for arg in args:
        if arg.dtype not in _RANGE_DTYPES:
            raise TypeError(f"Range: arguments must be one of "
                            f"{[d.name for d in _RANGE_DTYPES]}, got {arg.dtype.name}")
    target = dtypes.as_dtype(dtype) if dtype is not None else max(
        (arg.dtype for arg in args), key=_RANGE_DTYPES.index)
    args = [cast(arg, target) for arg in args]
    return execute("Range", *args, name=name)


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` inclusive, along a new `axis`.

    `start` and `stop` may be tensors of one (broadcast) shape; integer inputs give float64,
    as TF's true division does. The ends are exactly `start` and `stop`.
    """
    from ndflow.ops import manip  # noqa: PLC0415 - manip imports array

    start = convert_to_tensor(start)
    stop = convert_to_tensor(stop, dtype=start.dtype)
    if not (start.dtype.is_floating or start.dtype.is_complex):
        start, stop = cast(start, dtypes.float64), cast(stop, dtypes.float64)
    num = int(num)
    shape_out = _broadcast_static(start.shape.as_list(), stop.shape.as_list())
    start = manip.expand_dims(broadcast_to(start, shape_out), axis)
    stop = manip.expand_dims(broadcast_to(stop, shape_out), axis)
    rank = len(shape_out) + 1
    axis = axis % rank
    steps = max(num - 1, 1)
    delta = (stop - start) / constant(steps, start.dtype)
    positions = cast(range(1, steps), start.dtype)
    view = [-1 if i == axis else 1 for i in builtins_range(rank)]
    middle = start + delta * reshape(positions, view)
    values = manip.concat([start, middle, stop], axis)
    from ndflow.ops import indexing  # noqa: PLC0415

    return indexing.slice(values, [0] * rank,
                       [num if i == axis else -1 for i in builtins_range(rank)], name=name)


lin_space = linspace  # the TF1 spelling


def _broadcast_static(shape_a, shape_b):
    from ndflow.ops._factory import broadcast_shape  # noqa: PLC0415

    return list(broadcast_shape("LinSpace", tuple(shape_a), tuple(shape_b)))


@primitive("OneHot", dtypes=ANY, same_dtype=(1, 2))
class OneHot:
    def infer(indices, on_value, off_value, depth, axis):
        if indices.dtype not in _INDEX_DTYPES:
            raise errors.InvalidArgumentError(
                f"OneHot: indices must be uint8, int8, int32 or int64, got {indices.dtype.name}")
        if depth < 0:
            raise errors.InvalidArgumentError(f"OneHot: depth must be non-negative, got: {depth}")
        for name, spec in (("on_value", on_value), ("off_value", off_value)):
            if spec.rank not in (None, 0):
                raise errors.InvalidArgumentError(
                    f"OneHot: {name} must be a scalar, but got shape {list(spec.shape)}")
        if indices.shape is None:
            return Spec(None, on_value.dtype)
        rank = len(indices.shape)
        if not -1 <= axis <= rank:
            raise errors.InvalidArgumentError(
                f"OneHot: Expected axis to be -1 or between [0, {rank + 1}).  But received: "
                f"{axis} (indices shape {list(indices.shape)})")
        shape = list(indices.shape)
        shape.insert(rank if axis == -1 else axis, depth)
        return Spec(shape, on_value.dtype)

    def kernel(xp, indices, on_value, off_value, depth, axis):
        if depth < 0 or axis < -1 or axis > indices.ndim:
            raise ValueError("OneHot: invalid depth or axis")
        hot = indices[..., None] == xp.arange(depth)
        if axis != -1:
            hot = xp.moveaxis(hot, -1, axis)
        return xp.where(hot, on_value, off_value)


_INDEX_DTYPES = frozenset([dtypes.uint8, dtypes.int8, dtypes.int32, dtypes.int64])


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot encodes `indices` along a new axis of size `depth` (`tf.one_hot`).

    Positions equal to an index get `on_value` (default 1), the rest `off_value` (default 0);
    an index outside [0, depth), such as -1, gives a row of `off_value`. The dtype is that of
    `on_value`/`off_value`, else `dtype`, else float32.
    """
    indices = convert_to_tensor(indices)
    if indices.dtype not in _INDEX_DTYPES:
        raise errors.InvalidArgumentError(
            f"OneHot: indices must be uint8, int8, int32 or int64, got {indices.dtype.name}")
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    values = []
    for value in (on_value, off_value):
        if value is not None:
            value = convert_to_tensor(value, dtype_hint=dtype)
            if dtype is not None and value.dtype is not dtype:
                raise TypeError(f"OneHot: dtype {value.dtype.name} of on_value/off_value does "
                                f"not match dtype parameter {dtype.name}")
            dtype = value.dtype  # the second value must match the first
        values.append(value)
    dtype = dtype or dtypes.float32
    on_value = constant(1, dtype) if values[0] is None else values[0]
    off_value = constant(0, dtype) if values[1] is None else values[1]
    return execute("OneHot", indices, on_value, off_value, depth=int(depth),
                   axis=-1 if axis is None else int(axis), name=name)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix (or a batch of them) of shape `batch_shape + [rows, columns]`."""
    num_rows = int(num_rows)
    num_columns = num_rows if num_columns is None else int(num_columns)
    matrix = one_hot(range(num_rows), num_columns, dtype=dtypes.as_dtype(dtype))
    if not batch_shape:
        return matrix
    return broadcast_to(matrix, list(static_shape(batch_shape, "Eye")) +
                        [num_rows, num_columns], name=name)


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """`mask[..., j] = j < lengths[...]`, of shape `lengths.shape + [maxlen]`.

    `maxlen` defaults to the largest length.

    >>> sequence_mask([1, 3], 4).numpy()
    array([[ True, False, False, False],
           [ True,  True,  True, False]])
    """
    from ndflow.ops import math as math_ops  # noqa: PLC0415 - math imports array
    from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415

    lengths = convert_to_tensor(lengths)
    if maxlen is None:
        maxlen = math_ops.maximum(reduce_ops.reduce_max(lengths), constant(0, lengths.dtype))
    else:
        maxlen = convert_to_tensor(maxlen)
    if maxlen.shape.rank not in (None, 0):
        raise ValueError(f"SequenceMask: maxlen must be a scalar, got shape {maxlen.shape}")
    positions = range(constant(0, maxlen.dtype), maxlen, constant(1, maxlen.dtype))
    from ndflow.ops import manip  # noqa: PLC0415

    result = math_ops.less(positions, cast(manip.expand_dims(lengths, -1), maxlen.dtype))
    return cast(result, dtype, name=name)


def meshgrid(*args, **kwargs):
    """N-D coordinate grids from 1-D coordinate vectors (`tf.meshgrid`).

    Args:
      *args: 1-D tensors of lengths n1, n2, ...
      indexing: 'xy' (default; the first two output axes are swapped: shape (n2, n1, ...)) or
        'ij' (shape (n1, n2, ...)).
      name: ignored.

    Returns:
      A list of tensors, each of the common output shape.
    """
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    tensors = [reshape(convert_to_tensor(a), [-1]) for a in args]
    sizes = [t.shape[0] for t in tensors]
    rank = len(tensors)
    if indexing == "xy" and rank > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    outputs = []
    for index, tensor in enumerate(tensors):
        position = index
        if indexing == "xy" and rank > 1 and index < 2:
            position = 1 - index
        view = [-1 if i == position else 1 for i in builtins_range(rank)]
        outputs.append(broadcast_to(reshape(tensor, view), sizes))
    return outputs


# --- the gradient helper for broadcasting ops -----------------------------------------------

def unbroadcast(dy, x):
    """Sums `dy` over the axes along which `x` was broadcast, giving a tensor of x's shape."""
    x_shape = x.shape
    dy_shape = dy.shape
    if x_shape == dy_shape and x_shape.is_fully_defined():
        return dy
    if not (x_shape.is_fully_defined() and dy_shape.is_fully_defined()):
        from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415 - cycle: reduce uses array

        return reduce_ops.unbroadcast_dynamic(dy, x)
    x_dims = x_shape.as_list()
    dy_dims = dy_shape.as_list()
    lead = len(dy_dims) - len(x_dims)
    axes = list(builtins_range(lead))
    axes += [lead + i for i, d in enumerate(x_dims) if d == 1 and dy_dims[lead + i] != 1]
    from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415

    if axes:
        dy = reduce_ops.reduce_sum(dy, axis=axes)
    if lead or len(axes) > lead:
        dy = reshape(dy, x_dims)
    return dy


def reduce_sum_all(x):
    from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415

    return reduce_ops.reduce_sum(x)

API = {
    "": ["constant", "fill", "zeros", "ones", "zeros_like", "ones_like", "cast", "identity",
         "stop_gradient", "reshape", "shape", "size", "rank", "broadcast_to", "range",
         "linspace", "lin_space", "one_hot", "eye", "sequence_mask", "meshgrid"],
    "math": ["range", "linspace"],
    "linalg": ["eye"],
    "dtypes": ["cast", "saturate_cast"],
}
