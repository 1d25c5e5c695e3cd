"""TF1 initializers (`tf.compat.v1.zeros_initializer()`, ...) for `get_variable`.

Each is a callable `init(shape, dtype=None, partition_info=None)` returning a tensor built with
ndflow ops, so it works eagerly and while building a TF1 graph.
"""

import math

from ndflow.framework import dtypes
from ndflow.ops import array as array_ops
from ndflow.ops import random as random_ops


class Initializer:
    """Base class: `__call__(shape, dtype)` and `get_config()`."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def get_config(self):
        return {}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.zeros(shape, dtype or self.dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.ones(shape, dtype or self.dtype)


class Constant(Initializer):
    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        super().__init__(dtype)
        self.value = value

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.constant(self.value, dtype=dtype or self.dtype, shape=shape)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.normal(shape, self.mean, self.stddev, dtype or self.dtype, self.seed)


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(shape, self.mean, self.stddev, dtype or self.dtype,
                                           self.seed)


class RandomUniform(Initializer):
    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtypes.as_dtype(dtype or self.dtype)
        maxval = self.maxval if self.maxval is not None else (1.0 if dtype.is_floating else None)
        return random_ops.uniform(shape, self.minval, maxval, dtype, self.seed)


class GlorotUniform(Initializer):
    """Uniform on [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)): get_variable's default
    for float variables, as in TF1."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.seed = seed

    def __call__(self, shape, dtype=None, partition_info=None):
        fan_in, fan_out = _fans(list(shape))
        limit = math.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return random_ops.uniform(shape, -limit, limit, dtype or self.dtype, self.seed)


class GlorotNormal(GlorotUniform):
    def __call__(self, shape, dtype=None, partition_info=None):
        fan_in, fan_out = _fans(list(shape))
        stddev = math.sqrt(2.0 / max(1.0, fan_in + fan_out)) / 0.87962566103423978
        return random_ops.truncated_normal(shape, 0.0, stddev, dtype or self.dtype, self.seed)


def _fans(shape):
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = 1
    for dim in shape[:-2]:
        receptive *= dim
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
