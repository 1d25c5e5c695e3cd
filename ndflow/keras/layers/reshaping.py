"""Layers that move or resize data without weights: UpSampling1D/2D/3D (nearest repeats, or
`ndflow.image.resize` for bilinear and the other 2-D methods), ZeroPadding1D/2D/3D,
Cropping1D/2D/3D, Permute, RepeatVector, and Masking (which computes a timestep mask)."""

import numpy as np

from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import array as array_ops
from ndflow.ops import image as image_ops
from ndflow.ops import manip
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops


def _spatial_axes(rank, data_format):
    first = 1 if data_format == "channels_last" else 2
    return list(range(first, first + rank))


def _scaled(size, factor):
    return None if size is None else size * factor


class _UpSampling(Layer):
    """Repeats each spatial position `size` times along each spatial axis."""

    rank = None

    def __init__(self, size=2, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = utils.standardize_tuple(size, self.rank, "size")
        self.data_format = utils.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        # Repeat's shape inference gives up when any dim is unknown; Keras knows the shape.
        static = self.compute_output_shape(inputs.shape.as_list())
        for axis, factor in zip(_spatial_axes(self.rank, self.data_format), self.size):
            if factor != 1:
                inputs = manip.repeat(inputs, factor, axis=axis)
        return utils.refine_shape(inputs, static)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(_spatial_axes(self.rank, self.data_format), self.size):
            shape[axis] = _scaled(shape[axis], factor)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format)
        return config


class UpSampling1D(_UpSampling):
    """Repeats each step `size` times (`keras.layers.UpSampling1D`)."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size=size, **kwargs)
        self.size = self.size[0]

    def call(self, inputs):
        outputs = manip.repeat(inputs, self.size, axis=1)
        return utils.refine_shape(outputs, self.compute_output_shape(inputs.shape.as_list()))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _scaled(input_shape[1], self.size), input_shape[2])

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


_RESIZE_METHODS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by `size` (`keras.layers.UpSampling2D`): `"nearest"` repeats,
    the other interpolations resize with half-pixel centres as `tf.image.resize`."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size=size, data_format=data_format, **kwargs)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in _RESIZE_METHODS:
            raise ValueError(f"`interpolation` argument should be one of {list(_RESIZE_METHODS)}"
                             f". Received: interpolation={interpolation}")

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        if self.data_format == "channels_first":
            inputs = manip.transpose(inputs, [0, 2, 3, 1])
        height, width = inputs.shape.as_list()[1:3]
        if height is None or width is None:
            raise ValueError(f"UpSampling2D '{self.name}' with interpolation="
                             f"'{self.interpolation}' needs known height and width, got input "
                             f"shape {utils.shape_text(inputs.shape.as_list())}")
        size = [height * self.size[0], width * self.size[1]]
        outputs = image_ops.resize(inputs, size, method=self.interpolation)
        if outputs.dtype is not inputs.dtype:
            outputs = array_ops.cast(outputs, inputs.dtype)
        if self.data_format == "channels_first":
            outputs = manip.transpose(outputs, [0, 3, 1, 2])
        return outputs

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Repeats each voxel `size` times along each axis (`keras.layers.UpSampling3D`)."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size=size, data_format=data_format, **kwargs)


def _pairs(value, rank, name):
    """Keras' padding/cropping argument -> `rank` (before, after) pairs of ints >= 0."""
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((int(value), int(value)),) * rank
    if rank == 1:
        return (utils.standardize_tuple(value, 2, name, allow_zero=True),)
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"`{name}` should have {rank} elements. Received: {name}={value}.")
    ordinal = ["1st", "2nd", "3rd"]
    return tuple(utils.standardize_tuple(v, 2, f"{ordinal[i]} entry of {name}", allow_zero=True)
                 for i, v in enumerate(value))


class _ZeroPadding(Layer):
    """Pads the spatial axes with zeros."""

    rank = None

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = utils.standardize_data_format(data_format)
        self.padding = _pairs(padding, self.rank, "padding")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pads = [[0, 0]] * (self.rank + 2)
        for axis, pair in zip(_spatial_axes(self.rank, self.data_format), self.padding):
            pads[axis] = list(pair)
        return manip.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format),
                                         self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pads the steps axis with zeros (`keras.layers.ZeroPadding1D`)."""

    rank = 1

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros (`keras.layers.ZeroPadding2D`)."""

    rank = 2


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes with zeros (`keras.layers.ZeroPadding3D`)."""

    rank = 3


class _Cropping(Layer):
    """Removes (before, after) positions from each spatial axis."""

    rank = None

    def __init__(self, cropping=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = utils.standardize_data_format(data_format)
        self.cropping = _pairs(cropping, self.rank, "cropping")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        slices = [slice(None)] * (self.rank + 2)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format),
                                         self.cropping):
            slices[axis] = slice(before, -after if after else None)
        return inputs[tuple(slices)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, pair in zip(_spatial_axes(self.rank, self.data_format), self.cropping):
            if shape[axis] is not None and sum(pair) >= shape[axis]:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': `cropping` must be smaller than the "
                    f"spatial dimensions, got input shape {utils.shape_text(input_shape)} and "
                    f"cropping={self._config_cropping()}")
            shape[axis] = None if shape[axis] is None else shape[axis] - sum(pair)
        return tuple(shape)

    def _config_cropping(self):
        return self.cropping

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self._config_cropping(), data_format=self.data_format)
        return config


class Cropping1D(_Cropping):
    """Crops the steps axis (`keras.layers.Cropping1D`, default (1, 1))."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping=cropping, **kwargs)

    def _config_cropping(self):
        return self.cropping[0]

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(_Cropping):
    """Crops rows and columns (`keras.layers.Cropping2D`)."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping=cropping, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes (`keras.layers.Cropping3D`)."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping=cropping, data_format=data_format, **kwargs)


class Permute(Layer):
    """Permutes the non-batch axes; `dims` is 1-based (`keras.layers.Permute`)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of "
                             f"indices in `dims` must be consecutive and start from 1. Received "
                             f"dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return manip.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(tuple(input_shape)[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        outputs = manip.repeat(manip.expand_dims(inputs, 1), self.n, axis=1)
        return utils.refine_shape(outputs, self.compute_output_shape(inputs.shape.as_list()))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value` (`keras.layers.Masking`): the
    output is the input with those steps zeroed, carrying a `(batch, steps)` boolean mask."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return reduce_ops.reduce_any(math_ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = reduce_ops.reduce_any(math_ops.not_equal(inputs, self.mask_value), axis=-1,
                                     keepdims=True)
        return inputs * array_ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
