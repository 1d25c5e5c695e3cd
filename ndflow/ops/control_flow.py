"""Control flow: tf.cond, tf.case, tf.switch_case and tf.while_loop, and the If/While ops.

Eagerly these are Python control flow: the predicate is evaluated and one branch (or the loop
body, again and again) runs op by op, so a GradientTape simply records what ran. While a graph is
built (tf.function, TF1 graphs) they become functional ops: each branch, the loop condition and
the loop body are traced into their own FuncGraph; tensors of the enclosing graph used inside
become captured inputs of the op; the kernel runs the chosen graph through a compiled Plan, so
stateful ops in a branch run only when that branch runs. Gradients are If/While ops over gradient
graphs built by re-emitting a branch's operations and backpropagating through them with the
registered gradient functions; the forward While keeps each iteration's loop variables (only when
a gradient asked for them) and the backward While walks that history in reverse.
scan/map_fn/foldl/foldr live in tensor_array.py, on top of while_loop and TensorArray.
"""

import numpy as np

from ndflow.framework import context, dtypes, errors
from ndflow.framework.graph import SymbolicTensor, placeholder
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import IndexedSlices, Tensor, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape, as_shape
from ndflow.util import nest

_state = context.state


# --- traced branch graphs -------------------------------------------------------------------


class _Branch:
    """A traced graph run by an If/While kernel. `positions[i]` is the op input fed to the
    graph's i-th input placeholder; the Plan is compiled on first use."""

    def __init__(self, graph, inputs, positions, outputs):
        self.graph = graph
        self.inputs = list(inputs)
        self.positions = list(positions)
        self.outputs = list(outputs)
        self._plan = None

    def run(self, arrays):
        if self._plan is None:
            from ndflow.function.executor import Plan  # noqa: PLC0415 - function/ sits above ops

            self._plan = Plan(self.graph, self.inputs, self.outputs, keep_stateful=True)
        return self._plan.run([arrays[p] for p in self.positions])

    def __repr__(self):
        return f"<branch graph {self.graph.name}: {len(self.graph._operations)} ops>"


def _is_composite(value):
    """TensorArray-like values (`_flow_tensor()` / `_with_flow(flow)`) travel as a flow."""
    return hasattr(type(value), "_with_flow")


def _flatten(structure):
    """Leaves of a structure with TensorArrays replaced by their flow tensors."""
    return [leaf._flow_tensor() if _is_composite(leaf) else leaf
            for leaf in nest.flatten(structure)]


def _pack(structure, flat):
    """Inverse of `_flatten`: rebuilds the structure, TensorArrays around their new flows."""
    leaves = nest.flatten(structure)
    rebuilt = [leaf._with_flow(value) if _is_composite(leaf) else value
               for leaf, value in zip(leaves, flat)]
    return nest.pack_sequence_as(structure, rebuilt)


def _graph_tensor(value):
    """A branch result as a tensor of the graph being built (None stays None)."""
    if value is None:
        return None
    if getattr(value, "_is_ndflow_variable", False):
        value = value.value()
    if isinstance(value, SymbolicTensor) and value.graph is not _state.graph:
        return _state.graph.capture_symbolic(value)
    tensor = convert_to_tensor(value)
    if not isinstance(tensor, SymbolicTensor):
        from ndflow.ops import array as array_ops  # noqa: PLC0415

        tensor = array_ops.identity(tensor)
    return tensor


def _local(tensor):
    """`tensor` usable in the graph being built (captured when it belongs to an outer graph)."""
    graph = _state.graph
    if isinstance(tensor, SymbolicTensor) and tensor.graph is not graph:
        return graph.capture_symbolic(tensor)
    return tensor


def _trace(name, fn, specs, hoist=True):
    """Traces `fn(*placeholders)` into a new FuncGraph nested in the current graph.

    Returns (graph, placeholders, structured result, flat result tensors). Tapes are paused while
    tracing: the op built from the graph is what they record.
    """
    from ndflow.function.func_graph import FuncGraph  # noqa: PLC0415

    graph = FuncGraph(name, outer_graph=_state.graph)
    tapes, _state.tapes = _state.tapes, ()
    try:
        with graph.as_default():
            placeholders = [placeholder(graph, dtype, shape, name=f"{name}_input")
                            for shape, dtype in specs]
            result = fn(*placeholders)
            flat = [_graph_tensor(v) for v in _flatten(result)]
    finally:
        _state.tapes = tapes
    if hoist:
        flat = _hoist_variable_reads(graph, flat)
    return graph, placeholders, result, flat


def _branch_graphs(graph):
    for op in graph._operations:
        for value in op.attrs.values():
            if isinstance(value, _Branch):
                yield value.graph


def _assigned_variables(graph):
    """ids of the variables some op in `graph` (or a nested branch graph) assigns."""
    assigned = set()
    for op in graph._operations:
        if op.type.startswith("Assign") and op.type.endswith("VariableOp"):
            handle = op.inputs[0]
            if handle.op.type == "Const":
                assigned.add(id(handle.op.attrs["value"]))
    for inner in _branch_graphs(graph):
        assigned |= _assigned_variables(inner)
    return assigned


def _hoist_variable_reads(graph, outputs):
    """Moves reads of variables the graph never assigns into the enclosing graph, as captures.

    The value is the same (nothing in the branch or loop changes the variable), and the read
    then happens where a GradientTape sees it, so gradients reach variables read in a loop.
    """
    reads = [op for op in graph._operations
             if op.type == "ReadVariableOp" and op.inputs[0].op.type == "Const"]
    if not reads:
        return outputs
    assigned = _assigned_variables(graph)
    replaced = {}
    for op in reads:
        variable = op.inputs[0].op.attrs["value"]
        if id(variable) in assigned:
            continue
        replaced[id(op.outputs[0])] = graph.capture_symbolic(_read_in_graph(variable))
        graph._operations.remove(op)
    if not replaced:
        return outputs
    for op in graph._operations:
        op.inputs = tuple(replaced.get(id(t), t) for t in op.inputs)
    return [replaced.get(id(t), t) for t in outputs]


def _read_in_graph(variable):
    """A ReadVariableOp in the current graph, reported to the recording tapes."""
    from ndflow.ops import state as state_ops  # noqa: PLC0415

    read = state_ops.read_variable(variable)
    for tape in _state.tapes:
        tape._variable_accessed(variable, read)
    return read


def _is_stateful(graph):
    return any(op.opdef.stateful for op in graph._operations)


def _differentiable(dtype):
    return dtype.is_floating or dtype.is_complex


def _captures(*graphs):
    """The union of the graphs' captured outer tensors, in first-seen order."""
    outer = []
    for graph in graphs:
        for tensor, _ in graph.captured_outer:
            if not any(tensor is seen for seen in outer):
                outer.append(tensor)
    return outer


def _capture_positions(graph, outer, offset):
    """(placeholders, op input positions) for a graph's captures among op inputs `outer`."""
    placeholders, positions = [], []
    for tensor, inner in graph.captured_outer:
        index = next(i for i, seen in enumerate(outer) if seen is tensor)
        placeholders.append(inner)
        positions.append(offset + index)
    return placeholders, positions


# --- re-emitting a graph and backpropagating through it -----------------------------------


def _inline(branch_graph, placeholders, values, outputs):
    """Re-creates the ops computing `outputs` in the current graph, with `placeholders` bound
    to `values`. Returns (new operations, new output tensors). Stateful ops that do not feed the
    outputs (assignments, prints) are not repeated."""
    from ndflow.function.executor import needed_operations  # noqa: PLC0415

    graph = _state.graph
    mapping = {id(p): _local(v) for p, v in zip(placeholders, values)}
    fetch = [t.op for t in outputs if isinstance(t, SymbolicTensor)]
    created = []
    for op in needed_operations(branch_graph, fetch, placeholders, keep_stateful=False):
        if op.type == "Placeholder":
            continue
        inputs = [mapping[id(t)] for t in op.inputs]
        specs = [Spec(t.shape.as_tuple(), t.dtype) for t in op.outputs]
        copy = graph.create_op(op.opdef, inputs, dict(op.attrs), name=op.type,
                               output_specs=specs)
        for old, new in zip(op.outputs, copy.outputs):
            mapping[id(old)] = new
        created.append(copy)
    return created, [mapping.get(id(t), t) for t in outputs]


def _sum(parts):
    if not parts:
        return None
    dense = [convert_to_tensor(p) if isinstance(p, IndexedSlices) else p for p in parts]
    if len(dense) == 1:
        return dense[0]
    from ndflow.ops import math as math_ops  # noqa: PLC0415

    return math_ops.add_n(dense)


def _backprop(operations, outputs, dys, sources):
    """Gradients of `outputs` (weighted by `dys`) with respect to `sources`, through
    `operations` (in creation order) using each op's registered gradient."""
    from ndflow.ops import array as array_ops  # noqa: PLC0415

    reached = {id(s) for s in sources}
    relevant = []
    for op in operations:
        if any(id(t) in reached for t in op.inputs):
            relevant.append(op)
            reached.update(id(t) for t in op.outputs)
    pending = {}
    for tensor, dy in zip(outputs, dys):
        if dy is not None and id(tensor) in reached:
            pending.setdefault(id(tensor), []).append(dy)
    source_ids = {id(s) for s in sources}
    for op in reversed(relevant):
        out_grads = [_sum(pending.pop(id(t), None)) for t in op.outputs]
        for tensor, grad in zip(op.outputs, out_grads):
            if id(tensor) in source_ids and grad is not None:
                pending.setdefault(id(tensor), []).append(grad)
        if op.opdef.grad is None or all(g is None for g in out_grads):
            continue
        if len(out_grads) > 1:
            out_grads = [array_ops.zeros_like(t) if g is None else g
                         for g, t in zip(out_grads, op.outputs)]
        grads = op.opdef.grad(op, *out_grads)
        if grads is None or isinstance(grads, (Tensor, IndexedSlices)):
            grads = [grads]
        for tensor, grad in zip(op.inputs, grads):
            if grad is not None and id(tensor) in reached and _differentiable(tensor.dtype):
                pending.setdefault(id(tensor), []).append(grad)
    return [_sum(pending.get(id(s))) for s in sources]


# --- If -----------------------------------------------------------------------------------


def _functional_infer(*inputs, output_specs, **attrs):
    return tuple(Spec(shape, dtype) for shape, dtype in output_specs)


def _if_kernel(xp, cond, *inputs, then_branch, else_branch, output_specs):
    branch = then_branch if bool(cond) else else_branch
    return tuple(branch.run(inputs))


def _if_grad(op, *dys):
    inputs = op.inputs[1:]
    wanted = [i for i, t in enumerate(inputs) if _differentiable(t.dtype)]
    outs = [i for i, t in enumerate(op.outputs) if _differentiable(t.dtype)]
    if not wanted or not outs:
        return [None] * len(op.inputs)
    from ndflow.ops import array as array_ops  # noqa: PLC0415

    dys = [array_ops.zeros_like(op.outputs[i]) if dys[i] is None else convert_to_tensor(dys[i])
           for i in outs]

    def branch_grad(branch):
        def fn():
            values = [inputs[p] for p in branch.positions]
            created, results = _inline(branch.graph, branch.inputs, values,
                                       [branch.outputs[i] for i in outs])
            local_dys = [_local(dy) for dy in dys]
            sources = [_local(inputs[i]) for i in wanted]
            grads = _backprop(created, results, local_dys, sources)
            return [array_ops.zeros_like(s) if g is None else g
                    for g, s in zip(grads, sources)]

        return fn

    grads = _graph_cond(op.inputs[0], branch_grad(op.get_attr("then_branch")),
                        branch_grad(op.get_attr("else_branch")), "gradients/If")
    result = [None] * len(op.inputs)
    for i, grad in zip(wanted, grads):
        result[1 + i] = grad
    return result


for _name, _stateful in (("If", True), ("StatelessIf", False)):
    primitive(_name, dtypes=None, same_dtype=False, num_outputs=None, stateful=_stateful)(
        type(_name, (), {"infer": staticmethod(_functional_infer),
                         "kernel": staticmethod(_if_kernel), "grad": staticmethod(_if_grad)}))


def _most_specific_compatible(a, b):
    if a.rank is None or b.rank is None or a.rank != b.rank:
        return None
    return tuple(x if x == y else None for x, y in zip(a.as_list(), b.as_list()))


def _check_branches(true_result, false_result, true_flat, false_flat, names):
    first, second = names
    message = (f"{first} and {second} arguments to tf.cond must have the same number, type, and "
               f"overall structure of return values.\n\n{first} output: {true_result}\n"
               f"{second} output: {false_result}")
    try:
        nest.assert_same_structure(true_result, false_result, check_types=False)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{message}\n\nError details:\n{error}") from None
    for t, f in zip(true_flat, false_flat):
        if (t is None) != (f is None):
            raise ValueError(f"{message}\n\nError details:\n{t} and {f}: one branch returns "
                             f"None")
        if t is not None and t.dtype is not f.dtype:
            raise TypeError(f"{message}\n\nError details:\n{t} and {f} have different types "
                            f"({t.dtype.name} and {f.dtype.name})")


def _graph_cond(pred, true_fn, false_fn, name, names=("true_fn", "false_fn")):
    pred = _local(convert_to_tensor(pred))
    if pred.dtype is not dtypes.bool:
        raise TypeError(f"cond: pred must be a bool tensor, got dtype {pred.dtype.name}")
    if pred.shape.rank not in (None, 0):
        raise ValueError(f"cond: pred must be a scalar, got shape {pred.shape}")
    true_graph, _, true_result, true_flat = _trace(f"{name}_true", true_fn, ())
    false_graph, _, false_result, false_flat = _trace(f"{name}_false", false_fn, ())
    _check_branches(true_result, false_result, true_flat, false_flat, names)
    outer = _captures(true_graph, false_graph)
    tensors = [t for t in true_flat if t is not None]
    specs = tuple((_most_specific_compatible(t.shape, f.shape), t.dtype)
                  for t, f in zip(tensors, [f for f in false_flat if f is not None]))
    branches = []
    for graph, flat in ((true_graph, true_flat), (false_graph, false_flat)):
        inputs, positions = _capture_positions(graph, outer, 0)
        branches.append(_Branch(graph, inputs, positions, [t for t in flat if t is not None]))
    stateful = _is_stateful(true_graph) or _is_stateful(false_graph)
    outputs = execute("If" if stateful else "StatelessIf", pred, *outer, name=name,
                      then_branch=branches[0], else_branch=branches[1], output_specs=specs)
    outputs = iter(outputs)
    flat = [None if t is None else next(outputs) for t in true_flat]
    return _pack(true_result, flat)


def cond(pred, true_fn=None, false_fn=None, name=None):
    """Returns `true_fn()` if `pred` is true, else `false_fn()` (`tf.cond`).

    Eagerly only the chosen branch runs. While tracing, both branches are traced into graphs
    and an If op picks one when the graph runs; their results must have the same structure and
    dtypes (shapes may differ: the result gets the most specific shape compatible with both).

    Args:
      pred: a scalar bool tensor (or Python bool).
      true_fn: zero-argument callable run when `pred` is true.
      false_fn: zero-argument callable run when `pred` is false.
      name: optional op name.

    Returns:
      The structure returned by the branch.

    Raises:
      TypeError: if a branch is not callable, or (while tracing) the branches' dtypes differ.
      ValueError: if (while tracing) the branches' structures differ.
    """
    if not callable(true_fn):
        raise TypeError(f"cond: true_fn must be callable, got {true_fn!r}")
    if not callable(false_fn):
        raise TypeError(f"cond: false_fn must be callable, got {false_fn!r}")
    if _state.graph is None and not isinstance(pred, SymbolicTensor):
        return true_fn() if _eager_bool(pred, "cond") else false_fn()
    return _graph_cond(pred, true_fn, false_fn, name or "cond")


def _eager_bool(pred, op_name):
    value = np.asarray(convert_to_tensor(pred))
    if value.ndim != 0:
        raise ValueError(f"{op_name}: the predicate must be a scalar, got shape {value.shape}")
    return bool(value)


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Runs the callable paired with the first true predicate (`tf.case`).

    Args:
      pred_fn_pairs: a list of (bool scalar, callable) pairs (or a dict, in insertion order).
      default: callable run when no predicate is true (default: the last pair's callable).
      exclusive: check that at most one predicate is true.
      strict: accepted for TF compatibility.
      name: optional op name.

    Raises:
      InvalidArgumentError: with `exclusive=True`, if more than one predicate is true.
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(
        pred_fn_pairs)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and callable(pair[1])):
            raise TypeError(f"case: each pair must be (predicate, callable), got {pair!r}")
    if default is None:
        if not pairs:
            raise ValueError("case: pred_fn_pairs is empty and no default is given")
        *pairs, (_, default) = pairs
    if _state.graph is None and not any(isinstance(p, SymbolicTensor) for p, _ in pairs):
        truth = [_eager_bool(p, "case") for p, _ in pairs]
        if exclusive and sum(truth) > 1:
            raise errors.InvalidArgumentError(
                f"case: exclusive=True requires at most one true predicate, got {sum(truth)} "
                f"true among {len(truth)}")
        for value, (_, fn) in zip(truth, pairs):
            if value:
                return fn()
        return default()
    result = default
    for pred, fn in reversed(pairs):
        result = _deferred_cond(pred, fn, result, name)
    return result()


def _deferred_cond(pred, fn, otherwise, name):
    return lambda: cond(pred, fn, otherwise, name=name)


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Runs `branch_fns[branch_index]()` (`tf.switch_case`).

    Args:
      branch_index: an int32 scalar.
      branch_fns: a list of callables, a dict {int: callable}, or a list of (int, callable).
      default: callable for an index with no branch (default: the last branch).
      name: optional op name.
    """
    if isinstance(branch_fns, dict):
        items = sorted(branch_fns.items())
    elif branch_fns and isinstance(branch_fns[0], tuple):
        items = sorted(branch_fns)
    else:
        items = list(enumerate(branch_fns))
    if not items:
        raise ValueError("switch_case: branch_fns must not be empty")
    for key, fn in items:
        if not callable(fn):
            raise TypeError(f"switch_case: branch {key} is not callable, got {fn!r}")
    default = default or items[-1][1]
    index = convert_to_tensor(branch_index)
    if not index.dtype.is_integer:
        raise TypeError(f"switch_case: branch_index must be an integer tensor, got dtype "
                        f"{index.dtype.name}")
    if _state.graph is None and not isinstance(index, SymbolicTensor):
        return dict(items).get(int(np.asarray(index)), default)()
    from ndflow.ops import math as math_ops  # noqa: PLC0415

    pairs = [(math_ops.equal(index, key), fn) for key, fn in items]
    return case(pairs, default=default, name=name)


# --- While --------------------------------------------------------------------------------


def _while_kernel(xp, *arrays, cond, body, n_vars, has_max, keep_history, output_specs):
    values = list(arrays[:n_vars])
    extra = list(arrays[n_vars:len(arrays) - 1] if has_max else arrays[n_vars:])
    limit = int(arrays[-1]) if has_max else None
    history = []
    count = 0
    while (limit is None or count < limit) and bool(cond.run(values + extra)[0]):
        if keep_history:
            history.append(tuple(values))
        values = list(body.run(values + extra))
        count += 1
    record = np.empty(len(history), dtype=object)
    for index, item in enumerate(history):
        record[index] = item
    return (*values, record)


def _while_grad(op, *dys):
    from ndflow.ops import array as array_ops  # noqa: PLC0415
    from ndflow.ops import math as math_ops  # noqa: PLC0415

    n = op.get_attr("n_vars")
    body = op.get_attr("body")
    count_inputs = len(op.inputs) - (1 if op.get_attr("has_max") else 0)
    captures = list(op.inputs[n:count_inputs])
    var_ids = [j for j in range(n) if _differentiable(op.outputs[j].dtype)]
    cap_ids = [j for j, t in enumerate(captures) if _differentiable(t.dtype)]
    result = [None] * len(op.inputs)
    if not var_ids or all(dys[j] is None for j in var_ids):
        return result
    op.attrs["keep_history"] = True  # read by the kernel when the graph runs
    history = op.outputs[n]
    seeds = [array_ops.zeros_like(op.outputs[j]) if dys[j] is None else
             convert_to_tensor(dys[j]) for j in var_ids]
    accumulators = [array_ops.zeros_like(captures[j]) for j in cap_ids]
    var_shapes = [body.inputs[j].shape for j in range(n)]

    def backward_cond(k, grads, sums):
        return math_ops.greater_equal(k, 0)

    def backward_body(k, grads, sums):
        values = [execute("WhileHistoryGet", history, k, index=j,
                          dtype=op.outputs[j].dtype, shape=var_shapes[j].as_tuple())
                  for j in range(n)]
        bound = values + [captures[p - n] for p in body.positions[n:]]
        created, outputs = _inline(body.graph, body.inputs, bound, body.outputs)
        local_caps = {id(captures[p - n]): bound[i] for i, p in enumerate(body.positions)
                      if p >= n}
        cap_sources = [_local(local_caps.get(id(captures[j]), captures[j])) for j in cap_ids]
        sources = [values[j] for j in var_ids] + cap_sources
        grads = _backprop(created, [outputs[j] for j in var_ids], list(grads), sources)
        new_grads = [array_ops.zeros_like(s) if g is None else g
                     for g, s in zip(grads[:len(var_ids)], sources)]
        new_sums = [s if g is None else s + g for s, g in zip(sums, grads[len(var_ids):])]
        return k - 1, new_grads, new_sums

    start = execute("WhileHistorySize", history) - 1
    invariants = (TensorShape([]), [var_shapes[j] for j in var_ids],
                  [captures[j].shape for j in cap_ids])
    _, grads, sums = _graph_while(backward_cond, backward_body, (start, seeds, accumulators),
                                  invariants, None, "gradients/While")
    for j, grad in zip(var_ids, grads):
        result[j] = grad
    for j, total in zip(cap_ids, sums):
        result[n + j] = total
    return result


for _name, _stateful in (("While", True), ("StatelessWhile", False)):
    primitive(_name, dtypes=None, same_dtype=False, num_outputs=None, stateful=_stateful)(
        type(_name, (), {"infer": staticmethod(_functional_infer),
                         "kernel": staticmethod(_while_kernel),
                         "grad": staticmethod(_while_grad)}))


@primitive("WhileHistorySize", dtypes=None, same_dtype=False)
class WhileHistorySize:
    def infer(history):
        return Spec((), dtypes.int32)

    def kernel(xp, history):
        return xp.asarray(len(history), dtype=xp.int32)


@primitive("WhileHistoryGet", dtypes=None, same_dtype=False)
class WhileHistoryGet:
    """Loop variable `index` as it was at the start of iteration `k` (for While gradients)."""

    def infer(history, k, index, dtype, shape):
        return Spec(shape, dtype)

    def kernel(xp, history, k, index, dtype, shape):
        return history[int(k)][index]


def _invariant_shapes(flat, shape_invariants, loop_vars):
    if shape_invariants is None:
        return [t.shape for t in flat]
    shapes = nest.flatten(nest.map_structure(lambda s: as_shape(s), shape_invariants))
    if len(shapes) != len(flat):
        raise ValueError(f"while_loop: shape_invariants must have the structure of loop_vars "
                         f"({len(flat)} tensors), got {len(shapes)} shapes")
    for tensor, shape in zip(flat, shapes):
        if not shape.is_compatible_with(tensor.shape):
            raise ValueError(f"while_loop: the shape invariant {shape} is not compatible with "
                             f"the initial shape {tensor.shape} of loop variable "
                             f"{_var_name(tensor)}")
    return shapes


def _var_name(tensor):
    return f"`{tensor.name}`" if isinstance(tensor, SymbolicTensor) else "(eager tensor)"


def _check_body(flat_in, flat_out, shapes, relaxed):
    for tensor, out, shape in zip(flat_in, flat_out, shapes):
        if out.dtype is not tensor.dtype:
            raise TypeError(f"while_loop: loop variable {_var_name(tensor)} enters the loop "
                            f"with dtype {tensor.dtype.name}, but has dtype {out.dtype.name} "
                            f"after one iteration")
        if not shape.is_compatible_with(out.shape) or (
                shape.rank is not None and out.shape.rank is None):
            hint = ("" if relaxed else " To allow the shape to vary across iterations, use the "
                    "`shape_invariants` argument of tf.while_loop to specify a less-specific "
                    "shape.")
            raise ValueError(f"Input tensor {_var_name(tensor)} enters the loop with shape "
                             f"{shape}, but has shape {out.shape} after one iteration.{hint}")


def _graph_while(cond_fn, body_fn, loop_vars, shape_invariants, maximum_iterations, name):
    from ndflow.ops import tensor_array  # noqa: PLC0415

    loop_vars = tensor_array._materialize_for_loop(cond_fn, body_fn, loop_vars)
    flat = [_local(convert_to_tensor(v)) for v in _flatten(loop_vars)]
    if shape_invariants is None:
        shapes = [_composite_invariant(leaf, t) for leaf, t in
                  zip(nest.flatten(loop_vars), flat)]
    else:
        shapes = _invariant_shapes(flat, shape_invariants, loop_vars)
    specs = [(s.as_tuple(), t.dtype) for s, t in zip(shapes, flat)]

    def call(fn):
        return lambda *inputs: fn(*_as_args(_pack(loop_vars, list(inputs))))

    cond_graph, cond_inputs, _, cond_out = _trace(f"{name}_cond", call(cond_fn), specs)
    if len(cond_out) != 1 or cond_out[0].dtype is not dtypes.bool:
        raise TypeError(f"while_loop: cond must return a bool scalar, got {cond_out}")
    body_graph, body_inputs, result, body_out = _trace(f"{name}_body", call(body_fn), specs)
    result = _match_structure(loop_vars, result)
    body_out = [_graph_tensor(v) for v in _flatten(result)] if len(body_out) != len(flat) else (
        body_out)
    _check_body(flat, body_out, shapes, shape_invariants is not None)
    outer = _captures(cond_graph, body_graph)
    n = len(flat)
    branches = []
    for graph, inputs, outputs in ((cond_graph, cond_inputs, cond_out),
                                   (body_graph, body_inputs, body_out)):
        extra, positions = _capture_positions(graph, outer, n)
        branches.append(_Branch(graph, inputs + extra, list(range(n)) + positions, outputs))
    extra_inputs = list(outer)
    if maximum_iterations is not None:
        extra_inputs.append(convert_to_tensor(maximum_iterations, dtype_hint=dtypes.int32))
    stateful = _is_stateful(cond_graph) or _is_stateful(body_graph)
    output_specs = tuple(specs) + (((None,), dtypes.string),)
    outputs = execute("While" if stateful else "StatelessWhile", *flat, *extra_inputs,
                      name=name, cond=branches[0], body=branches[1], n_vars=n,
                      has_max=maximum_iterations is not None, keep_history=False,
                      output_specs=output_specs)
    return _pack(loop_vars, list(outputs[:n]))


def _composite_invariant(leaf, tensor):
    invariant = getattr(leaf, "_flow_invariant", None)
    return invariant() if invariant is not None else tensor.shape


def _as_args(loop_vars):
    return loop_vars if isinstance(loop_vars, (list, tuple)) else (loop_vars,)


def _match_structure(loop_vars, result):
    """The body's result in the loop_vars structure (a lone value for a 1-list is accepted)."""
    if isinstance(loop_vars, (list, tuple)) and len(loop_vars) == 1 and not (
            isinstance(result, (list, tuple)) and len(result) == 1):
        result = type(loop_vars)([result]) if not hasattr(loop_vars, "_fields") else result
    if isinstance(loop_vars, (list, tuple)) and isinstance(result, (list, tuple)) and (
            not hasattr(loop_vars, "_fields")):
        result = type(loop_vars)(result)
    try:
        nest.assert_same_structure(loop_vars, result, check_types=False)
    except (ValueError, TypeError) as error:
        raise ValueError(f"while_loop: body must return the structure of loop_vars, got "
                         f"{result!r} for loop_vars {loop_vars!r}: {error}") from None
    return result


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats `body` while `cond` is true (`tf.while_loop`).

    `cond(*loop_vars)` returns a bool scalar; `body(*loop_vars)` returns new values with the
    structure of `loop_vars`. While tracing, a loop variable must keep its shape unless
    `shape_invariants` gives a less specific one (a None dimension may change).

    Args:
      cond: callable returning a bool scalar.
      body: callable returning the next loop variables.
      loop_vars: a tensor, TensorArray, or (nested) list/tuple/dict of them.
      shape_invariants: optional shapes, in the structure of `loop_vars`.
      parallel_iterations: accepted for TF compatibility.
      back_prop: accepted for TF compatibility.
      swap_memory: accepted for TF compatibility.
      maximum_iterations: optional limit on the number of iterations.
      name: optional op name.

    Returns:
      The loop variables after the last iteration, in the structure of `loop_vars`.

    Raises:
      ValueError: if (while tracing) the body changes a loop variable's shape beyond its
        invariant, or returns another structure.
    """
    if not callable(cond) or not callable(body):
        raise TypeError(f"while_loop: cond and body must be callable, got {cond!r} and "
                        f"{body!r}")
    loop_vars = nest.map_structure(
        lambda v: v if _is_composite(v) or isinstance(v, Tensor) else convert_to_tensor(v),
        loop_vars)
    if _state.graph is not None or any(
            isinstance(v, SymbolicTensor) for v in nest.flatten(loop_vars)):
        return _graph_while(cond, body, loop_vars, shape_invariants, maximum_iterations,
                            name or "while")
    limit = None if maximum_iterations is None else int(np.asarray(
        convert_to_tensor(maximum_iterations)))
    count = 0
    while (limit is None or count < limit) and _eager_bool(cond(*_as_args(loop_vars)),
                                                           "while_loop"):
        loop_vars = _match_structure(loop_vars, body(*_as_args(loop_vars)))
        count += 1
    return loop_vars


API = {"": ["cond", "case", "switch_case", "while_loop"]}
