"""Tests for ndflow/ops/conv.py: TF's numbers (stored fixtures, and live TF when installed),
gradients to second order against finite differences, dtypes, and TF's errors."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "conv.npz"))
CASES = json.loads(str(FIXTURES["cases"]))
RNG = np.random.default_rng(0)


def _normal(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def _run_with_grads(fn, arrays, kwargs, dy, positions):
    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for i in positions:
            tape.watch(tensors[i])
        out = getattr(tf.nn, fn)(*tensors, **kwargs)
    grads = tape.gradient(out, [tensors[i] for i in positions], output_gradients=tf.constant(dy))
    return out, grads


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_tensorflow_fixture(case):
    name = case["name"]
    arrays = [FIXTURES[f"{name}/in{i}"] for i in range(case["inputs"])]
    positions = list(range(len(arrays))) if case["mode"] == "full" else []
    out, grads = _run_with_grads(case["fn"], arrays, case["kwargs"], FIXTURES[f"{name}/dy"],
                                 positions)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), FIXTURES[f"{name}/out"], rtol=1e-4, atol=1e-5)
    for i, grad in zip(positions, grads):
        np.testing.assert_allclose(grad.numpy(), FIXTURES[f"{name}/grad{i}"], rtol=1e-4,
                                   atol=1e-4, err_msg=f"gradient {i}")


def test_same_padding_puts_the_extra_row_after():
    # 4x4 input, 2x2 kernel of ones, stride 1, SAME: total pad 1, all of it bottom/right.
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    out = tf.nn.conv2d(x, np.ones((2, 2, 1, 1), np.float32), 1, "SAME").numpy()[0, :, :, 0]
    padded = np.pad(x[0, :, :, 0], [(0, 1), (0, 1)])
    expected = padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("padding", ["SAME", "VALID", [[0, 0], [0, 0], [1, 2], [2, 0]]],
                         ids=["same", "valid", "explicit"])
def test_nchw_matches_nhwc(padding):
    x = _normal(2, 3, 7, 6, dtype=np.float32)
    w = _normal(3, 2, 3, 4, dtype=np.float32)
    nchw = tf.nn.conv2d(x, w, [1, 1, 2, 1], padding, data_format="NCHW", dilations=[1, 1, 1, 2])
    nhwc_padding = padding if isinstance(padding, str) else [padding[i] for i in (0, 2, 3, 1)]
    nhwc = tf.nn.conv2d(np.moveaxis(x, 1, -1), w, [1, 2, 1, 1], nhwc_padding,
                        dilations=[1, 1, 2, 1])
    np.testing.assert_allclose(nchw.numpy(), np.moveaxis(nhwc.numpy(), -1, 1), rtol=1e-5,
                               atol=1e-5)


def _conv2d_reference(x, w, stride):
    """Direct VALID convolution by definition (float64)."""
    kh, kw = w.shape[:2]
    oh = (x.shape[1] - kh) // stride + 1
    ow = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=3)
    return out


def test_valid_conv_matches_definition():
    x, w = _normal(2, 7, 8, 3), _normal(3, 2, 3, 5)
    out = tf.nn.conv2d(x, w, 2, "VALID")
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), _conv2d_reference(x, w, 2), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(strides=2, padding="SAME"),
                                    dict(strides=1, padding="VALID", dilations=2)],
                         ids=["same_strided", "valid_dilated"])
def test_many_channel_patches_match_few_channel_patches(kwargs):
    # im2col copies the strided view for > 4 channels and tap by tap for <= 4: a conv over 8
    # channels must equal the sum of the convs over each half.
    x, w = _normal(2, 7, 6, 8), _normal(3, 3, 8, 5)
    whole = tf.nn.conv2d(x, w, **kwargs).numpy()
    halves = sum(tf.nn.conv2d(x[..., i:i + 4], w[:, :, i:i + 4], **kwargs).numpy()
                 for i in (0, 4))
    np.testing.assert_allclose(whole, halves, rtol=1e-10, atol=1e-12)
    check_grad(lambda x, w: tf.nn.conv2d(x, w, **kwargs), x[:1, :5, :4], w[:2, :2, :, :2])


def test_grouped_conv_is_a_conv_per_group():
    x, w = _normal(1, 5, 5, 4), _normal(3, 3, 2, 6)
    out = tf.nn.conv2d(x, w, 1, "VALID").numpy()
    first = _conv2d_reference(x[..., :2], w[..., :3], 1)
    second = _conv2d_reference(x[..., 2:], w[..., 3:], 1)
    np.testing.assert_allclose(out, np.concatenate([first, second], -1), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(strides=1, padding="VALID"),
    dict(strides=2, padding="SAME"),
    dict(strides=1, padding="SAME", dilations=2),
    dict(strides=[2, 1], padding=[[0, 0], [1, 0], [0, 2], [0, 0]]),
], ids=["valid", "same_stride2", "same_dilated", "explicit"])
def test_conv2d_gradients_second_order(kwargs):
    check_grad(lambda x, w: tf.nn.conv2d(x, w, **kwargs), _normal(1, 4, 3, 2),
               _normal(2, 2, 2, 2), order=2)


def test_conv2d_nchw_gradients():
    check_grad(lambda x, w: tf.nn.conv2d(x, w, 2, "SAME", data_format="NCHW"),
               _normal(1, 2, 4, 3), _normal(3, 2, 2, 2), order=2)


def test_grouped_conv2d_gradients():
    check_grad(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), _normal(1, 3, 3, 4),
               _normal(2, 1, 2, 4), order=2)


def test_conv2d_transpose_gradients_second_order():
    check_grad(lambda x, w: tf.nn.conv2d_transpose(x, w, [1, 5, 5, 2], 2, "SAME"),
               _normal(1, 3, 3, 2), _normal(2, 3, 1, 2), order=2)


def test_conv2d_backprop_filter_gradients_second_order():
    def backprop_filter(x, dy):
        return tf.nn.depthwise_conv2d_backprop_filter(x, [2, 2, 2, 1], dy, [1, 1, 1, 1], "VALID")

    check_grad(backprop_filter, _normal(1, 4, 4, 2), _normal(1, 3, 3, 2), order=2)


@pytest.mark.parametrize("fn, shapes, kwargs", [
    ("conv1d", [(1, 5, 2), (3, 2, 2)], dict(stride=2, padding="SAME")),
    ("conv3d", [(1, 3, 2, 3, 1), (2, 2, 2, 1, 2)], dict(strides=[1, 2, 1, 2, 1],
                                                       padding="SAME")),
    ("depthwise_conv2d", [(1, 4, 4, 2), (3, 2, 2, 1)], dict(strides=[1, 2, 2, 1],
                                                            padding="SAME")),
    ("separable_conv2d", [(1, 3, 3, 2), (2, 2, 2, 1), (1, 1, 2, 2)],
     dict(strides=[1, 1, 1, 1], padding="VALID")),
    ("conv3d_transpose", [(1, 2, 2, 2, 2), (2, 2, 2, 1, 2)],
     dict(output_shape=[1, 4, 4, 4, 1], strides=2, padding="SAME")),
    ("conv1d_transpose", [(1, 3, 2), (3, 1, 2)], dict(output_shape=[1, 6, 1], strides=2,
                                                      padding="SAME")),
], ids=["conv1d", "conv3d", "depthwise", "separable", "conv3d_transpose", "conv1d_transpose"])
def test_gradients_second_order(fn, shapes, kwargs):
    check_grad(lambda *args: getattr(tf.nn, fn)(*args, **kwargs),
               *[_normal(*s) for s in shapes], order=2)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_computes_in_float32(dtype):
    x, w = _normal(2, 6, 6, 3, dtype=np.float32), _normal(3, 3, 3, 4, dtype=np.float32)
    half = tf.nn.conv2d(tf.cast(x, dtype), tf.cast(w, dtype), 1, "SAME")
    assert half.dtype == tf.as_dtype(dtype)
    rounded = [tf.cast(tf.cast(a, dtype), tf.float32) for a in (x, w)]
    full = tf.nn.conv2d(*rounded, 1, "SAME").numpy()
    tol = 1e-2 if dtype == "float16" else 4e-2
    np.testing.assert_allclose(tf.cast(half, tf.float32).numpy(), full, rtol=tol, atol=tol)


def test_float32_stays_float32_and_int32_is_exact():
    x = _normal(1, 5, 5, 2, dtype=np.float32)
    assert tf.nn.conv2d(x, _normal(2, 2, 2, 3, dtype=np.float32), 1, "SAME").numpy().dtype == \
        np.float32
    xi = RNG.integers(-5, 5, (1, 5, 5, 2)).astype(np.int32)
    wi = RNG.integers(-5, 5, (2, 2, 2, 3)).astype(np.int32)
    out = tf.nn.conv2d(xi, wi, 1, "VALID")
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), _conv2d_reference(xi, wi, 1).astype(np.int32))


@pytest.mark.parametrize("depth", [3, 1], ids=["dense", "grouped"])
def test_empty_batch_and_zero_filters(depth):
    w = _normal(3, 3, depth, 3, dtype=np.float32)
    check_grad(lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"), np.zeros((0, 5, 5, 3)), w)
    assert tf.nn.conv2d(np.zeros((0, 5, 5, 3), np.float32), w, 1, "VALID").shape == [0, 3, 3, 3]
    assert tf.nn.conv2d(np.zeros((2, 5, 5, 3), np.float32), np.zeros((3, 3, 3, 0), np.float32),
                        1, "VALID").shape == [2, 3, 3, 0]


def test_output_shape_inference_with_unknown_dims():
    from ndflow.framework.op_registry import Spec, get

    infer = get("Conv2D").infer
    attrs = dict(strides=(1, 2, 2, 1), padding="SAME", explicit_paddings=(),
                 data_format="NHWC", dilations=(1, 1, 1, 1))
    spec = infer(Spec((None, 7, None, 3), tf.float32), Spec((3, 3, 3, 8), tf.float32), **attrs)
    assert spec.shape == (None, 4, None, 8)
    assert infer(Spec(None, tf.float32), Spec(None, tf.float32), **attrs).shape == (None,) * 4


X = np.zeros((2, 5, 5, 3), np.float32)
W = np.zeros((3, 3, 3, 4), np.float32)


@pytest.mark.parametrize("call, error, words", [
    (lambda: tf.nn.conv2d(X[0], W, 1, "VALID"), errors.InvalidArgumentError,
     ["Conv2D", "4-dimensional", "[5, 5, 3]"]),
    (lambda: tf.nn.conv2d(X, W[0], 1, "VALID"), errors.InvalidArgumentError,
     ["Conv2D", "filter", "[3, 3, 4]"]),
    (lambda: tf.nn.conv2d(X, W[:, :, :2], 1, "VALID"), errors.InvalidArgumentError,
     ["Conv2D", "evenly divisible", "[2, 5, 5, 3]", "[3, 3, 2, 4]"]),
    (lambda: tf.nn.conv2d(X, W, 0, "VALID"), errors.InvalidArgumentError,
     ["Conv2D", "strides", "larger than 0"]),
    (lambda: tf.nn.conv2d(X, W, -1, "VALID"), errors.InvalidArgumentError,
     ["Conv2D", "strides"]),
    (lambda: tf.nn.conv2d(X, W, [2, 1, 1, 1], "VALID"), errors.UnimplementedError,
     ["Conv2D", "batch and depth"]),
    (lambda: tf.nn.conv2d(X, W, 1, "VALID", dilations=0), errors.InvalidArgumentError,
     ["Conv2D", "dilations"]),
    (lambda: tf.nn.conv2d(X, W, 1, "FOO"), errors.InvalidArgumentError,
     ["Conv2D", "padding", "FOO"]),
    (lambda: tf.nn.conv2d(X, W, 1, "same"), errors.InvalidArgumentError,
     ["Conv2D", "padding"]),
    (lambda: tf.nn.conv2d(X, np.zeros((7, 7, 3, 4), np.float32), 1, "VALID"),
     errors.InvalidArgumentError, ["Conv2D", "input_size: 5", "effective_filter_size: 7"]),
    (lambda: tf.nn.conv2d(X, W, 1, [[0, 0], [-1, 2], [0, 1], [0, 0]]),
     errors.InvalidArgumentError, ["Conv2D", "nonnegative"]),
    (lambda: tf.nn.conv2d(X, W, 1, [[1, 0], [1, 2], [0, 1], [0, 0]]),
     errors.InvalidArgumentError, ["Conv2D", "batch or depth"]),
    (lambda: tf.nn.conv2d(X, W, 1, [[1, 2], [0, 1]]), ValueError, ["size 4"]),
    (lambda: tf.nn.conv2d(X, W, [1, 2, 2], "SAME"), ValueError, ["strides", "length 3"]),
    (lambda: tf.nn.conv2d(X, W, 1, "VALID", data_format="NHCW"), errors.InvalidArgumentError,
     ["Conv2D", "data_format", "NHCW"]),
    (lambda: tf.nn.conv2d(tf.constant(X), tf.constant(W, tf.float64), 1, "VALID"),
     errors.InvalidArgumentError,
     ["Conv2D", "float32", "float64"]),
    (lambda: tf.nn.conv3d(np.zeros((1, 4, 4, 4, 2), np.float32),
                          np.zeros((2, 2, 2, 3, 1), np.float32), [1] * 5, "VALID"),
     errors.InvalidArgumentError, ["Conv3D", "[1, 4, 4, 4, 2]", "[2, 2, 2, 3, 1]"]),
    (lambda: tf.nn.conv3d(np.zeros((1, 4, 4, 4, 2), np.float32),
                          np.zeros((2, 2, 2, 2, 1), np.float32), [1] * 5,
                          [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]]), TypeError, ["padding"]),
    (lambda: tf.nn.depthwise_conv2d(X, np.zeros((3, 3, 2, 2), np.float32), [1, 1, 1, 1],
                                    "VALID"),
     errors.InvalidArgumentError, ["DepthwiseConv2dNative", "same depth", "[3, 3, 2, 2]"]),
    (lambda: tf.nn.depthwise_conv2d(X, np.zeros((3, 3, 3, 2), np.float32), [1, 2, 1, 1],
                                    "VALID"),
     errors.InvalidArgumentError, ["DepthwiseConv2dNative", "equal strides"]),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 4), np.float32), W, [2, 9, 9, 3], 2,
                                    "SAME"),
     errors.InvalidArgumentError, ["Conv2DBackpropInput", "out_backprop", "[2, 4, 4, 4]"]),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 5), np.float32), W, [2, 7, 7, 3], 2,
                                    "SAME"),
     errors.InvalidArgumentError, ["Conv2DBackpropInput", "[2, 4, 4, 5]"]),
    (lambda: tf.nn.convolution(X, W, strides=2, dilations=2), ValueError,
     ["strides > 1", "dilation_rate > 1"]),
    (lambda: tf.nn.atrous_conv2d(X, W, 0, "SAME"), ValueError, ["dilation_rate"]),
    (lambda: tf.nn.conv1d(X, W, 1, "VALID", data_format="NHCW"), ValueError, ["NWC"]),
], ids=["input_rank", "filter_rank", "channels", "stride0", "stride_negative", "batch_stride",
        "dilation0", "padding_name", "padding_lowercase", "window_too_big", "explicit_negative",
        "explicit_batch", "explicit_length", "strides_length", "data_format", "dtype_mix",
        "conv3d_channels", "conv3d_explicit", "depthwise_channels", "depthwise_strides",
        "transpose_output_shape", "transpose_channels", "convolution_stride_dilation",
        "atrous_rate", "conv1d_format"])
def test_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_shapes_from_tensors_and_spatial_only_input_sizes():
    dy = _normal(2, 4, 4, 4, dtype=np.float32)
    w = _normal(3, 3, 3, 4, dtype=np.float32)
    full = tf.nn.conv2d_transpose(dy, w, tf.constant([2, 7, 7, 3]), 2, "SAME")
    from ndflow.framework.op_registry import execute

    spatial = execute("Conv2DBackpropInput", tf.constant([7, 7]), tf.constant(w), tf.constant(dy),
                      strides=(1, 2, 2, 1), padding="SAME", explicit_paddings=(),
                      data_format="NHWC", dilations=(1, 1, 1, 1))
    np.testing.assert_allclose(full.numpy(), spatial.numpy())
    assert full.shape == [2, 7, 7, 3]


def test_convolution_dispatches_on_rank():
    x, w = _normal(2, 7, 3, dtype=np.float32), _normal(3, 3, 4, dtype=np.float32)
    np.testing.assert_allclose(tf.nn.convolution(x, w, 2, "SAME").numpy(),
                               tf.nn.conv1d(x, w, 2, "SAME").numpy())
    x3, w3 = _normal(1, 4, 4, 4, 2, dtype=np.float32), _normal(2, 2, 2, 2, 3, dtype=np.float32)
    np.testing.assert_allclose(tf.nn.convolution(x3, w3, 2, "SAME").numpy(),
                               tf.nn.conv3d(x3, w3, [1, 2, 2, 2, 1], "SAME").numpy())


TF_CASES = [
    ("conv2d", [(2, 9, 8, 3), (3, 2, 3, 5)], dict(strides=[2, 3], padding="SAME",
                                                 dilations=1)),
    ("conv2d", [(2, 9, 8, 3), (2, 3, 3, 5)], dict(strides=1, padding="SAME", dilations=[3, 2])),
    ("conv3d", [(1, 5, 6, 7, 2), (2, 3, 2, 2, 3)], dict(strides=[1, 1, 2, 3, 1],
                                                       padding="SAME")),
    ("depthwise_conv2d", [(2, 8, 7, 3), (2, 3, 3, 3)], dict(strides=[1, 3, 3, 1],
                                                            padding="SAME")),
]


@pytest.mark.parametrize("fn, shapes, kwargs", TF_CASES,
                         ids=["conv2d_strides", "conv2d_dilations", "conv3d", "depthwise"])
def test_against_live_tensorflow(fn, shapes, kwargs):
    real = pytest.importorskip("tensorflow")
    arrays = [_normal(*s, dtype=np.float32) for s in shapes]
    expected = getattr(real.nn, fn)(*arrays, **kwargs).numpy()
    np.testing.assert_allclose(getattr(tf.nn, fn)(*arrays, **kwargs).numpy(), expected,
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("padding, strides", [("VALID", 1), ("SAME", 2)])
def test_batch_chunks_give_the_unchunked_numbers(monkeypatch, padding, strides):
    from ndflow.ops import conv_kernels

    rng = np.random.default_rng(21)
    x = tf.constant(rng.standard_normal((7, 9, 8, 6)).astype(np.float32))
    w = tf.constant(rng.standard_normal((3, 3, 6, 5)).astype(np.float32))

    def run():
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, strides, padding)
            loss = tf.reduce_sum(y * tf.range(5, dtype=tf.float32))
        return [y] + tape.gradient(loss, [x, w])

    whole = run()
    monkeypatch.setattr(conv_kernels, "_CHUNK_BYTES", 1)  # one image per chunk
    for a, b in zip(run(), whole):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("x_shape, w_shape", [((9, 12, 12, 1), (3, 3, 1, 4)),
                                              ((6, 8, 8, 5), (2, 3, 5, 7))])
def test_filter_gradient_chunks_give_the_same_bits_on_ndflows_threads(monkeypatch, x_shape,
                                                                       w_shape):
    from ndflow.framework import parallel
    from ndflow.ops import conv_kernels

    rng = np.random.default_rng(22)
    x = rng.standard_normal(x_shape).astype(np.float32)
    geo = conv_kernels.conv_geometry("Conv2DBackpropFilter", 2, x_shape, w_shape, (1, 1, 1, 1),
                                     "VALID", (), "NHWC", (1, 1, 1, 1))
    dy = rng.standard_normal((x_shape[0], *geo.out, w_shape[-1])).astype(np.float32)
    assert len(conv_kernels._batch_chunks(x_shape[0], 1, minimum=4)) >= 3  # several chunks
    alone = conv_kernels.conv_filter_grad(np, x, w_shape, dy, geo)
    with parallel.blas_owned():
        monkeypatch.setattr(parallel._local, "threads", 2)
        split = conv_kernels.conv_filter_grad(np, x, w_shape, dy, geo)
    np.testing.assert_array_equal(split, alone)
    cols = conv_kernels._im2col(np, x, geo)
    expected = (cols.astype(np.float64).T @ dy.reshape(-1, w_shape[-1])).reshape(w_shape)
    np.testing.assert_allclose(alone, expected, rtol=1e-4, atol=1e-4)
