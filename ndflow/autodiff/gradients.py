"""`tf.gradients`: symbolic gradients on a graph, for TF1 code and graph-building functions.

It walks the graph's Operations backwards with the same registered gradient functions the tape
uses (an Operation offers the same `inputs`, `outputs`, `get_attr` as a taped op), adding the
gradient ops to the same graph.
"""

from ndflow.autodiff.tape import UnconnectedGradients, _aggregate, _call_grad
from ndflow.framework import context
from ndflow.framework.graph import SymbolicTensor
from ndflow.framework.tensor import convert_to_tensor
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.ops import array as array_ops
from ndflow.util import nest


def _variable_reads(graph, variable):
    """The ReadVariableOp outputs of `variable` in `graph`."""
    reads = []
    for op in graph._operations:
        if op.type == "ReadVariableOp":
            handle = op.inputs[0].op
            if handle.type in ("Const", "Placeholder") and handle.attrs.get("value") is variable:
                reads.append(op.outputs[0])
    return reads


def gradients(ys, xs, grad_ys=None, name="gradients", gate_gradients=False,
              aggregation_method=None, stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE):
    """Symbolic partial derivatives of sum(ys) with respect to each x in xs (`tf.gradients`).

    Only valid while building a graph (TF1 graphs or inside tf.function); eagerly, use
    tf.GradientTape.
    """
    if context.state.graph is None:
        raise RuntimeError("tf.gradients is not supported when eager execution is enabled. "
                           "Use tf.GradientTape instead.")
    graph = context.state.graph
    flat_ys = [convert_to_tensor(y) for y in nest.flatten(ys)]
    flat_xs = nest.flatten(xs)
    unconnected = UnconnectedGradients(getattr(unconnected_gradients, "value",
                                               unconnected_gradients))
    source_keys = []
    for x in flat_xs:
        if _is_variable(x):
            source_keys.append([id(t) for t in _variable_reads(graph, x)])
        elif isinstance(x, SymbolicTensor):
            source_keys.append([id(x)])
        else:
            raise TypeError(f"tf.gradients: xs must be graph tensors or variables, got {x!r}")
    stopped = {id(t) for t in nest.flatten(stop_gradients)} if stop_gradients else set()
    sources = {key for keys in source_keys for key in keys}
    reached = set(sources)
    relevant = []
    for op in graph._operations:
        if op.grad_fn is None:
            continue
        if any(id(t) in reached and id(t) not in stopped for t in op.inputs):
            relevant.append(op)
            reached.update(id(t) for t in op.outputs)
    pending = {}
    seeds = nest.flatten(grad_ys) if grad_ys is not None else [None] * len(flat_ys)
    for y, seed in zip(flat_ys, seeds):
        seed = array_ops.ones_like(y) if seed is None else convert_to_tensor(seed, y.dtype)
        pending.setdefault(id(y), []).append(seed)
    kept = {}
    for op in reversed(relevant):
        out_grads = [_aggregate(pending.pop(id(t), None)) for t in op.outputs]
        for tensor, grad in zip(op.outputs, out_grads):
            if id(tensor) in sources and grad is not None:
                kept.setdefault(id(tensor), []).append(grad)
        if all(g is None for g in out_grads):
            continue
        if len(out_grads) > 1:
            out_grads = [array_ops.zeros_like(t) if g is None else g
                         for g, t in zip(out_grads, op.outputs)]
        for tensor, grad in zip(op.inputs, _call_grad(op, out_grads)):
            if grad is None or id(tensor) not in reached or id(tensor) in stopped:
                continue
            if not (tensor.dtype.is_floating or tensor.dtype.is_complex):
                continue
            pending.setdefault(id(tensor), []).append(grad)
    for key, parts in pending.items():
        if key in sources:
            kept.setdefault(key, []).extend(parts)
    results = []
    for x, keys in zip(flat_xs, source_keys):
        parts = [g for key in keys for g in kept.get(key, [])]
        if parts:
            results.append(_aggregate(parts))
        elif unconnected is UnconnectedGradients.ZERO:
            results.append(array_ops.zeros_like(x.value() if _is_variable(x) else x))
        else:
            results.append(None)
    return results
