"""Graph optimisation passes, run on a copy of a traced graph before it is compiled to a plan.

The user-visible graph (`concrete.graph`) stays as traced; `optimize` clones it and rewrites
the clone. Each pass takes the graph and the list of output tensors and returns the (possibly
replaced) outputs; `Rewriter` keeps the tensor replacements that a pass decides on.

- constant folding: a pure op whose inputs are all constants runs once, at compile time;
- common-subexpression elimination: identical pure ops on identical inputs run once;
- arithmetic simplification: x*1, x+0, x-0, x/1, identity, same-dtype casts, stop_gradient
  (after differentiation it is the identity), transpose of transpose, reshape of reshape;
- dead-code elimination: ops that neither feed an output nor have side effects go;
- max-pool before ReLU: relu(x) -> max_pool becomes max_pool(x) -> relu, which gives the same
  numbers (the two commute) on a window-size-times smaller tensor, and its gradient ops with it;
- convolution blocks: Conv2D -> BiasAdd [-> Relu] [-> MaxPool [-> Relu]] whose intermediate
  results feed nothing else runs as one `_FusedConv2D` kernel, a few images at a time;
- training conv blocks: a fused conv whose output feeds only a max pooling and that pooling's
  gradients becomes `_FusedConv2DWithChoice` (conv, bias, pool [, ReLU], and each window's
  first-maximum tap) with `_MaxPoolGradByChoice` as the gradient: the unpooled activation is
  neither written out nor read back;
- bias gradient through max pooling: BiasAddGrad(MaxPoolGrad(.., dy)) is BiasAddGrad(dy)
  (the pooling gradient moves each window's gradient, whole, to one element), on the smaller
  tensor;
- LSTM weight gradient: the sum over time steps of each LSTMBlockCellGrad's weight gradient
  (h_prev_t^T dz_t, an AddN of small products) becomes one product of the stacked h_prev and dz
  (`_LSTMBlockCellInputGrad` computes the rest of each step's gradient);
- element-wise fusion: a chain of element-wise ops of one shape runs as one kernel writing into
  one buffer (`out=`), instead of allocating a temporary per op (with `jit_compile=True`).
"""

import numpy as np

from ndflow.framework import dtypes, op_registry
from ndflow.framework.graph import Operation, SymbolicTensor
from ndflow.framework.op_registry import Spec
from ndflow.function.func_graph import FuncGraph

_FOLD_LIMIT_BYTES = 1 << 22


def optimize(graph, inputs, outputs, fuse=False):
    """Returns (optimised graph, its inputs, its outputs) for compiling."""
    graph, inputs, outputs = clone(graph, inputs, outputs)
    outputs = forward_variable_reads(graph, outputs)
    outputs = simplify(graph, outputs)
    outputs = fold_constants(graph, outputs)
    outputs = eliminate_common_subexpressions(graph, outputs)
    outputs = pool_before_relu(graph, outputs)
    outputs = eliminate_dead_code(graph, outputs)  # the consumers seen next must be live
    outputs = fuse_conv_blocks(graph, outputs)
    outputs = fuse_conv_pool_training(graph, outputs)
    outputs = bias_grad_before_pool_grad(graph, outputs)
    outputs = hoist_lstm_weight_gradient(graph, outputs)
    outputs = eliminate_dead_code(graph, outputs)
    if fuse:
        outputs = fuse_elementwise(graph, outputs)
    outputs = eliminate_dead_code(graph, outputs)
    return graph, inputs, outputs


def clone(graph, inputs, outputs):
    """A copy of `graph` with new Operations; returns (copy, inputs, outputs) in the copy."""
    new = FuncGraph(getattr(graph, "name", "graph") + "_optimized")
    new.variables = list(getattr(graph, "variables", []))
    mapping = {}
    ops = {}
    for op in graph._operations:
        specs = [Spec(t.shape.as_tuple(), t.dtype) for t in op.outputs]
        copied = Operation(new, op.opdef, op.name, [mapping[id(t)] for t in op.inputs],
                           dict(op.attrs), specs, [ops[id(c)] for c in op.control_inputs
                                                   if id(c) in ops], op.source)
        new._operations.append(copied)
        new._by_name[copied.name] = copied
        ops[id(op)] = copied
        for old, fresh in zip(op.outputs, copied.outputs):
            mapping[id(old)] = fresh
    return (new, [mapping[id(t)] for t in inputs],
            [mapping.get(id(t), t) if isinstance(t, SymbolicTensor) else t for t in outputs])


class Rewriter:
    """Tensor replacements decided by a pass, applied to op inputs and outputs."""

    def __init__(self, graph):
        self.graph = graph
        self.replaced = {}

    def resolve(self, tensor):
        while id(tensor) in self.replaced:
            tensor = self.replaced[id(tensor)]
        return tensor

    def replace(self, old, new):
        if old is not new:
            self.replaced[id(old)] = new

    def refresh_inputs(self, op):
        op.inputs = tuple(self.resolve(t) for t in op.inputs)

    def finish(self, outputs):
        for op in self.graph._operations:
            self.refresh_inputs(op)
        return [self.resolve(t) if isinstance(t, SymbolicTensor) else t for t in outputs]


def _const_value(tensor):
    op = tensor.op
    if op.type == "Const" and op.outputs[0].dtype is not dtypes.resource:
        return op.attrs["value"]
    return None


def _is_pure(op):
    return not op.opdef.stateful and op.type not in ("Placeholder", "Const")


# --- variable reads --------------------------------------------------------------------------

_WRITES = ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp")


def forward_variable_reads(graph, outputs):
    """A read of a variable that no op wrote since its previous read reuses that read. Ops run
    in creation order, so this is exact; it lets CSE and folding see through repeated reads
    (an optimizer reads `iterations` once per parameter)."""
    rewriter = Rewriter(graph)
    last_read = {}
    for op in graph._operations:
        rewriter.refresh_inputs(op)
        if op.type == "ReadVariableOp":
            handle = id(op.inputs[0])
            previous = last_read.get(handle)
            if previous is not None:
                rewriter.replace(op.outputs[0], previous)
            else:
                last_read[handle] = op.outputs[0]
        elif op.type in _WRITES:
            last_read.pop(id(op.inputs[0]), None)
        elif op.type.startswith("ResourceApply"):  # fused optimizer updates (TF's training
            for tensor in op.inputs:               # ops) write their resource inputs only
                if tensor.dtype is dtypes.resource:
                    last_read.pop(id(tensor), None)
        elif op.opdef.stateful and op.type not in ("Const", "Placeholder"):
            last_read.clear()  # an opaque stateful op (a function call, print) may write
    return rewriter.finish(outputs)


# --- constant folding ------------------------------------------------------------------------

def fold_constants(graph, outputs):
    """Runs pure ops whose inputs are all constants, replacing them by Const ops."""
    rewriter = Rewriter(graph)
    xp = np
    for op in list(graph._operations):
        rewriter.refresh_inputs(op)
        if not _is_pure(op) or op.opdef.num_outputs == 0:
            continue
        values = [_const_value(t) for t in op.inputs]
        if any(v is None for v in values):
            continue
        try:
            result = op.opdef.kernel(xp, *values, **op.attrs)
        except Exception:  # noqa: BLE001 - an op that fails is left for run time to report
            continue
        results = (result,) if op.opdef.num_outputs == 1 else tuple(result)
        if sum(getattr(r, "nbytes", 0) for r in results) > _FOLD_LIMIT_BYTES:
            continue
        for tensor, array in zip(op.outputs, results):
            folded = graph.constant(np.asarray(array) if np.ndim(array) == 0 else array,
                                    tensor.dtype, name=op.name + "/folded")
            rewriter.replace(tensor, folded)
    return rewriter.finish(outputs)


# --- common subexpressions -------------------------------------------------------------------

def _attr_key(value):
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        if value.nbytes <= 1024 and value.dtype != object:
            return ("array", value.shape, value.dtype.str, value.tobytes())
        return ("id", id(value))
    if isinstance(value, (list, tuple)):
        return tuple(_attr_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _attr_key(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value).__name__, value)


def eliminate_common_subexpressions(graph, outputs):
    """Keeps one of several identical pure ops (same type, inputs and attributes)."""
    rewriter = Rewriter(graph)
    seen = {}
    for op in graph._operations:
        rewriter.refresh_inputs(op)
        if op.opdef.stateful or op.type == "Placeholder":
            continue
        if op.type == "Const" and op.outputs[0].dtype is dtypes.resource:
            continue
        key = (op.type, tuple(id(t) for t in op.inputs), _attr_key(op.attrs))
        first = seen.get(key)
        if first is None:
            seen[key] = op
            continue
        for tensor, kept in zip(op.outputs, first.outputs):
            rewriter.replace(tensor, kept)
    return rewriter.finish(outputs)


# --- arithmetic simplification ---------------------------------------------------------------

def _is_constant_equal(tensor, number):
    value = _const_value(tensor)
    return value is not None and np.size(value) > 0 and bool(np.all(np.asarray(value) == number))


def _keeps_shape(x, other):
    """x op other has x's static shape (the constant does not broadcast x to a larger shape)."""
    if other.shape.rank == 0:
        return True
    if not (x.shape.is_fully_defined() and other.shape.is_fully_defined()):
        return False
    x_shape = tuple(x.shape.as_list())
    try:
        return np.broadcast_shapes(x_shape, tuple(other.shape.as_list())) == x_shape
    except ValueError:
        return False


_NEUTRAL = {
    "Mul": [(1, 0), (1, 1)],  # (neutral value, position of the constant)
    "AddV2": [(0, 0), (0, 1)],
    "Sub": [(0, 1)],
    "RealDiv": [(1, 1)],
}


def _simplified(op):
    """The tensor op's output can be replaced by, or None."""
    if op.type in ("Identity", "StopGradient", "Snapshot"):
        return op.inputs[0]
    if op.type == "Cast" and op.inputs[0].dtype is op.attrs.get("DstT"):
        return op.inputs[0]
    for neutral, position in _NEUTRAL.get(op.type, ()):
        constant, other = op.inputs[position], op.inputs[1 - position]
        if _is_constant_equal(constant, neutral) and _keeps_shape(other, constant):
            return other
    if op.type == "Reshape" and op.inputs[0].op.type == "Reshape":
        inner = op.inputs[0].op
        if _const_value(op.inputs[1]) is not None:
            return ("reshape", inner.inputs[0], op.inputs[1])
    if op.type == "Transpose" and op.inputs[0].op.type == "Transpose":
        return _merged_transpose(op)
    if op.type == "Reshape" and op.inputs[0].shape.is_fully_defined():
        target = _const_value(op.inputs[1])
        if target is not None and list(np.asarray(target)) == op.inputs[0].shape.as_list():
            return op.inputs[0]
    return None


def _perm_of(op):
    if "perm" in op.attrs:
        return op.attrs["perm"]
    if len(op.inputs) > 1:
        return _const_value(op.inputs[1])
    return None


def _merged_transpose(op):
    inner = op.inputs[0].op
    outer_perm, inner_perm = _perm_of(op), _perm_of(inner)
    if outer_perm is None or inner_perm is None:
        return None
    combined = [int(inner_perm[int(p)]) for p in np.asarray(outer_perm)]
    if combined == list(range(len(combined))):
        return inner.inputs[0]
    return None


def simplify(graph, outputs):
    """Removes identity arithmetic and collapses reshape-of-reshape and transpose pairs."""
    rewriter = Rewriter(graph)
    for op in list(graph._operations):
        rewriter.refresh_inputs(op)
        replacement = _simplified(op)
        if replacement is None:
            continue
        if isinstance(replacement, tuple):
            _, source, shape = replacement
            op.inputs = (source, shape)
            continue
        if replacement.dtype is op.outputs[0].dtype:
            rewriter.replace(op.outputs[0], replacement)
    return rewriter.finish(outputs)


# --- max-pool before ReLU -------------------------------------------------------------------

_POOL_GRADS = {"MaxPool": "MaxPoolGrad", "MaxPool3D": "MaxPool3DGrad"}


def _consumers(graph):
    found = {}
    for op in graph._operations:
        for tensor in op.inputs:
            found.setdefault(id(tensor), []).append(op)
    return found


def _new_op(graph, op_type, inputs, attrs, like):
    """An op of `op_type` on `inputs` placed just before `like` (program order is kept);
    returns its output (the first one: `_new_op_outputs` returns them all)."""
    return _new_op_outputs(graph, op_type, inputs, attrs, like)[0]


def _new_op_outputs(graph, op_type, inputs, attrs, like):
    """Like `_new_op`, for an op with any number of outputs: returns them all."""
    opdef = op_registry.get(op_type)
    specs = opdef.infer(*[Spec(t.shape.as_tuple(), t.dtype) for t in inputs], **attrs)
    op = Operation(graph, opdef, graph.unique_name(op_type), list(inputs), dict(attrs),
                   [specs] if opdef.num_outputs == 1 else list(specs), [], like.source)
    graph._operations.insert(graph._operations.index(like), op)
    graph._by_name[op.name] = op
    return op.outputs


def pool_before_relu(graph, outputs):
    """Rewrites relu(x) -> MaxPool (and, in a training graph, the MaxPoolGrad -> ReluGrad
    pair of its gradient) as MaxPool(x) -> relu (ReluGrad -> MaxPoolGrad on x).

    max and relu commute, so the forward numbers are the same; the gradient is too: where a
    window's maximum is positive both forms route it to the window's first maximum, and where it
    is not the ReLU gradient is 0 either way. The ReLU and its gradient then run on the pooled
    tensor (4x smaller for 2x2 windows). Only done when the ReLU output feeds nothing else."""
    fetched = {id(t) for t in outputs if isinstance(t, SymbolicTensor)}
    consumers = _consumers(graph)
    rewriter = Rewriter(graph)
    for pool in list(graph._operations):
        grad_type = _POOL_GRADS.get(pool.type)
        if grad_type is None or pool.inputs[0].op.type != "Relu":
            continue
        relu_out = pool.inputs[0]
        pooled = pool.outputs[0]
        grads, relu_grads, other_relu_grads = [], [], []
        ok = id(relu_out) not in fetched
        for user in consumers.get(id(relu_out), []):
            if user is pool:
                continue
            if (user.type == grad_type and user.inputs[0] is relu_out
                    and user.inputs[1] is pooled and user.attrs == pool.attrs):
                routed = user.outputs[0]
                users = consumers.get(id(routed), [])
                ok = (id(routed) not in fetched and len(users) == 1
                      and users[0].type == "ReluGrad" and users[0].inputs[0] is routed
                      and users[0].inputs[1] is relu_out)
                grads.append(user)
                relu_grads.append(users[0] if users else None)
            elif user.type == "ReluGrad" and user.inputs[1] is relu_out:
                other_relu_grads.append(user)  # must be one of the pairs' ReluGrads
            else:
                ok = False
            if not ok:
                break
        if not ok or any(all(u is not r for r in relu_grads) for u in other_relu_grads):
            continue
        features = relu_out.op.inputs[0]
        pooled_first = _new_op(graph, pool.type, [features], pool.attrs, pool)
        activated = _new_op(graph, "Relu", [pooled_first], {}, pool)
        rewriter.replace(pooled, activated)
        for grad, relu_grad in zip(grads, relu_grads):
            masked = _new_op(graph, "ReluGrad", [grad.inputs[2], activated], {}, relu_grad)
            routed = _new_op(graph, grad_type, [features, pooled_first, masked], grad.attrs,
                             relu_grad)
            rewriter.replace(relu_grad.outputs[0], routed)
    return rewriter.finish(outputs)


# --- convolution blocks ---------------------------------------------------------------------

def _only_consumer(tensor, consumers, fetched, op_type):
    """The single op of `op_type` reading `tensor` (which nothing else reads), or None."""
    users = consumers.get(id(tensor), [])
    if id(tensor) in fetched or len(users) != 1 or users[0].type != op_type:
        return None
    return users[0] if list(users[0].inputs).count(tensor) == 1 else None


def _fusable_conv(op):
    if op.type != "Conv2D" or op.attrs.get("data_format") != "NHWC":
        return False
    x, w = op.inputs
    if x.dtype not in (dtypes.float32, dtypes.float64) or w.shape.rank != 4 or \
            x.shape.rank != 4:
        return False
    channels, in_depth = x.shape.as_list()[-1], w.shape.as_list()[-2]
    return channels is not None and channels == in_depth  # not a grouped convolution


def _fusable_pool(op):
    attrs = op.attrs
    return (attrs.get("data_format") == "NHWC" and attrs.get("padding") in ("SAME", "VALID")
            and tuple(attrs.get("dilations", (1, 1, 1, 1))) == (1, 1, 1, 1))


def fuse_conv_blocks(graph, outputs):
    """Conv2D -> BiasAdd [-> Relu] [-> MaxPool [-> Relu]] -> one `_FusedConv2D` op when each
    intermediate result has that one consumer (ops/fused_conv.py)."""
    fetched = {id(t) for t in outputs if isinstance(t, SymbolicTensor)}
    consumers = _consumers(graph)
    rewriter = Rewriter(graph)
    for conv in list(graph._operations):
        if not _fusable_conv(conv):
            continue
        bias_add = _only_consumer(conv.outputs[0], consumers, fetched, "BiasAdd")
        if bias_add is None or bias_add.inputs[0] is not conv.outputs[0] or \
                bias_add.attrs.get("data_format", "NHWC") != "NHWC":
            continue
        last, relu, pool = bias_add, False, ()
        following = _only_consumer(last.outputs[0], consumers, fetched, "Relu")
        if following is not None:
            last, relu = following, True
        following = _only_consumer(last.outputs[0], consumers, fetched, "MaxPool")
        if following is not None and _fusable_pool(following):
            last = following
            pool = (tuple(following.attrs["ksize"]), tuple(following.attrs["strides"]),
                    following.attrs["padding"])
            if not relu:
                following = _only_consumer(last.outputs[0], consumers, fetched, "Relu")
                if following is not None:
                    last, relu = following, True
        attrs = {name: conv.attrs[name] for name in
                 ("strides", "padding", "explicit_paddings", "data_format", "dilations")}
        attrs.update(relu=relu, pool=pool)
        fused = _new_op(graph, "_FusedConv2D",
                        [conv.inputs[0], conv.inputs[1], bias_add.inputs[1]], attrs, last)
        rewriter.replace(last.outputs[0], fused)
    return rewriter.finish(outputs)


def _choice_pool(pool, features):
    """(ksize, strides, padding) of a MaxPool whose windows route by tap number, else None."""
    attrs = pool.attrs
    if pool.type != "MaxPool" or not _fusable_pool(pool) or not features.shape.rank == 4:
        return None
    from ndflow.ops import pool as pool_ops
    shape = features.shape.as_tuple()
    try:
        geo = pool_ops.pool_geometry("MaxPool", 2, shape, tuple(attrs["ksize"]),
                                     tuple(attrs["strides"]), attrs["padding"], (), "NHWC",
                                     (1, 1, 1, 1), False)
    except Exception:  # noqa: BLE001 - an invalid pooling keeps its own op (and its error)
        return None
    if not pool_ops.routes_by_choice(geo, shape[1:-1]):
        return None
    return tuple(attrs["ksize"]), tuple(attrs["strides"]), attrs["padding"]


def fuse_conv_pool_training(graph, outputs):
    """_FusedConv2D (conv + bias) -> MaxPool [-> Relu] whose unpooled output feeds only the
    pooling and its gradients (MaxPoolGrad(features, pooled, dy)) becomes one
    `_FusedConv2DWithChoice` (pooled [, ReLU'd] output and each window's first-maximum tap);
    each MaxPoolGrad becomes `_MaxPoolGradByChoice(choice, dy)`. Same numbers; the activation
    (4x the pooled size for 2x2 windows) is no longer written, kept, nor re-read."""
    fetched = {id(t) for t in outputs if isinstance(t, SymbolicTensor)}
    consumers = _consumers(graph)
    rewriter = Rewriter(graph)
    for conv in list(graph._operations):
        if conv.type != "_FusedConv2D" or conv.attrs["pool"] or conv.attrs["relu"]:
            continue
        features = conv.outputs[0]
        users = consumers.get(id(features), [])
        pools = [u for u in users if u.type == "MaxPool"]
        if id(features) in fetched or len(pools) != 1:
            continue
        pool = pools[0]
        pooled = pool.outputs[0]
        grads = [u for u in users if u is not pool]
        if not grads or any(g.type != "MaxPoolGrad" or g.inputs[0] is not features
                            or g.inputs[1] is not pooled or g.inputs[2] is features
                            or g.attrs != pool.attrs for g in grads):
            continue
        window = _choice_pool(pool, features)
        if window is None:
            continue
        last, relu = pool, False
        others = [u for u in consumers.get(id(pooled), []) if u not in grads]
        if (id(pooled) not in fetched and len(others) == 1 and others[0].type == "Relu"):
            last, relu = others[0], True
        attrs = dict(conv.attrs, relu=relu, pool=window)
        out, choice = _new_op_outputs(graph, "_FusedConv2DWithChoice", list(conv.inputs), attrs,
                                      last)
        rewriter.replace(last.outputs[0], out)
        ksize, strides, padding = window
        for grad in grads:
            routed = _new_op(graph, "_MaxPoolGradByChoice", [choice, grad.inputs[2]],
                             {"input_shape": features.shape.as_tuple(), "ksize": ksize,
                              "strides": strides, "padding": padding}, grad)
            rewriter.replace(grad.outputs[0], routed)
    return rewriter.finish(outputs)


def bias_grad_before_pool_grad(graph, outputs):
    """BiasAddGrad(MaxPoolGrad(x, y, dy)) -> BiasAddGrad(dy): the max-pool gradient moves each
    window's gradient whole to one element (adding where windows overlap), so the per-channel
    sums are those of dy, and dy is window-size times smaller. (A window whose maximum is NaN
    gets no gradient from MaxPoolGrad; its dy still counts here.)"""
    for op in graph._operations:
        if op.type != "BiasAddGrad":
            continue
        routed = op.inputs[0].op
        if routed.type not in ("MaxPoolGrad", "_MaxPoolGradByChoice"):
            continue
        pool_format = routed.attrs.get("data_format", "NHWC")
        if pool_format[-1] != "C" or op.attrs.get("data_format", "NHWC")[-1] != "C":
            continue
        dy = routed.inputs[2] if routed.type == "MaxPoolGrad" else routed.inputs[1]
        if dy.dtype is not op.inputs[0].dtype:
            continue
        op.inputs = (dy,)
    return outputs


# --- recurrent cells ---------------------------------------------------------------------------

def hoist_lstm_weight_gradient(graph, outputs):
    """AddN(dw_1 .. dw_T) over the weight gradients of LSTMBlockCellGrad ops (each read by
    that AddN only) -> MatMul(concat(h_prev_t)^T, concat(dz_t)): one (T*B x U)^T (T*B x 4U)
    product instead of T small ones and their sum (lstm_fit, T = 100 at batch 64: ~2 ms of a
    ~30 ms step). dz_t are stacked by the graph's own Pack of them when it has one (the input
    projection's gradient stacks them anyway)."""
    fetched = {id(t) for t in outputs if isinstance(t, SymbolicTensor)}
    consumers = _consumers(graph)
    rewriter = Rewriter(graph)
    for total in list(graph._operations):
        if total.type != "AddN" or len(total.inputs) < 2:
            continue
        cells = [t.op for t in total.inputs]
        if any(op.type != "LSTMBlockCellGrad" or op.outputs[3] is not t or id(t) in fetched
               or len(consumers.get(id(t), [])) != 1 for op, t in zip(cells, total.inputs)):
            continue
        if len({id(op) for op in cells}) != len(cells) or \
                len({id(op.inputs[3]) for op in cells}) != 1:
            continue  # every step once, one shared recurrent kernel
        dzs = [op.outputs[0] for op in cells]
        units = cells[0].inputs[1].shape.as_list()[-1]
        if units is None:
            continue
        steps = _stack_rows(graph, dzs, 4 * units, total, consumers)
        previous = _new_op(graph, "ConcatV2", [op.inputs[1] for op in cells], {"axis": 0}, total)
        summed = _new_op(graph, "MatMul", [previous, steps],
                         {"transpose_a": True, "transpose_b": False}, total)
        rewriter.replace(total.outputs[0], summed)
        for op in cells:
            dz, dh_prev, dc_prev = _new_op_outputs(graph, "_LSTMBlockCellInputGrad",
                                                   list(op.inputs), {}, op)
            for old, new in zip(op.outputs[:3], (dz, dh_prev, dc_prev)):
                rewriter.replace(old, new)
    return rewriter.finish(outputs)


def _stack_rows(graph, tensors, width, before, consumers):
    """`tensors` (each B x width) stacked into (len * B, width) rows, ready before `before`:
    the reshaped output of an existing Pack of exactly these tensors along axis 0 (moved before
    `before` if it ran later; its inputs all exist by then), else a new ConcatV2."""
    ids = [id(t) for t in tensors]
    for user in consumers.get(ids[0], []):
        if (user.type == "Pack" and user.attrs.get("axis") == 0
                and [id(t) for t in user.inputs] == ids):
            operations = graph._operations
            if operations.index(user) > operations.index(before):
                operations.remove(user)
                operations.insert(operations.index(before), user)
            shape = graph.constant(np.asarray([-1, width], np.int32), dtypes.int32,
                                   name=user.name + "/rows")
            return _new_op(graph, "Reshape", [user.outputs[0], shape], {}, before)
    return _new_op(graph, "ConcatV2", list(tensors), {"axis": 0}, before)


# --- dead code -------------------------------------------------------------------------------

def eliminate_dead_code(graph, outputs):
    """Drops ops that feed no output and have no side effect."""
    live = set()
    stack = [t.op for t in outputs if isinstance(t, SymbolicTensor)]
    stack += [op for op in graph._operations
              if op.opdef.side_effects or op.type == "Placeholder"]
    while stack:
        op = stack.pop()
        if id(op) in live:
            continue
        live.add(id(op))
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    graph._operations = [op for op in graph._operations if id(op) in live]
    graph._by_name = {op.name: op for op in graph._operations}
    return outputs


# --- element-wise fusion ---------------------------------------------------------------------

def _fusible(op):
    if op.opdef.ufunc is None or op.opdef.num_outputs != 1:
        return False
    out = op.outputs[0]
    if not (out.dtype.is_floating and out.shape.is_fully_defined()):
        return False
    return all(t.dtype is out.dtype for t in op.inputs)


def fuse_elementwise(graph, outputs):
    """Fuses chains of element-wise ops whose intermediate results have one consumer."""
    consumers = {}
    for op in graph._operations:
        for tensor in op.inputs:
            consumers.setdefault(id(tensor), []).append(op)
    fetched = {id(t) for t in outputs if isinstance(t, SymbolicTensor)}
    rewriter = Rewriter(graph)
    absorbed = set()
    for op in list(graph._operations):
        if id(op) in absorbed or not _fusible(op):
            continue
        chain = [op]
        while True:
            tail = chain[-1].outputs[0]
            users = consumers.get(id(tail), [])
            if id(tail) in fetched or len(users) != 1 or not _fusible(users[0]):
                break
            nxt = users[0]
            if nxt.outputs[0].shape != op.outputs[0].shape or list(nxt.inputs).count(tail) != 1:
                break
            chain.append(nxt)
        if len(chain) < 2:
            continue
        absorbed.update(id(o) for o in chain)
        fused = _build_fused(graph, chain)
        rewriter.replace(chain[-1].outputs[0], fused)
    graph._operations = [op for op in graph._operations if id(op) not in absorbed]
    return rewriter.finish(outputs)


def _build_fused(graph, chain):
    external = list(chain[0].inputs)
    program = [(chain[0].opdef.ufunc, -1, tuple(range(len(external))))]
    for op in chain[1:]:
        previous = None
        args = []
        for tensor in op.inputs:
            if previous is None and tensor.op is chain[chain.index(op) - 1]:
                previous = True
                args.append(-1)
            else:
                args.append(len(external))
                external.append(tensor)
        program.append((op.opdef.ufunc, args.index(-1), tuple(a for a in args if a != -1)))
    out = chain[-1].outputs[0]
    opdef = op_registry.get("FusedElementwise")
    fused = Operation(graph, opdef, graph.unique_name("FusedElementwise"), external,
                      {"program": tuple(program)}, [Spec(out.shape.as_tuple(), out.dtype)], [],
                      chain[-1].source)
    position = graph._operations.index(chain[-1])
    graph._operations.insert(position + 1, fused)
    return fused.outputs[0]


@op_registry.primitive("FusedElementwise", dtypes=dtypes.FLOATS)
class FusedElementwise:
    """A chain of element-wise ufuncs computed into one buffer. `program` holds, per step, the
    ufunc name, the position of the running result among its operands (-1 for the first step,
    which reads only inputs) and the indices of the op inputs it reads."""

    def infer(*inputs, program):
        shape = ()
        for spec in inputs:
            if spec.shape is None:
                return Spec(None, inputs[0].dtype)
            shape = _broadcast_static(shape, spec.shape)
        return Spec(shape, inputs[0].dtype)

    def kernel(xp, *inputs, program):
        name, _, reads = program[0]
        buffer = getattr(xp, name)(*[inputs[i] for i in reads])
        if not isinstance(buffer, xp.ndarray):
            buffer = xp.asarray(buffer)
        for name, position, reads in program[1:]:
            operands = [inputs[i] for i in reads]
            operands.insert(position, buffer)
            getattr(xp, name)(*operands, out=buffer)
        return buffer


def _broadcast_static(a, b):
    result = []
    for index in range(1, max(len(a), len(b)) + 1):
        x = a[-index] if index <= len(a) else 1
        y = b[-index] if index <= len(b) else 1
        result.append(y if x == 1 else x if y == 1 or x == y or y is None else
                      x if x is not None else y)
    return tuple(reversed(result))
