"""Activation layers: ReLU (with Keras' slope, cap and threshold), LeakyReLU, PReLU (a
learned slope `alpha`), ELU and Softmax (masked positions get probability 0)."""

import warnings

from ndflow.framework import dtypes
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import array as array_ops
from ndflow.ops import indexing
from ndflow.ops import math as math_ops
from ndflow.ops import nn as nn_ops
from ndflow.ops import reduce as reduce_ops


class _Elementwise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """`relu` with Keras' options (`keras.layers.ReLU`): `negative_slope * (x - threshold)`
    below `threshold`, capped at `max_value`."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: "
                             f"{max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. "
                             f"Received: {negative_slope}")
        if threshold is None:
            raise ValueError(f"threshold of a ReLU layer cannot be None. Received: {threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config


class LeakyReLU(_Elementwise):
    """`x` for x >= 0 else `negative_slope * x` (`keras.layers.LeakyReLU`, default 0.3); the
    Keras 2 argument name `alpha` is accepted."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: negative_slope="
                             f"{negative_slope}")
        self.negative_slope = negative_slope

    def call(self, inputs):
        return nn_ops.leaky_relu(inputs, alpha=self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class PReLU(_Elementwise):
    """Leaky ReLU with a learned slope per element, shared over `shared_axes`
    (`keras.layers.PReLU`): `relu(x) - alpha * relu(-x)`."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = None if shared_axes is None else list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"PReLU '{self.name}' expects defined dimensions except on shared "
                             f"axes {self.shared_axes}, got input shape "
                             f"{utils.shape_text(input_shape)}")
        self.alpha = self.add_weight(name="alpha", shape=tuple(shape),
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {i: input_shape[i] for i in range(1, len(input_shape))
                if i not in (self.shared_axes or ())}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        alpha = utils.cast_like(self.alpha, inputs)
        return nn_ops.relu(inputs) - alpha * nn_ops.relu(-inputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            alpha_initializer=initializers.serialize(self.alpha_initializer),
            alpha_regularizer=utils.serialize_or_none(regularizers.serialize,
                                                      self.alpha_regularizer),
            alpha_constraint=utils.serialize_or_none(constraints.serialize,
                                                     self.alpha_constraint),
            shared_axes=self.shared_axes)
        return config


class ELU(_Elementwise):
    """`x` for x > 0 else `alpha * (exp(x) - 1)` (`keras.layers.ELU`)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


def _large_negative(dtype):
    return -3e4 if dtype in (dtypes.float16, dtypes.bfloat16) else -1e9


class Softmax(_Elementwise):
    """Softmax over `axis` (`keras.layers.Softmax`); with a mask (True or > 0.5 keeps), masked
    positions are left out and get probability 0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs, mask=None):
        if mask is not None:
            self._check_mask(inputs, mask)
            if mask.dtype is not dtypes.bool:
                mask = math_ops.greater(mask, array_ops.cast(0.5, mask.dtype))
            inputs = indexing.where(mask, inputs, _large_negative(inputs.dtype))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            outputs = math_ops.exp(inputs - reduce_ops.reduce_logsumexp(
                inputs, axis=self.axis, keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, list) else self.axis
            outputs = nn_ops.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = indexing.where(mask, outputs, array_ops.zeros_like(outputs))
        return outputs

    def _check_mask(self, inputs, mask):
        mask_shape = mask.shape.as_list()
        input_shape = inputs.shape.as_list()
        compatible = len(mask_shape) <= len(input_shape) and all(
            m is None or i is None or m in (1, i)
            for m, i in zip(mask_shape[::-1], input_shape[::-1]))
        if not compatible:
            raise ValueError(f"Softmax '{self.name}' expects a mask broadcastable to the inputs, "
                             f"got mask shape {utils.shape_text(mask_shape)} and input shape "
                             f"{utils.shape_text(input_shape)}")

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
