"""Index-based ops: slice and strided_slice (and `Tensor.__getitem__` on top of them), gather and
gather_nd, scatter_nd and the tensor_scatter_nd_* family, where/select and boolean_mask.

Ops that move whole dimensions (transpose, concat, pad ...) live in `manip.py`.
"""

import builtins

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, IndexedSlices, Tensor, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import manip

ANY = dtypes.ANY
INDEX_DTYPES = frozenset([dtypes.int32, dtypes.int64])


def _values(spec):
    return None if spec.value is None else [int(v) for v in np.asarray(spec.value).reshape(-1)]


def _index_check(op_name, spec, what="indices"):
    if spec.dtype not in INDEX_DTYPES:
        raise errors.InvalidArgumentError(
            f"{op_name}: {what} must be int32 or int64, got {spec.dtype.name}")


# --- slice -----------------------------------------------------------------------------------

def _slice_bounds(shape, begin, size):
    """Validated (begin, size) per dimension, with size -1 resolved; raises TF's errors."""
    if len(begin) != len(shape) or len(size) != len(shape):
        raise errors.InvalidArgumentError(
            f"Slice: Expected begin and size arguments to be 1-D tensors of size {len(shape)}, "
            f"but got {len(begin)} and {len(size)} (input shape {list(shape)})")
    resolved = []
    for i, (dim, b, s) in enumerate(zip(shape, begin, size)):
        if dim is None:
            resolved.append((b, None if s == -1 else s))
            continue
        if s == -1:
            s = dim - b
        if not 0 <= b <= dim:
            raise errors.InvalidArgumentError(
                f"Slice: Expected begin[{i}] in [0, {dim}], but got {b} (input shape "
                f"{list(shape)})")
        if not 0 <= s <= dim - b:
            raise errors.InvalidArgumentError(
                f"Slice: Expected size[{i}] in [0, {dim - b}], but got {s} (input shape "
                f"{list(shape)}, begin {list(begin)})")
        resolved.append((b, s))
    return resolved


@primitive("Slice", dtypes=ANY, same_dtype=False, input_dtypes={1: dtypes.int32, 2: dtypes.int32})
class Slice:
    def infer(x, begin, size):
        _index_check("Slice", begin, "begin")
        _index_check("Slice", size, "size")
        begin_v, size_v = _values(begin), _values(size)
        if x.shape is None:
            return Spec(None if size_v is None else (None,) * len(size_v), x.dtype)
        if begin_v is None or size_v is None:
            return Spec((None,) * len(x.shape), x.dtype)
        return Spec([s for _, s in _slice_bounds(x.shape, begin_v, size_v)], x.dtype)

    def kernel(xp, x, begin, size):
        bounds = _slice_bounds(x.shape, begin.tolist(), size.tolist())
        return x[tuple(builtins.slice(b, b + s) for b, s in bounds)]

    def grad(op, dy):
        # TF pads dy back to the input shape: before = begin, after = rest
        x, begin = op.inputs[:2]
        begin = array_ops.cast(begin, dtypes.int32)
        after = array_ops.shape(x) - array_ops.shape(op.outputs[0]) - begin
        return [manip.pad(dy, manip.stack([begin, after], axis=1)), None, None]


def slice(input_, begin, size, name=None):  # noqa: A001 - TF's name
    """Extracts `size[i]` elements from `begin[i]` on in each dimension; -1 takes the rest."""
    return execute("Slice", input_, array_ops._shape_input(begin), array_ops._shape_input(size),
                   name=name)


# --- strided slice ---------------------------------------------------------------------------

def _strided_key(op_name, begin, end, strides, begin_mask, end_mask, ellipsis_mask,
                 new_axis_mask, shrink_axis_mask):
    """The NumPy index tuple for TF's strided-slice spec (Python slices clamp like TF's)."""
    if not len(begin) == len(end) == len(strides):
        raise errors.InvalidArgumentError(
            f"{op_name}: Expected begin, end, and strides to be 1D equal size tensors, but got "
            f"sizes {len(begin)}, {len(end)}, and {len(strides)} instead")
    if bin(ellipsis_mask).count("1") > 1:
        raise errors.InvalidArgumentError(
            f"{op_name}: Multiple ellipses in slice spec not allowed")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif s == 0:
            raise errors.InvalidArgumentError(f"{op_name}: strides[{i}] must be non-zero")
        elif shrink_axis_mask & bit:
            key.append((0 if s > 0 else -1) if begin_mask & bit else b)
        else:
            key.append(builtins.slice(None if begin_mask & bit else b,
                                      None if end_mask & bit else e, s))
    if not any(k is Ellipsis for k in key):
        key.append(Ellipsis)  # implicit trailing ellipsis; also makes int-only keys give arrays
    return tuple(key)


def _strided_shape(op_name, shape, key):
    """Output shape of `array[key]` for a static shape (None dims allowed); validates."""
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    rank = len(shape)
    if used > rank:
        raise errors.InvalidArgumentError(
            f"{op_name}: Index out of range using input dim {rank}; input has only {rank} dims "
            f"(input shape {list(shape)})")
    out = []
    dim = 0
    for k in key:
        if k is None:
            out.append(1)
        elif k is Ellipsis:
            out.extend(shape[dim:dim + rank - used])
            dim += rank - used
        elif isinstance(k, int):
            size = shape[dim]
            if size is not None and not -size <= k < size:
                raise errors.InvalidArgumentError(
                    f"{op_name}: slice index {k} of dimension {dim} out of bounds (input shape "
                    f"{list(shape)})")
            dim += 1
        else:
            size = shape[dim]
            out.append(None if size is None else len(builtins.range(*k.indices(size))))
            dim += 1
    return tuple(out)


_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


@primitive("StridedSlice", dtypes=ANY, same_dtype=False,
           input_dtypes={1: dtypes.int32, 2: dtypes.int32, 3: dtypes.int32})
class StridedSlice:
    def infer(x, begin, end, strides, **masks):
        for name, spec in (("begin", begin), ("end", end), ("strides", strides)):
            _index_check("StridedSlice", spec, name)
        specs = [_values(begin), _values(end), _values(strides)]
        if x.shape is None or None in specs:
            return Spec(None, x.dtype)
        key = _strided_key("StridedSlice", *specs, **masks)
        return Spec(_strided_shape("StridedSlice", x.shape, key), x.dtype)

    def kernel(xp, x, begin, end, strides, **masks):
        key = _strided_key("StridedSlice", begin.tolist(), end.tolist(), strides.tolist(),
                           **masks)
        return x[key]

    def grad(op, dy):
        x, begin, end, strides = op.inputs
        dx = execute("StridedSliceGrad", array_ops.shape(x, out_type=begin.dtype), begin, end,
                     strides, dy, **_attrs_for(op, _MASKS))
        return [dx, None, None, None]


@primitive("StridedSliceGrad", dtypes=ANY, same_dtype=False)
class StridedSliceGrad:
    """Scatters `dy` into zeros of `shape` at the positions a StridedSlice read."""

    def infer(shape, begin, end, strides, dy, **masks):
        target = array_ops._value_shape(shape, "StridedSliceGrad")
        return Spec(target, dy.dtype)

    def kernel(xp, shape, begin, end, strides, dy, **masks):
        key = _strided_key("StridedSliceGrad", begin.tolist(), end.tolist(), strides.tolist(),
                           **masks)
        result = xp.zeros(tuple(shape.tolist()), dtype=dy.dtype)
        result[key] = dy
        return result

    def grad(op, ddy):
        begin, end, strides = op.inputs[1:4]
        return [None, None, None, None,
                execute("StridedSlice", ddy, begin, end, strides, **_attrs_for(op, _MASKS))]


def _attrs_for(op, names):
    return {name: op.get_attr(name) for name in names}


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """Extracts a strided slice (`tf.strided_slice`), the op behind `tensor[...]`.

    Entry i of `begin`/`end`/`strides` applies to dimension i, unless bit i of a mask says
    otherwise: `begin_mask`/`end_mask` ignore begin[i]/end[i] (take the full range),
    `ellipsis_mask` makes entry i a `...`, `new_axis_mask` inserts a dimension of size 1, and
    `shrink_axis_mask` takes the single element begin[i] and drops the dimension.
    """
    begin = array_ops._shape_input(begin)
    end = array_ops._shape_input(end)
    strides = array_ops.ones_like(begin) if strides is None else array_ops._shape_input(strides)
    return execute("StridedSlice", input_, begin, end, strides, begin_mask=begin_mask,
                   end_mask=end_mask, ellipsis_mask=ellipsis_mask, new_axis_mask=new_axis_mask,
                   shrink_axis_mask=shrink_axis_mask, name=name)


# --- Tensor.__getitem__ ----------------------------------------------------------------------

_INDEX_HELP = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
               "tf.int32/tf.int64 tensors are valid indices")


def _scalar_index(value):
    """An index entry as a Python int or a scalar int tensor; TypeError for anything else."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, Tensor) and value.dtype in INDEX_DTYPES and value.shape.rank == 0:
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    raise TypeError(f"{_INDEX_HELP}, got {value!r}")


def _is_boolean_index(key):
    if isinstance(key, (bool, np.bool_)):
        return True
    if isinstance(key, Tensor):
        return key.dtype is dtypes.bool
    return isinstance(key, np.ndarray) and key.dtype == np.bool_


def _slice_spec(key):
    """TF's slice spec for a `__getitem__` key: begin, end, strides lists and the masks."""
    begin, end, strides = [], [], []
    masks = dict.fromkeys(_MASKS, 0)
    for i, item in enumerate(key):
        bit = 1 << i
        if isinstance(item, builtins.slice):
            start, stop, step = (None if v is None else _scalar_index(v)
                                 for v in (item.start, item.stop, item.step))
            begin.append(0 if start is None else start)
            end.append(0 if stop is None else stop)
            strides.append(1 if step is None else step)
            masks["begin_mask"] |= bit if start is None else 0
            masks["end_mask"] |= bit if stop is None else 0
        elif item is Ellipsis or item is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["ellipsis_mask" if item is Ellipsis else "new_axis_mask"] |= bit
        else:
            index = _scalar_index(item)
            begin.append(index)
            end.append(index + 1 if isinstance(index, int) else index)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    return begin, end, strides, masks


def _pack_indices(values):
    """A list of ints and scalar tensors as one index vector (int64 if any tensor is)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = dtypes.int64 if any(t.dtype is dtypes.int64 for t in tensors) else dtypes.int32
    if not tensors:
        return EagerTensor(np.asarray(values, dtype=dtype.as_numpy_dtype).reshape(-1), dtype)
    return manip.stack([array_ops.cast(v, dtype) if isinstance(v, Tensor)
                        else array_ops.constant(v, dtype) for v in values])


def _getitem(tensor, key):
    """`tensor[key]` with TF's rules: ints, slices, `...`, None/tf.newaxis, scalar int tensors,
    or a boolean mask (a bool tensor or array) for `boolean_mask`."""
    if _is_boolean_index(key):
        return boolean_mask(tensor, key)
    if not isinstance(key, (list, tuple)):
        key = [key]
    begin, end, strides, masks = _slice_spec(key)
    return execute("StridedSlice", tensor, _pack_indices(begin), _pack_indices(end),
                   _pack_indices(strides), **masks)


Tensor._override_operator("__getitem__", _getitem)


# --- gather ----------------------------------------------------------------------------------

def _out_of_range(op_name, indices, limit):
    """TF's message for the first index outside [0, limit)."""
    bad = np.argwhere((indices < 0) | (indices >= limit))[0]
    where = ",".join(str(int(i)) for i in bad)
    return errors.InvalidArgumentError(
        f"{op_name}: indices[{where}] = {indices[tuple(bad)]} is not in [0, {limit})")


def _gather_axes(params, indices, axis, batch_dims):
    """Normalized (axis, batch_dims) for GatherV2, with TF's checks."""
    p_rank, i_rank = len(params.shape), len(indices.shape)
    if not -p_rank <= axis < max(p_rank, 1):
        raise errors.InvalidArgumentError(
            f"GatherV2: Expected axis in the range [{-p_rank}, {p_rank}), but got {axis} "
            f"(params shape {list(params.shape)})")
    axis %= max(p_rank, 1)
    if batch_dims < 0:
        batch_dims += i_rank
    if not 0 <= batch_dims <= min(axis, i_rank):
        raise errors.InvalidArgumentError(
            f"GatherV2: batch_dims ({batch_dims}) must be in [0, min(axis={axis}, "
            f"indices rank={i_rank})], params shape {list(params.shape)}, indices shape "
            f"{list(indices.shape)}")
    for i in builtins.range(batch_dims):
        p, q = params.shape[i], indices.shape[i]
        if p is not None and q is not None and p != q:
            raise errors.InvalidArgumentError(
                f"GatherV2: params.shape[{i}]: {p} should be equal to indices.shape[{i}]: {q}")
    return axis, batch_dims


@primitive("GatherV2", dtypes=ANY, same_dtype=False, input_dtypes={1: dtypes.int32})
class GatherV2:
    def infer(params, indices, axis, batch_dims):
        _index_check("GatherV2", indices)
        if params.shape is None or indices.shape is None:
            return Spec(None, params.dtype)
        axis, batch_dims = _gather_axes(params, indices, axis, batch_dims)
        limit = params.shape[axis] if params.shape else None
        if indices.value is not None and limit is not None and indices.value.size:
            if indices.value.min() < 0 or indices.value.max() >= limit:
                raise _out_of_range("GatherV2", np.asarray(indices.value), limit)
        shape = params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]
        return Spec(shape, params.dtype)

    def kernel(xp, params, indices, axis, batch_dims):
        axis %= max(params.ndim, 1)
        limit = params.shape[axis]
        if indices.size and (indices.min() < 0 or indices.max() >= limit):
            raise IndexError("GatherV2: index out of range")
        if batch_dims == 0:
            return xp.take(params, indices, axis=axis)
        shape = params.shape
        batch = int(np.prod(shape[:batch_dims]))
        outer = int(np.prod(shape[batch_dims:axis]))
        inner = int(np.prod(shape[axis + 1:]))
        flat = params.reshape(batch, outer, limit, inner)
        picks = indices.reshape(batch, -1)
        result = flat[xp.arange(batch)[:, None, None], xp.arange(outer)[None, :, None],
                      picks[:, None, :]]
        return result.reshape(shape[:axis] + indices.shape[batch_dims:] + shape[axis + 1:])

    def grad(op, dy):
        params, indices = op.inputs
        axis, batch_dims = op.get_attr("axis"), op.get_attr("batch_dims")
        if axis == 0 and batch_dims == 0:
            # TF's sparse gradient: the rows of dy, tagged with the rows of params they came from
            params_shape = array_ops.shape(params)
            values_shape = manip.concat([[-1], params_shape[1:]], 0)
            return [IndexedSlices(array_ops.reshape(dy, values_shape),
                                  array_ops.reshape(indices, [-1]), params_shape), None]
        return [_gather_dense_grad(dy, params, indices, axis, batch_dims), None]


def _gather_dense_grad(dy, params, indices, axis, batch_dims):
    """Sums dy's slices back into params' positions: GatherV2's gradient for axis/batch_dims > 0.

    View params as [batch, outer, limit, inner] and dy as [batch, outer, count, inner]; each
    (batch, index) pair becomes one row of a scatter_nd into [batch * limit, outer, inner].
    """
    batch, outer, limit, inner, count = _gather_sizes(params, indices, axis, batch_dims)
    rows = manip.transpose(array_ops.reshape(dy, _dims(batch, outer, count, inner)), [0, 2, 1, 3])
    rows = array_ops.reshape(rows, _dims(batch * count, outer, inner))
    offsets = array_ops.range(0, batch * limit, limit, dtype=indices.dtype)
    targets = array_ops.reshape(indices, _dims(batch, count)) + array_ops.reshape(offsets, [-1, 1])
    summed = scatter_nd(array_ops.reshape(targets, [-1, 1]), rows,
                        _dims(batch * limit, outer, inner))
    summed = array_ops.reshape(summed, _dims(batch, limit, outer, inner))
    return array_ops.reshape(manip.transpose(summed, [0, 2, 1, 3]), array_ops.shape_of(params))


def _gather_sizes(params, indices, axis, batch_dims):
    """(batch, outer, limit, inner, count) as ints when shapes are static, else int32 tensors."""
    if params.shape.is_fully_defined() and indices.shape.is_fully_defined():
        dims = params.shape.as_list()
        count = int(np.prod(indices.shape.as_list()[batch_dims:]))
        product = np.prod
    else:
        from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415 - reduce is above indexing

        dims = array_ops.shape(params)
        count = reduce_ops.reduce_prod(array_ops.shape(indices)[batch_dims:])
        product = reduce_ops.reduce_prod
    sizes = (product(dims[:batch_dims]), product(dims[batch_dims:axis]), dims[axis],
             product(dims[axis + 1:]), count)
    return tuple(s if isinstance(s, Tensor) else int(s) for s in sizes)


def _dims(*sizes):
    """A shape argument from ints and int32 scalar tensors."""
    if any(isinstance(s, Tensor) for s in sizes):
        return manip.stack([array_ops.cast(s, dtypes.int32) if isinstance(s, Tensor) else s
                            for s in sizes])
    return list(sizes)


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Gathers slices of `params` along `axis` at `indices` (`tf.gather`).

    The output shape is `params.shape[:axis] + indices.shape[batch_dims:] +
    params.shape[axis + 1:]`. An index outside [0, params.shape[axis]) raises
    InvalidArgumentError (as TF does on CPU). The gradient for axis 0 is an IndexedSlices.
    """
    params = params if isinstance(params, Tensor) else convert_to_tensor(params)
    indices = convert_to_tensor(indices, dtype_hint=dtypes.int32)
    batch_dims = int(batch_dims)
    axis = batch_dims if axis is None else manip.static_ints(axis, "GatherV2", "axis")[0]
    if params.shape.rank is not None and axis < 0:
        axis += params.shape.rank
    if indices.shape.rank is not None and batch_dims < 0:
        batch_dims += indices.shape.rank
    return execute("GatherV2", params, indices, axis=axis, batch_dims=batch_dims, name=name)


# --- gather_nd and scatter -------------------------------------------------------------------

def _nd_out_of_range(op_name, indices, bounds, what):
    flat = indices.reshape(-1, indices.shape[-1])
    bad = int(np.argwhere(((flat < 0) | (flat >= np.asarray(bounds))).any(axis=1))[0][0])
    return errors.InvalidArgumentError(
        f"{op_name}: indices[{bad}] = {flat[bad].tolist()} does not index into {what} "
        f"{list(bounds) if what == 'shape' else list(bounds)}")


def _nd_in_range(xp, indices, bounds):
    if not indices.size:
        return True
    limits = xp.asarray(bounds, dtype=indices.dtype)
    return not bool(((indices < 0) | (indices >= limits)).any())


def _nd_key(xp, indices):
    return tuple(xp.moveaxis(indices, -1, 0))


@primitive("GatherNd", dtypes=ANY, same_dtype=False, input_dtypes={1: dtypes.int32})
class GatherNd:
    def infer(params, indices):
        _index_check("GatherNd", indices)
        if indices.rank == 0:
            raise errors.InvalidArgumentError("GatherNd: indices must be at least a vector, "
                                              "got a scalar")
        if params.shape is None or indices.shape is None or indices.shape[-1] is None:
            return Spec(None, params.dtype)
        depth = indices.shape[-1]
        if depth > len(params.shape):
            raise errors.InvalidArgumentError(
                f"GatherNd: index innermost dimension length must be <= params rank; saw: "
                f"{depth} vs. {len(params.shape)} (params shape {list(params.shape)})")
        bounds = params.shape[:depth]
        if indices.value is not None and None not in bounds and \
                not _nd_in_range(np, np.asarray(indices.value), bounds):
            full = list(params.shape)
            error = _nd_out_of_range("GatherNd", np.asarray(indices.value), bounds, "shape")
            raise errors.InvalidArgumentError(f"{error.message.split(' does ')[0]} does not "
                                              f"index into param shape {full}")
        return Spec(indices.shape[:-1] + params.shape[depth:], params.dtype)

    def kernel(xp, params, indices):
        depth = indices.shape[-1]
        if depth > params.ndim or not _nd_in_range(xp, indices, params.shape[:depth]):
            raise IndexError("GatherNd: index out of range")
        if depth == 0:
            return xp.broadcast_to(params, indices.shape[:-1] + params.shape).copy()
        return xp.asarray(params[_nd_key(xp, indices)])

    def grad(op, dy):
        params, indices = op.inputs
        return [scatter_nd(indices, dy, array_ops.shape(params, out_type=indices.dtype)), None]


def gather_nd(params, indices, batch_dims=0, name=None):
    """Gathers slices of `params` at the index tuples in the last axis of `indices`.

    With `batch_dims` b, the first b dimensions of params and indices are batch dimensions and
    each index tuple addresses one batch element.
    """
    params = params if isinstance(params, Tensor) else convert_to_tensor(params)
    indices = convert_to_tensor(indices, dtype_hint=dtypes.int32)
    batch_dims = int(batch_dims)
    if batch_dims:
        indices = _with_batch_coordinates(indices, batch_dims)
    return execute("GatherNd", params, indices, name=name)


def _with_batch_coordinates(indices, batch_dims):
    """Prepends each index tuple with its batch position, turning a batched gather_nd into a
    plain one (shapes must be static)."""
    shape = indices.shape.as_list()
    outer = shape[:-1]
    coordinates = []
    for axis in builtins.range(batch_dims):
        view = [-1 if i == axis else 1 for i in builtins.range(len(outer))]
        positions = array_ops.reshape(array_ops.range(shape[axis], dtype=indices.dtype), view)
        coordinates.append(array_ops.broadcast_to(positions, outer))
    return manip.concat([manip.stack(coordinates, axis=-1), indices], axis=-1)


def _scatter_infer(op_name, indices, updates, target):
    """Checks updates.shape == indices.shape[:-1] + target[depth:] and the index range."""
    _index_check(op_name, indices)
    if indices.shape is None or updates.shape is None or target is None:
        return
    depth = indices.shape[-1] if indices.shape else None
    if depth is None:
        return
    if depth > len(target):
        raise errors.InvalidArgumentError(
            f"{op_name}: indices.shape[-1] must be <= the rank of the output, got indices "
            f"shape {list(indices.shape)} and shape {list(target)}")
    expected = indices.shape[:-1] + tuple(target[depth:])
    if len(expected) != len(updates.shape) or any(
            a is not None and b is not None and a != b for a, b in zip(expected, updates.shape)):
        raise errors.InvalidArgumentError(
            f"{op_name}: updates must have shape indices.shape[:-1] + shape[indices.shape[-1]:]"
            f" = {list(expected)}, got updates shape {list(updates.shape)} (indices shape "
            f"{list(indices.shape)}, shape {list(target)})")
    bounds = target[:depth]
    if indices.value is not None and None not in bounds and \
            not _nd_in_range(np, np.asarray(indices.value), bounds):
        raise _nd_out_of_range(op_name, np.asarray(indices.value), list(target), "shape")


@primitive("ScatterNd", dtypes=ANY, same_dtype=False,
           input_dtypes={0: dtypes.int32, 2: dtypes.int32})
class ScatterNd:
    def infer(indices, updates, shape):
        target = array_ops._value_shape(shape, "ScatterNd")
        _scatter_infer("ScatterNd", indices, updates, target)
        return Spec(target, updates.dtype)

    def kernel(xp, indices, updates, shape):
        shape = tuple(shape.tolist())
        depth = indices.shape[-1]
        if not _nd_in_range(xp, indices, shape[:depth]):
            raise IndexError("ScatterNd: index out of range")
        result = xp.zeros(shape, dtype=updates.dtype)
        xp.add.at(result, _nd_key(xp, indices), updates)  # repeated indices add up
        return result

    def grad(op, dy):
        indices = op.inputs[0]
        return [None, gather_nd(dy, indices), None]


def scatter_nd(indices, updates, shape, name=None):
    """Zeros of `shape` with `updates` added at the index tuples of `indices` (`tf.scatter_nd`).

    Repeated indices add up.
    """
    indices = convert_to_tensor(indices, dtype_hint=dtypes.int32)
    shape = array_ops._shape_input(shape)
    if shape.dtype is not indices.dtype:
        shape = array_ops.cast(shape, indices.dtype)
    return execute("ScatterNd", indices, updates, shape, name=name)


def _tensor_scatter_infer(name):
    def infer(tensor, indices, updates):
        _scatter_infer(name, indices, updates, tensor.shape)
        return Spec(tensor.shape, tensor.dtype)

    return infer


def _tensor_scatter_kernel(name, apply):
    def kernel(xp, tensor, indices, updates):
        depth = indices.shape[-1]
        if depth > tensor.ndim or not _nd_in_range(xp, indices, tensor.shape[:depth]):
            raise IndexError(f"{name}: index out of range")
        result = xp.array(tensor, copy=True)
        apply(xp, result, _nd_key(xp, indices), updates)
        return result

    return kernel


def _assign(xp, result, key, updates):
    result[key] = updates


def _scatter_update_grad(op, dy):
    indices, updates = op.inputs[1:]
    return [tensor_scatter_nd_update(dy, indices, array_ops.zeros_like(updates)), None,
            gather_nd(dy, indices)]


def _scatter_add_grad(op, dy):
    return [dy, None, gather_nd(dy, op.inputs[1])]


def _scatter_sub_grad(op, dy):
    return [dy, None, -gather_nd(dy, op.inputs[1])]


def _scatter_extremum_grad(op, dy):
    """TF's rule: ties between the old value and the updates share the gradient equally."""
    tensor, indices, updates = op.inputs
    output = op.outputs[0]
    from ndflow.ops import math as math_ops  # noqa: PLC0415 - math is above indexing

    tensor_hits = array_ops.cast(math_ops.equal(tensor, output), dy.dtype)
    update_hits = array_ops.cast(math_ops.equal(updates, gather_nd(output, indices)), dy.dtype)
    hits = tensor_hits + scatter_nd(indices, update_hits,
                                    array_ops.shape(tensor, out_type=indices.dtype))
    share = dy / hits
    return [share * tensor_hits, None, gather_nd(share, indices) * update_hits]


_TENSOR_SCATTER = {
    "TensorScatterUpdate": (_assign, _scatter_update_grad, ANY),
    "TensorScatterAdd": (lambda xp, r, k, u: xp.add.at(r, k, u), _scatter_add_grad,
                         dtypes.NUMERIC),
    "TensorScatterSub": (lambda xp, r, k, u: xp.subtract.at(r, k, u), _scatter_sub_grad,
                         dtypes.NUMERIC),
    "TensorScatterMax": (lambda xp, r, k, u: xp.maximum.at(r, k, u), _scatter_extremum_grad,
                         dtypes.REAL),
    "TensorScatterMin": (lambda xp, r, k, u: xp.minimum.at(r, k, u), _scatter_extremum_grad,
                         dtypes.REAL),
}
for _name, (_apply, _grad, _dtypes) in _TENSOR_SCATTER.items():
    primitive(_name, dtypes=_dtypes, same_dtype=(0, 2), input_dtypes={1: dtypes.int32})(
        type(_name, (), {"infer": staticmethod(_tensor_scatter_infer(_name)),
                         "kernel": staticmethod(_tensor_scatter_kernel(_name, _apply)),
                         "grad": staticmethod(_grad)}))


def _tensor_scatter(op_name):
    def function(tensor, indices, updates, name=None):
        indices = convert_to_tensor(indices, dtype_hint=dtypes.int32)
        return execute(op_name, tensor, indices, updates, name=name)

    function.__doc__ = (f"A copy of `tensor` with `updates` combined in at the index tuples "
                        f"of `indices` (`{op_name}`).")
    return function


tensor_scatter_nd_update = _tensor_scatter("TensorScatterUpdate")
tensor_scatter_nd_add = _tensor_scatter("TensorScatterAdd")
tensor_scatter_nd_sub = _tensor_scatter("TensorScatterSub")
tensor_scatter_nd_max = _tensor_scatter("TensorScatterMax")
tensor_scatter_nd_min = _tensor_scatter("TensorScatterMin")


# --- where, select, boolean_mask -------------------------------------------------------------

@primitive("Where", dtypes=ANY)
class Where:
    def infer(condition):
        return Spec((None, condition.rank), dtypes.int64)

    def kernel(xp, condition):
        return xp.argwhere(condition).astype(xp.int64)


@primitive("SelectV2", dtypes=ANY, same_dtype=(1, 2))
class SelectV2:
    def infer(condition, t, e):
        from ndflow.ops._factory import broadcast_shape  # noqa: PLC0415

        if condition.dtype is not dtypes.bool:
            raise errors.InvalidArgumentError(
                f"SelectV2: condition must be bool, got {condition.dtype.name}")
        shape = broadcast_shape("SelectV2", t.shape, e.shape)
        return Spec(broadcast_shape("SelectV2", condition.shape, shape), t.dtype)

    def kernel(xp, condition, t, e):
        return xp.where(condition, t, e)

    def grad(op, dy):
        condition, t, e = op.inputs
        zeros = array_ops.zeros_like(dy)
        return [None, array_ops.unbroadcast(where(condition, dy, zeros), t),
                array_ops.unbroadcast(where(condition, zeros, dy), e)]


def where(condition, x=None, y=None, name=None):
    """With x and y: elements of x where `condition` is true, else of y, all broadcast
    together (`tf.where`). With neither: the int64 coordinates [n, rank] of the true elements.
    """
    if (x is None) != (y is None):
        raise ValueError("where: x and y must both be non-None or both be None")
    if x is None:
        return execute("Where", condition, name=name)
    condition = convert_to_tensor(condition)
    if condition.dtype is not dtypes.bool:
        raise errors.InvalidArgumentError(
            f"SelectV2: condition must be bool, got {condition.dtype.name}")
    return execute("SelectV2", condition, x, y, name=name)


def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """The elements (or slices) of `tensor` where `mask` is true (`tf.boolean_mask`).

    The mask's dimensions match `tensor.shape[axis:axis + mask.ndim]`; those dimensions become
    one dimension holding the selected entries, in row-major order.
    """
    tensor = convert_to_tensor(tensor)
    mask = convert_to_tensor(mask)
    mask_rank = mask.shape.rank
    if mask_rank == 0:
        raise ValueError("boolean_mask: mask cannot be scalar")
    if mask_rank is None:
        raise ValueError("boolean_mask: the number of mask dimensions must be known")
    axis = 0 if axis is None else int(axis)
    shape = tensor.shape
    if shape.rank is not None:
        axis %= max(shape.rank, 1)
        covered = shape[axis:axis + mask_rank]
        if covered.rank != mask_rank or not covered.is_compatible_with(mask.shape):
            raise ValueError(
                f"boolean_mask: Shapes {tuple(covered.as_list())} and "
                f"{tuple(mask.shape.as_list())} are incompatible (tensor shape "
                f"{tuple(shape.as_list())}, mask shape {tuple(mask.shape.as_list())}, axis "
                f"{axis})")
    if shape.is_fully_defined():
        dims = shape.as_list()
        merged = int(np.prod(dims[axis:axis + mask_rank]))
        flat_shape = dims[:axis] + [merged] + dims[axis + mask_rank:]
    else:
        dynamic = array_ops.shape(tensor)
        flat_shape = manip.concat([dynamic[:axis], [-1], dynamic[axis + mask_rank:]], 0)
    flat = array_ops.reshape(tensor, flat_shape)
    positions = array_ops.reshape(where(array_ops.reshape(mask, [-1])), [-1])
    return gather(flat, positions, axis=axis, name=name)


API = {
    "": ["slice", "strided_slice", "gather", "gather_nd", "scatter_nd",
         "tensor_scatter_nd_update", "tensor_scatter_nd_add", "tensor_scatter_nd_sub",
         "tensor_scatter_nd_max", "tensor_scatter_nd_min", "where", "boolean_mask"],
}
