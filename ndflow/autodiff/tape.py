"""`tf.GradientTape`: records eager ops on watched tensors and runs them backwards.

The dispatcher hands each op whose gradient is defined to every active tape
(`_record_operation`); a tape keeps the op only when one of its inputs is watched, so ops on
constants cost nothing. Gradient functions are written in ndflow ops, so the backward pass is
itself recorded by any outer tape: that is how higher-order derivatives work.
"""

import enum

from ndflow.framework import context
from ndflow.framework.op_registry import EagerOp
from ndflow.framework.tensor import IndexedSlices, Tensor, convert_to_tensor
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.util import nest


class UnconnectedGradients(enum.Enum):
    """What `gradient` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"



def _differentiable(dtype):
    return dtype.is_floating or dtype.is_complex


class GradientTape:
    """Records operations for automatic differentiation (`tf.GradientTape`).

    Args:
      persistent: allow several `gradient`/`jacobian` calls on one tape.
      watch_accessed_variables: watch every trainable variable read inside the block.

    >>> x = constant(3.0)
    >>> with GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> float(tape.gradient(y, x))
    6.0
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._watched = {}  # id -> tensor, for every watched tensor and every recorded output
        self._operations = []
        self._variables = {}  # id(variable) -> variable, in watch order
        self._variable_reads = {}  # id(variable) -> [tensors read from it while recording]
        self._recording = False
        self._used = False

    # --- recording ---------------------------------------------------------------------------

    def __enter__(self):
        self._push()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self._recording:
            self._pop()

    def _push(self):
        context.push_tape(self)
        self._recording = True

    def _pop(self):
        context.pop_tape(self)
        self._recording = False

    def watch(self, tensor):
        """Ensures `tensor` (a tensor, variable, or nested structure of them) is traced."""
        for item in nest.flatten(tensor):
            if _is_variable(item):
                self._watch_variable(item)
            elif isinstance(item, Tensor):
                self._watched[id(item)] = item
            else:
                raise ValueError(f"GradientTape.watch: expected a Tensor or Variable, got "
                                 f"{type(item).__name__}: {item!r}")

    def _watch_variable(self, variable):
        self._variables.setdefault(id(variable), variable)
        self._variable_reads.setdefault(id(variable), [])

    def _variable_accessed(self, variable, read_tensor):
        """Called by Variable when it is read while this tape records."""
        key = id(variable)
        if key not in self._variables:
            if not (self._watch_accessed_variables and variable.trainable):
                return
            self._watch_variable(variable)
        self._variable_reads[key].append(read_tensor)
        self._watched[id(read_tensor)] = read_tensor

    def _record_operation(self, opdef, inputs, outputs, attrs, grad_fn=None):
        watched = self._watched
        for tensor in inputs:
            if id(tensor) in watched:
                break
        else:
            return
        self._operations.append(EagerOp(opdef, inputs, outputs, attrs, grad_fn))
        for tensor in outputs:
            watched[id(tensor)] = tensor

    def stop_recording(self):
        """Context manager in which this tape records nothing (`with tape.stop_recording():`)."""
        return _StopRecording(self)

    def reset(self):
        """Forgets everything recorded so far (watched variables are forgotten too)."""
        self._watched.clear()
        self._operations.clear()
        self._variables.clear()
        self._variable_reads.clear()

    def watched_variables(self):
        """The variables this tape watches, in the order it first saw them."""
        return tuple(self._variables.values())

    # --- differentiation ---------------------------------------------------------------------

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """Gradients of `target` (summed over its elements) with respect to `sources`.

        Args:
          target: a tensor or nested structure of tensors to differentiate.
          sources: a tensor, variable, or nested structure of them.
          output_gradients: upstream gradients, one per target (default: ones).
          unconnected_gradients: 'none' (return None) or 'zero' for sources the target does
            not depend on.

        Returns:
          Gradients in the structure of `sources`.

        Raises:
          RuntimeError: on a second call to a non-persistent tape.
        """
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians)")
        self._used = True
        unconnected = UnconnectedGradients(getattr(unconnected_gradients, "value",
                                                   unconnected_gradients))
        flat_sources = nest.flatten(sources)
        for source in flat_sources:
            if not (isinstance(source, Tensor) or _is_variable(source)):
                raise ValueError(f"GradientTape.gradient: sources must be tensors or "
                                 f"variables, got {type(source).__name__}: {source!r}")
        flat_targets = nest.flatten(target)
        if output_gradients is not None:
            output_gradients = nest.flatten(output_gradients)
            if len(output_gradients) != len(flat_targets):
                raise ValueError(f"GradientTape.gradient: {len(flat_targets)} targets but "
                                 f"{len(output_gradients)} output_gradients")
        # Inside its own block a persistent tape records the backward pass too (as TF does),
        # so it can differentiate its own gradients; otherwise only outer tapes record it.
        was_recording = self._recording and not self._persistent
        if was_recording:
            self._pop()
        try:
            grads = self._backprop(flat_targets, flat_sources, output_gradients)
        finally:
            if was_recording:
                self._push()
        result = []
        for source, grad in zip(flat_sources, grads):
            if grad is None and unconnected is UnconnectedGradients.ZERO:
                grad = array_ops.zeros_like(source.value() if _is_variable(source) else source)
            result.append(grad)
        return nest.pack_sequence_as(sources, result)

    def _source_keys(self, source):
        """The tensor ids that stand for a source (a variable stands for each of its reads)."""
        if _is_variable(source):
            return [id(t) for t in self._variable_reads.get(id(source), ())]
        return [id(source)]

    def _backprop(self, targets, sources, output_gradients):
        source_keys = set()
        for source in sources:
            source_keys.update(self._source_keys(source))
        # Forward pass over the record: which tensors depend on a source.
        reached = set(source_keys)
        relevant = []
        for op in self._operations:
            if any(id(t) in reached for t in op.inputs):
                relevant.append(op)
                reached.update(id(t) for t in op.outputs)
        pending = {}
        for index, target in enumerate(targets):
            if _is_variable(target):
                target = target.value()
            if not isinstance(target, Tensor):
                target = convert_to_tensor(target)
            if not _differentiable(target.dtype):
                continue
            if output_gradients is not None and output_gradients[index] is not None:
                seed = convert_to_tensor(output_gradients[index], dtype=target.dtype)
            else:
                seed = array_ops.ones_like(target)
            pending.setdefault(id(target), []).append(seed)
        for op in reversed(relevant):
            out_grads = [_aggregate(pending.pop(id(t), None)) for t in op.outputs]
            if all(g is None for g in out_grads):
                continue
            if len(out_grads) > 1:
                out_grads = [array_ops.zeros_like(t) if g is None else g
                             for g, t in zip(out_grads, op.outputs)]
            for tensor, grad in zip(op.outputs, out_grads):
                if id(tensor) in source_keys:
                    pending.setdefault(id(tensor), []).append(grad)
            in_grads = _call_grad(op, out_grads)
            for tensor, grad in zip(op.inputs, in_grads):
                if grad is None or id(tensor) not in reached:
                    continue
                if not _differentiable(tensor.dtype):
                    continue
                pending.setdefault(id(tensor), []).append(grad)
        results = []
        for source in sources:
            parts = []
            for key in self._source_keys(source):
                parts.extend(pending.get(key, ()))
            if not parts or (not _is_variable(source) and not _differentiable(source.dtype)):
                results.append(None)
            else:
                results.append(_aggregate(parts))
        return results

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """Jacobian of every element of `target` with respect to `sources`: shape
        `target.shape + source.shape` for each source."""
        return self._jacobian(target, sources, unconnected_gradients, batch=False)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobian: target [b, ...] and source [b, ...] give
        [b, target_dims..., source_dims...], assuming examples do not interact."""
        return self._jacobian(target, source, unconnected_gradients, batch=True)

    def _jacobian(self, target, sources, unconnected_gradients, batch):
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians)")
        target = convert_to_tensor(target)
        flat_sources = nest.flatten(sources)
        dims = target.shape.as_list()
        if batch:
            if not dims:
                raise ValueError("batch_jacobian: target must have a batch dimension")
            batch_size, inner = dims[0], dims[1:]
        else:
            batch_size, inner = None, dims
        count = 1
        for d in inner:
            count *= d
        rows = [[] for _ in flat_sources]
        persistent, self._persistent = self._persistent, True
        try:
            for index in range(count):
                seed = _one_hot_seed(target, inner, index, batch_size)
                grads = self.gradient(target, flat_sources, output_gradients=seed,
                                      unconnected_gradients=unconnected_gradients)
                for row, grad, source in zip(rows, grads, flat_sources):
                    row.append(grad if grad is None else convert_to_tensor(grad))
        finally:
            self._persistent = persistent
        results = [_stack_jacobian(row, source, inner, batch_size)
                   for row, source in zip(rows, flat_sources)]
        return nest.pack_sequence_as(sources, results)


def _one_hot_seed(target, inner, index, batch_size):
    import numpy as np  # noqa: PLC0415 - builds a constant seed, not a kernel

    dtype = target.dtype.as_numpy_dtype
    if batch_size is None:
        seed = np.zeros(int(np.prod(inner)) if inner else 1, dtype=dtype)
        seed[index] = 1
        return convert_to_tensor(seed.reshape(inner))
    seed = np.zeros((batch_size, int(np.prod(inner)) if inner else 1), dtype=dtype)
    seed[:, index] = 1
    return convert_to_tensor(seed.reshape([batch_size] + inner))


def _stack_jacobian(row, source, inner, batch_size):
    from ndflow.ops import manip  # noqa: PLC0415 - stack lives above array ops

    source_value = source.value() if _is_variable(source) else source
    if all(g is None for g in row):
        return None
    row = [array_ops.zeros_like(source_value) if g is None else g for g in row]
    stacked = manip.stack(row, axis=0 if batch_size is None else 1)
    source_dims = source_value.shape.as_list()
    if batch_size is None:
        return array_ops.reshape(stacked, inner + source_dims)
    return array_ops.reshape(stacked, [batch_size] + inner + source_dims[1:])


def _call_grad(op, out_grads):
    grads = op.grad_fn(op, *out_grads) if op.opdef is not None else op.grad_fn(*out_grads)
    if isinstance(grads, (Tensor, IndexedSlices)) or grads is None:
        grads = [grads]
    grads = list(grads)
    if len(grads) != len(op.inputs):
        raise ValueError(f"The gradient of {op.type} returned {len(grads)} values for "
                         f"{len(op.inputs)} inputs")
    return grads


def _aggregate(parts):
    """Sums the gradient contributions to one tensor (IndexedSlices stay sparse together)."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, IndexedSlices) for p in parts):
        from ndflow.ops import manip  # noqa: PLC0415

        return IndexedSlices(manip.concat([p.values for p in parts], 0),
                             manip.concat([p.indices for p in parts], 0), parts[0].dense_shape)
    dense = [convert_to_tensor(p) if isinstance(p, IndexedSlices) else p for p in parts]
    return math_ops.add_n(dense)


class _StopRecording:
    def __init__(self, tape):
        self._tape = tape
        self._was_recording = False

    def __enter__(self):
        self._was_recording = self._tape._recording
        if self._was_recording:
            self._tape._pop()

    def __exit__(self, *exc_info):
        if self._was_recording:
            self._tape._push()
