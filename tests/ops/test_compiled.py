"""Tests for ndflow/ops/compiled.py (numba kernels) and the NumPy code they replace: pooling
with the first-maximum choice, the max-pool gradient by choice, the convolution input gradient's
col2im, and the `_MaxPoolGradByChoice` op. Each compiled kernel must give the NumPy path's
numbers exactly (the conv input gradient: within float32 rounding)."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from ndflow.framework.op_registry import execute
from ndflow.ops import compiled, conv_kernels
from ndflow.ops import pool as pool_ops

def _geometry(shape, window, stride):
    return pool_ops.pool_geometry("MaxPool", 2, shape, (1, window, window, 1),
                                  (1, stride, stride, 1), "VALID", (), "NHWC", (1, 1, 1, 1), False)


def _reference_choice(x, window, stride):
    """Each window's first maximum, by a plain loop over windows (row-major taps)."""
    batch, height, width, channels = x.shape
    out_h, out_w = (height - window) // stride + 1, (width - window) // stride + 1
    best = np.empty((batch, out_h, out_w, channels), x.dtype)
    choice = np.empty(best.shape, np.uint8)
    for i in range(out_h):
        for j in range(out_w):
            block = x[:, i * stride:i * stride + window, j * stride:j * stride + window, :]
            flat = block.reshape(batch, window * window, channels)
            choice[:, i, j] = np.argmax(flat, axis=1)  # argmax takes the first maximum
            best[:, i, j] = flat.max(axis=1)
    return best, choice


WINDOWS = [((3, 8, 8, 5), 2, 2), ((2, 9, 11, 4), 2, 2), ((2, 9, 9, 3), 3, 3), ((2, 10, 7, 2), 2, 3),
           ((1, 6, 6, 33), 1, 1)]


@pytest.fixture(params=["compiled", "numpy"])
def kernel_path(request, monkeypatch):
    """Runs a test on the compiled kernels (skipped without numba) and on the NumPy code."""
    if request.param == "compiled" and compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    monkeypatch.setitem(compiled._state, "enabled", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("shape, window, stride", WINDOWS)
def test_max_pool_with_choice_takes_the_first_maximum(kernel_path, shape, window, stride):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 3, size=shape).astype(np.float32)  # many ties
    geo = _geometry(shape, window, stride)
    assert pool_ops.routes_by_choice(geo, shape[1:3])
    best, choice = pool_ops.max_pool_with_choice(np, x, geo)
    expected_best, expected_choice = _reference_choice(x, window, stride)
    np.testing.assert_array_equal(best, expected_best)
    np.testing.assert_array_equal(choice, expected_choice)
    assert choice.dtype == np.uint8


@pytest.mark.parametrize("shape, window, stride", WINDOWS)
def test_max_pool_grad_by_choice_matches_max_pool_grad(kernel_path, shape, window, stride):
    rng = np.random.default_rng(2)
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    geo = _geometry(shape, window, stride)
    _, choice = pool_ops.max_pool_with_choice(np, x, geo)
    dy = rng.standard_normal(choice.shape).astype(np.float32)
    routed = execute("_MaxPoolGradByChoice", tf.constant(choice), tf.constant(dy),
                     input_shape=(None, *shape[1:]), ksize=(1, window, window, 1),
                     strides=(1, stride, stride, 1), padding="VALID")
    expected = execute(
        "MaxPoolGrad", tf.constant(x), tf.nn.max_pool2d(x, window, stride, "VALID"),
        tf.constant(dy), ksize=(1, window, window, 1), strides=(1, stride, stride, 1),
        padding="VALID", explicit_paddings=(), data_format="NHWC", dilations=(1, 1, 1, 1))
    np.testing.assert_array_equal(routed.numpy(), expected.numpy())


def test_max_pool_grad_by_choice_rejects_overlapping_windows():
    choice = tf.zeros((1, 3, 3, 1), tf.uint8)
    dy = tf.ones((1, 3, 3, 1))
    with pytest.raises(errors.InvalidArgumentError, match="_MaxPoolGradByChoice.*overlap"):
        execute("_MaxPoolGradByChoice", choice, dy, input_shape=(1, 7, 7, 1), ksize=(1, 3, 3, 1),
                strides=(1, 2, 2, 1), padding="VALID")


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("window", [2, 3])
def test_compiled_pooling_in_the_fused_conv_matches_numpy(monkeypatch, relu, window):
    from ndflow.ops import fused_conv

    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, size=(5, 12, 12, 3)).astype(np.float32)
    w = rng.integers(-1, 2, size=(3, 3, 3, 6)).astype(np.float32)
    bias = rng.integers(-1, 2, size=6).astype(np.float32)
    attrs = dict(strides=(1, 1, 1, 1), padding="SAME", explicit_paddings=(), data_format="NHWC",
                 dilations=(1, 1, 1, 1))
    pool = ((1, window, window, 1), (1, window, window, 1), "VALID")
    monkeypatch.setattr(conv_kernels, "_CHUNK_BYTES", 4096)  # several chunks
    results = {}
    for numba in ("1", "0"):
        monkeypatch.setitem(compiled._state, "enabled", numba == "1")
        results[numba] = (fused_conv._run(np, x, w, bias, attrs, relu, pool, with_choice=True),
                          fused_conv._run(np, x, w, bias, attrs, relu, pool))
    (out, choice), plain = results["1"]
    (expected_out, expected_choice), expected_plain = results["0"]
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(choice, expected_choice)
    np.testing.assert_array_equal(plain, expected_plain)


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", [
    ((3, 9, 8, 5), (3, 2, 5, 4), (1, 2, 2, 1), "SAME", (1, 1, 1, 1)),
    ((2, 10, 11, 3), (3, 3, 3, 6), (1, 1, 1, 1), "VALID", (1, 2, 2, 1)),
    ((2, 7, 7, 2), (2, 2, 2, 3), (1, 3, 2, 1), "SAME", (1, 1, 1, 1)),
    ((17, 13, 13, 32), (3, 3, 32, 64), (1, 1, 1, 1), "VALID", (1, 1, 1, 1)),  # chunks
])
def test_conv_input_grad_by_col2im_matches_numpy(monkeypatch, x_shape, w_shape, strides,
                                                 padding, dilations):
    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(4)
    geo = conv_kernels.conv_geometry("Conv2DBackpropInput", 2, x_shape, w_shape, strides,
                                     padding, (), "NHWC", dilations)
    w = rng.standard_normal(w_shape).astype(np.float32)
    dy = rng.standard_normal((x_shape[0], *geo.out, w_shape[-1])).astype(np.float32)
    results = {}
    for numba in ("1", "0"):
        monkeypatch.setitem(compiled._state, "enabled", numba == "1")
        results[numba] = conv_kernels.conv_input_grad(np, x_shape, w, dy, geo)
    assert results["1"].shape == x_shape and results["1"].dtype == np.float32
    np.testing.assert_allclose(results["1"], results["0"], rtol=1e-5, atol=1e-5)


def test_numba_can_be_turned_off_by_the_environment(monkeypatch):
    monkeypatch.setitem(compiled._state, "enabled", None)  # not read yet
    monkeypatch.setenv("NDFLOW_NUMBA", "0")
    assert compiled.kernels() is None and compiled._state["enabled"] is False


def test_compiled_philox_gives_the_same_words(monkeypatch):
    from ndflow.ops import _philox

    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(5)
    counters = rng.integers(0, 2**32, size=(300, 4), dtype=np.uint64).astype(np.uint32)
    counters[0] = 0xFFFFFFFF  # carries in every word
    key = (0xFFFFFFFF, 0x12345678)
    results = {}
    for numba in ("1", "0"):
        monkeypatch.setitem(compiled._state, "enabled", numba == "1")
        results[numba] = _philox.philox(np, counters, key)
    assert results["1"].dtype == np.uint32 and results["1"].shape == (300, 4)
    np.testing.assert_array_equal(results["1"], results["0"])
    by_ints = [_philox._philox_block(block, key) for block in counters[:5].tolist()]
    np.testing.assert_array_equal(results["1"][:5], np.array(by_ints, np.uint32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("data_shape, ids_shape", [((50, 3), (50,)), ((6, 7, 2), (6, 7)),
                                                   ((40,), (40,))])
def test_compiled_unsorted_segment_sum_matches_numpy(monkeypatch, dtype, data_shape, ids_shape):
    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(6)
    data = (rng.standard_normal(data_shape) * 10).astype(dtype)
    ids = rng.integers(-1, 9, size=ids_shape).astype(np.int32)  # repeats and dropped (-1)
    results = {}
    for numba in ("1", "0"):
        monkeypatch.setitem(compiled._state, "enabled", numba == "1")
        results[numba] = tf.math.unsorted_segment_sum(data, ids, 9).numpy()
    expected = np.zeros((9,) + data_shape[len(ids_shape):], dtype)
    np.add.at(expected, ids[ids >= 0], data[ids >= 0])
    assert results["1"].dtype == dtype
    np.testing.assert_allclose(results["1"], expected, rtol=1e-6)
    np.testing.assert_allclose(results["1"], results["0"], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_lstm_cell_and_gradient_match_numpy(monkeypatch, dtype):
    from ndflow.framework import op_registry

    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(7)
    batch, units = 5, 6
    x = (rng.standard_normal((batch, 4 * units)) * 3).astype(dtype)
    x[0, :3] = [60.0, -60.0, 0.0]  # exp overflows to inf on purpose: the limits must hold
    h, c, dh, dc = (rng.standard_normal((batch, units)).astype(dtype) for _ in range(4))
    w = (rng.standard_normal((units, 4 * units)) * 0.5).astype(dtype)
    cell, grad = op_registry.get("LSTMBlockCell"), op_registry.get("LSTMBlockCellGrad")
    results = {}
    for numba in ("1", "0"):
        monkeypatch.setitem(compiled._state, "enabled", numba == "1")
        with np.errstate(all="ignore"):
            forward = cell.kernel(np, x, h, c, w)
            results[numba] = list(forward) + list(grad.kernel(np, x, h, c, w, forward[2], dh,
                                                              dc))
    for a, b in zip(results["1"], results["0"]):
        assert a.dtype == dtype and a.shape == b.shape
        if dtype == np.float64:
            np.testing.assert_array_equal(a, b)  # the same operations in the same order
        else:  # float32: one pass with the vectorizing exp32 (within a few ulps)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)
    assert np.isfinite(results["1"][0]).all()


def test_exp32_is_within_one_ulp_of_exp():
    kernels = compiled.kernels()
    if kernels is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    values = np.concatenate([np.linspace(-87.3, 88.7, 200001, dtype=np.float32),
                             np.float32([0.0, -0.0, 1e-30, -1e-30, 88.72, 100.0, -100.0,
                                         np.inf, -np.inf])])
    out = np.empty_like(values)
    kernels.exp32_array(values, out)
    exact = np.exp(values[:200001].astype(np.float64))
    ulps = np.abs(out[:200001] - exact) / np.spacing(exact.astype(np.float32))
    assert ulps.max() <= 1.0
    np.testing.assert_array_equal(out[200001:200005], [1, 1, 1, 1])
    assert np.isinf(out[-4]) and np.isinf(out[-2]) and out[-3] < 2e-38 and out[-1] < 2e-38


def test_eager_kernels_with_mismatched_shapes_raise_instead_of_writing_out_of_bounds(
        kernel_path):
    # eager calls run kernels without `infer`: the compiled paths must check shapes themselves
    f32 = np.float32
    x, w = np.zeros((2, 8), f32), np.zeros((2, 8), f32)
    h, c = np.zeros((2, 2), f32), np.zeros((2, 3), f32)
    with pytest.raises(errors.InvalidArgumentError, match="LSTMBlockCell"):
        execute("LSTMBlockCell", x, h, c, w)
    gates = np.zeros((2, 10), f32)
    for dh, dc in [(np.zeros((3, 2), f32), np.zeros((2, 2), f32)),
                   (np.zeros((2, 2), f32), np.zeros((2, 5), f32))]:
        for op in ("LSTMBlockCellGrad", "_LSTMBlockCellInputGrad"):
            with pytest.raises(errors.InvalidArgumentError, match="LSTMBlockCellGrad"):
                execute(op, x, h, h, w, gates, dh, dc)
    with pytest.raises(errors.InvalidArgumentError, match="_MaxPoolGradByChoice"):
        execute("_MaxPoolGradByChoice", np.zeros((1, 4, 4, 2), np.uint8),
                np.zeros((1, 4, 4, 2), f32), input_shape=(1, 6, 6, 2), ksize=(1, 2, 2, 1),
                strides=(1, 2, 2, 1), padding="VALID")


def test_compiled_philox_stream_blocks_match_numpy_with_a_carry(monkeypatch):
    from ndflow.ops import _philox

    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    # a counter 3 blocks below 2^64: the low 64 bits wrap and carry into the high half
    stream = _philox.Stream(np, 0x0123456789ABCDEF, (5 << 64) | ((1 << 64) - 3))
    results = {}
    for enabled in (True, False):
        monkeypatch.setitem(compiled._state, "enabled", enabled)
        results[enabled] = stream.blocks(0, 40)
    assert results[True].dtype == np.uint32 and results[True].shape == (40, 4)
    np.testing.assert_array_equal(results[True], results[False])
    np.testing.assert_array_equal(results[True][3:6], stream.blocks_at(
        3, np.arange(3, dtype=np.uint64)))
