"""Pooling layers: Max/AveragePooling1D/2D/3D over windows (`ndflow.nn` pool ops, TF's SAME
arithmetic) and GlobalMax/GlobalAveragePooling1D/2D/3D over all spatial positions (the 1-D
average honours a timestep mask)."""

from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import array as array_ops
from ndflow.ops import manip
from ndflow.ops import pool as pool_ops
from ndflow.ops import reduce as reduce_ops

_POOL_FUNCTIONS = {
    "max": {1: "max_pool1d", 2: "max_pool2d", 3: "max_pool3d"},
    "average": {1: "avg_pool1d", 2: "avg_pool2d", 3: "avg_pool3d"},
}


class _Pooling(Layer):
    """Windowed pooling; `strides` defaults to `pool_size` (`keras.layers.MaxPooling2D`...)."""

    rank = None
    pool_mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = utils.standardize_tuple(pool_size, self.rank, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = utils.standardize_tuple(strides, self.rank, "strides")
        self.padding = utils.standardize_padding(padding)
        self.data_format = utils.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        function = getattr(pool_ops, _POOL_FUNCTIONS[self.pool_mode][self.rank])
        data_format = utils.tf_format(self.data_format, self.rank)
        window = (1, *self.pool_size, 1) if self.data_format == "channels_last" else (
            1, 1, *self.pool_size)
        strides = (1, *self.strides, 1) if self.data_format == "channels_last" else (
            1, 1, *self.strides)
        return function(inputs, window, strides, self.padding.upper(), data_format=data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        sizes = []
        for size, window, stride in zip(utils.spatial_dims(input_shape, self.data_format),
                                        self.pool_size, self.strides):
            length = utils.conv_output_length(size, window, self.padding, stride)
            if length is not None and length <= 0:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': computed output size would be "
                    f"negative, got input shape {utils.shape_text(input_shape)} with "
                    f"pool_size={self.pool_size}")
            sizes.append(length)
        channel_axis = -1 if self.data_format == "channels_last" else 1
        return utils.with_spatial(input_shape[0], tuple(sizes), input_shape[channel_axis],
                                  self.data_format)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                      data_format=self.data_format)
        return config


class MaxPooling1D(_Pooling):
    """Max over windows of `pool_size` steps (`keras.layers.MaxPooling1D`)."""

    rank, pool_mode = 1, "max"


class MaxPooling2D(_Pooling):
    """Max over `pool_size` windows (`keras.layers.MaxPooling2D`, default (2, 2))."""

    rank, pool_mode = 2, "max"


class MaxPooling3D(_Pooling):
    """Max over `pool_size` windows (`keras.layers.MaxPooling3D`, default (2, 2, 2))."""

    rank, pool_mode = 3, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows of `pool_size` steps (`keras.layers.AveragePooling1D`); SAME
    padding averages only real elements, as TF does."""

    rank, pool_mode = 1, "average"


class AveragePooling2D(_Pooling):
    """Mean over `pool_size` windows (`keras.layers.AveragePooling2D`)."""

    rank, pool_mode = 2, "average"


class AveragePooling3D(_Pooling):
    """Mean over `pool_size` windows (`keras.layers.AveragePooling3D`)."""

    rank, pool_mode = 3, "average"


class _GlobalPooling(Layer):
    """Reduces all spatial axes; `keepdims` keeps them as size 1."""

    rank = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = utils.standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return list(range(first, first + self.rank))

    def call(self, inputs):
        return self._reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if not self.keepdims:
            return (input_shape[0], channels)
        return utils.with_spatial(input_shape[0], (1,) * self.rank, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps (`keras.layers.GlobalAveragePooling1D`); with a mask, the mean of
    the unmasked steps only. The output carries no mask."""

    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return reduce_ops.reduce_mean(inputs, axis=self._axes(), keepdims=self.keepdims)
        steps = self._axes()[0]
        weights = array_ops.cast(manip.expand_dims(mask, 2 if steps == 1 else 1), inputs.dtype)
        total = reduce_ops.reduce_sum(inputs * weights, axis=steps, keepdims=self.keepdims)
        return total / reduce_ops.reduce_sum(weights, axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width (`keras.layers.GlobalAveragePooling2D`)."""

    rank = 2
    _reduce = staticmethod(reduce_ops.reduce_mean)


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes (`keras.layers.GlobalAveragePooling3D`)."""

    rank = 3
    _reduce = staticmethod(reduce_ops.reduce_mean)


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps (`keras.layers.GlobalMaxPooling1D`)."""

    rank = 1
    _reduce = staticmethod(reduce_ops.reduce_max)


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width (`keras.layers.GlobalMaxPooling2D`)."""

    rank = 2
    _reduce = staticmethod(reduce_ops.reduce_max)


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes (`keras.layers.GlobalMaxPooling3D`)."""

    rank = 3
    _reduce = staticmethod(reduce_ops.reduce_max)


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
