"""Fused recurrent cells: one LSTM time step as one op (`LSTMBlockCell`) with a one-kernel
gradient (`LSTMBlockCellGrad`), as TensorFlow's LSTMBlockCell / BlockLSTM ops do, and the same
for Keras' GRU step with reset_after=True (`GRUResetAfterCell`, no TF counterpart).

A Keras LSTM step written op by op is ~15 small ops forward and ~40 backward; in an unrolled
sequence of 100 steps their per-op cost dominates training (issue #8). The fused op does the
recurrent matmul and the gate math in one kernel and saves the gate activations for the
gradient, whose kernel is one pass of element-wise math and two GEMMs.

Differences from TF's raw `LSTMBlockCell`: the input projection `x @ kernel + bias` comes in
precomputed (Keras computes it for all time steps at once), gates are in Keras' order
i, f, c, o, and there is no peephole, forget bias or cell clip. The op is internal (used by
`keras.layers.LSTMCell`), so nothing is published in the `tf` namespace.
"""

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.ops import compiled
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import manip
from ndflow.ops import math as math_ops

API = {}

_DTYPES = frozenset([dtypes.float32, dtypes.float64])


# --- shape inference -------------------------------------------------------------------------

def _merge(op_name, what, *dims):
    """The one value of the known `dims` (None when all are unknown); raises on a mismatch."""
    known = {d for d in dims if d is not None}
    if len(known) > 1:
        raise errors.InvalidArgumentError(
            f"{op_name}: {what} must agree, got {', '.join(str(d) for d in dims)}")
    return known.pop() if known else None


def _dims(op_name, name, spec):
    """(rows, columns) of a matrix spec, (None, None) for unknown rank."""
    if spec.shape is None:
        return None, None
    if len(spec.shape) != 2:
        raise errors.InvalidArgumentError(
            f"{op_name}: {name} must be a matrix, got shape {spec.shape}")
    return spec.shape


def _cell_dims(op_name, x, h_prev, c_prev, w):
    """(batch, units) of a cell call; validates all four shapes."""
    x_rows, x_cols = _dims(op_name, "x", x)
    h_rows, h_cols = _dims(op_name, "h_prev", h_prev)
    c_rows, c_cols = _dims(op_name, "c_prev", c_prev)
    w_rows, w_cols = _dims(op_name, "w", w)
    shapes = (f"shapes x {x.shape}, h_prev {h_prev.shape}, c_prev {c_prev.shape}, w "
              f"{w.shape}")
    units = _merge(op_name, f"the units of h_prev, c_prev and w rows ({shapes})", h_cols,
                   c_cols, w_rows)
    quads = [d // 4 if d is not None and d % 4 == 0 else d for d in (x_cols, w_cols)]
    for d in (x_cols, w_cols):
        if d is not None and (d % 4 != 0 or (units is not None and d != 4 * units)):
            raise errors.InvalidArgumentError(
                f"{op_name}: x and w must have 4 * units columns, got {shapes}")
    units = _merge(op_name, f"4 * units and the columns of x and w ({shapes})", units, *quads)
    batch = _merge(op_name, f"the batch sizes of x, h_prev and c_prev ({shapes})", x_rows,
                   h_rows, c_rows)
    return batch, units


def _times(factor, units):
    return None if units is None else factor * units


# --- the ops ---------------------------------------------------------------------------------

@primitive("LSTMBlockCell", dtypes=_DTYPES, num_outputs=3)
class LSTMBlockCell:
    """(h, c, gates) of one LSTM step from the projected input `x = inputs @ kernel + bias`.

    z = x + h_prev @ w; i, f, o = sigmoid(z_i, z_f, z_o); c = f * c_prev + i * tanh(z_c);
    h = o * tanh(c). `gates` (batch, 5 * units) keeps [i, f, tanh(z_c), o, tanh(c)] for the
    gradient; as in TF, gradients arriving at `gates` are ignored (it is a saved activation).
    """

    def infer(x, h_prev, c_prev, w):
        batch, units = _cell_dims("LSTMBlockCell", x, h_prev, c_prev, w)
        state = Spec((batch, units), x.dtype)
        return state, state, Spec((batch, _times(5, units)), x.dtype)

    def kernel(xp, x, h_prev, c_prev, w):
        # One exp for all four gates: sigmoid(z) = 1 / (1 + exp(-z)) and tanh(z) =
        # 2 / (1 + exp(-2z)) - 1; exp's overflow to inf gives the right limits 0 and -1.
        # NumPy's float32 tanh is ~3x slower than exp per element here (no AVX-512).
        units = h_prev.shape[1]
        z = xp.matmul(h_prev, w)
        compiled_kernels = compiled.kernels(xp) if z.dtype == xp.float32 and z.size else None
        if compiled_kernels is not None:
            # compiled loops index by these shapes (eager calls skip `infer`): check them
            _cell_dims("LSTMBlockCell", x, h_prev, c_prev, w)
            gates = xp.empty((z.shape[0], 5 * units), z.dtype)
            c, h = xp.empty(c_prev.shape, z.dtype), xp.empty(c_prev.shape, z.dtype)
            # contiguous rows: a strided view (the time slices of a transposed sequence) gets
            # numba's any-layout code, which does not vectorize (3x slower)
            compiled_kernels.lstm_cell_float32(z, xp.ascontiguousarray(x),
                                               xp.ascontiguousarray(c_prev), gates, c, h)
            return h, c, gates
        z += x
        xp.negative(z, out=z)
        z[:, 2 * units:3 * units] *= 2
        xp.exp(z, out=z)
        z += 1
        gates = xp.empty((z.shape[0], 5 * units), z.dtype)
        xp.divide(1, z, out=gates[:, :4 * units])
        i, f, ci, o, co = (gates[:, k * units:(k + 1) * units] for k in range(5))
        ci *= 2
        ci -= 1
        c = f * c_prev
        c += i * ci
        xp.tanh(c, out=co)
        return o * co, c, gates

    kernel.quiet = True  # exp overflows to inf on purpose: run under errstate

    def grad(op, dh, dc, unused_dgates):
        x, h_prev, c_prev, w = op.inputs
        dx, dh_prev, dc_prev, dw = execute("LSTMBlockCellGrad", x, h_prev, c_prev, w,
                                           op.outputs[2], dh, dc)
        return [dx, dh_prev, dc_prev, dw]


@primitive("LSTMBlockCellGrad", dtypes=_DTYPES, num_outputs=4)
class LSTMBlockCellGrad:
    """(dx, dh_prev, dc_prev, dw) of LSTMBlockCell from dh, dc and its saved `gates`.

    `x` is not read by the kernel; it is an input so the second-order gradient can recompute
    the step from the cell's own inputs.
    """

    def infer(x, h_prev, c_prev, w, gates, dh, dc):
        name = "LSTMBlockCellGrad"
        batch, units = _cell_dims(name, x, h_prev, c_prev, w)
        g_rows, g_cols = _dims(name, "gates", gates)
        dh_rows, dh_cols = _dims(name, "dh", dh)
        dc_rows, dc_cols = _dims(name, "dc", dc)
        shapes = f"shapes gates {gates.shape}, dh {dh.shape}, dc {dc.shape}"
        batch = _merge(name, f"the batch sizes of the cell and its gradients ({shapes})", batch,
                       g_rows, dh_rows, dc_rows)
        units = _merge(name, f"the units of the cell and its gradients ({shapes})", units,
                       dh_cols, dc_cols)
        if g_cols is not None and units is not None and g_cols != 5 * units:
            raise errors.InvalidArgumentError(
                f"{name}: gates must have 5 * units columns, got {shapes} and units {units}")
        state = Spec((batch, units), x.dtype)
        return (Spec((batch, _times(4, units)), x.dtype), state, state,
                Spec((units, _times(4, units)), x.dtype))

    def kernel(xp, x, h_prev, c_prev, w, gates, dh, dc):
        dz, dc_prev = _pre_activation_grad(xp, x, h_prev, c_prev, w, gates, dh, dc)
        return dz, xp.matmul(dz, w.T), dc_prev, xp.matmul(h_prev.T, dz)

    def grad(op, ddx, ddh_prev, ddc_prev, ddw):
        return _recomputed_grad_grad(lstm_cell_unfused, op, 4,
                                     [ddx, ddh_prev, ddc_prev, ddw])


def _pre_activation_grad(xp, x, h_prev, c_prev, w, gates, dh, dc):
    """(dz, dc_prev): the gradient of the cell's pre-activation z and of c_prev."""
    units = h_prev.shape[1]
    compiled_kernels = compiled.kernels(xp) if gates.dtype.kind == "f" else None
    if compiled_kernels is not None and gates.size:
        # compiled loops index by these shapes (eager calls skip `infer`): check them
        LSTMBlockCellGrad.infer(x, h_prev, c_prev, w, gates, dh, dc)
        if len({a.shape for a in (h_prev, c_prev, dh, dc)}) != 1:
            raise errors.InvalidArgumentError(
                f"LSTMBlockCellGrad: h_prev, c_prev, dh and dc must have one shape, got "
                f"{h_prev.shape}, {c_prev.shape}, {dh.shape} and {dc.shape}")
        dz = xp.empty((gates.shape[0], 4 * units), gates.dtype)
        dc_prev = xp.empty(dh.shape, gates.dtype)
        compiled_kernels.lstm_cell_grad(*[xp.ascontiguousarray(a) for a in
                                          (gates, c_prev, dh, dc)], dz, dc_prev)
        return dz, dc_prev
    i, f, ci, o, co = (gates[:, k * units:(k + 1) * units] for k in range(5))
    dcs = xp.square(co)
    xp.subtract(1, dcs, out=dcs)
    dcs *= dh * o
    dcs += dc
    dz = xp.empty((gates.shape[0], 4 * units), gates.dtype)
    xp.multiply(dcs, ci, out=dz[:, :units])
    xp.multiply(dcs, c_prev, out=dz[:, units:2 * units])
    xp.multiply(dcs, i, out=dz[:, 2 * units:3 * units])
    xp.multiply(dh, co, out=dz[:, 3 * units:])
    act = gates[:, :4 * units]
    slope = xp.subtract(1, act)
    slope *= act
    tanh_slope = slope[:, 2 * units:3 * units]
    xp.square(ci, out=tanh_slope)
    xp.subtract(1, tanh_slope, out=tanh_slope)
    dz *= slope
    return dz, dcs * f


@primitive("_LSTMBlockCellInputGrad", dtypes=_DTYPES, num_outputs=3)
class LSTMBlockCellInputGrad:
    """LSTMBlockCellGrad without the weight gradient: (dz, dh_prev, dc_prev), where dz is the
    pre-activation gradient (= dx). The graph pass `hoist_lstm_weight_gradient` builds it after
    differentiation, when the weight gradients of all steps are summed: their sum is then one
    product over the stacked steps, sum_t h_prev_t^T dz_t."""

    def infer(x, h_prev, c_prev, w, gates, dh, dc):
        dz, dh_prev, dc_prev, _ = LSTMBlockCellGrad.infer(x, h_prev, c_prev, w, gates, dh, dc)
        return dz, dh_prev, dc_prev

    def kernel(xp, x, h_prev, c_prev, w, gates, dh, dc):
        dz, dc_prev = _pre_activation_grad(xp, x, h_prev, c_prev, w, gates, dh, dc)
        return dz, xp.matmul(dz, w.T), dc_prev


# --- composite reference and the second-order gradient ---------------------------------------

def lstm_cell_unfused(x, h_prev, c_prev, w):
    """(h, c) of one LSTM step in separate ndflow ops: the fused op's reference."""
    z = math_ops.add(x, linalg_ops.matmul(h_prev, w))
    z_i, z_f, z_c, z_o = manip.split(z, 4, axis=-1)
    c = math_ops.add(math_ops.multiply(math_ops.sigmoid(z_f), c_prev),
                     math_ops.multiply(math_ops.sigmoid(z_i), math_ops.tanh(z_c)))
    return math_ops.multiply(math_ops.sigmoid(z_o), math_ops.tanh(c)), c


def _recomputed_grad_grad(cell, op, num_cell_inputs, upstream):
    """The gradient of a cell's gradient op: differentiates the cell's vector-Jacobian product
    recomputed from the cell's inputs (a tape inside a tape over the unfused `cell`), so the
    saved activations need no gradient: their dependence on the inputs is recomputed.
    The gradient op's inputs are the cell inputs, the saved activations, then the cell's
    output gradients."""
    from ndflow.autodiff.tape import GradientTape

    cell_inputs = list(op.inputs[:num_cell_inputs])
    output_grads = list(op.inputs[num_cell_inputs + 1:])
    with GradientTape() as outer:
        outer.watch(cell_inputs + output_grads)
        with GradientTape() as inner:
            inner.watch(cell_inputs)
            outputs = cell(*cell_inputs)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        vjp = inner.gradient(outputs, cell_inputs, output_gradients=output_grads)
    grads = outer.gradient(vjp, cell_inputs + output_grads, output_gradients=upstream)
    return grads[:num_cell_inputs] + [None] + grads[num_cell_inputs:]


# --- GRU (Keras' reset_after=True) -----------------------------------------------------------

def _gru_dims(op_name, x, h_prev, w, b):
    """(batch, units) of a GRU cell call; validates the four shapes."""
    x_rows, x_cols = _dims(op_name, "x", x)
    h_rows, h_cols = _dims(op_name, "h_prev", h_prev)
    w_rows, w_cols = _dims(op_name, "w", w)
    if b.shape is not None and len(b.shape) != 1:
        raise errors.InvalidArgumentError(f"{op_name}: b must be a vector, got shape {b.shape}")
    b_cols = None if b.shape is None else b.shape[0]
    shapes = f"shapes x {x.shape}, h_prev {h_prev.shape}, w {w.shape}, b {b.shape}"
    units = _merge(op_name, f"the units of h_prev and w rows ({shapes})", h_cols, w_rows)
    for d in (x_cols, w_cols, b_cols):
        if d is not None and (d % 3 != 0 or (units is not None and d != 3 * units)):
            raise errors.InvalidArgumentError(
                f"{op_name}: x, w and b must have 3 * units columns, got {shapes}")
    thirds = [None if d is None else d // 3 for d in (x_cols, w_cols, b_cols)]
    units = _merge(op_name, f"3 * units and the columns of x, w and b ({shapes})", units,
                   *thirds)
    batch = _merge(op_name, f"the batch sizes of x and h_prev ({shapes})", x_rows, h_rows)
    return batch, units


@primitive("GRUResetAfterCell", dtypes=_DTYPES, num_outputs=2)
class GRUResetAfterCell:
    """(h, saved) of one Keras GRU step (reset gate after the recurrent matmul).

    inner = h_prev @ w + b; z, r = sigmoid(x_zr + inner_zr); hh = tanh(x_h + r * inner_h);
    h = z * h_prev + (1 - z) * hh. `x` is the projected input with the input bias added, `b`
    the recurrent bias. `saved` (batch, 4 * units) keeps [z, r, hh, inner_h] for the
    gradient; gradients arriving at it are ignored.
    """

    def infer(x, h_prev, w, b):
        batch, units = _gru_dims("GRUResetAfterCell", x, h_prev, w, b)
        return Spec((batch, units), x.dtype), Spec((batch, _times(4, units)), x.dtype)

    def kernel(xp, x, h_prev, w, b):
        units = h_prev.shape[1]
        inner = xp.matmul(h_prev, w)
        inner += b
        saved = xp.empty((inner.shape[0], 4 * units), inner.dtype)
        z, r, hh, inner_h = (saved[:, k * units:(k + 1) * units] for k in range(4))
        gates = xp.add(x[:, :2 * units], inner[:, :2 * units])
        xp.negative(gates, out=gates)
        xp.exp(gates, out=gates)
        gates += 1
        xp.divide(1, gates, out=saved[:, :2 * units])
        inner_h[...] = inner[:, 2 * units:]
        xp.multiply(r, inner_h, out=hh)
        hh += x[:, 2 * units:]
        hh *= -2
        xp.exp(hh, out=hh)
        hh += 1
        xp.divide(2, hh, out=hh)
        hh -= 1
        h = z * h_prev
        h += (1 - z) * hh
        return h, saved

    kernel.quiet = True  # exp overflows to inf on purpose: run under errstate

    def grad(op, dh, unused_dsaved):
        x, h_prev, w, b = op.inputs
        return list(execute("GRUResetAfterCellGrad", x, h_prev, w, b, op.outputs[1], dh))


@primitive("GRUResetAfterCellGrad", dtypes=_DTYPES, num_outputs=4)
class GRUResetAfterCellGrad:
    """(dx, dh_prev, dw, db) of GRUResetAfterCell from dh and its `saved` activations."""

    def infer(x, h_prev, w, b, saved, dh):
        name = "GRUResetAfterCellGrad"
        batch, units = _gru_dims(name, x, h_prev, w, b)
        s_rows, s_cols = _dims(name, "saved", saved)
        dh_rows, dh_cols = _dims(name, "dh", dh)
        shapes = f"shapes saved {saved.shape}, dh {dh.shape}"
        batch = _merge(name, f"the batch sizes of the cell and its gradient ({shapes})", batch,
                       s_rows, dh_rows)
        units = _merge(name, f"the units of the cell and its gradient ({shapes})", units,
                       dh_cols)
        if s_cols is not None and units is not None and s_cols != 4 * units:
            raise errors.InvalidArgumentError(
                f"{name}: saved must have 4 * units columns, got {shapes} and units {units}")
        wide = Spec((batch, _times(3, units)), x.dtype)
        return (wide, Spec((batch, units), x.dtype), Spec((units, _times(3, units)), x.dtype),
                Spec((_times(3, units),), x.dtype))

    def kernel(xp, x, h_prev, w, b, saved, dh):
        units = h_prev.shape[1]
        z, r, hh, inner_h = (saved[:, k * units:(k + 1) * units] for k in range(4))
        dx = xp.empty((saved.shape[0], 3 * units), saved.dtype)
        dz, dr, da_h = (dx[:, k * units:(k + 1) * units] for k in range(3))
        xp.subtract(h_prev, hh, out=dz)
        dz *= dh
        dz *= z * (1 - z)
        xp.subtract(1, z, out=da_h)
        da_h *= dh
        da_h *= 1 - xp.square(hh)
        xp.multiply(da_h, inner_h, out=dr)
        dr *= r * (1 - r)
        dinner = dx.copy()
        xp.multiply(da_h, r, out=dinner[:, 2 * units:])
        dh_prev = xp.matmul(dinner, w.T)
        dh_prev += dh * z
        return dx, dh_prev, xp.matmul(h_prev.T, dinner), dinner.sum(axis=0)

    def grad(op, ddx, ddh_prev, ddw, ddb):
        return _recomputed_grad_grad(gru_cell_unfused, op, 4, [ddx, ddh_prev, ddw, ddb])


def gru_cell_unfused(x, h_prev, w, b):
    """One Keras GRU step (reset_after=True) in separate ndflow ops: the fused op's reference."""
    inner = math_ops.add(linalg_ops.matmul(h_prev, w), b)
    x_z, x_r, x_h = manip.split(x, 3, axis=-1)
    rec_z, rec_r, rec_h = manip.split(inner, 3, axis=-1)
    z = math_ops.sigmoid(math_ops.add(x_z, rec_z))
    r = math_ops.sigmoid(math_ops.add(x_r, rec_r))
    hh = math_ops.tanh(math_ops.add(x_h, math_ops.multiply(r, rec_h)))
    return math_ops.add(math_ops.multiply(z, h_prev),
                        math_ops.multiply(math_ops.subtract(1, z), hh))


def gru_reset_after_cell(x, h_prev, w, b, name=None):
    """h of one Keras GRU step (reset_after=True), fused: `x` is the projected input with the
    input bias added, `w` the recurrent kernel (units, 3 * units), `b` the recurrent bias."""
    return execute("GRUResetAfterCell", x, h_prev, w, b, name=name)[0]


def lstm_block_cell(x, h_prev, c_prev, w, name=None):
    """(h, c) of one LSTM step, fused: `x` is the projected input (batch, 4 * units) with the
    bias already added, `w` the recurrent kernel (units, 4 * units), gates i, f, c, o."""
    h, c, _ = execute("LSTMBlockCell", x, h_prev, c_prev, w, name=name)
    return h, c
