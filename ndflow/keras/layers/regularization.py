"""Regularization layers that act only in training (`training=True`, which fit passes):
SpatialDropout1D/2D/3D (whole feature maps dropped), GaussianNoise, GaussianDropout,
AlphaDropout; and ActivityRegularization, which adds an L1/L2 penalty on its input."""

import math

from ndflow.keras import regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.ops import nn as nn_ops
from ndflow.ops import random as random_ops

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_rate(rate, name="rate"):
    if not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value "
                         f"between 0 and 1. Received: {name}={rate}")
    return rate


class _NoiseLayer(Layer):
    """A layer that returns its input unchanged outside training."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _SpatialDropout(_NoiseLayer):
    """Drops whole channels: one draw per (sample, channel), shared across positions."""

    rank = None

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate)
        self.data_format = utils.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        ones = [1] * self.rank
        batch = utils.dim_value(inputs, 0)
        if self.data_format == "channels_last":
            noise_shape = [batch, *ones, utils.dim_value(inputs, self.rank + 1)]
        else:
            noise_shape = [batch, utils.dim_value(inputs, 1), *ones]
        return nn_ops.dropout(inputs, rate=self.rate, noise_shape=utils.stack_shape(noise_shape),
                              seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed, data_format=self.data_format)
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole 1-D feature maps (`keras.layers.SpatialDropout1D`)."""

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops whole 2-D feature maps (`keras.layers.SpatialDropout2D`)."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole 3-D feature maps (`keras.layers.SpatialDropout3D`)."""

    rank = 3


class GaussianNoise(_NoiseLayer):
    """Adds zero-mean Gaussian noise of `stddev` in training (`keras.layers.GaussianNoise`)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _check_rate(stddev, "stddev")

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        noise = random_ops.normal(array_ops.shape(inputs), stddev=self.stddev,
                                  dtype=inputs.dtype, seed=self.seed)
        return inputs + noise

    def get_config(self):
        config = super().get_config()
        config.update(stddev=self.stddev, seed=self.seed)
        return config


class GaussianDropout(_NoiseLayer):
    """Multiplies by Gaussian noise of mean 1 and variance rate / (1 - rate) in training
    (`keras.layers.GaussianDropout`)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate)

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        noise = random_ops.normal(array_ops.shape(inputs), mean=1.0,
                                  stddev=math.sqrt(self.rate / (1.0 - self.rate)),
                                  dtype=inputs.dtype, seed=self.seed)
        return inputs * noise

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps SELU's self-normalizing mean and variance: dropped units take SELU's
    negative saturation value, then an affine map restores the moments
    (`keras.layers.AlphaDropout`)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate)
        self.noise_shape = noise_shape

    def call(self, inputs, training=None):
        if not training or self.rate <= 0:
            return inputs
        shape = array_ops.shape(inputs)
        noise_shape = shape if self.noise_shape is None else utils.stack_shape([
            utils.dim_value(inputs, i) if d is None else d
            for i, d in enumerate(self.noise_shape)])
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        keep = random_ops.uniform(noise_shape, dtype=inputs.dtype, seed=self.seed)
        keep = array_ops.cast(math_ops.greater_equal(keep, self.rate), inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1 - keep)) + b

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class ActivityRegularization(Layer):
    """Returns its input and adds `l1 * sum(|x|) + l2 * sum(x^2)` to the layer's losses
    (`keras.layers.ActivityRegularization`)."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config
