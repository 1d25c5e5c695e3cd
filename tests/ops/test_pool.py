"""Tests for ndflow/ops/pool.py: TF's numbers (stored fixtures, and live TF when installed),
first-maximum gradient routing, SAME averaging over real elements, gradients to second order,
and TF's errors."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "pool.npz"))
CASES = json.loads(str(FIXTURES["cases"]))
RNG = np.random.default_rng(0)


def _normal(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_tensorflow_fixture(case):
    name = case["name"]
    x = tf.constant(FIXTURES[f"{name}/in0"])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = getattr(tf.nn, case["fn"])(x, **case["kwargs"])
        main = out[0] if isinstance(out, tuple) else out
    grad = tape.gradient(main, x, output_gradients=tf.constant(FIXTURES[f"{name}/dy"]))
    np.testing.assert_allclose(main.numpy(), FIXTURES[f"{name}/out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), FIXTURES[f"{name}/grad0"], rtol=1e-5, atol=1e-6)
    if isinstance(out, tuple):
        assert out[1].dtype == tf.int64
        np.testing.assert_array_equal(out[1].numpy(), FIXTURES[f"{name}/out1"])


@pytest.mark.parametrize("name", ["max_pool_grad_grad_overlapping",
                                  "max_pool_grad_grad_stride2"])
def test_max_pool_grad_grad_matches_tensorflow_fixture(name):
    x, dy, v = (tf.constant(FIXTURES[f"{name}/in{i}"]) for i in range(3))
    ksize, strides, padding = (3, 1, "SAME") if "overlapping" in name else (2, 2, "VALID")
    with tf.GradientTape() as outer:
        outer.watch(dy)
        with tf.GradientTape() as inner:
            inner.watch(x)
            total = tf.reduce_sum(tf.nn.max_pool2d(x, ksize, strides, padding) * dy)
        projected = tf.reduce_sum(inner.gradient(total, x) * v)
    np.testing.assert_allclose(outer.gradient(projected, dy).numpy(), FIXTURES[f"{name}/out"])


def test_max_pool_gradient_goes_to_first_maximum_on_flat_input():
    x = tf.zeros([1, 4, 4, 1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")
    grad = tape.gradient(y, x).numpy()[0, :, :, 0]
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(grad, expected)


def test_avg_pool_same_divides_by_real_elements():
    x = np.ones((1, 3, 3, 1), np.float32)
    np.testing.assert_array_equal(tf.nn.avg_pool2d(x, 3, 1, "SAME").numpy(), x)
    y = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    corner = tf.nn.avg_pool2d(y, 3, 1, "SAME").numpy()[0, 0, 0, 0]
    assert corner == pytest.approx((0 + 1 + 3 + 4) / 4)


@pytest.mark.parametrize("fn, kwargs", [
    ("max_pool2d", dict(ksize=2, strides=2, padding="VALID")),
    ("max_pool2d", dict(ksize=3, strides=2, padding="SAME", data_format="NCHW")),
    ("avg_pool2d", dict(ksize=3, strides=2, padding="SAME")),
    ("avg_pool2d", dict(ksize=[2, 3], strides=1, padding="SAME", data_format="NCHW")),
    ("max_pool3d", dict(ksize=2, strides=1, padding="SAME")),
    ("avg_pool1d", dict(ksize=3, strides=2, padding="SAME")),
], ids=["max_valid", "max_same_nchw", "avg_same", "avg_nchw", "max3d", "avg1d"])
def test_gradients_second_order(fn, kwargs):
    shape = {"max_pool3d": (1, 3, 3, 2, 1), "avg_pool1d": (2, 5, 2)}.get(fn, (1, 4, 5, 2))
    x = _normal(*shape)
    if fn == "max_pool3d":  # float16/bfloat16/float32 only, as TF: check in float32
        check_grad(lambda v: tf.cast(tf.nn.max_pool3d(tf.cast(v, tf.float32), **kwargs),
                                     tf.float64), x, order=2, rtol=1e-3, atol=1e-4, eps=1e-3)
        return
    check_grad(lambda v: getattr(tf.nn, fn)(v, **kwargs), x, order=2)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_dtypes(dtype):
    x = _normal(2, 5, 5, 3, dtype=np.float32)
    for fn in (tf.nn.max_pool2d, tf.nn.avg_pool2d):
        out = fn(tf.cast(x, dtype), 3, 2, "SAME")
        assert out.dtype == tf.as_dtype(dtype)
        reference = fn(tf.cast(tf.cast(x, dtype), tf.float32), 3, 2, "SAME").numpy()
        np.testing.assert_allclose(tf.cast(out, tf.float32).numpy(), reference, rtol=2e-2,
                                   atol=2e-2)


def test_max_pool_of_integers():
    x = RNG.integers(-100, 100, (1, 4, 4, 2)).astype(np.int32)
    out = tf.nn.max_pool2d(x, 2, 2, "VALID")
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), x.reshape(1, 2, 2, 2, 2, 2).max(axis=(2, 4)))


def test_empty_batch():
    assert tf.nn.max_pool2d(np.zeros((0, 4, 4, 2), np.float32), 2, 2, "VALID").shape == \
        [0, 2, 2, 2]
    assert tf.nn.avg_pool2d(np.zeros((0, 4, 4, 2), np.float32), 2, 2, "SAME").shape == \
        [0, 2, 2, 2]


X = np.zeros((2, 5, 5, 3), np.float32)


@pytest.mark.parametrize("call, error, words", [
    (lambda: tf.nn.max_pool2d(X, 7, 1, "VALID"), errors.InvalidArgumentError,
     ["MaxPool", "input_size: 5", "effective_filter_size: 7"]),
    (lambda: tf.nn.avg_pool2d(X, 7, 1, "VALID"), errors.InvalidArgumentError,
     ["AvgPool", "input_size: 5"]),
    (lambda: tf.nn.max_pool2d(X, 2, 0, "VALID"), errors.InvalidArgumentError,
     ["MaxPool", "strides"]),
    (lambda: tf.nn.max_pool2d(X, 0, 1, "VALID"), errors.InvalidArgumentError,
     ["MaxPool", "ksize"]),
    (lambda: tf.nn.max_pool2d(X[0], 2, 1, "VALID"), errors.InvalidArgumentError,
     ["MaxPool", "4-dimensional", "[5, 5, 3]"]),
    (lambda: tf.nn.max_pool2d(X, 2, 1, "FOO"), errors.InvalidArgumentError,
     ["MaxPool", "padding", "FOO"]),
    (lambda: tf.nn.max_pool2d(X, [2, 2, 2, 1], 1, "VALID"), errors.UnimplementedError,
     ["MaxPool", "batch"]),
    (lambda: tf.nn.max_pool2d(X, [2, 2, 2], 2, "SAME"), ValueError, ["ksize", "length 3"]),
    (lambda: tf.nn.avg_pool2d(X, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]), TypeError,
     ["padding"]),
    (lambda: tf.nn.avg_pool2d(tf.zeros([2, 5, 5, 3], tf.int32), 2, 1, "VALID"),
     errors.InvalidArgumentError, ["AvgPool", "int32"]),
    (lambda: tf.nn.max_pool3d(tf.zeros([1, 4, 4, 4, 2], tf.float64), 2, 1, "VALID"),
     errors.InvalidArgumentError, ["MaxPool3D", "float64"]),
    (lambda: tf.nn.max_pool(np.zeros((1, 4, 4, 4, 4, 2), np.float32), 2, 2, "SAME"),
     ValueError, ["rank", "6"]),
    (lambda: tf.nn.pool(X, [2, 2], "MIN", padding="SAME"), ValueError, ["MIN"]),
    (lambda: tf.nn.pool(X, [2, 2], "MAX", padding="SAME", dilations=[2, 2]), ValueError,
     ["SAME", "dilation_rate"]),
    (lambda: tf.nn.pool(X, [2, 2], "AVG", strides=[2, 2], dilations=[2, 2]), ValueError,
     ["strides > 1"]),
    (lambda: tf.nn.max_pool_with_argmax(np.zeros((2, 3, 4, 4), np.float32), 2, 2, "SAME",
                                        data_format="NCHW"), ValueError, ["NCHW"]),
], ids=["max_window_too_big", "avg_window_too_big", "stride0", "ksize0", "rank", "padding",
        "batch_window", "ksize_length", "avg_explicit", "avg_int", "max3d_float64", "rank6",
        "pool_type", "pool_dilated_same", "pool_dilated_strided", "argmax_nchw"])
def test_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("fn, kwargs", [
    ("max_pool2d", dict(ksize=3, strides=2, padding="SAME")),
    ("avg_pool2d", dict(ksize=[2, 3], strides=[1, 2], padding="SAME")),
    ("max_pool3d", dict(ksize=2, strides=2, padding="SAME")),
], ids=["max", "avg", "max3d"])
def test_against_live_tensorflow(fn, kwargs):
    real = pytest.importorskip("tensorflow")
    shape = (2, 5, 6, 7, 3) if fn == "max_pool3d" else (2, 9, 8, 3)
    x = _normal(*shape, dtype=np.float32)
    dy_shape = getattr(real.nn, fn)(x, **kwargs).shape
    dy = _normal(*dy_shape, dtype=np.float32)
    results = []
    for module in (real, tf):
        xt = module.constant(x)
        with module.GradientTape() as tape:
            tape.watch(xt)
            out = getattr(module.nn, fn)(xt, **kwargs)
        results.append((out.numpy(), tape.gradient(out, xt, output_gradients=dy).numpy()))
    for expected, actual in zip(*results):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, window, stride, padding, data_format", [
    ((3, 8, 6, 4), 2, 2, "VALID", "NHWC"),  # windows tile the input exactly
    ((3, 11, 9, 5), 2, 2, "VALID", "NHWC"),  # a remainder row and column get no gradient
    ((2, 7, 7, 3), 2, 2, "SAME", "NHWC"),  # padded windows
    ((2, 3, 9, 8), 3, 3, "SAME", "NCHW"),
    ((2, 6, 6, 3), 2, 3, "VALID", "NHWC"),  # stride larger than the window
])
def test_max_pool_grad_fast_path_matches_the_general_path(shape, window, stride, padding,
                                                           data_format):
    from ndflow.ops import pool

    rng = np.random.default_rng(7)
    # Few distinct values: most windows hold ties, which must go to the first maximum.
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    n = len(shape) - 2
    last = data_format.endswith("C")
    ksize = [1, window, window, 1] if last else [1, 1, window, window]
    strides = [1, stride, stride, 1] if last else [1, 1, stride, stride]
    attrs = dict(ksize=ksize, strides=strides, padding=padding, explicit_paddings=[],
                 data_format=data_format, dilations=[1] * 4)
    geo = pool._geometry("MaxPoolGrad", n, x.shape, attrs, True)
    y = pool.max_pool_kernel(np, x, geo)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    fast = pool.max_pool_grad_kernel(np, x, dy, geo, y)
    # the general path takes x and y as given and dy channels-last, and returns the padded dx
    padded = pool._route_by_choice(np, x, y,
                                   dy if data_format == "NHWC" else np.moveaxis(dy, 1, -1), geo)
    crop = tuple(slice(b, size - a) for (b, a), size in zip(geo.pads, padded.shape[1:-1]))
    general = padded[(slice(None), *crop)]
    if data_format == "NCHW":
        general = np.moveaxis(general, -1, 1)
    np.testing.assert_array_equal(fast, general)
    assert fast.shape == x.shape
    # each window's gradient lands on exactly one element
    np.testing.assert_allclose(fast.sum(), dy.sum(), rtol=1e-5)
