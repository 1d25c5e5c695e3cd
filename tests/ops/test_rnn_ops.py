"""Tests for ndflow/ops/rnn_ops.py: the fused LSTM step (LSTMBlockCell) and its gradient op
against the op-by-op computation, and the Keras LSTM layer with and without the fused step."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework.op_registry import execute
from ndflow.keras.layers import rnn_cells
from ndflow.ops import rnn_ops
from tests.helpers import assert_close, check_grad

SHAPES = [(1, 1), (4, 3), (7, 8), (0, 2)]  # (batch, units)


def _cell_args(batch, units, dtype="float64", seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(batch, 4 * units)) * scale, rng.normal(size=(batch, units)),
              rng.normal(size=(batch, units)) * scale, rng.normal(size=(units, 4 * units))]
    return [a.astype(dtype) for a in arrays]


def _fused(x, h, c, w):
    return tf.concat(rnn_ops.lstm_block_cell(x, h, c, w), axis=1)


def _unfused(x, h, c, w):
    return tf.concat(rnn_ops.lstm_cell_unfused(x, h, c, w), axis=1)


def _numpy_cell(x, h, c, w):
    z = x + h @ w
    units = h.shape[1]
    i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_new), c_new


# --- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"b{s[0]}u{s[1]}")
def test_fused_cell_matches_unfused_eager_and_traced(shape, dtype):
    args = [tf.constant(a) for a in _cell_args(*shape, dtype=dtype)]
    expected = _unfused(*args)
    eager = _fused(*args)
    traced = tf.function(_fused)(*args)
    assert eager.dtype == tf.as_dtype(dtype) and eager.shape == expected.shape
    assert_close(eager.numpy(), expected.numpy(), eager.dtype)
    assert_close(traced.numpy(), expected.numpy(), traced.dtype)
    h, c = _numpy_cell(*[a.numpy().astype(np.float64) for a in args])
    assert_close(eager.numpy(), np.concatenate([h, c], axis=1), eager.dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_cell_saturates_without_warnings_or_nan(dtype):
    # exp(-z) overflows to inf for very negative gates; the limits are 0 (sigmoid), -1 (tanh)
    x, h, c, w = _cell_args(3, 2, dtype=dtype, scale=1.0)
    x[0] = -1e4
    x[1] = 1e4
    c[2] = -1e4
    with np.errstate(all="raise"):
        fused = _fused(x, h, c, w).numpy()
    assert np.isfinite(fused).all()
    assert_close(fused, _unfused(x, h, c, w).numpy(), tf.as_dtype(dtype))


def test_fused_cell_outputs_and_saved_gates():
    x, h, c, w = _cell_args(2, 3)
    h_new, c_new, gates = execute("LSTMBlockCell", x, h, c, w)
    z = x + h @ w
    sig = 1 / (1 + np.exp(-z))
    expected = np.concatenate([sig[:, :3], sig[:, 3:6], np.tanh(z[:, 6:9]), sig[:, 9:],
                               np.tanh(c_new.numpy())], axis=1)
    assert gates.shape == (2, 15)
    assert_close(gates.numpy(), expected)
    ref_h, ref_c = _numpy_cell(x, h, c, w)
    assert_close(h_new.numpy(), ref_h)
    assert_close(c_new.numpy(), ref_c)


def test_infer_keeps_unknown_batch_in_traced_function():
    units = 3
    seen = {}

    @tf.function(input_signature=[tf.TensorSpec([None, 4 * units], tf.float32),
                                  tf.TensorSpec([None, units], tf.float32),
                                  tf.TensorSpec([None, units], tf.float32),
                                  tf.TensorSpec([units, 4 * units], tf.float32)])
    def step(x, h, c, w):
        h_new, c_new = rnn_ops.lstm_block_cell(x, h, c, w)
        seen["shapes"] = (h_new.shape.as_list(), c_new.shape.as_list())
        return h_new

    args = _cell_args(5, units, dtype="float32")
    assert_close(step(*args).numpy(), _numpy_cell(*args)[0], tf.float32)
    assert seen["shapes"] == ([None, units], [None, units])


# --- gradients -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (3, 2)], ids=lambda s: f"b{s[0]}u{s[1]}")
def test_fused_cell_gradient_second_order(shape):
    check_grad(_fused, *_cell_args(*shape), order=2)


@pytest.mark.parametrize("output", [0, 1], ids=["h_only", "c_only"])
def test_fused_cell_gradient_of_one_output(output):
    check_grad(lambda *a: rnn_ops.lstm_block_cell(*a)[output], *_cell_args(3, 2, seed=1))


def test_fused_gradient_matches_unfused_eager_and_traced():
    args = [tf.constant(a) for a in _cell_args(4, 3, dtype="float32", seed=2)]
    weights = tf.constant(np.random.default_rng(3).normal(size=(4, 6)).astype("float32"))

    def grads(cell, *values):
        with tf.GradientTape() as tape:
            tape.watch(list(values))
            total = tf.reduce_sum(cell(*values) * weights)
        return tape.gradient(total, list(values))

    expected = grads(_unfused, *args)
    for actual in (grads(_fused, *args), tf.function(lambda *a: grads(_fused, *a))(*args)):
        for got, want in zip(actual, expected):
            assert_close(got.numpy(), want.numpy(), tf.float32)


def test_grad_op_over_a_sequence_matches_unfused():
    # five chained steps: gradients flow through h and c from step to step
    x_seq = np.random.default_rng(4).normal(size=(5, 3, 8))
    _, h0, c0, w = _cell_args(3, 2, seed=5)

    def run(cell, x_seq, h, c, w):
        outputs = []
        for t in range(5):
            h, c = cell(x_seq[t], h, c, w)
            outputs.append(h)
        return tf.stack(outputs) + tf.reduce_sum(c)

    fused = lambda *a: run(rnn_ops.lstm_block_cell, *a)
    check_grad(fused, x_seq, h0, c0, w)
    assert_close(fused(x_seq, h0, c0, w).numpy(),
                 run(rnn_ops.lstm_cell_unfused, x_seq, h0, c0, w).numpy())


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes, message", [
    (((2, 8), (2, 2), (2, 2), (2, 7)), "4 * units columns"),
    (((2, 8), (2, 2), (2, 3), (2, 8)), "units"),
    (((2, 8), (3, 2), (2, 2), (2, 8)), "batch sizes"),
    (((2, 12), (2, 2), (2, 2), (2, 8)), "4 * units"),
    (((2, 8, 1), (2, 2), (2, 2), (2, 8)), "x must be a matrix"),
], ids=["w_columns", "c_units", "h_batch", "x_columns", "x_rank"])
def test_lstm_bad_shapes_raise_with_op_name_and_shapes(shapes, message):
    args = [np.zeros(s, np.float32) for s in shapes]
    with pytest.raises(tf.errors.InvalidArgumentError, match="LSTMBlockCell") as info:
        rnn_ops.lstm_block_cell(*args)
    assert message in str(info.value)
    assert str(shapes[0]) in str(info.value) or str(shapes[0][:2]) in str(info.value)


def test_bad_shapes_raise_while_tracing():
    @tf.function
    def step(x, h, c, w):
        return rnn_ops.lstm_block_cell(x, h, c, w)

    args = [np.zeros(s, np.float32) for s in ((2, 8), (2, 2), (2, 2), (3, 8))]
    with pytest.raises(ValueError, match=r"LSTMBlockCell: .*\(3, 8\)"):  # as TF while tracing
        step(*args)


def test_integer_and_mixed_dtypes_are_rejected():
    ints = [np.zeros(s, np.int32) for s in ((2, 8), (2, 2), (2, 2), (2, 8))]
    with pytest.raises(tf.errors.InvalidArgumentError, match="LSTMBlockCell: dtype int32"):
        rnn_ops.lstm_block_cell(*ints)
    mixed = _cell_args(2, 2, dtype="float32")
    mixed[3] = mixed[3].astype(np.float64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="LSTMBlockCell: cannot mix"):
        rnn_ops.lstm_block_cell(*[tf.constant(a) for a in mixed])


def test_grad_op_rejects_bad_gates_shape():
    x, h, c, w = _cell_args(2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"LSTMBlockCellGrad: gates must have 5 \* units columns"):
        execute("LSTMBlockCellGrad", x, h, c, w, np.zeros((2, 9)), h, c)


# --- the Keras LSTM layer --------------------------------------------------------------------

def _count_fused(monkeypatch, name="lstm_block_cell"):
    calls = []
    original = getattr(rnn_ops, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(rnn_ops, name, counting)
    return calls


def _train_lstm(fused, monkeypatch, layer_kwargs, steps=3, mask=False, layer="LSTM"):
    cell, op = {"LSTM": ("LSTMCell", "lstm_block_cell"),
                "GRU": ("GRUCell", "gru_reset_after_cell")}[layer]
    monkeypatch.setattr(getattr(rnn_cells, cell), "fused_step", fused)
    calls = _count_fused(monkeypatch, op)
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(8, 6, 3)).astype("float32")
    if mask:
        inputs[:, 4:] = 0.0
    targets = rng.normal(size=(8, 1)).astype("float32")
    layers = [tf.keras.Input((6, 3))] + ([tf.keras.layers.Masking()] if mask else [])
    lstm = getattr(tf.keras.layers, layer)(4, **layer_kwargs)
    model = tf.keras.Sequential(layers + [lstm, tf.keras.layers.Dense(1)])
    init = np.random.default_rng(1)
    model.set_weights([init.normal(size=v.shape).astype("float32") * 0.5
                       for v in model.get_weights()])
    model.compile(optimizer="adam", loss="mse")
    before = model.predict(inputs, verbose=0)
    model.fit(inputs, targets, batch_size=4, epochs=steps // 2 + 1, shuffle=False, verbose=0)
    return before, model.get_weights(), model.predict(inputs, verbose=0), len(calls)


@pytest.mark.parametrize("layer_kwargs, mask", [
    ({}, False),
    ({"go_backwards": True}, False),
    ({}, True),
], ids=["default", "go_backwards", "masked"])
def test_keras_lstm_fused_and_unfused_train_alike(monkeypatch, layer_kwargs, mask):
    fused = _train_lstm(True, monkeypatch, layer_kwargs, mask=mask)
    unfused = _train_lstm(False, monkeypatch, layer_kwargs, mask=mask)
    assert fused[3] > 0 and unfused[3] == 0
    assert_close(fused[0], unfused[0], rtol=1e-6, atol=1e-6)
    for got, want in zip(fused[1], unfused[1]):
        assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert_close(fused[2], unfused[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer_kwargs", [
    {"activation": "relu"},
    {"recurrent_activation": "hard_sigmoid"},
    {"recurrent_dropout": 0.5},
], ids=["relu", "hard_sigmoid", "recurrent_dropout"])
def test_keras_lstm_keeps_unfused_step_when_fusion_does_not_apply(monkeypatch, layer_kwargs):
    *_, calls = _train_lstm(True, monkeypatch, layer_kwargs, steps=1)
    if "recurrent_dropout" in layer_kwargs:
        # fit (training=True) runs unfused; predict (no dropout) runs fused
        sequences = np.zeros((2, 6, 3), np.float32)
        layer = tf.keras.layers.LSTM(2, **layer_kwargs)
        rnn_calls = _count_fused(monkeypatch)
        layer(sequences, training=True)
        assert not rnn_calls
        layer(sequences, training=False)
        assert rnn_calls
    else:
        assert calls == 0


def test_keras_lstm_fused_with_unknown_length_while_loop(monkeypatch):
    sequences = np.random.default_rng(2).normal(size=(3, 5, 2)).astype("float32")
    layer = tf.keras.layers.LSTM(4, return_sequences=True)
    layer(sequences)
    run = tf.function(lambda s: layer(s),
                      input_signature=[tf.TensorSpec([None, None, 2], tf.float32)])
    fused = run(sequences).numpy()
    monkeypatch.setattr(rnn_cells.LSTMCell, "fused_step", False)
    assert_close(fused, layer(sequences).numpy(), tf.float32)


# --- GRU (reset_after=True) ------------------------------------------------------------------

def _gru_args(batch, units, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(batch, 3 * units)), rng.normal(size=(batch, units)),
              rng.normal(size=(units, 3 * units)), rng.normal(size=(3 * units,))]
    return [a.astype(dtype) for a in arrays]


def _numpy_gru(x, h, w, b):
    units = h.shape[1]
    inner = h @ w + b
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    z = sigmoid(x[:, :units] + inner[:, :units])
    r = sigmoid(x[:, units:2 * units] + inner[:, units:2 * units])
    hh = np.tanh(x[:, 2 * units:] + r * inner[:, 2 * units:])
    return z * h + (1 - z) * hh


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"b{s[0]}u{s[1]}")
def test_fused_gru_matches_unfused_eager_and_traced(shape, dtype):
    args = [tf.constant(a) for a in _gru_args(*shape, dtype=dtype)]
    expected = rnn_ops.gru_cell_unfused(*args)
    eager = rnn_ops.gru_reset_after_cell(*args)
    traced = tf.function(rnn_ops.gru_reset_after_cell)(*args)
    assert eager.dtype == tf.as_dtype(dtype) and eager.shape == expected.shape
    assert_close(eager.numpy(), expected.numpy(), eager.dtype)
    assert_close(traced.numpy(), expected.numpy(), traced.dtype)
    reference = _numpy_gru(*[a.numpy().astype(np.float64) for a in args])
    assert_close(eager.numpy(), reference, eager.dtype)


def test_fused_gru_saturates_without_nan():
    x, h, w, b = _gru_args(2, 2, dtype="float32")
    x[0] = -1e4
    x[1] = 1e4
    fused = rnn_ops.gru_reset_after_cell(x, h, w, b).numpy()
    assert np.isfinite(fused).all()
    assert_close(fused, rnn_ops.gru_cell_unfused(x, h, w, b).numpy(), tf.float32)


@pytest.mark.parametrize("shape", [(1, 1), (3, 2)], ids=lambda s: f"b{s[0]}u{s[1]}")
def test_fused_gru_gradient_second_order(shape):
    check_grad(rnn_ops.gru_reset_after_cell, *_gru_args(*shape), order=2)


def test_fused_gru_gradient_matches_unfused_traced():
    args = [tf.constant(a) for a in _gru_args(4, 3, dtype="float32", seed=2)]

    def grads(cell, *values):
        with tf.GradientTape() as tape:
            tape.watch(list(values))
            total = tf.reduce_sum(cell(*values) * tf.range(3, dtype=tf.float32))
        return tape.gradient(total, list(values))

    expected = grads(rnn_ops.gru_cell_unfused, *args)
    actual = tf.function(lambda *a: grads(rnn_ops.gru_reset_after_cell, *a))(*args)
    for got, want in zip(actual, expected):
        assert_close(got.numpy(), want.numpy(), tf.float32)


@pytest.mark.parametrize("shapes, message", [
    (((2, 6), (2, 2), (2, 5), (6,)), "3 * units columns"),
    (((2, 6), (2, 2), (3, 6), (6,)), "units"),
    (((3, 6), (2, 2), (2, 6), (6,)), "batch sizes"),
    (((2, 6), (2, 2), (2, 6), (2, 3)), "b must be a vector"),
], ids=["w_columns", "w_rows", "h_batch", "b_rank"])
def test_gru_bad_shapes_raise_with_op_name_and_shapes(shapes, message):
    args = [np.zeros(s, np.float32) for s in shapes]
    with pytest.raises(tf.errors.InvalidArgumentError, match="GRUResetAfterCell") as info:
        rnn_ops.gru_reset_after_cell(*args)
    assert message in str(info.value)


def test_gru_grad_op_rejects_bad_saved_shape():
    x, h, w, b = _gru_args(2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"GRUResetAfterCellGrad: saved must have 4 \* units columns"):
        execute("GRUResetAfterCellGrad", x, h, w, b, np.zeros((2, 7)), h)


@pytest.mark.parametrize("layer_kwargs, mask", [
    ({}, False),
    ({"go_backwards": True}, True),
], ids=["default", "go_backwards_masked"])
def test_keras_gru_fused_and_unfused_train_alike(monkeypatch, layer_kwargs, mask):
    fused = _train_lstm(True, monkeypatch, layer_kwargs, mask=mask, layer="GRU")
    unfused = _train_lstm(False, monkeypatch, layer_kwargs, mask=mask, layer="GRU")
    assert fused[3] > 0 and unfused[3] == 0
    assert_close(fused[0], unfused[0], rtol=1e-6, atol=1e-6)
    for got, want in zip(fused[1], unfused[1]):
        assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert_close(fused[2], unfused[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer_kwargs", [
    {"reset_after": False},
    {"use_bias": False},
    {"activation": "relu"},
], ids=["reset_before", "no_bias", "relu"])
def test_keras_gru_keeps_unfused_step_when_fusion_does_not_apply(monkeypatch, layer_kwargs):
    *_, calls = _train_lstm(True, monkeypatch, layer_kwargs, steps=1, layer="GRU")
    assert calls == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_traced_sequence_gradient_sums_the_weight_gradient_in_one_product(dtype):
    rng = np.random.default_rng(6)
    x_seq = tf.constant(rng.normal(size=(7, 3, 8)).astype(dtype))
    h0, c0 = (tf.constant(rng.normal(size=(3, 2)).astype(dtype)) for _ in range(2))
    w = tf.constant(rng.normal(size=(2, 8)).astype(dtype))

    def step(x_seq, h, c, w):
        with tf.GradientTape() as tape:
            tape.watch([x_seq, h, c, w])
            hh, cc = h, c
            for t in range(7):
                hh, cc = rnn_ops.lstm_block_cell(x_seq[t], hh, cc, w)
            loss = tf.reduce_sum(hh * hh) + tf.reduce_sum(cc)
        return tape.gradient(loss, [x_seq, h, c, w])

    concrete = tf.function(step).get_concrete_function(x_seq, h0, c0, w)
    for got, want in zip(concrete(x_seq, h0, c0, w), step(x_seq, h0, c0, w)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    types = [s.op.type for s in concrete._plan.steps]
    assert types.count("_LSTMBlockCellInputGrad") == 7 and "LSTMBlockCellGrad" not in types
    summed = [s.op for s in concrete._plan.steps if s.op.type == "MatMul"
              and s.op.inputs[0].op.type == "ConcatV2" and s.op.attrs["transpose_a"]]
    assert len(summed) == 1  # the seven weight gradients are one product


def test_input_grad_op_matches_the_full_gradient_op():
    from ndflow.framework.op_registry import execute

    x, h, c, w = _cell_args(3, 2, seed=7)
    h_new, c_new, gates = execute("LSTMBlockCell", x, h, c, w)
    dh, dc = tf.ones_like(h_new), tf.ones_like(c_new) * 0.5
    full = execute("LSTMBlockCellGrad", x, h, c, w, gates, dh, dc)
    partial = execute("_LSTMBlockCellInputGrad", x, h, c, w, gates, dh, dc)
    assert len(partial) == 3
    for got, want in zip(partial, full[:3]):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
