"""Tests for ndflow/ops/nn_norm.py: moments, batch_normalization, the fused batch norm and its
gradient primitive (to second order), l2_normalize, LRN and dropout, against TF's numbers
(fixtures/nn.npz) and NumPy."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad
from tests.ops.test_nn import CASES, check_fixture_case

NORM_CASES = [c for c in CASES if c["fn"] in {
    "moments", "batch_normalization", "fused_batch_norm", "l2_normalize",
    "local_response_normalization", "dropout"}]
RNG = np.random.default_rng(1)


def _normal(*shape, scale=1.0):
    return scale * RNG.standard_normal(shape)


@pytest.mark.parametrize("case", NORM_CASES, ids=[c["name"] for c in NORM_CASES])
def test_matches_tensorflow_fixture(case):
    check_fixture_case(case, rtol=5e-5, atol=5e-6)


# --- moments and batch_normalization ---------------------------------------------------------

@pytest.mark.parametrize("axes, keepdims", [([0], False), ([0, 1, 2], False), ([1], True)],
                         ids=["axis0", "spatial", "keepdims"])
def test_moments_values_and_gradients(axes, keepdims):
    x = _normal(3, 4, 2)
    mean, variance = tf.nn.moments(tf.constant(x), axes, keepdims=keepdims)
    np.testing.assert_allclose(mean.numpy(), x.mean(tuple(axes), keepdims=keepdims))
    np.testing.assert_allclose(variance.numpy(), x.var(tuple(axes), keepdims=keepdims))
    check_grad(lambda t: tf.nn.moments(t, axes, keepdims=keepdims)[1], x, order=2)
    check_grad(lambda t: tf.nn.moments(t, axes, keepdims=keepdims)[0], x, order=2)


def test_moments_float16_reduces_in_float32():
    x = np.full((4096,), 1000.0, np.float16)
    x[::2] = 1001.0
    mean, variance = tf.nn.moments(tf.constant(x), [0])
    assert mean.dtype == tf.float16 and variance.dtype == tf.float16
    assert float(mean) == 1000.5
    assert float(variance) == 0.25


def test_weighted_and_sufficient_statistics():
    x = _normal(4, 3)
    weights = RNG.uniform(0.5, 2.0, (4, 1))
    mean, variance = tf.nn.weighted_moments(tf.constant(x), [0], tf.constant(weights))
    expected_mean = (weights * x).sum(0) / weights.sum()
    np.testing.assert_allclose(mean.numpy(), expected_mean)
    np.testing.assert_allclose(variance.numpy(),
                               (weights * (x - expected_mean) ** 2).sum(0) / weights.sum())
    counts, mean_ss, var_ss, shift = tf.nn.sufficient_statistics(tf.constant(x), [0], shift=0.5)
    assert float(counts) == 4.0
    mean2, variance2 = tf.nn.normalize_moments(counts, mean_ss, var_ss, shift)
    np.testing.assert_allclose(mean2.numpy(), x.mean(0))
    np.testing.assert_allclose(variance2.numpy(), x.var(0))


def test_batch_normalization_values_and_gradients():
    x, mean, variance = _normal(5, 3), _normal(3), RNG.uniform(0.5, 2, 3)
    offset, scale = _normal(3), RNG.uniform(0.5, 2, 3)
    result = tf.nn.batch_normalization(x, mean, variance, offset, scale, 1e-3)
    np.testing.assert_allclose(result.numpy(),
                               scale * (x - mean) / np.sqrt(variance + 1e-3) + offset)
    check_grad(lambda *a: tf.nn.batch_normalization(*a, variance_epsilon=1e-3), x, mean,
               variance, offset, scale, order=2)
    plain = tf.nn.batch_normalization(x, mean, variance, None, None, 1e-3)
    np.testing.assert_allclose(plain.numpy(), (x - mean) / np.sqrt(variance + 1e-3))
    legacy = tf.nn.batch_norm_with_global_normalization(x, mean, variance, offset, scale, 1e-3,
                                                        scale_after_normalization=False)
    np.testing.assert_allclose(legacy.numpy(), plain.numpy() + offset)


# --- fused batch norm ------------------------------------------------------------------------

def _np_batch_norm(x, scale, offset, axes, shape, epsilon):
    mean = x.mean(axes)
    variance = x.var(axes)
    y = (x - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + epsilon)
    return y * scale.reshape(shape) + offset.reshape(shape), mean, variance


@pytest.mark.parametrize("data_format, shape, axes, bshape", [
    ("NHWC", (2, 3, 2, 4), (0, 1, 2), (4,)), ("NCHW", (2, 4, 3, 2), (0, 2, 3), (4, 1, 1)),
    ("NCDHW", (2, 4, 2, 1, 2), (0, 2, 3, 4), (4, 1, 1, 1)),
], ids=["nhwc", "nchw", "ncdhw"])
def test_fused_batch_norm_training_statistics(data_format, shape, axes, bshape):
    x = _normal(*shape).astype(np.float32)
    scale, offset = RNG.uniform(0.5, 2, 4).astype(np.float32), _normal(4).astype(np.float32)
    y, mean, variance = tf.nn.fused_batch_norm(x, scale, offset, data_format=data_format)
    expected, batch_mean, batch_var = _np_batch_norm(x, scale, offset, axes, bshape, 0.001)
    count = x.size // 4
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mean.numpy(), batch_mean, rtol=1e-5, atol=1e-6)
    # The running variance gets Bessel's correction, as TF's.
    np.testing.assert_allclose(variance.numpy(), batch_var * count / (count - 1), rtol=1e-5)
    old_mean, old_var = np.zeros(4, np.float32), np.ones(4, np.float32)
    _, mean, variance = tf.nn.fused_batch_norm(x, scale, offset, old_mean, old_var,
                                               data_format=data_format,
                                               exponential_avg_factor=0.25)
    np.testing.assert_allclose(mean.numpy(), 0.25 * batch_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance.numpy(), 0.75 + 0.25 * batch_var * count / (count - 1),
                               rtol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(data_format="NCHW"), dict(is_training=False), dict(epsilon=0.5),
    dict(is_training=False, data_format="NCHW"),
], ids=["train_nhwc", "train_nchw", "inference", "large_epsilon", "inference_nchw"])
def test_fused_batch_norm_gradients_to_second_order(kwargs):
    x = _normal(2, 3, 2, 3)
    scale, offset = RNG.uniform(0.5, 2, 3), _normal(3)
    mean, variance = _normal(3), RNG.uniform(0.5, 2, 3)
    if kwargs.get("is_training", True):
        def fn(x, scale, offset):
            return tf.nn.fused_batch_norm(x, scale, offset, **kwargs)[0]
    else:
        def fn(x, scale, offset):
            return tf.nn.fused_batch_norm(x, scale, offset, mean, variance, **kwargs)[0]
    check_grad(fn, x, scale, offset, order=2, rtol=1e-4, atol=1e-6)


def test_fused_batch_norm_third_order_runs_through_the_closed_form():
    x = tf.constant(_normal(2, 2, 2, 2))
    scale, offset = tf.constant([1.5, 0.5]), tf.constant([0.0, 1.0])
    scale, offset = tf.cast(scale, tf.float64), tf.cast(offset, tf.float64)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = tf.reduce_sum(tf.nn.fused_batch_norm(x, scale, offset)[0] ** 3)
            g1 = tf.reduce_sum(t1.gradient(y, x) ** 2)
        g2 = tf.reduce_sum(t2.gradient(g1, x))
    g3 = t3.gradient(g2, x)
    assert g3.shape == x.shape and np.all(np.isfinite(g3.numpy()))


def test_fused_batch_norm_half_input_keeps_float32_statistics():
    x = _normal(2, 2, 2, 3).astype(np.float16)
    y, mean, variance = tf.nn.fused_batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32))
    assert y.dtype == tf.float16 and mean.dtype == tf.float32 and variance.dtype == tf.float32
    expected, _, _ = _np_batch_norm(x.astype(np.float32), np.ones(3), np.zeros(3), (0, 1, 2),
                                    (3,), 0.001)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-2, atol=1e-2)


def test_fused_batch_norm_in_tf_function_matches_eager():
    x = _normal(2, 3, 3, 2).astype(np.float32)
    scale, offset = np.array([1.0, 2.0], np.float32), np.array([0.5, -0.5], np.float32)

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.fused_batch_norm(x, scale, offset)[0]
            loss = tf.reduce_sum(y * y * y)
        return loss, tape.gradient(loss, x)

    traced = tf.function(step, input_signature=[tf.TensorSpec([None, 3, 3, 2], tf.float32)])
    for got, want in zip(traced(tf.constant(x)), step(tf.constant(x))):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-4)


def test_fused_batch_norm_errors():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"FusedBatchNormV3: input must be 4-dimensional.*\[2, 3\]"):
        tf.nn.fused_batch_norm(tf.zeros([2, 3]), tf.ones([3]), tf.zeros([3]))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"FusedBatchNormV3: scale must be a 1-D tensor of 3 channels, got "
                             r"shape \[4\]"):
        tf.nn.fused_batch_norm(tf.zeros([1, 2, 2, 3]), tf.ones([4]), tf.zeros([3]))
    with pytest.raises(errors.InvalidArgumentError, match=r"FusedBatchNormV3: mean.*\[2\]"):
        tf.nn.fused_batch_norm(tf.zeros([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]),
                               tf.zeros([2]), tf.ones([3]), is_training=False)
    with pytest.raises(ValueError, match="`mean` and `variance` must be a 1D tensor"):
        tf.nn.fused_batch_norm(tf.zeros([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]),
                               is_training=False)
    with pytest.raises(errors.InvalidArgumentError, match="FusedBatchNormV3: data_format"):
        tf.nn.fused_batch_norm(tf.zeros([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]),
                               data_format="HWNC")


# --- l2_normalize and LRN --------------------------------------------------------------------

@pytest.mark.parametrize("axis", [None, 0, 1, [0, 1]], ids=str)
def test_l2_normalize(axis):
    x = _normal(3, 4)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = x / np.sqrt(np.maximum((x ** 2).sum(np_axis, keepdims=True), 1e-12))
    np.testing.assert_allclose(tf.math.l2_normalize(x, axis=axis).numpy(), expected)
    check_grad(lambda t: tf.nn.l2_normalize(t, axis=axis), x, order=2)


def test_l2_normalize_zero_vector_and_epsilon():
    np.testing.assert_array_equal(tf.nn.l2_normalize(tf.zeros([3])).numpy(), [0, 0, 0])
    small = tf.nn.l2_normalize(tf.constant([0.3, 0.4]), epsilon=1.0).numpy()
    np.testing.assert_allclose(small, [0.3, 0.4])


def _np_lrn(x, radius, bias, alpha, beta):
    squared = x ** 2
    window = np.zeros_like(x)
    for channel in range(x.shape[-1]):
        low, high = max(0, channel - radius), min(x.shape[-1], channel + radius + 1)
        window[..., channel] = squared[..., low:high].sum(-1)
    return x / (bias + alpha * window) ** beta


@pytest.mark.parametrize("kwargs", [dict(), dict(depth_radius=1, bias=2.0, alpha=0.5, beta=0.75),
                                    dict(depth_radius=0, bias=1.0, alpha=0.1, beta=1.0)],
                         ids=["default", "radius1", "radius0"])
def test_local_response_normalization(kwargs):
    x = _normal(1, 2, 2, 7)
    defaults = dict(depth_radius=5, bias=1.0, alpha=1.0, beta=0.5)
    defaults.update(kwargs)
    result = tf.nn.local_response_normalization(x, **kwargs)
    np.testing.assert_allclose(result.numpy(), _np_lrn(x, *defaults.values()), rtol=1e-10)
    check_grad(lambda t: tf.nn.lrn(t, **kwargs), x, order=2)


def test_lrn_rejects_other_ranks():
    with pytest.raises(errors.InvalidArgumentError, match=r"LRN: input must be 4-dimensional.*"
                                                          r"\[2, 3\]"):
        tf.nn.lrn(tf.zeros([2, 3]))


# --- dropout ---------------------------------------------------------------------------------

def test_dropout_rate_zero_returns_input():
    x = tf.constant([1.0, 2.0])
    assert tf.nn.dropout(x, 0.0) is x


def test_dropout_keeps_the_right_fraction_and_scales_by_keep_probability():
    x = tf.ones([200, 500])
    y = tf.nn.dropout(x, rate=0.3, seed=1).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_noise_shape_broadcasts_one_draw_along_axes():
    y = tf.nn.dropout(tf.ones([50, 8]), rate=0.5, noise_shape=[50, 1], seed=2).numpy()
    assert np.all((y == 0).all(axis=1) | (y == 2).all(axis=1))
    assert 0 < (y[:, 0] == 0).sum() < 50
    z = tf.nn.dropout(tf.ones([4, 60]), rate=0.5, noise_shape=[None, 1], seed=2).numpy()
    assert np.all((z == z[:, :1]).all(axis=1))


def test_dropout_seeds_are_deterministic():
    tf.random.set_seed(5)
    first = tf.nn.dropout(tf.ones([10, 10]), 0.5, seed=3).numpy()
    tf.random.set_seed(5)
    second = tf.nn.dropout(tf.ones([10, 10]), 0.5, seed=3).numpy()
    np.testing.assert_array_equal(first, second)
    third = tf.nn.dropout(tf.ones([10, 10]), 0.5, seed=3).numpy()
    assert np.any(first != third)  # a stateful op: the next call draws a new mask


def test_dropout_tensor_rate_gradient_and_graph_mode():
    x = tf.constant(_normal(6, 5))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, tf.constant(0.4, tf.float64), seed=4)
    grad = tape.gradient(y, x).numpy()
    kept = y.numpy() != 0
    np.testing.assert_allclose(grad, np.where(kept, 1 / 0.6, 0.0))

    @tf.function
    def drop(t):
        return tf.nn.dropout(t, 0.5)

    masks = [drop(tf.ones([20, 20])).numpy() != 0 for _ in range(2)]
    assert np.any(masks[0] != masks[1])


@pytest.mark.parametrize("rate", [1.0, -0.1], ids=["one", "negative"])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match=r"range \[0, 1\)"):
        tf.nn.dropout(tf.ones([2]), rate)


def test_dropout_rejects_integers():
    with pytest.raises(ValueError, match="floating point"):
        tf.nn.dropout(tf.constant([1, 2]), 0.5)
