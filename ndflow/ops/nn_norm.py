"""Normalisation and dropout for `tf.nn`: moments, batch_normalization, the fused batch norm
(FusedBatchNormV3 with its one-kernel gradient FusedBatchNormGradV3), l2_normalize, local
response normalisation and dropout. Published through nn.py's `API` table.
"""

import numbers

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import indexing, linalg, manip
from ndflow.ops import math as math_ops
from ndflow.ops import random as random_ops
from ndflow.ops import reduce as reduce_ops

_HALF = (dtypes.float16, dtypes.bfloat16)


# --- moments and batch_normalization ---------------------------------------------------------

def moments(x, axes, shift=None, keepdims=False, name=None):
    """Mean and variance of `x` over `axes` (`tf.nn.moments`); `shift` is ignored, as in TF2.

    float16 inputs are reduced in float32 and the results cast back.
    """
    x = convert_to_tensor(x)
    y = array_ops.cast(x, dtypes.float32) if x.dtype is dtypes.float16 else x
    mean = reduce_ops.reduce_mean(y, axes, keepdims=True)
    # No stop_gradient on the mean (TF has one): same first derivative, right second one.
    variance = reduce_ops.reduce_mean(math_ops.squared_difference(y, mean), axes, keepdims=True)
    if not keepdims:
        mean = manip.squeeze(mean, axes)
        variance = manip.squeeze(variance, axes)
    if x.dtype is dtypes.float16:
        return array_ops.cast(mean, x.dtype), array_ops.cast(variance, x.dtype)
    return mean, variance


def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None):
    """(count, sum, sum of squares, shift) of `x` over `axes` (`tf.nn.sufficient_statistics`);
    with `shift` the sums are of x - shift."""
    x = convert_to_tensor(x)
    counts = reduce_ops.reduce_prod(array_ops.cast(_axes_sizes(x, axes), x.dtype))
    m_ss = x
    if shift is not None:
        shift = array_ops.cast(shift, x.dtype)
        m_ss = math_ops.subtract(x, shift)
    mean_ss = reduce_ops.reduce_sum(m_ss, axes, keepdims=keepdims)
    var_ss = reduce_ops.reduce_sum(math_ops.square(m_ss), axes, keepdims=keepdims)
    return counts, mean_ss, var_ss, shift


def _axes_sizes(x, axes):
    axes = reduce_ops.normalize_axis(axes, "sufficient_statistics")
    if x.shape.is_fully_defined():
        dims = x.shape.as_list()
        return [dims[a] for a in axes]
    return indexing.gather(array_ops.shape(x), list(axes))


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """Mean and variance from sufficient statistics (`tf.nn.normalize_moments`)."""
    divisor = math_ops.reciprocal(counts)
    if shift is not None:
        shifted_mean = math_ops.multiply(mean_ss, divisor)
        mean = math_ops.add(shifted_mean, shift)
    else:
        shifted_mean = math_ops.multiply(mean_ss, divisor)
        mean = shifted_mean
    variance = math_ops.subtract(math_ops.multiply(variance_ss, divisor),
                                 math_ops.square(shifted_mean))
    return mean, variance


def weighted_moments(x, axes, frequency_weights, name=None, keepdims=False):
    """Frequency-weighted mean and variance of `x` over `axes` (`tf.nn.weighted_moments`)."""
    x = convert_to_tensor(x)
    dtype = x.dtype
    if dtype is dtypes.float16:
        x = array_ops.cast(x, dtypes.float32)
    weights = array_ops.cast(frequency_weights, x.dtype)
    weighted_sum = reduce_ops.reduce_sum(math_ops.multiply(weights, x), axes, keepdims=True)
    weights_sum = reduce_ops.reduce_sum(math_ops.add(weights, array_ops.zeros_like(x)), axes,
                                        keepdims=True)
    mean = math_ops.divide_no_nan(weighted_sum, weights_sum)
    distsq = reduce_ops.reduce_sum(
        math_ops.multiply(weights, math_ops.squared_difference(x, mean)), axes, keepdims=True)
    variance = math_ops.divide_no_nan(distsq, weights_sum)
    if not keepdims:
        mean = manip.squeeze(mean, axes)
        variance = manip.squeeze(variance, axes)
    if dtype is dtypes.float16:
        return array_ops.cast(mean, dtype), array_ops.cast(variance, dtype)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """scale * (x - mean) / sqrt(variance + variance_epsilon) + offset, in TF's op order
    (`tf.nn.batch_normalization`); offset and scale may be None."""
    x = convert_to_tensor(x)
    mean = convert_to_tensor(mean, dtype_hint=x.dtype)
    inv = math_ops.rsqrt(math_ops.add(variance, variance_epsilon))
    if scale is not None:
        inv = math_ops.multiply(inv, scale)
    if offset is not None:
        shift = math_ops.subtract(offset, math_ops.multiply(mean, inv))
    else:
        shift = math_ops.negative(math_ops.multiply(mean, inv))
    return math_ops.add(math_ops.multiply(x, array_ops.cast(inv, x.dtype)),
                        array_ops.cast(shift, x.dtype), name=name)


def batch_norm_with_global_normalization(input, mean, variance, beta, gamma, variance_epsilon,  # noqa: A002
                                         scale_after_normalization, name=None):
    """Batch normalisation with given statistics; gamma is used only when
    `scale_after_normalization` (`tf.nn.batch_norm_with_global_normalization`)."""
    return batch_normalization(input, mean, variance, beta,
                               gamma if scale_after_normalization else None, variance_epsilon,
                               name=name)


# --- fused batch norm ------------------------------------------------------------------------

_FORMATS = {"NHWC": 4, "NCHW": 4, "NDHWC": 5, "NCDHW": 5}


def _channel_axis(data_format, rank):
    return 1 if data_format.startswith("NC") else rank - 1


def _reduce_axes(data_format, rank):
    axis = _channel_axis(data_format, rank)
    return tuple(i for i in range(rank) if i != axis)


def _per_channel_shape(data_format, rank):
    """The shape that broadcasts a [C] vector against the input."""
    axis = _channel_axis(data_format, rank)
    return tuple(-1 if i == axis else 1 for i in range(rank))


def _check_bn(name, x, scale, data_format, others=()):
    """Validates a fused batch norm's inputs; returns the channel count (or None)."""
    if data_format not in _FORMATS:
        raise errors.InvalidArgumentError(
            f"{name}: data_format must be one of {sorted(_FORMATS)}, got {data_format!r}")
    if x.dtype not in dtypes.FLOATS:
        raise TypeError(f"{name}: x must be a floating point tensor, got {x.dtype.name}")
    if scale.dtype not in (dtypes.float32, x.dtype):
        raise TypeError(f"{name}: scale, offset, mean and variance must be float32 (or x's "
                        f"dtype), got {scale.dtype.name} for x of dtype {x.dtype.name}")
    channels = None
    if x.shape is not None:
        if len(x.shape) != _FORMATS[data_format]:
            raise errors.InvalidArgumentError(
                f"{name}: input must be {_FORMATS[data_format]}-dimensional for data_format "
                f"{data_format}, got shape {list(x.shape)}")
        channels = x.shape[_channel_axis(data_format, len(x.shape))]
    for what, spec in (("scale", scale),) + tuple(others):
        if spec.shape is None:
            continue
        if len(spec.shape) != 1 or None not in (channels, spec.shape[0]) and (
                spec.shape[0] != channels):
            raise errors.InvalidArgumentError(
                f"{name}: {what} must be a 1-D tensor of {channels} channels, got shape "
                f"{list(spec.shape)} for x of shape {list(x.shape)}")
    return channels


def _float_compute(xp, x, like):
    """16-bit inputs are normalised in float32 (the dtype of the statistics)."""
    return x.astype(like.dtype) if x.dtype != like.dtype else x


@primitive("FusedBatchNormV3", dtypes=frozenset([dtypes.float32, dtypes.float64]),
           same_dtype=(1, 2, 3, 4), num_outputs=6)
class FusedBatchNormV3:
    """(y, batch_mean, batch_variance, reserve_1, reserve_2, reserve_3).

    Training: batch_mean / batch_variance are the running updates (the batch variance with
    Bessel's correction, as TF); reserve_1/2 keep the batch mean and biased variance for the
    gradient. Inference: the given mean and variance normalise x and pass through.
    """

    def infer(x, scale, offset, mean, variance, epsilon=0.001, exponential_avg_factor=1.0,
              data_format="NHWC", is_training=True):
        others = [("offset", offset)]
        if not is_training or exponential_avg_factor != 1.0:
            others += [("mean", mean), ("variance", variance)]
        channels = _check_bn("FusedBatchNormV3", x, scale, data_format, others)
        vector = Spec((channels,), scale.dtype)
        return (Spec(x.shape, x.dtype), vector, vector, vector, vector, Spec((), scale.dtype))

    def kernel(xp, x, scale, offset, mean, variance, epsilon=0.001, exponential_avg_factor=1.0,
               data_format="NHWC", is_training=True):
        axes = _reduce_axes(data_format, x.ndim)
        shape = _per_channel_shape(data_format, x.ndim)
        xf = _float_compute(xp, x, scale)
        with xp.errstate(invalid="ignore", divide="ignore"):
            if is_training:
                batch_mean = xf.mean(axis=axes)
                centered = xf - batch_mean.reshape(shape)
                batch_var = xp.square(centered).mean(axis=axes)
                count = x.size // max(scale.size, 1)
                corrected = batch_var * (count / max(count - 1, 1))
            else:
                batch_mean, batch_var = mean, variance
                centered = xf - mean.reshape(shape)
            inv = 1 / xp.sqrt(batch_var + epsilon)
            y = centered * (inv * scale).reshape(shape) + offset.reshape(shape)
        if not is_training:
            return (y.astype(x.dtype), mean.copy(), variance.copy(), mean.copy(),
                    variance.copy(), xp.zeros((), scale.dtype))
        factor = exponential_avg_factor
        if factor != 1.0:
            running_mean = (1 - factor) * mean + factor * batch_mean
            running_var = (1 - factor) * variance + factor * corrected
        else:
            running_mean, running_var = batch_mean, corrected
        return (y.astype(x.dtype), running_mean.astype(scale.dtype),
                running_var.astype(scale.dtype), batch_mean, batch_var,
                xp.zeros((), scale.dtype))

    def grad(op, dy, *unused):
        x, scale = op.inputs[0], op.inputs[1]
        is_training = op.get_attr("is_training")
        saved = op.outputs[3:5] if is_training else op.inputs[3:5]
        dx, dscale, doffset, _, _ = execute(
            "FusedBatchNormGradV3", dy, x, scale, saved[0], saved[1], op.outputs[5],
            epsilon=op.get_attr("epsilon"), data_format=op.get_attr("data_format"),
            is_training=is_training)
        return [dx, dscale, doffset, None, None]


@primitive("FusedBatchNormGradV3", dtypes=dtypes.FLOATS, same_dtype=(0, 1), num_outputs=5)
class FusedBatchNormGradV3:
    """(x_backprop, scale_backprop, offset_backprop, reserve_4, reserve_5) in one pass."""

    def infer(dy, x, scale, saved_mean, saved_var, reserve, epsilon=0.001, data_format="NHWC",
              is_training=True):
        channels = _check_bn("FusedBatchNormGradV3", x, scale, data_format,
                             [("reserve_space_1", saved_mean), ("reserve_space_2", saved_var)])
        vector = Spec((channels,), scale.dtype)
        empty = Spec((0,), scale.dtype)
        return Spec(x.shape, x.dtype), vector, vector, empty, empty

    def kernel(xp, dy, x, scale, saved_mean, saved_var, reserve, epsilon=0.001,
               data_format="NHWC", is_training=True):
        axes = _reduce_axes(data_format, x.ndim)
        shape = _per_channel_shape(data_format, x.ndim)
        g = _float_compute(xp, dy, scale)
        inv = 1 / xp.sqrt(saved_var + epsilon)
        xhat = (_float_compute(xp, x, scale) - saved_mean.reshape(shape)) * inv.reshape(shape)
        doffset = g.sum(axis=axes)
        dscale = (g * xhat).sum(axis=axes)
        if is_training:
            count = max(x.size // max(scale.size, 1), 1)
            centered = g - (doffset / count).reshape(shape) - xhat * (dscale / count).reshape(
                shape)
            dx = centered * (scale * inv).reshape(shape)
        else:
            dx = g * (scale * inv).reshape(shape)
        empty = xp.zeros((0,), scale.dtype)
        return dx.astype(x.dtype), dscale, doffset, empty, empty.copy()

    def grad(op, ddx, ddscale, ddoffset, *unused):
        return _batch_norm_grad_grad(op, ddx, ddscale, ddoffset)


def _batch_norm_grad_grad(op, a, b, c):
    """Gradient of (dx, dscale, doffset) with respect to (dy, x, scale), from the closed form
    of the batch-norm backward pass (written out: TF runs a tape here). a, b, c are the
    incoming gradients of dx, dscale and doffset."""
    dy, x, scale, saved_mean, saved_var = op.inputs[:5]
    data_format = op.get_attr("data_format")
    epsilon = op.get_attr("epsilon")
    rank = x.shape.rank
    if rank is None:
        rank = _FORMATS[data_format]
    axes = list(_reduce_axes(data_format, rank))
    shape = list(_per_channel_shape(data_format, rank))
    dtype = scale.dtype
    g, x_u, a = (array_ops.cast(t, dtype) for t in (dy, x, a))
    gamma = array_ops.reshape(scale, shape)
    b = array_ops.reshape(b, shape)
    c = array_ops.reshape(c, shape)

    def mean(t):
        return reduce_ops.reduce_mean(t, axes, keepdims=True)

    m, s, add, sub = math_ops.multiply, math_ops.subtract, math_ops.add, math_ops.subtract
    if op.get_attr("is_training"):
        # Mean and variance recomputed from x, so that the derivative flows through them.
        centered = sub(x_u, mean(x_u))
        r = math_ops.rsqrt(add(mean(math_ops.square(centered)), epsilon))
        xhat = m(centered, r)
        mean_a, mean_ax = mean(a), mean(m(a, xhat))
        mean_g, mean_gx = mean(g), mean(m(g, xhat))
        gamma_r = m(gamma, r)
        d_dy = add(add(m(gamma_r, s(s(a, mean_a), m(xhat, mean_ax))), m(b, xhat)), c)
        d_scale = reduce_ops.reduce_sum(m(m(a, r), s(s(g, mean_g), m(xhat, mean_gx))), axes)
        p = s(m(b, g), m(gamma_r, add(m(g, mean_ax), m(a, mean_gx))))
        q = m(gamma, s(s(mean(m(a, g)), m(mean_a, mean_g)), m(mean_gx, mean_ax)))
        d_x = s(m(r, s(s(p, mean(p)), m(xhat, mean(m(p, xhat))))),
                m(m(q, math_ops.square(r)), xhat))
    else:
        r = array_ops.reshape(math_ops.rsqrt(add(saved_var, epsilon)), shape)
        xhat = m(sub(x_u, array_ops.reshape(saved_mean, shape)), r)
        d_dy = add(add(m(m(gamma, r), a), m(b, xhat)), c)
        d_scale = reduce_ops.reduce_sum(m(m(a, r), g), axes)
        d_x = m(m(b, g), r)
    return [array_ops.cast(d_dy, dy.dtype), array_ops.cast(d_x, x.dtype), d_scale, None, None,
            None]


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Batch normalisation of a 4-D or 5-D `x` in one op (`tf.compat.v1.nn.fused_batch_norm`).

    Returns:
      (y, running_mean, running_var). In training the variance update uses Bessel's
      correction and is blended as (1 - f) * variance + f * batch_variance for
      `exponential_avg_factor` f; in inference `mean` and `variance` normalise x.

    Raises:
      ValueError: when `mean`/`variance` are missing outside plain training.
    """
    if (not is_training or exponential_avg_factor != 1.0) and (mean is None or variance is None):
        raise ValueError(
            f"Both `mean` and `variance` must be a 1D tensor when `is_training` is False or "
            f"`exponential_avg_factor` != 1.0. Received: `mean` {mean!r} and `variance` "
            f"{variance!r}")
    x = convert_to_tensor(x)
    scale = convert_to_tensor(scale, dtype_hint=dtypes.float32)
    empty = array_ops.zeros([0], scale.dtype)
    mean = empty if mean is None else mean
    variance = empty if variance is None else variance
    y, running_mean, running_var, _, _, _ = execute(
        "FusedBatchNormV3", x, scale, offset, mean, variance, epsilon=float(epsilon),
        exponential_avg_factor=float(exponential_avg_factor), data_format=data_format,
        is_training=bool(is_training), name=name)
    return y, running_mean, running_var


# --- l2_normalize and local response normalisation -------------------------------------------

def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon)) (`tf.math.l2_normalize`)."""
    axis = dim if axis is None else axis
    x = convert_to_tensor(x)
    if x.dtype.is_complex:
        square_sum = reduce_ops.reduce_sum(
            math_ops.add(math_ops.square(math_ops.real(x)), math_ops.square(math_ops.imag(x))),
            axis, keepdims=True)
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
        return math_ops.complex(math_ops.multiply(math_ops.real(x), inv_norm),
                                math_ops.multiply(math_ops.imag(x), inv_norm), name=name)
    square_sum = reduce_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
    inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
    return math_ops.multiply(x, inv_norm, name=name)


def _band(depth, radius, dtype):
    """The [depth, depth] 0/1 matrix with ones where |i - j| <= radius."""
    if isinstance(depth, int):
        import numpy as np  # noqa: PLC0415 - a constant built once per call, not a kernel

        index = np.arange(depth)
        band = np.abs(index[:, None] - index[None, :]) <= radius
        return array_ops.constant(band.astype(dtype.as_numpy_dtype))
    index = array_ops.range(depth)
    distance = math_ops.abs(math_ops.subtract(array_ops.reshape(index, [-1, 1]),
                                              array_ops.reshape(index, [1, -1])))
    return array_ops.cast(math_ops.less_equal(distance, radius), dtype)


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5, name=None):  # noqa: A002
    """x / (bias + alpha * sum of x^2 over the 2 * depth_radius + 1 nearest channels) ** beta,
    on a 4-D NHWC input (`tf.nn.local_response_normalization`, `tf.nn.lrn`).

    The channel window sum is one matmul with a band matrix, so the gradient (to any order)
    comes from matmul's.
    """
    x = convert_to_tensor(input)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise errors.InvalidArgumentError(
            f"LRN: input must be 4-dimensional, got shape {x.shape.as_list()}")
    if not x.dtype.is_floating:
        raise TypeError(f"LRN: input must be a floating point tensor, got {x.dtype.name}")
    dtype = x.dtype
    if dtype in _HALF:
        x = array_ops.cast(x, dtypes.float32)
    depth = x.shape[-1] if x.shape.rank is not None else None
    depth = depth if depth is not None else array_ops.shape(x)[-1]
    window_sum = linalg.matmul(math_ops.square(x), _band(depth, int(depth_radius), x.dtype))
    scale = math_ops.add(bias, math_ops.multiply(alpha, window_sum))
    result = math_ops.multiply(x, math_ops.pow(scale, -float(beta)))
    return array_ops.cast(result, dtype) if dtype in _HALF else result


lrn = local_response_normalization


# --- dropout ---------------------------------------------------------------------------------

def _noise_shape(x, noise_shape):
    """TF's `_get_noise_shape`: None entries of noise_shape take x's dimensions."""
    if noise_shape is None:
        return x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)
    if isinstance(noise_shape, Tensor):
        return noise_shape
    dims = list(noise_shape)
    if x.shape.rank is not None and len(dims) == x.shape.rank:
        dims = [x.shape[i] if d is None else d for i, d in enumerate(dims)]
    if any(d is None for d in dims):
        shape = array_ops.shape(x)
        return manip.stack([shape[i] if d is None else d for i, d in enumerate(dims)])
    return dims


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes each element with probability `rate` and scales the rest by 1 / (1 - rate)
    (`tf.nn.dropout`).

    The mask draws uniform numbers with `tf.random.uniform(noise_shape, seed=seed)` and keeps
    those >= rate, so seeds give TF's masks; `noise_shape` broadcasts against x (a 1 shares
    one draw along that axis). A Python `rate` of 0 returns x.

    Raises:
      ValueError: for a non-float x or a rate outside [0, 1).
    """
    is_number = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
    if is_number and not 0 <= rate < 1:
        raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). "
                         f"Received: rate={rate}")
    x = convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(f"`x.dtype` must be a floating point tensor as `x` will be scaled. "
                         f"Received: x_dtype={x.dtype!r}")
    if is_number and rate == 0:
        return x
    if is_number:
        scaled = math_ops.multiply(x, 1 / (1 - rate))
    else:
        rate = convert_to_tensor(rate, dtype_hint=x.dtype)
        if rate.shape.rank not in (None, 0):
            raise ValueError(f"`rate` must be a scalar or scalar tensor. Received: rate={rate}")
        rate = array_ops.cast(rate, x.dtype)
        scaled = math_ops.realdiv(x, math_ops.subtract(1, rate))
    uniform = random_ops.uniform(_noise_shape(x, noise_shape), seed=seed, dtype=x.dtype)
    keep = math_ops.greater_equal(uniform, rate)
    return indexing.where(keep, scaled, array_ops.zeros([], x.dtype), name=name)
