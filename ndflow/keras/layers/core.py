"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda, Identity."""

import math

import numpy as np

from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import array as array_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import nn as nn_ops


class Dense(Layer):
    """`activation(dot(inputs, kernel) + bias)` on the last axis (`keras.layers.Dense`)."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"Dense '{self.name}': the last dimension of the inputs must be "
                             f"defined, got input shape {tuple(input_shape)}")
        self.kernel = self.add_weight(name="kernel", shape=(last, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=(self.units,),
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.built = True

    def call(self, inputs):
        kernel = utils.read_like(self.kernel, inputs)
        rank = inputs.shape.rank
        if rank == 2:
            outputs = linalg_ops.matmul(inputs, kernel)
        else:
            outputs = linalg_ops.tensordot(inputs, kernel, [[rank - 1], [0]])
        if self.bias is not None:
            outputs = nn_ops.bias_add(outputs, utils.read_like(self.bias, inputs))
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=_maybe(regularizers.serialize, self.kernel_regularizer),
            bias_regularizer=_maybe(regularizers.serialize, self.bias_regularizer),
            kernel_constraint=_maybe(constraints.serialize, self.kernel_constraint),
            bias_constraint=_maybe(constraints.serialize, self.bias_constraint),
        )
        return config


def _with_batch(inputs, dims):
    """[batch size of inputs (known at run time), *dims] as an int32 shape tensor."""
    from ndflow.ops import manip  # noqa: PLC0415

    batch = array_ops.shape(inputs)[0]
    return manip.stack([batch] + [array_ops.constant(d, dtype="int32") for d in dims])


def _maybe(serialize, value):
    return None if value is None else serialize(value)


class Activation(Layer):
    """Applies an activation function (`keras.layers.Activation`)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Zeroes a `rate` fraction of inputs during training, scaling the rest by 1/(1-rate);
    does nothing unless `training=True` (fit passes it)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        return nn_ops.dropout(inputs, rate=self.rate, noise_shape=self._noise_shape(inputs),
                              seed=self.seed)

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        shape = array_ops.shape(inputs)
        return [shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class Flatten(Layer):
    """Flattens all but the batch dimension (`keras.layers.Flatten`)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.shape.rank > 2:
            perm = [0] + list(range(2, inputs.shape.rank)) + [1]
            from ndflow.ops import manip  # noqa: PLC0415

            inputs = manip.transpose(inputs, perm)
        dims = inputs.shape.as_list()[1:]
        if None not in dims:
            return array_ops.reshape(inputs, [-1, math.prod(dims)])
        return array_ops.reshape(inputs, _with_batch(inputs, (-1,)))

    def compute_output_shape(self, input_shape):
        dims = list(input_shape)[1:]
        size = None if None in dims else int(np.prod(dims)) if dims else 1
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the non-batch dimensions to `target_shape` (-1 allowed once)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        if -1 not in self.target_shape:
            return array_ops.reshape(inputs, [-1] + list(self.target_shape))
        return array_ops.reshape(inputs, _with_batch(inputs, self.target_shape))

    def compute_output_shape(self, input_shape):
        dims = list(self.target_shape)
        if -1 in dims:
            known = int(np.prod([d for d in dims if d != -1]))
            total = None if None in input_shape[1:] else int(np.prod(input_shape[1:]))
            dims[dims.index(-1)] = None if total is None else total // known
        return (input_shape[0],) + tuple(dims)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Lambda(Layer):
    """Wraps an arbitrary function as a layer (`keras.layers.Lambda`). Loading one from a file
    requires `safe_mode=False`, since it runs arbitrary code."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self._mask = mask
        self.supports_masking = mask is not None

    def call(self, inputs, mask=None, training=None):
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs, mask=None):
        if callable(self._mask):
            return self._mask(inputs, mask)
        return self._mask

    def get_config(self):
        config = super().get_config()
        config.update(function=getattr(self.function, "__name__", "lambda"),
                      arguments=self.arguments)
        return config


class Identity(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs


