"""Image preprocessing layers: Rescaling, Resizing, CenterCrop and the random augmentations
(RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomCrop).

Inputs are channels-last images, batched `(batch, height, width, channels)` or single
`(height, width, channels)`. The random layers change their inputs only when called with
`training=True` (fit passes it); their seeds follow ndflow's op-seed rules, so a seeded layer
draws the same sequence of transformations in a fresh program. Rotation, zoom and translation
resample with an affine map like TF's ImageProjectiveTransformV3 (bilinear or nearest, fill
modes reflect/wrap/constant/nearest), computed in NumPy through `numpy_function`: these layers
are not differentiable, as in Keras.
"""

import math

import numpy as np

from ndflow.keras.engine.base_layer import Layer
from ndflow.ops import array as array_ops
from ndflow.ops import image as image_ops
from ndflow.ops import indexing, manip, script
from ndflow.ops import math as math_ops
from ndflow.ops import random as random_ops
from ndflow.ops import reduce as reduce_ops


def _batched(images):
    """(images with a batch axis, whether one was added)."""
    if images.shape.rank == 3:
        return manip.expand_dims(images, 0), True
    return images, False


def _unbatched(images, added):
    return manip.squeeze(images, [0]) if added else images


def _float(layer, images):
    return images if images.dtype is layer.compute_dtype else array_ops.cast(
        images, layer.compute_dtype)


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset` (`keras.layers.Rescaling`)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        inputs = _float(self, inputs)
        return inputs * array_ops.cast(self.scale, inputs.dtype) + array_ops.cast(
            self.offset, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset)
        return config


def _center_crop_box(height, width, target_height, target_width):
    """Largest centred box of the target aspect ratio inside (height, width)."""
    crop_height = min(height, round(width * target_height / target_width))
    crop_width = min(width, round(height * target_width / target_height))
    return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width


class Resizing(Layer):
    """Resizes images to `(height, width)` (`keras.layers.Resizing`).

    Args:
      height, width: output size.
      interpolation: "bilinear" (default), "nearest", "bicubic", "area", "lanczos3", ...
      crop_to_aspect_ratio: crop the centre to the target aspect ratio before resizing.
      pad_to_aspect_ratio: pad (with `fill_value`) to the target aspect ratio instead.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        images, added = _batched(_float(self, inputs))
        height, width = images.shape[1], images.shape[2]
        if self.crop_to_aspect_ratio and height is not None and width is not None:
            top, left, crop_h, crop_w = _center_crop_box(height, width, self.height, self.width)
            images = images[:, top:top + crop_h, left:left + crop_w, :]
        elif self.pad_to_aspect_ratio and height is not None and width is not None:
            pad_h = max(height, round(width * self.height / self.width)) - height
            pad_w = max(width, round(height * self.width / self.height)) - width
            images = manip.pad(images, [[0, 0], [pad_h // 2, pad_h - pad_h // 2],
                                        [pad_w // 2, pad_w - pad_w // 2], [0, 0]],
                               constant_values=self.fill_value)
        resized = image_ops.resize(images, [self.height, self.width],
                                   method=self.interpolation)
        return _unbatched(_float(self, resized), added)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width, shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                      pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                      fill_value=self.fill_value, data_format=self.data_format)
        return config


def _center_crop(layer, images, height, width):
    """Centre crop to (height, width); an image smaller than that is first resized
    (cropping to the aspect ratio), as Keras' CenterCrop does."""
    in_h, in_w = images.shape[1], images.shape[2]
    if in_h is None or in_w is None:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' needs static image sizes, got "
                         f"input shape {tuple(images.shape.as_list())}")
    if in_h < height or in_w < width:
        top, left, crop_h, crop_w = _center_crop_box(in_h, in_w, height, width)
        images = images[:, top:top + crop_h, left:left + crop_w, :]
        return _float(layer, image_ops.resize(images, [height, width]))
    top, left = (in_h - height) // 2, (in_w - width) // 2
    return images[:, top:top + height, left:left + width, :]


class CenterCrop(Layer):
    """Crops the centre `(height, width)` of images (`keras.layers.CenterCrop`)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        images, added = _batched(_float(self, inputs))
        return _unbatched(_center_crop(self, images, self.height, self.width), added)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width, shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, data_format=self.data_format)
        return config


class _RandomLayer(Layer):
    """Base of the random augmentations: identity unless `training` is truthy."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.supports_masking = False

    def call(self, inputs, training=True):
        inputs = _float(self, inputs)
        if not training:
            return self._inference(inputs)
        images, added = _batched(inputs)
        return _unbatched(self._augment(images), added)

    def _inference(self, inputs):
        return inputs

    def _uniform(self, shape, low, high):
        return random_ops.uniform(shape, minval=low, maxval=high, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(_RandomLayer):
    """Flips each image horizontally and/or vertically with probability 1/2."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in _FLIP_MODES:
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument "
                             f"{mode}")
        self.mode = mode

    def _augment(self, images):
        batch = array_ops.shape(images)[0]
        for axis, kind in ((2, "horizontal"), (1, "vertical")):
            if kind in self.mode:
                flip = self._uniform(manip.stack([batch]), 0.0, 1.0) < 0.5
                flip = array_ops.reshape(flip, [-1, 1, 1, 1])
                images = indexing.where(flip, manip.reverse(images, [axis]), images)
        return images

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


def _factor_range(factor, name, symmetric=True):
    if isinstance(factor, (tuple, list)):
        lower, upper = factor
    else:
        lower, upper = (-factor, factor) if symmetric else (0, factor)
    if lower > upper:
        raise ValueError(f"{name}: `factor` lower bound must be at most the upper bound, got "
                         f"factor={factor}")
    return float(lower), float(upper)


def _reflect(coords, size):
    """TF's half-sample symmetric reflection of coordinates into [0, size - 1]."""
    if size <= 1:
        return np.zeros_like(coords)
    period = 2 * size
    coords = np.mod(coords + 0.5, period) - 0.5
    return np.clip(np.where(coords > size - 1, period - 1 - coords, coords), 0, size - 1)


def _map_coords(coords, size, fill_mode):
    if fill_mode == "reflect":
        return _reflect(coords, size)
    if fill_mode == "wrap":
        return np.clip(np.mod(coords, size) if size > 0 else coords, 0, size - 1)
    if fill_mode == "nearest":
        return np.clip(coords, 0, size - 1)
    return coords


def _sample(images, rows, cols, fill_mode, fill_value):
    """images[b, rows, cols, :] with integer coordinates; outside gives fill_value (constant)."""
    batch, height, width, _ = images.shape
    inside = (rows >= 0) & (rows <= height - 1) & (cols >= 0) & (cols <= width - 1)
    r = np.clip(rows, 0, height - 1).astype(np.intp)
    c = np.clip(cols, 0, width - 1).astype(np.intp)
    values = images[np.arange(batch)[:, None, None], r, c]
    if fill_mode == "constant":
        values = np.where(inside[..., None], values, np.asarray(fill_value, images.dtype))
    return values


def _affine_transform(images, transforms, interpolation, fill_mode, fill_value):
    """NumPy ImageProjectiveTransformV3: output pixel (y, x) reads input at the mapped point."""
    _, height, width, _ = images.shape
    y, x = np.meshgrid(np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32),
                       indexing="ij")
    t = transforms.astype(np.float32)[:, :, None, None]
    k = t[:, 6] * x + t[:, 7] * y + 1
    in_x = _map_coords((t[:, 0] * x + t[:, 1] * y + t[:, 2]) / k, width, fill_mode)
    in_y = _map_coords((t[:, 3] * x + t[:, 4] * y + t[:, 5]) / k, height, fill_mode)
    if interpolation == "nearest":
        return _sample(images, np.round(in_y), np.round(in_x), fill_mode, fill_value)
    y0, x0 = np.floor(in_y), np.floor(in_x)
    wy, wx = (in_y - y0)[..., None], (in_x - x0)[..., None]
    top = (1 - wx) * _sample(images, y0, x0, fill_mode, fill_value) + wx * _sample(
        images, y0, x0 + 1, fill_mode, fill_value)
    bottom = (1 - wx) * _sample(images, y0 + 1, x0, fill_mode, fill_value) + wx * _sample(
        images, y0 + 1, x0 + 1, fill_mode, fill_value)
    return ((1 - wy) * top + wy * bottom).astype(images.dtype)


class _AffineLayer(_RandomLayer):
    """Random affine augmentations resampled with `_affine_transform`."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(seed=seed, **kwargs)
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise ValueError(f"Unknown `fill_mode` {fill_mode}. Expected of one "
                             f"('reflect', 'wrap', 'constant', 'nearest').")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Unknown `interpolation` {interpolation}. Expected of one "
                             f"('bilinear', 'nearest').")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _augment(self, images):
        transforms = self._transforms(images)

        def apply(array, matrix):
            return _affine_transform(array, matrix, self.interpolation, self.fill_mode,
                                     self.fill_value)

        result = script.numpy_function(apply, [images, transforms], images.dtype,
                                       stateful=False)
        return array_ops.reshape(result, array_ops.shape(images)) if (
            images.shape.rank is None) else _with_shape(result, images)

    def _sizes(self, images):
        shape = array_ops.shape(images)
        return (shape[0], array_ops.cast(shape[1], "float32"),
                array_ops.cast(shape[2], "float32"))

    def get_config(self):
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, interpolation=self.interpolation,
                      fill_value=self.fill_value)
        return config


def _with_shape(result, like):
    """`result` reshaped so that it carries the static shape of `like`."""
    dims = like.shape.as_list()
    if None not in dims[1:]:
        return array_ops.reshape(result, [-1] + dims[1:])
    return array_ops.reshape(result, array_ops.shape(like))


def _transform_rows(*columns):
    """(batch, 8) transforms from eight (batch,) columns."""
    return manip.stack(list(columns), axis=1)


class RandomRotation(_AffineLayer):
    """Rotates images by a random angle of `factor * 2pi` (a float or a (lower, upper) pair)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.factor = factor
        self.value_range = value_range
        self._range = _factor_range(factor, "RandomRotation")

    def _transforms(self, images):
        batch, height, width = self._sizes(images)
        lower, upper = self._range
        angles = self._uniform(manip.stack([batch]), lower * 2 * math.pi, upper * 2 * math.pi)
        cos, sin = math_ops.cos(angles), math_ops.sin(angles)
        x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
        y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
        zeros = array_ops.zeros_like(angles)
        return _transform_rows(cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros)

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, value_range=list(self.value_range))
        return config


class RandomZoom(_AffineLayer):
    """Zooms images by a random factor: `height_factor` in (lower, upper), negative values zoom
    in; `width_factor` defaults to the same zoom as the height (aspect kept)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = _factor_range(height_factor, "RandomZoom")
        self._width_range = None if width_factor is None else _factor_range(width_factor,
                                                                            "RandomZoom")

    def _transforms(self, images):
        batch, height, width = self._sizes(images)
        size = manip.stack([batch])
        lower, upper = self._height_range
        zoom_y = 1.0 + self._uniform(size, lower, upper)
        zoom_x = zoom_y if self._width_range is None else 1.0 + self._uniform(
            size, *self._width_range)
        zeros = array_ops.zeros_like(zoom_y)
        return _transform_rows(zoom_x, zeros, (width - 1) / 2.0 * (1.0 - zoom_x), zeros, zoom_y,
                               (height - 1) / 2.0 * (1.0 - zoom_y), zeros, zeros)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomTranslation(_AffineLayer):
    """Shifts images by random fractions of their height and width."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = _factor_range(height_factor, "RandomTranslation")
        self._width_range = _factor_range(width_factor, "RandomTranslation")

    def _transforms(self, images):
        batch, height, width = self._sizes(images)
        size = manip.stack([batch])
        dy = self._uniform(size, *self._height_range) * height
        dx = self._uniform(size, *self._width_range) * width
        ones, zeros = array_ops.ones_like(dx), array_ops.zeros_like(dx)
        return _transform_rows(ones, zeros, -dx, zeros, ones, -dy, zeros, zeros)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomContrast(_RandomLayer):
    """Scales each image's contrast by a random factor in [1 - lower, 1 + upper] around its
    per-channel mean, then clips to `value_range`."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        lower, upper = factor if isinstance(factor, (tuple, list)) else (factor, factor)
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"RandomContrast: `factor` must be in [0, 1] (a float or a pair), "
                             f"got factor={factor}")
        self.factor = factor
        self.value_range = tuple(value_range)
        self._range = (1.0 - lower, 1.0 + upper)

    def _augment(self, images):
        batch = array_ops.shape(images)[0]
        factors = array_ops.reshape(self._uniform(manip.stack([batch]), *self._range),
                                    [-1, 1, 1, 1])
        mean = reduce_ops.reduce_mean(images, axis=[1, 2], keepdims=True)
        adjusted = (images - mean) * array_ops.cast(factors, images.dtype) + mean
        return math_ops.clip_by_value(adjusted, float(self.value_range[0]),
                                      float(self.value_range[1]))

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, value_range=list(self.value_range))
        return config


class RandomCrop(_RandomLayer):
    """Crops a random `(height, width)` window (one per batch) in training; at inference it
    crops the centre (resizing first when the images are smaller)."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height = height
        self.width = width

    def _inference(self, inputs):
        images, added = _batched(inputs)
        return _unbatched(_center_crop(self, images, self.height, self.width), added)

    def _augment(self, images):
        in_h, in_w = images.shape[1], images.shape[2]
        if in_h is None or in_w is None or in_h < self.height or in_w < self.width:
            return _center_crop(self, images, self.height, self.width)
        top = random_ops.uniform([], 0, in_h - self.height + 1, dtype="int32", seed=self.seed)
        left = random_ops.uniform([], 0, in_w - self.width + 1, dtype="int32", seed=self.seed)
        return images[:, top:top + self.height, left:left + self.width, :]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width, shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config
