"""Convolution layers: Conv1D/2D/3D (grouped, dilated, causal), their transposes, depthwise and
separable convolutions. Weights are Keras 3's: `kernel` laid out `(*kernel_size, in / groups,
filters)` (transposes: `(*kernel_size, filters, in)`), `bias`; separable layers hold
`depthwise_kernel`, `pointwise_kernel`, `bias`. The arithmetic is `ndflow.nn`'s conv ops."""

from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import conv as conv_ops
from ndflow.ops import manip
from ndflow.ops import nn as nn_ops


class _BaseConv(Layer):
    """What every convolution layer shares: argument checks, bias + activation, config."""

    rank = None
    _kernel_prefix = "kernel"

    def _init_common(self, kernel_size, strides, padding, data_format, dilation_rate,
                     activation, use_bias, bias_initializer, bias_regularizer, bias_constraint,
                     allow_causal=False):
        self.kernel_size = utils.standardize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = utils.standardize_tuple(strides, self.rank, "strides")
        self.dilation_rate = utils.standardize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = utils.standardize_padding(padding, allow_causal=allow_causal)
        self.data_format = utils.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > "
                             f"1`. Received: strides={self.strides} and dilation_rate="
                             f"{self.dilation_rate}")

    def _check_filters(self, filters, groups=1):
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        if groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: "
                             f"groups={groups}.")
        if filters % groups != 0:
            raise ValueError(f"The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={filters}.")

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape):
        channels = tuple(input_shape)[self._channel_axis()]
        if channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects a defined channel "
                             f"dimension, got input shape {utils.shape_text(input_shape)}")
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})
        return channels

    def _add_bias(self, size):
        if not self.use_bias:
            return None
        return self.add_weight(name="bias", shape=(size,), initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)

    def _finish(self, outputs):
        if self.bias is not None:
            outputs = nn_ops.bias_add(outputs, utils.read_like(self.bias, outputs),
                                      data_format=self._tf_format())
        return self.activation(outputs)

    def _tf_format(self):
        return utils.tf_format(self.data_format, self.rank)

    def _output_spatial(self, input_shape):
        sizes = utils.spatial_dims(input_shape, self.data_format)
        padding = "valid" if self.padding == "causal" else self.padding
        result = []
        for size, window, stride, dilation in zip(sizes, self.kernel_size, self.strides,
                                                  self.dilation_rate):
            if self.padding == "causal" and size is not None:
                size = size + dilation * (window - 1)
            length = utils.conv_output_length(size, window, padding, stride, dilation)
            if length is not None and length <= 0:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': computed output size would be "
                    f"negative, got input shape {utils.shape_text(input_shape)} with "
                    f"kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate}")
            result.append(length)
        return tuple(result)

    def _common_config(self):
        config = super().get_config()
        config.update(
            kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            data_format=self.data_format, dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation), use_bias=self.use_bias,
            bias_initializer=initializers.serialize(self.bias_initializer),
            bias_regularizer=utils.serialize_or_none(regularizers.serialize,
                                                     self.bias_regularizer),
            activity_regularizer=utils.serialize_or_none(regularizers.serialize,
                                                         self.activity_regularizer),
            bias_constraint=utils.serialize_or_none(constraints.serialize,
                                                    self.bias_constraint))
        return config

    def _weight_config(self, prefix):
        init = getattr(self, f"{prefix}_initializer")
        reg = getattr(self, f"{prefix}_regularizer")
        con = getattr(self, f"{prefix}_constraint")
        return {f"{prefix}_initializer": initializers.serialize(init),
                f"{prefix}_regularizer": utils.serialize_or_none(regularizers.serialize, reg),
                f"{prefix}_constraint": utils.serialize_or_none(constraints.serialize, con)}

    def _set_weight_args(self, prefix, initializer, regularizer, constraint):
        setattr(self, f"{prefix}_initializer", initializers.get(initializer))
        setattr(self, f"{prefix}_regularizer", regularizers.get(regularizer))
        setattr(self, f"{prefix}_constraint", constraints.get(constraint))

    def _new_weight(self, prefix, name, shape):
        return self.add_weight(name=name, shape=shape,
                               initializer=getattr(self, f"{prefix}_initializer"),
                               regularizer=getattr(self, f"{prefix}_regularizer"),
                               constraint=getattr(self, f"{prefix}_constraint"))


class _Conv(_BaseConv):
    """N-d convolution (`keras.layers.ConvND`), optionally grouped."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        _refuse_lora(kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._check_filters(filters, groups)
        self.filters = filters
        self.groups = groups
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          bias_constraint, allow_causal=self.rank == 1)
        self._set_weight_args("kernel", kernel_initializer, kernel_regularizer,
                              kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups != 0:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the number of input channels must be "
                f"evenly divisible by the number of groups, got groups={self.groups} and input "
                f"shape {utils.shape_text(input_shape)}")
        self._output_spatial(input_shape)
        self.kernel = self._new_weight("kernel", "kernel",
                                       self.kernel_size + (channels // self.groups, self.filters))
        self.bias = self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [[0, 0], [left, 0], [0, 0]] if self.data_format == "channels_last" else (
                [[0, 0], [0, 0], [left, 0]])
            inputs = manip.pad(inputs, pads)
            padding = "valid"
        outputs = conv_ops.convolution(inputs, utils.read_like(self.kernel, inputs),
                                       strides=self.strides, padding=padding.upper(),
                                       data_format=self._tf_format(),
                                       dilations=self.dilation_rate)
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        return utils.with_spatial(input_shape[0], self._output_spatial(input_shape),
                                  self.filters, self.data_format)

    def get_config(self):
        config = self._common_config()
        config.update(filters=self.filters, groups=self.groups, **self._weight_config("kernel"))
        return config


class Conv1D(_Conv):
    """1-D convolution (`keras.layers.Conv1D`); `padding="causal"` pads on the left only."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution (`keras.layers.Conv2D`)."""

    rank = 2


class Conv3D(_Conv):
    """3-D convolution (`keras.layers.Conv3D`)."""

    rank = 3


def _refuse_lora(kwargs):
    for key in ("lora_rank", "lora_alpha"):
        if kwargs.pop(key, None) is not None:
            raise ValueError(f"`{key}` (LoRA) is not supported by ndflow's convolution layers; "
                             f"leave it None")


def transpose_length(size, window, padding, stride, dilation, output_padding):
    """Keras' transposed-convolution output length; `size` may be an int or a scalar tensor."""
    window = (window - 1) * dilation + 1
    if padding == "valid":
        extra = max(window, stride) - window if output_padding is None else output_padding
        return (size - 1) * stride + window + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + window % 2 + output_padding


class _ConvTranspose(_BaseConv):
    """N-d transposed convolution (`keras.layers.ConvNDTranspose`)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._check_filters(filters)
        self.filters = filters
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          bias_constraint)
        self.output_padding = None if output_padding is None else utils.standardize_tuple(
            output_padding, self.rank, "output_padding", allow_zero=True)
        for index, (pad, stride) in enumerate(zip(self.output_padding or (), self.strides)):
            if pad >= stride:
                raise ValueError(f"`output_padding` must be strictly less than `strides` for all "
                                 f"dimensions. At dimension {index}, `output_padding` is {pad} "
                                 f"but `strides` is {stride}. Received: output_padding="
                                 f"{self.output_padding}, strides={self.strides}")
        self._set_weight_args("kernel", kernel_initializer, kernel_regularizer,
                              kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self._new_weight("kernel", "kernel",
                                       self.kernel_size + (self.filters, channels))
        self.bias = self._add_bias(self.filters)
        self.built = True

    def _lengths(self, sizes):
        pads = self.output_padding or (None,) * self.rank
        return tuple(None if size is None else transpose_length(size, k, self.padding, s, d, p)
                     for size, k, s, d, p in zip(sizes, self.kernel_size, self.strides,
                                                 self.dilation_rate, pads))

    def call(self, inputs):
        spatial_axes = range(1, self.rank + 1) if self.data_format == "channels_last" else (
            range(2, self.rank + 2))
        sizes = self._lengths([utils.dim_value(inputs, axis) for axis in spatial_axes])
        shape = utils.with_spatial(utils.dim_value(inputs, 0), sizes, self.filters,
                                   self.data_format)
        outputs = conv_ops.conv_transpose(
            inputs, utils.cast_like(self.kernel, inputs), utils.stack_shape(shape),
            strides=self.strides, padding=self.padding.upper(), data_format=self._tf_format(),
            dilations=self.dilation_rate)
        outputs = utils.refine_shape(outputs, self.compute_output_shape(inputs.shape.as_list()))
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        sizes = self._lengths(utils.spatial_dims(input_shape, self.data_format))
        return utils.with_spatial(input_shape[0], sizes, self.filters, self.data_format)

    def get_config(self):
        config = self._common_config()
        config.update(filters=self.filters, output_padding=self.output_padding,
                      **self._weight_config("kernel"))
        return config


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution (`keras.layers.Conv1DTranspose`)."""

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution (`keras.layers.Conv2DTranspose`)."""

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """3-D transposed convolution (`keras.layers.Conv3DTranspose`)."""

    rank = 3


def _depthwise(inputs, kernel, strides, padding, data_format, dilations, rank):
    """`tf.nn.depthwise_conv2d`, with a unit height inserted for the 1-D layers."""
    channels_last = data_format == "channels_last"
    tf_format = "NHWC" if channels_last else "NCHW"
    if rank == 2:
        stride4 = (1, *strides, 1) if channels_last else (1, 1, *strides)
        return conv_ops.depthwise_conv2d(inputs, kernel, stride4, padding.upper(), tf_format,
                                         dilations)
    axis = 1 if channels_last else 2
    stride4 = (1, strides[0], strides[0], 1) if channels_last else (1, 1, strides[0], strides[0])
    outputs = conv_ops.depthwise_conv2d(manip.expand_dims(inputs, axis),
                                        manip.expand_dims(kernel, 0), stride4, padding.upper(),
                                        tf_format, (1, dilations[0]))
    return manip.squeeze(outputs, [axis])


class _DepthwiseConv(_BaseConv):
    """Depthwise convolution (`keras.layers.DepthwiseConvND`): each input channel convolved
    with its own `depth_multiplier` filters; weight `kernel` `(*kernel_size, in, multiplier)`."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
            raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a "
                             f"strictly positive value. Received depth_multiplier="
                             f"{depth_multiplier}.")
        self.depth_multiplier = depth_multiplier
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          bias_constraint)
        self._set_weight_args("depthwise", depthwise_initializer, depthwise_regularizer,
                              depthwise_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._output_spatial(input_shape)
        self.kernel = self._new_weight("depthwise", "kernel",
                                       self.kernel_size + (channels, self.depth_multiplier))
        self.bias = self._add_bias(channels * self.depth_multiplier)
        self.built = True

    def call(self, inputs):
        outputs = _depthwise(inputs, utils.cast_like(self.kernel, inputs), self.strides,
                             self.padding, self.data_format, self.dilation_rate, self.rank)
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        channels = tuple(input_shape)[self._channel_axis()]
        out = None if channels is None else channels * self.depth_multiplier
        return utils.with_spatial(input_shape[0], self._output_spatial(input_shape),
                                  out, self.data_format)

    def get_config(self):
        config = self._common_config()
        config.update(depth_multiplier=self.depth_multiplier, **self._weight_config("depthwise"))
        return config


class DepthwiseConv1D(_DepthwiseConv):
    """1-D depthwise convolution (`keras.layers.DepthwiseConv1D`)."""

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """2-D depthwise convolution (`keras.layers.DepthwiseConv2D`)."""

    rank = 2


class _SeparableConv(_BaseConv):
    """A depthwise convolution followed by a pointwise (1x1) one
    (`keras.layers.SeparableConvND`)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._check_filters(filters)
        if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
            raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a "
                             f"strictly positive value. Received depth_multiplier="
                             f"{depth_multiplier}.")
        self.filters = filters
        self.depth_multiplier = depth_multiplier
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          bias_constraint)
        self._set_weight_args("depthwise", depthwise_initializer, depthwise_regularizer,
                              depthwise_constraint)
        self._set_weight_args("pointwise", pointwise_initializer, pointwise_regularizer,
                              pointwise_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._output_spatial(input_shape)
        self.depthwise_kernel = self._new_weight(
            "depthwise", "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier))
        self.pointwise_kernel = self._new_weight(
            "pointwise", "pointwise_kernel",
            (1,) * self.rank + (channels * self.depth_multiplier, self.filters))
        self.bias = self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        depthwise = _depthwise(inputs, utils.cast_like(self.depthwise_kernel, inputs),
                               self.strides, self.padding, self.data_format,
                               self.dilation_rate, self.rank)
        outputs = conv_ops.convolution(depthwise, utils.cast_like(self.pointwise_kernel, inputs),
                                       padding="VALID", data_format=self._tf_format())
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        return utils.with_spatial(input_shape[0], self._output_spatial(input_shape),
                                  self.filters, self.data_format)

    def get_config(self):
        config = self._common_config()
        config.update(filters=self.filters, depth_multiplier=self.depth_multiplier,
                      **self._weight_config("depthwise"), **self._weight_config("pointwise"))
        return config


class SeparableConv1D(_SeparableConv):
    """1-D separable convolution (`keras.layers.SeparableConv1D`)."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """2-D separable convolution (`keras.layers.SeparableConv2D`)."""

    rank = 2


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
