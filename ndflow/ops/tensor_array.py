"""tf.TensorArray and the functional loops built on it: map_fn, scan, foldl, foldr,
vectorized_map.

Eagerly a TensorArray is a Python list of tensors (reads return the very tensors written, so a
GradientTape sees through it). While a graph is built it is a dense "flow" tensor of shape
[size, *element_shape] updated functionally by the TensorArrayWrite op, so it can be a
while_loop variable and ordinary gathers, slices and reshapes (with their gradients) do the
rest. Until its first write a graph TensorArray with an unknown element shape has no flow;
while_loop discovers the element shape by tracing the body once. Limitation of the dense form:
in graph mode all elements share one shape (concat/split need equal lengths).
"""

from ndflow.framework import context, dtypes, errors
from ndflow.framework.graph import SymbolicTensor
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape, as_shape
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.ops import array as array_ops
from ndflow.ops import control_flow
from ndflow.util import nest

_state = context.state


@primitive("TensorArrayWrite", dtypes=None, same_dtype=(0, 2),
           input_dtypes={1: dtypes.int32})
class TensorArrayWrite:
    """Writes `value` at row `index` of the flow [size, *element_shape] (a copy). A flow
    holding no data takes the first value's element shape; `dynamic_size` grows it."""

    def infer(flow, index, value, dynamic_size):
        if index.shape is not None and len(index.shape) != 0:
            raise errors.InvalidArgumentError(
                f"TensorArrayWrite: index must be a scalar, got shape {index.shape}")
        if value.shape is None:
            return Spec(None, flow.dtype)
        size = None if dynamic_size or flow.shape is None else flow.shape[0]
        return Spec((size, *value.shape), flow.dtype)

    def kernel(xp, flow, index, value, dynamic_size):
        size, row = flow.shape[0], int(index)
        value = xp.asarray(value)
        if flow.shape[1:] != value.shape:
            if flow.size:
                raise errors.InvalidArgumentError(
                    f"TensorArrayWrite: could not write an element of shape {value.shape} to a "
                    f"TensorArray with element shape {flow.shape[1:]}")
            flow = xp.zeros((size, *value.shape), dtype=flow.dtype)
        if row < 0 or (row >= size and not dynamic_size):
            raise errors.OutOfRangeError(
                f"Tried to write to index {row} but array is not resizeable and size is: {size}")
        if row >= size:
            grown = xp.zeros((row + 1, *value.shape), dtype=flow.dtype)
            grown[:size] = flow
            flow = grown
        else:
            flow = flow.copy()
        flow[row] = value
        return flow

    def grad(op, dy):
        from ndflow.ops import indexing  # noqa: PLC0415

        flow, index, _ = op.inputs
        dvalue = indexing.gather(dy, index)
        cleared = indexing.tensor_scatter_nd_update(dy, array_ops.reshape(index, [1, 1]),
                                                    _expand0(array_ops.zeros_like(dvalue)))
        flow_shape = array_ops.shape(flow)
        dflow = indexing.slice(cleared, array_ops.zeros_like(flow_shape), flow_shape)
        return [dflow, None, dvalue]


def _expand0(tensor):
    from ndflow.ops import manip  # noqa: PLC0415

    return manip.expand_dims(tensor, 0)


def _in_graph():
    return _state.graph is not None


class TensorArray:
    """A list of tensors of one dtype, written and read by index (`tf.TensorArray`).

    `write`, `unstack`, `scatter` and `split` return a TensorArray holding the result (use it:
    in graph mode the original is unchanged). Reading an element never written gives zeros.

    Args:
      dtype: the element dtype.
      size: the number of elements (int or int32 scalar); optional with `dynamic_size`.
      dynamic_size: allow writes beyond `size` (the array grows).
      clear_after_read: accepted for TF compatibility (reads never clear).
      element_shape: optional static shape of every element.
      infer_shape: check that all elements have the same shape.
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        if size is None and not self._dynamic_size and flow is None:
            raise ValueError("TensorArray: size must be given unless dynamic_size=True")
        self._size = 0 if size is None else size
        self._infer_shape = infer_shape
        self._element_shape = as_shape(element_shape) if element_shape is not None else (
            TensorShape(None))
        self._eager = not _in_graph() and not isinstance(size, SymbolicTensor)
        self._items = None
        self._flow = flow
        if self._eager:
            self._items = [None] * int(convert_to_tensor(self._size))
        elif flow is None and self._element_shape.is_fully_defined():
            self._flow = self._zeros(self._element_shape.as_list())

    # --- metadata ----------------------------------------------------------------------------

    @property
    def dtype(self):
        return self._dtype

    @property
    def dynamic_size(self):
        return self._dynamic_size

    @property
    def element_shape(self):
        return self._element_shape

    @property
    def flow(self):
        return self._flow_tensor()

    @property
    def handle(self):
        return self._flow_tensor()

    def _copy(self, flow=None, items=None, element_shape=None):
        result = object.__new__(TensorArray)
        result.__dict__.update(self.__dict__)
        result._flow = flow if flow is not None else self._flow
        result._items = items if items is not None else self._items
        if element_shape is not None:
            result._element_shape = element_shape
        return result

    def _zeros(self, element_dims):
        """A flow of `size` zero elements (dims of 0 leave the element shape open)."""
        size = convert_to_tensor(self._size, dtype=dtypes.int32)
        from ndflow.ops import manip  # noqa: PLC0415

        dims = manip.concat([array_ops.reshape(size, [1]),
                             convert_to_tensor(element_dims, dtype_hint=dtypes.int32)
                             if element_dims else convert_to_tensor([], dtype=dtypes.int32)], 0)
        return array_ops.fill(dims, array_ops.cast(0, self._dtype))

    # --- control-flow protocol (see control_flow._flatten) -----------------------------------

    def _flow_tensor(self):
        if self._eager:
            return self.stack()
        if self._flow is None:
            rank = self._element_shape.rank
            self._flow = self._zeros([0] * (rank or 0))
        return self._flow

    def _with_flow(self, flow):
        if self._eager and not isinstance(flow, SymbolicTensor):
            return self
        result = self._copy(flow=flow)
        result._eager = False
        return result

    def _flow_invariant(self):
        flow = self._flow_tensor()
        size = None if self._dynamic_size else flow.shape[0] if flow.shape.rank else None
        element = self._element_shape
        if element.rank is None:
            return TensorShape(None) if flow.shape.rank is None else TensorShape(
                [size] + [None] * (flow.shape.rank - 1))
        return TensorShape([size] + element.as_list())

    # --- writing -----------------------------------------------------------------------------

    def _checked_value(self, value, what):
        value = convert_to_tensor(value, dtype=self._dtype)
        if value.dtype is not self._dtype:
            raise errors.InvalidArgumentError(
                f"TensorArray {what}: the array's dtype is {self._dtype.name}, got a value of "
                f"dtype {value.dtype.name}")
        return value

    def _merged_shape(self, shape):
        if not self._infer_shape:
            return self._element_shape
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(f"Incompatible shape for value ({shape}), expected "
                             f"({self._element_shape})")
        return self._element_shape.merge_with(shape)

    def write(self, index, value, name=None):
        """Writes `value` at `index`; returns the TensorArray holding it."""
        value = self._checked_value(value, "write")
        shape = self._merged_shape(value.shape)
        if self._eager:
            row = int(convert_to_tensor(index))
            items = self._items
            if row < 0 or (row >= len(items) and not self._dynamic_size):
                raise errors.OutOfRangeError(
                    f"Tried to write to index {row} but array is not resizeable and size is: "
                    f"{len(items)}")
            items.extend([None] * (row + 1 - len(items)))
            items[row] = value
            return self._copy(element_shape=shape)
        flow = self._flow
        if flow is None:  # no data yet: the first write sets the element shape
            flow = self._zeros([0] * (value.shape.rank or 0))
        flow = execute("TensorArrayWrite", flow, index, value,
                       dynamic_size=self._dynamic_size)
        return self._copy(flow=flow, element_shape=shape)

    def unstack(self, value, name=None):
        """Writes the rows of `value` as the elements."""
        value = self._checked_value(value, "unstack")
        shape = self._merged_shape(value.shape[1:]) if value.shape.rank else self._element_shape
        if self._eager:
            from ndflow.ops import manip  # noqa: PLC0415

            rows = manip.unstack(value) if value.shape[0] else []
            self._check_eager_size(len(rows))
            self._items[:] = rows + self._items[len(rows):]
            return self._copy(element_shape=shape)
        result = self._copy(flow=array_ops.identity(value), element_shape=shape)
        result._size = array_ops.shape(value)[0] if value.shape[0] is None else value.shape[0]
        return result

    def scatter(self, indices, value, name=None):
        """Writes the rows of `value` at `indices`."""
        value = self._checked_value(value, "scatter")
        if self._eager:
            from ndflow.ops import manip  # noqa: PLC0415

            result = self
            for index, row in zip(convert_to_tensor(indices).numpy().tolist(),
                                  manip.unstack(value)):
                result = result.write(index, row)
            return result
        from ndflow.ops import indexing  # noqa: PLC0415

        shape = self._merged_shape(value.shape[1:])
        flow = self._flow if self._flow is not None else self._zeros(
            array_ops.shape(value)[1:])
        indices = array_ops.reshape(convert_to_tensor(indices, dtype_hint=dtypes.int32),
                                    [-1, 1])
        flow = indexing.tensor_scatter_nd_update(flow, indices, value)
        return self._copy(flow=flow, element_shape=shape)

    def split(self, value, lengths, name=None):
        """Splits `value` along its first axis into elements of `lengths` rows each."""
        value = self._checked_value(value, "split")
        from ndflow.ops import manip  # noqa: PLC0415

        if self._eager:
            lengths = [int(n) for n in convert_to_tensor(lengths).numpy().reshape(-1)]
            pieces = manip.split(value, lengths, axis=0)
            self._check_eager_size(len(pieces))
            self._items[:len(pieces)] = pieces
            return self._copy()
        lengths = convert_to_tensor(lengths, dtype_hint=dtypes.int32)
        count = array_ops.size(lengths)
        rows = array_ops.reshape(lengths, [-1])[0]
        dims = manip.concat([array_ops.reshape(count, [1]), array_ops.reshape(rows, [1]),
                             array_ops.shape(value)[1:]], 0)
        return self._copy(flow=array_ops.reshape(value, dims))

    def _check_eager_size(self, count):
        if count > len(self._items):
            if not self._dynamic_size:
                raise errors.InvalidArgumentError(
                    f"TensorArray: cannot write {count} elements to an array of size "
                    f"{len(self._items)} that is not resizeable")
            self._items.extend([None] * (count - len(self._items)))

    # --- reading -----------------------------------------------------------------------------

    def _eager_item(self, row):
        items = self._items
        if row < 0 or row >= len(items):
            raise errors.InvalidArgumentError(
                f"TensorArray: tried to read from index {row} but array size is: {len(items)}")
        if items[row] is None:
            shape = self._element_shape
            if not shape.is_fully_defined():
                known = next((t for t in items if t is not None), None)
                if known is None:
                    raise errors.InvalidArgumentError(
                        f"TensorArray: could not read index {row}: it was never written and "
                        f"the element shape {shape} is not fully defined")
                shape = known.shape
            return array_ops.zeros(shape.as_list(), self._dtype)
        return items[row]

    def read(self, index, name=None):
        """The element at `index` (zeros if it was never written)."""
        if self._eager:
            return self._eager_item(int(convert_to_tensor(index)))
        from ndflow.ops import indexing  # noqa: PLC0415

        return self._shaped(indexing.gather(self._flow_tensor(), index), self._element_shape)

    def gather(self, indices, name=None):
        """The elements at `indices`, stacked."""
        if self._eager:
            from ndflow.ops import manip  # noqa: PLC0415

            rows = [self._eager_item(i) for i in convert_to_tensor(indices).numpy().tolist()]
            return manip.stack(rows) if rows else self._empty()
        from ndflow.ops import indexing  # noqa: PLC0415

        return indexing.gather(self._flow_tensor(), indices)

    def stack(self, name=None):
        """All elements stacked along a new first axis."""
        if self._eager:
            from ndflow.ops import manip  # noqa: PLC0415

            rows = [self._eager_item(i) for i in range(len(self._items))]
            return manip.stack(rows) if rows else self._empty()
        flow = array_ops.identity(self._flow_tensor())
        return self._shaped(flow, TensorShape([None]).concatenate(self._element_shape))

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        if self._eager:
            from ndflow.ops import manip  # noqa: PLC0415

            rows = [self._eager_item(i) for i in range(len(self._items))]
            return manip.concat(rows, 0) if rows else self._empty()
        from ndflow.ops import manip  # noqa: PLC0415

        flow = self._flow_tensor()
        dims = manip.concat([convert_to_tensor([-1]), array_ops.shape(flow)[2:]], 0)
        return array_ops.reshape(flow, dims)

    def _empty(self):
        shape = self._element_shape.as_list() if self._element_shape.rank is not None else []
        return array_ops.zeros([0] + [d or 0 for d in shape], self._dtype)

    @staticmethod
    def _shaped(tensor, shape):
        if isinstance(tensor, SymbolicTensor) and shape.rank is not None and (
                tensor.shape.rank is None or tensor.shape.rank == shape.rank):
            tensor.set_shape(shape)
        return tensor

    def size(self, name=None):
        """The number of elements, an int32 scalar."""
        if self._eager:
            return convert_to_tensor(len(self._items), dtype=dtypes.int32)
        return array_ops.shape(self._flow_tensor())[0]

    def close(self, name=None):
        """Does nothing (kept for TF compatibility)."""

    def mark_used(self):
        """Does nothing (TF's should-use check)."""

    def __repr__(self):
        return (f"<TensorArray dtype={self._dtype.name} element_shape={self._element_shape} "
                f"{'eager' if self._eager else 'graph'}>")


def _materialize_for_loop(cond, body, loop_vars):
    """Gives graph TensorArrays without a flow an initial flow before they enter a loop: the
    element shape comes from tracing the body once (a dim it cannot tell stays open)."""
    leaves = nest.flatten(loop_vars)
    lazy = [i for i, leaf in enumerate(leaves) if isinstance(leaf, TensorArray) and
            not leaf._eager and leaf._flow is None]
    if not lazy:
        return loop_vars
    tensors = [leaf for i, leaf in enumerate(leaves) if i not in lazy]
    flat = [convert_to_tensor(v) if not control_flow._is_composite(v) else v._flow_tensor()
            for v in tensors]

    def trial(*placeholders):
        feed = iter(placeholders)
        rebuilt = [leaf if i in lazy else (leaf._with_flow(next(feed)) if
                                            control_flow._is_composite(leaf) else next(feed))
                   for i, leaf in enumerate(leaves)]
        packed = nest.pack_sequence_as(loop_vars, rebuilt)
        return body(*control_flow._as_args(packed))

    specs = [(t.shape.as_tuple(), t.dtype) for t in flat]
    _, _, result, _ = control_flow._trace("discover", trial, specs, hoist=False)
    outputs = nest.flatten(control_flow._match_structure(loop_vars, result))
    for i in lazy:
        found = outputs[i]
        shape = TensorShape(None)
        if isinstance(found, TensorArray) and found._flow is not None:
            shape = found._flow.shape[1:] if found._flow.shape.rank else TensorShape(None)
        leaf = leaves[i]
        element = leaf._element_shape.merge_with(shape) if shape.rank is not None else (
            leaf._element_shape)
        dims = element.as_list() if element.rank is not None else []
        flow = leaf._zeros(dims if element.is_fully_defined() else [0] * len(dims))
        leaves[i] = leaf._copy(flow=flow, element_shape=element)
    return nest.pack_sequence_as(loop_vars, leaves)


# --- functional loops ---------------------------------------------------------------------


def _leading_size(flat, op_name):
    if not flat:
        raise ValueError(f"{op_name}: elems must contain at least one tensor")
    sizes = [t.shape[0] if t.shape.rank else None for t in flat]
    for t in flat:
        if t.shape.rank == 0:
            raise ValueError(f"{op_name}: elems must have a first dimension to unstack, got a "
                             f"scalar of shape {t.shape}")
    known = [s for s in sizes if s is not None]
    if known and any(s != known[0] for s in known):
        raise ValueError(f"{op_name}: all elems must have the same first dimension, got "
                         f"shapes {[tuple(t.shape.as_list()) for t in flat]}")
    return known[0] if known else array_ops.shape(flat[0])[0]


def _input_arrays(flat, size):
    return [TensorArray(t.dtype, size=size, element_shape=t.shape[1:] if t.shape.rank else
                        None).unstack(t) for t in flat]


def _signature_leaves(signature):
    leaves = []
    for leaf in nest.flatten(signature):
        if isinstance(leaf, TensorSpec):
            leaves.append((leaf.dtype, leaf.shape))
        else:
            leaves.append((dtypes.as_dtype(leaf), None))
    return leaves


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None, fn_output_signature=None):
    """Applies `fn` to each slice of `elems` along axis 0 and stacks the results (`tf.map_fn`).

    Args:
      fn: callable taking one slice (in the structure of `elems`).
      elems: a tensor or (nested) structure of tensors with a common first dimension.
      dtype: deprecated name of `fn_output_signature`.
      fn_output_signature: output dtypes/TensorSpecs when they differ from `elems`'.
      infer_shape: check that all results have the same shape.

    Returns:
      The stacked results, in the structure of `fn`'s output signature.
    """
    signature = fn_output_signature if fn_output_signature is not None else dtype
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    size = _leading_size(flat, "map_fn")
    inputs = _input_arrays(flat, size)
    if signature is None:
        structure, leaves = elems, [(t.dtype, None) for t in flat]
    else:
        structure, leaves = signature, _signature_leaves(signature)
    outputs = [TensorArray(d, size=size, infer_shape=infer_shape, element_shape=s)
               for d, s in leaves]

    def body(i, arrays):
        value = fn(nest.pack_sequence_as(elems, [ta.read(i) for ta in inputs]))
        try:
            nest.assert_same_structure(structure, value, check_types=False)
        except (ValueError, TypeError) as error:
            raise ValueError(f"map_fn: fn's output must have the structure of "
                             f"fn_output_signature (or of elems), got {value!r}: {error}") from None
        return i + 1, [ta.write(i, v) for ta, v in zip(arrays, nest.flatten(value))]

    _, arrays = control_flow.while_loop(lambda i, _: i < size, body, (0, outputs),
                                        maximum_iterations=size, name=name or "map")
    results = [ta.stack() for ta in arrays]
    return nest.pack_sequence_as(structure, results)


def _scan(fn, elems, initializer, reverse, keep_outputs, op_name):
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    size = _leading_size(flat, op_name)
    inputs = _input_arrays(flat, size)

    def element(k):
        index = size - 1 - k if reverse else k
        return index, nest.pack_sequence_as(elems, [ta.read(index) for ta in inputs])

    start = 0
    if initializer is None:
        _, first = element(0)
        accumulator, start = first, 1
    else:
        accumulator = nest.map_structure(convert_to_tensor, initializer)
    flat_acc = nest.flatten(accumulator)
    outputs = [TensorArray(t.dtype, size=size, element_shape=t.shape) for t in flat_acc]
    if keep_outputs and initializer is None:
        first_index = size - 1 if reverse else 0
        outputs = [ta.write(first_index, v) for ta, v in zip(outputs, flat_acc)]

    def body(k, acc, arrays):
        index, x = element(k)
        new = fn(nest.pack_sequence_as(accumulator, acc), x)
        new_flat = [convert_to_tensor(v) for v in nest.flatten(new)]
        if keep_outputs:
            arrays = [ta.write(index, v) for ta, v in zip(arrays, new_flat)]
        return k + 1, new_flat, arrays

    _, acc, arrays = control_flow.while_loop(lambda k, a, t: k < size, body,
                                             (start, flat_acc, outputs), name=op_name)
    if keep_outputs:
        return nest.pack_sequence_as(accumulator, [ta.stack() for ta in arrays])
    return nest.pack_sequence_as(accumulator, acc)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """Cumulative `fn(accumulator, x)` over the slices of `elems` along axis 0 (`tf.scan`).

    Without `initializer` the first slice starts the accumulator (and is the first output).
    Returns the stacked accumulators, in the structure of `initializer` (or of `elems`).
    """
    return _scan(fn, elems, initializer, reverse, True, "scan")


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """Reduces the slices of `elems` from the left with `fn(accumulator, x)` (`tf.foldl`)."""
    return _scan(fn, elems, initializer, False, False, "foldl")


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """Reduces the slices of `elems` from the right with `fn(accumulator, x)` (`tf.foldr`)."""
    return _scan(fn, elems, initializer, True, False, "foldr")


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """`fn` applied to each slice of `elems` along axis 0, results stacked
    (`tf.vectorized_map`; computed as a loop, with the output dtypes `fn` gives)."""
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    first = nest.pack_sequence_as(elems, [t[0] for t in flat])
    if _in_graph():
        _, _, probe, _ = control_flow._trace("probe", lambda: fn(first), (), hoist=False)
    else:
        probe = fn(first)
    signature = nest.map_structure(lambda t: convert_to_tensor(t).dtype, probe)
    return map_fn(fn, elems, fn_output_signature=signature)


API = {"": ["TensorArray", "map_fn", "scan", "foldl", "foldr", "vectorized_map"]}
