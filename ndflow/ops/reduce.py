"""Reductions and scans: reduce_sum/mean/max/min/prod/any/all and the composites built on them
(logsumexp, variance, std), argmax/argmin, top_k, cumsum/cumprod, bincount, segment sums; and
the run-time (shape-tensor) form of `unbroadcast` used by gradients when static shapes are
partly unknown.
"""

import collections

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.ops import compiled
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops

NUM = dtypes.NUMERIC
REAL = dtypes.REAL
BOOL = frozenset([dtypes.bool])
INDEX = frozenset([dtypes.int32, dtypes.int64])


# --- axes ------------------------------------------------------------------------------------

def normalize_axis(axis, op_name):
    """`axis` argument (None, int, list, array, tensor) -> None or a tuple of ints."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        if not isinstance(axis, EagerTensor):
            raise TypeError(f"{op_name}: axis must be known when the graph is built, got a "
                            f"symbolic tensor {axis!r}")
        axis = axis._value
    array = np.asarray(axis)
    if array.dtype.kind not in "iu" and array.size:
        raise TypeError(f"{op_name}: axis must be integers, got {axis!r}")
    return tuple(int(a) for a in array.reshape(-1))


def _check_axes(op_name, shape, axis):
    """The reduced axes as a set of non-negative ints; validates them against the rank."""
    rank = len(shape)
    if axis is None:
        return set(range(rank))
    axes = set()
    for a in axis:
        if not -rank <= a < max(rank, 1):
            raise errors.InvalidArgumentError(
                f"{op_name}: Invalid reduction dimension {a} for input with {rank} "
                f"dimensions (shape {list(shape)})")
        axes.add(a % rank if rank else 0)
    return axes


def reduced_shape(op_name, shape, axis, keepdims):
    """Static output shape of a reduction; validates the axes against the rank."""
    if shape is None:
        return None
    axes = _check_axes(op_name, shape, axis)
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _int32(values):
    return convert_to_tensor(np.asarray(values, dtype=np.int32))


def _kept_shape(x, axis):
    """The shape of x with 1 on the reduced axes: a list when static, else an int32 tensor."""
    rank = x.shape.rank
    if rank is not None:
        axes = set(range(rank)) if axis is None else {a % rank for a in axis}
        if x.shape.is_fully_defined():
            return [1 if i in axes else d for i, d in enumerate(x.shape.as_list())]
        reduced = _int32([1 if i in axes else 0 for i in range(rank)])
    else:
        # Unknown rank: compare each position 0..rank-1 with the axes taken modulo the rank.
        shape = array_ops.shape(x)
        positions = cumsum(array_ops.ones_like(shape), exclusive=True)
        axes = math_ops.floormod(_int32(list(axis)), array_ops.rank(x))
        matches = math_ops.equal(array_ops.reshape(positions, [-1, 1]),
                                 array_ops.reshape(axes, [1, -1]))
        reduced = array_ops.cast(reduce_any(matches, axis=1), dtypes.int32)
    shape = array_ops.shape(x)
    return math_ops.add(math_ops.multiply(shape, math_ops.subtract(1, reduced)), reduced)


def _restore_reduced(dy, op):
    """Reshapes a reduction's output-shaped tensor so it broadcasts against the op's input."""
    if op.get_attr("keepdims"):
        return dy
    x = op.inputs[0]
    axis = op.get_attr("axis")
    if axis is None and x.shape.rank is None:
        return dy  # a scalar broadcasts against any shape
    return array_ops.reshape(dy, _kept_shape(x, axis))


def unbroadcast_dynamic(dy, x):
    """`unbroadcast` for shapes known only at run time (graph mode with None dims).

    Each axis of dy of size D, against x's size X (1 or D), is split into (X, D / X) and the
    second part summed: that sums exactly the broadcast axes without knowing which they are.
    """
    dy_rank, x_rank = dy.shape.rank, x.shape.rank
    if dy_rank is None or x_rank is None:
        raise ValueError(f"unbroadcast: the gradient of a broadcasting op needs the ranks of its "
                         f"inputs, got shapes {dy.shape} and {x.shape}")
    from ndflow.ops import manip  # noqa: PLC0415 - manip sits beside reduce

    x_shape = array_ops.shape(x)
    padded = manip.concat([_int32([1] * (dy_rank - x_rank)), x_shape], 0)
    parts = math_ops.floordiv(array_ops.shape(dy), math_ops.maximum(padded, 1))
    split = array_ops.reshape(dy, array_ops.reshape(manip.stack([padded, parts], axis=1), [-1]))
    summed = reduce_sum(split, axis=list(range(1, 2 * dy_rank, 2)))
    return array_ops.reshape(summed, x_shape)


# --- reductions ------------------------------------------------------------------------------

def _reduction(name, allowed, kernel, grad=None):
    def infer(x, axis, keepdims):
        return Spec(reduced_shape(name, x.shape, axis, keepdims), x.dtype)

    return primitive(name, dtypes=allowed)(type(name, (), {
        "infer": staticmethod(infer), "kernel": staticmethod(kernel),
        **({"grad": staticmethod(grad)} if grad else {})}))


def _accumulator(xp, dtype):
    """float16/bfloat16 sums accumulate in float32 (then round once), like TF's CPU kernels."""
    return xp.float32 if dtype.kind == "f" and dtype.itemsize == 2 else dtype


def _sum_kernel(xp, x, axis, keepdims):
    # add.reduce: np.sum's Python wrapper costs more than the sum of a small tensor.
    total = xp.add.reduce(x, axis=axis, keepdims=keepdims, dtype=_accumulator(xp, x.dtype))
    return total.astype(x.dtype, copy=False)


def _sum_grad(op, dy):
    x = op.inputs[0]
    return [array_ops.broadcast_to(_restore_reduced(dy, op), array_ops.shape_of(x))]


def _count(shape, axis):
    axes = range(len(shape)) if axis is None else axis
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def _mean_kernel(xp, x, axis, keepdims):
    count = _count(x.shape, axis)
    if x.dtype.kind in "iu":  # integer mean truncates toward zero, as TF
        total = xp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        quotient = xp.abs(total) // max(count, 1)
        return (xp.sign(total) * quotient).astype(x.dtype, copy=False)
    with xp.errstate(all="ignore"):
        total = xp.sum(x, axis=axis, keepdims=keepdims, dtype=_accumulator(xp, x.dtype))
        return (total / count).astype(x.dtype, copy=False)


def _mean_grad(op, dy):
    x, y = op.inputs[0], op.outputs[0]
    if x.shape.is_fully_defined() and y.shape.is_fully_defined():
        count = max(x.shape.num_elements() // max(y.shape.num_elements(), 1), 1)
    else:
        count = math_ops.floordiv(array_ops.size(x), math_ops.maximum(array_ops.size(y), 1))
        count = array_ops.cast(count, dy.dtype)
    return [math_ops.realdiv(_sum_grad(op, dy)[0], count)]


def _extreme_kernel(function, initial):
    def kernel(xp, x, axis, keepdims):
        if x.size:
            return function(x, axis=axis, keepdims=keepdims)
        start = initial if x.dtype.kind == "f" else (
            xp.iinfo(x.dtype).min if initial < 0 else xp.iinfo(x.dtype).max)
        return function(x, axis=axis, keepdims=keepdims, initial=start)

    return kernel


def _extreme_grad(op, dy):
    """The gradient is split equally among the tied extremes, as TF does."""
    x = op.inputs[0]
    y = _restore_reduced(op.outputs[0], op)
    chosen = array_ops.cast(math_ops.equal(y, x), dy.dtype)
    ties = reduce_sum(chosen, op.get_attr("axis"), keepdims=True)
    return [math_ops.multiply(math_ops.realdiv(chosen, ties), _restore_reduced(dy, op))]


def _prod_grad(op, dy):
    """Correct with zeros: for each reduced axis, the product of the other elements is the
    exclusive cumulative product from the left times the one from the right (no division)."""
    x = op.inputs[0]
    axis = op.get_attr("axis")
    rank = x.shape.rank
    if rank is None:
        raise ValueError(f"Prod: the gradient needs the rank of the input, got shape {x.shape}")
    axes = sorted(set(range(rank) if axis is None else (a % rank for a in axis)))
    grad = _restore_reduced(dy, op)
    partial = [x]  # partial[i] = x reduced over axes[:i], keepdims
    for a in axes[:-1]:
        partial.append(reduce_prod(partial[-1], a, keepdims=True))
    for a, z in zip(reversed(axes), reversed(partial)):
        others = math_ops.multiply(cumprod(z, a, exclusive=True),
                                   cumprod(z, a, exclusive=True, reverse=True))
        grad = math_ops.multiply(grad, others)
    return [array_ops.broadcast_to(grad, array_ops.shape_of(x))]


def _euclidean_norm_kernel(xp, x, axis, keepdims):
    squares = (x * xp.conj(x)).astype(_accumulator(xp, x.dtype), copy=False)
    norm = xp.sqrt(xp.sum(squares, axis=axis, keepdims=keepdims))
    return norm.astype(x.dtype, copy=False)


def _euclidean_norm_grad(op, dy):
    x = op.inputs[0]
    norm = _restore_reduced(op.outputs[0], op)
    return [math_ops.multiply(math_ops.realdiv(x, norm), _restore_reduced(dy, op))]


_reduction("Sum", NUM, _sum_kernel, _sum_grad)
_reduction("Mean", NUM, _mean_kernel, _mean_grad)
_reduction("Max", REAL, _extreme_kernel(lambda x, **k: x.max(**k), -np.inf), _extreme_grad)
_reduction("Min", REAL, _extreme_kernel(lambda x, **k: x.min(**k), np.inf), _extreme_grad)
_reduction("Prod", NUM, lambda xp, x, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims,
                                                              dtype=x.dtype), _prod_grad)
_reduction("Any", BOOL, lambda xp, x, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims))
_reduction("All", BOOL, lambda xp, x, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims))
_reduction("EuclideanNorm", NUM, _euclidean_norm_kernel, _euclidean_norm_grad)


def _reduce(op_name):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        axis = normalize_axis(axis, op_name)
        return execute(op_name, input_tensor, axis=axis, keepdims=bool(keepdims), name=name)

    return reduce


reduce_sum = _reduce("Sum")
reduce_mean = _reduce("Mean")
reduce_max = _reduce("Max")
reduce_min = _reduce("Min")
reduce_prod = _reduce("Prod")
reduce_any = _reduce("Any")
reduce_all = _reduce("All")
reduce_euclidean_norm = _reduce("EuclideanNorm")
reduce_sum.__doc__ = "Sum of elements across `axis` (all axes when None) (`tf.reduce_sum`)."
reduce_mean.__doc__ = "Mean across `axis`; integer inputs stay integer and truncate."
reduce_max.__doc__ = "Maximum across `axis`; the gradient is split equally among ties."
reduce_min.__doc__ = "Minimum across `axis`; the gradient is split equally among ties."
reduce_prod.__doc__ = "Product across `axis`; the gradient is exact where inputs are zero."
reduce_any.__doc__ = "Logical OR of a bool tensor across `axis` (`tf.reduce_any`)."
reduce_all.__doc__ = "Logical AND of a bool tensor across `axis` (`tf.reduce_all`)."
reduce_euclidean_norm.__doc__ = "sqrt(sum(x * conj(x))) across `axis`."


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) across `axis`, computed stably by subtracting the maximum first."""
    x = convert_to_tensor(input_tensor)
    axis = normalize_axis(axis, "reduce_logsumexp")
    raw_max = reduce_max(x, axis, keepdims=True)
    # A non-finite maximum (all -inf, or inf) is replaced by 0 so the subtraction stays finite.
    finite = array_ops.cast(math_ops.is_finite(raw_max), x.dtype)
    shift = array_ops.stop_gradient(math_ops.multiply_no_nan(raw_max, finite))
    total = reduce_sum(math_ops.exp(math_ops.subtract(x, shift)), axis, keepdims=keepdims)
    # Summing the kept size-1 axes of `shift` drops them when keepdims is False.
    return math_ops.add(math_ops.log(total), reduce_sum(shift, axis, keepdims=keepdims))


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Variance across `axis` (the mean of squared deviations; real for complex input)."""
    x = convert_to_tensor(input_tensor)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(f"reduce_variance: input must be float or complex, got {x.dtype.name}")
    axis = normalize_axis(axis, "reduce_variance")
    diff = math_ops.subtract(x, reduce_mean(x, axis, keepdims=True))
    if x.dtype.is_complex:
        squared = math_ops.real(math_ops.multiply(diff, math_ops.conj(diff)))
    else:
        squared = math_ops.square(diff)
    return reduce_mean(squared, axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Standard deviation across `axis`: sqrt(reduce_variance)."""
    return math_ops.sqrt(reduce_variance(input_tensor, axis, keepdims))


def count_nonzero(input, axis=None, keepdims=None, dtype=dtypes.int64, name=None):  # noqa: A002
    """The number of non-zero (non-False, non-empty) elements across `axis`."""
    x = convert_to_tensor(input)
    zero = False if x.dtype is dtypes.bool else (b"" if x.dtype is dtypes.string else 0)
    nonzero = array_ops.cast(math_ops.not_equal(x, zero), dtypes.int64)
    return array_ops.cast(reduce_sum(nonzero, axis, keepdims=bool(keepdims)), dtype)


# --- arg reductions and top_k ----------------------------------------------------------------

def _arg_reduction(name, function, replace_nan):
    def infer(x, axis, output_type):
        if x.shape is None:
            return Spec(None, output_type)
        rank = len(x.shape)
        if not -rank <= axis < max(rank, 1):
            raise errors.InvalidArgumentError(
                f"{name}: Expected dimension in the range [{-rank}, {rank}), but got {axis} "
                f"(input shape {list(x.shape)})")
        axis = axis % rank if rank else 0
        if rank and x.shape[axis] == 0:
            raise errors.InvalidArgumentError(
                f"{name}: Reduction axis {axis} is empty in shape {list(x.shape)}")
        return Spec(x.shape[:axis] + x.shape[axis + 1:], output_type)

    def kernel(xp, x, axis, output_type):
        if x.dtype.kind == "f":  # TF never selects a NaN: it compares with > / <
            x = xp.where(x != x, replace_nan, x)
        return function(xp, x, axis if x.ndim else None).astype(output_type._np, copy=False)

    primitive(name, dtypes=REAL | {dtypes.bool})(type(name, (), {
        "infer": staticmethod(infer), "kernel": staticmethod(kernel)}))

    def public(input, axis=None, output_type=dtypes.int64, name=None):  # noqa: A002
        axis = 0 if axis is None else int(normalize_axis(axis, name_)[0])
        return execute(name_, input, axis=axis, output_type=dtypes.as_dtype(output_type),
                       name=name)

    name_ = name
    return public


argmax = _arg_reduction("ArgMax", lambda xp, x, axis: xp.argmax(x, axis=axis), -np.inf)
argmin = _arg_reduction("ArgMin", lambda xp, x, axis: xp.argmin(x, axis=axis), np.inf)
argmax.__doc__ = "Index of the largest value along `axis` (default 0), int64 by default."
argmin.__doc__ = "Index of the smallest value along `axis` (default 0), int64 by default."

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


@primitive("TopKV2", dtypes=REAL, num_outputs=2)
class TopK:
    def infer(x, k, index_type):
        if k < 0:
            raise errors.InvalidArgumentError(f"TopKV2: k must be non-negative, got {k}")
        if x.shape is None:
            return Spec(None, x.dtype), Spec(None, index_type)
        if not x.shape:
            raise errors.InvalidArgumentError(
                f"TopKV2: input must have at least 1 dimension, got shape {list(x.shape)}")
        if x.shape[-1] is not None and x.shape[-1] < k:
            raise errors.InvalidArgumentError(
                f"TopKV2: input must have at least k={k} columns, got shape {list(x.shape)}")
        shape = x.shape[:-1] + (k,)
        return Spec(shape, x.dtype), Spec(shape, index_type)

    def kernel(xp, x, k, index_type):
        # Stable descending order (ties keep the lower index first, NaN counts as largest):
        # a stable ascending sort of the reversed row, read backwards.
        n = x.shape[-1]
        order = xp.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1][..., :k]
        indices = (n - 1) - order
        values = xp.take_along_axis(x, indices, axis=-1)
        return values, indices.astype(index_type._np)

    def grad(op, dvalues, dindices):
        return [_scatter_last_axis(dvalues, op.outputs[1], op.inputs[0])]


def _scatter_last_axis(updates, indices, x):
    """Zeros of x's shape with `updates` added at `indices` along the last axis."""
    from ndflow.ops import manip  # noqa: PLC0415

    shape = array_ops.shape(x, out_type=indices.dtype)
    lead, last = manip.split(shape, [x.shape.rank - 1, 1])
    rows = reduce_prod(lead)
    columns = array_ops.reshape(last, [])
    offsets = cumsum(array_ops.fill(array_ops.reshape(rows, [1]), columns), exclusive=True)
    offsets = array_ops.reshape(offsets, manip.concat([lead, _int32([1])], 0))
    flat = array_ops.reshape(math_ops.add(indices, offsets), [-1])
    dense = unsorted_segment_sum(array_ops.reshape(updates, [-1]), flat,
                                 math_ops.multiply(rows, columns))
    return array_ops.reshape(dense, shape)


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):  # noqa: A002
    """The k largest entries of the last axis, in descending order, and their indices.

    Returns a `TopKV2(values, indices)` tuple; among equal values the lower index comes first.
    """
    return TopKV2(*execute("TopKV2", input, k=int(k), index_type=dtypes.as_dtype(index_type),
                           name=name))


# --- scans -----------------------------------------------------------------------------------

def _scan_kernel(function, identity):
    def kernel(xp, x, axis, exclusive, reverse):
        moved = xp.moveaxis(x, axis, 0)
        if reverse:
            moved = moved[::-1]
        if exclusive:
            start = xp.full_like(moved[:1], identity)
            result = xp.concatenate([start, function(moved[:-1], axis=0, dtype=x.dtype)])
        else:
            result = function(moved, axis=0, dtype=x.dtype)
        if reverse:
            result = result[::-1]
        return xp.moveaxis(result, 0, axis)

    return kernel


def _scan_infer(name):
    def infer(x, axis, exclusive, reverse):
        if x.shape is not None and not -len(x.shape) <= axis < len(x.shape):
            raise errors.InvalidArgumentError(
                f"{name}: axis {axis} is out of range for input of shape {list(x.shape)}")
        return Spec(x.shape, x.dtype)

    return infer


@primitive("Cumsum", dtypes=NUM)
class Cumsum:
    infer = _scan_infer("Cumsum")
    kernel = _scan_kernel(lambda a, axis, dtype: a.cumsum(axis=axis, dtype=dtype), 0)

    def grad(op, dy):
        return [cumsum(dy, op.get_attr("axis"), exclusive=op.get_attr("exclusive"),
                       reverse=not op.get_attr("reverse"))]


@primitive("Cumprod", dtypes=NUM)
class Cumprod:
    infer = _scan_infer("Cumprod")
    kernel = _scan_kernel(lambda a, axis, dtype: a.cumprod(axis=axis, dtype=dtype), 1)

    def grad(op, dy):
        # TF's formula: it divides by x, so it is NaN where x has zeros (as in TF).
        x = op.inputs[0]
        axis, exclusive, reverse = (op.get_attr(n) for n in ("axis", "exclusive", "reverse"))
        product = op.outputs[0]
        summed = cumsum(math_ops.multiply(product, dy), axis, exclusive=exclusive,
                        reverse=not reverse)
        return [math_ops.realdiv(summed, x)]


def _scan(op_name):
    def scan(x, axis=0, exclusive=False, reverse=False, name=None):
        x = convert_to_tensor(x)
        axis = int(normalize_axis(axis, op_name)[0])
        rank = x.shape.rank
        if rank and -rank <= axis < rank:  # out-of-range axes are reported by infer
            axis %= rank
        return execute(op_name, x, axis=axis, exclusive=bool(exclusive), reverse=bool(reverse),
                       name=name)

    return scan


cumsum = _scan("Cumsum")
cumprod = _scan("Cumprod")
cumsum.__doc__ = "Cumulative sum along `axis`; `exclusive` starts at 0, `reverse` from the end."
cumprod.__doc__ = "Cumulative product along `axis`; `exclusive` starts at 1."


# --- counting and segments -------------------------------------------------------------------

@primitive("Bincount", dtypes=INDEX, same_dtype=False)
class Bincount:
    def infer(arr, weights, minlength, maxlength, binary_output, batched):
        weighted = weights.shape not in (None, (0,), (None,))  # (0,) means no weights
        if weighted and arr.shape is not None and not _compatible(weights.shape, arr.shape):
            raise errors.InvalidArgumentError(
                f"Bincount: weights must have the shape of arr, got shapes {list(arr.shape)} "
                f"and {list(weights.shape)}")
        if batched:
            rows = None if arr.shape is None else arr.shape[0]
            return Spec((rows, None), weights.dtype)
        return Spec((None,), weights.dtype)

    def kernel(xp, arr, weights, minlength, maxlength, binary_output, batched):
        if arr.size and arr.min() < 0:
            raise errors.InvalidArgumentError("Bincount: input arr must be non-negative, got "
                                              f"minimum {int(arr.min())}")
        size = max(int(arr.max()) + 1 if arr.size else 0, minlength or 0)
        if maxlength is not None:
            size = min(size, maxlength)
        rows = arr.shape[0] if batched else 1
        keep = arr < size
        bins = (arr + xp.arange(rows).reshape((-1,) + (1,) * (arr.ndim - 1)) * size
                if batched else arr)
        weighted = weights.size and not binary_output
        counts = xp.bincount(bins[keep].reshape(-1), weights[keep].reshape(-1)
                             if weighted else None, minlength=rows * size)
        if binary_output:
            counts = xp.minimum(counts, 1)
        counts = counts.astype(weights.dtype, copy=False)
        return counts.reshape((rows, size)) if batched else counts


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None,
             axis=None, binary_output=False):
    """Counts occurrences of each value in a non-negative int tensor (`tf.math.bincount`).

    The output length is max(max(arr) + 1, minlength), capped at maxlength; with weights,
    each occurrence adds its weight. `axis=-1` counts each row of a 2-D `arr` separately.
    """
    arr = convert_to_tensor(arr, dtype_hint=dtypes.int32)
    if axis not in (None, 0, -1):
        raise errors.InvalidArgumentError(f"Bincount: axis must be None, 0 or -1, got {axis}")
    if weights is None:
        weights = array_ops.zeros([0], dtype=dtype)
    else:
        weights = convert_to_tensor(weights, dtype_hint=dtype)
    return execute("Bincount", arr, weights, minlength=minlength, maxlength=maxlength,
                   binary_output=bool(binary_output), batched=axis == -1, name=name)


def _compatible(shape_a, shape_b):
    return len(shape_a) == len(shape_b) and all(
        a is None or b is None or a == b for a, b in zip(shape_a, shape_b))


def _gather(params, indices):
    from ndflow.ops import indexing  # noqa: PLC0415 - indexing sits beside reduce

    return indexing.gather(params, indices)


def _segment_infer(name):
    def infer(data, segment_ids):
        if segment_ids.rank not in (None, 1):
            raise errors.InvalidArgumentError(
                f"{name}: segment_ids should be a vector, got shape {list(segment_ids.shape)}")
        if data.shape is None:
            return Spec(None, data.dtype)
        if not data.shape:
            raise errors.InvalidArgumentError(f"{name}: data must have at least one dimension, "
                                              f"got shape {list(data.shape)}")
        rows, ids = data.shape[0], segment_ids.shape[0] if segment_ids.shape else None
        if rows is not None and ids is not None and rows != ids:
            raise errors.InvalidArgumentError(
                f"{name}: segment_ids should be the same size as dimension 0 of data, got "
                f"shapes {list(segment_ids.shape)} and {list(data.shape)}")
        return Spec((None,) + data.shape[1:], data.dtype)

    return infer


def _segment_kernel(name, scatter, start, empty):
    """Sorted-segment reduction: `scatter(xp, out, ids, data)` accumulates rows into `out`."""

    def kernel(xp, data, segment_ids):
        if segment_ids.size and (xp.any(segment_ids[1:] < segment_ids[:-1])
                                 or segment_ids[0] < 0):
            raise errors.InvalidArgumentError(f"{name}: segment ids must be sorted and "
                                              f"non-negative, got {segment_ids.tolist()}")
        count = int(segment_ids[-1]) + 1 if segment_ids.size else 0
        out = xp.full((count,) + data.shape[1:], start(xp, data.dtype), dtype=data.dtype)
        scatter(xp, out, segment_ids, data)
        if empty is not None:
            filled = xp.bincount(segment_ids, minlength=count) > 0
            out[~filled] = empty
        return out

    return kernel


def _lowest(xp, dtype):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


def _segment_counts(data, segment_ids, dtype):
    ones = array_ops.ones_like(segment_ids, dtype=dtype)
    counts = segment_sum(ones, segment_ids)
    extra = [1] * (data.shape.rank - 1)
    return array_ops.reshape(counts, [-1] + extra)


@primitive("SegmentSum", dtypes=NUM, same_dtype=False)
class SegmentSum:
    infer = _segment_infer("SegmentSum")
    kernel = _segment_kernel("SegmentSum", lambda xp, out, ids, d: xp.add.at(out, ids, d),
                             lambda xp, dtype: 0, None)

    def grad(op, dy):
        return [_gather(dy, op.inputs[1]), None]


@primitive("SegmentMean", dtypes=NUM, same_dtype=False)
class SegmentMean:
    infer = _segment_infer("SegmentMean")

    def kernel(xp, data, segment_ids):
        total = _segment_kernel("SegmentMean", lambda xp, out, ids, d: xp.add.at(out, ids, d),
                                lambda xp, dtype: 0, None)(xp, data, segment_ids)
        counts = xp.bincount(segment_ids, minlength=total.shape[0]).reshape(
            (-1,) + (1,) * (data.ndim - 1))
        if data.dtype.kind in "iu":
            return (total // xp.maximum(counts, 1)).astype(data.dtype)
        return (total / xp.maximum(counts, 1)).astype(data.dtype)

    def grad(op, dy):
        data, segment_ids = op.inputs
        counts = _segment_counts(data, segment_ids, dy.dtype)
        return [_gather(math_ops.realdiv(dy, counts), segment_ids), None]


def _segment_extreme_grad(op, dy):
    """The gradient goes to the elements equal to their segment's extreme, split among ties."""
    data, segment_ids = op.inputs
    chosen = array_ops.cast(math_ops.equal(data, _gather(op.outputs[0], segment_ids)), dy.dtype)
    ties = segment_sum(chosen, segment_ids)
    return [math_ops.multiply(chosen, _gather(math_ops.divide_no_nan(dy, ties), segment_ids)),
            None]


@primitive("SegmentMax", dtypes=REAL, same_dtype=False)
class SegmentMax:
    infer = _segment_infer("SegmentMax")
    kernel = _segment_kernel("SegmentMax", lambda xp, out, ids, d: xp.maximum.at(out, ids, d),
                             _lowest, 0)  # TF: an empty segment gives 0
    grad = _segment_extreme_grad


@primitive("SegmentMin", dtypes=REAL, same_dtype=False)
class SegmentMin:
    infer = _segment_infer("SegmentMin")
    kernel = _segment_kernel("SegmentMin", lambda xp, out, ids, d: xp.minimum.at(out, ids, d),
                             lambda xp, dtype: -_lowest(xp, dtype) if dtype.kind == "f"
                             else xp.iinfo(dtype).max, 0)
    grad = _segment_extreme_grad


def segment_sum(data, segment_ids, name=None):
    """Sums the rows of `data` that share a (sorted) segment id (`tf.math.segment_sum`)."""
    return execute("SegmentSum", data, segment_ids, name=name)


def segment_mean(data, segment_ids, name=None):
    """Means of the rows of `data` per sorted segment id; empty segments give 0."""
    return execute("SegmentMean", data, segment_ids, name=name)


def segment_max(data, segment_ids, name=None):
    """Maxima of the rows of `data` per sorted segment id; empty segments give 0."""
    return execute("SegmentMax", data, segment_ids, name=name)


def segment_min(data, segment_ids, name=None):
    """Minima of the rows of `data` per sorted segment id; empty segments give 0."""
    return execute("SegmentMin", data, segment_ids, name=name)


_COMPILED_SUMS = frozenset(["float32", "float64", "int32", "int64"])


def _segment_sum_sorted(xp, out, ids, rows):
    """out[ids[i]] += rows[i] for every i, the rows of each segment added in index order (as
    add.at adds them), by a stable sort: the k-th rows of all segments are added in one
    vectorised step (few steps when segments are short, as in an embedding gradient: 4.7 ms ->
    ~1 ms for 6,400 rows of 64), or by reduceat when some segment is long."""
    order = xp.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    sorted_rows = rows[order]
    first = xp.empty(ids.shape, dtype=bool)
    first[0] = True
    xp.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    starts = xp.flatnonzero(first)
    rank = xp.arange(ids.size) - starts[xp.cumsum(first) - 1]
    longest = int(rank.max()) + 1
    if longest > 16:
        out[sorted_ids[starts]] = xp.add.reduceat(sorted_rows, starts, axis=0)
        return
    out[sorted_ids[first]] = sorted_rows[first]
    for k in range(1, longest):
        step = rank == k
        out[sorted_ids[step]] += sorted_rows[step]  # ids are distinct within one step


@primitive("UnsortedSegmentSum", dtypes=NUM, same_dtype=False, input_dtypes={2: dtypes.int32})
class UnsortedSegmentSum:
    def infer(data, segment_ids, num_segments):
        count = None if num_segments.value is None else int(num_segments.value)
        if data.shape is None or segment_ids.shape is None:
            return Spec(None, data.dtype)
        prefix = data.shape[:len(segment_ids.shape)]
        if any(a is not None and b is not None and a != b
               for a, b in zip(prefix, segment_ids.shape)) or len(prefix) < len(
                   segment_ids.shape):
            raise errors.InvalidArgumentError(
                f"UnsortedSegmentSum: segment_ids.shape must be a prefix of data.shape, got "
                f"shapes {list(segment_ids.shape)} and {list(data.shape)}")
        return Spec((count,) + data.shape[len(segment_ids.shape):], data.dtype)

    def kernel(xp, data, segment_ids, num_segments):
        count = int(num_segments)
        if segment_ids.size and segment_ids.max() >= count:
            raise errors.InvalidArgumentError(
                f"UnsortedSegmentSum: segment_ids[{int(xp.argmax(segment_ids >= count))}] = "
                f"{int(segment_ids.max())} is out of range [0, {count})")
        out = xp.zeros((count,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
        ids = segment_ids.reshape(-1)
        rows = data.reshape((ids.size,) + out.shape[1:])
        compiled_kernels = compiled.kernels(xp) if data.dtype.name in _COMPILED_SUMS else None
        if compiled_kernels is not None and out.size and ids.size:
            compiled_kernels.segment_sum_rows(ids, xp.ascontiguousarray(rows).reshape(
                ids.size, -1), out.reshape(count, -1))
            return out
        keep = ids >= 0  # negative ids are dropped, as TF
        if not keep.all():
            ids, rows = ids[keep], rows[keep]
        if ids.size and rows.ndim > 1 and xp.__name__ == "numpy":
            _segment_sum_sorted(xp, out, ids, rows)
        else:
            xp.add.at(out, ids, rows)
        return out

    def grad(op, dy):
        segment_ids = op.inputs[1]
        # Gather with negative ids clipped to 0, then zero those rows (TF's GatherDropNegatives).
        gathered = _gather(dy, math_ops.maximum(segment_ids, 0))
        keep = array_ops.cast(math_ops.greater_equal(segment_ids, 0), dy.dtype)
        extra = gathered.shape.rank - segment_ids.shape.rank
        keep = array_ops.reshape(keep, _ids_shape_with_ones(segment_ids, extra))
        return [math_ops.multiply(gathered, keep), None, None]


def _ids_shape_with_ones(ids, extra):
    """ids' shape followed by `extra` ones (static when known)."""
    if ids.shape.is_fully_defined():
        return ids.shape.as_list() + [1] * extra
    from ndflow.ops import manip  # noqa: PLC0415

    return manip.concat([array_ops.shape(ids), _int32([1] * extra)], 0)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums rows of `data` into `num_segments` rows by id, in any order; negative ids are
    dropped (`tf.math.unsorted_segment_sum`). The gradient is a gather."""
    return execute("UnsortedSegmentSum", data, segment_ids, num_segments, name=name)


_BOTH = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
         "reduce_all", "reduce_logsumexp", "argmax", "argmin", "cumsum"]
API = {
    "": _BOTH,
    "math": _BOTH + ["reduce_std", "reduce_variance", "reduce_euclidean_norm", "count_nonzero",
                     "top_k", "cumprod", "bincount", "segment_sum", "segment_mean",
                     "segment_max", "segment_min", "unsorted_segment_sum"],
    "nn": ["top_k"],
}
