"""Image ops (`tf.image`), NHWC: a 3-D image `[height, width, channels]` or a 4-D batch.

Resizing is the only family of primitives here. Every resize method is separable and linear, so
each kernel builds two small weight matrices (output x input, one per spatial axis) with TF's
exact sampling rules (`_resize.py`) and applies them with two matrix products; the gradient applies the
transposed matrices (TF's `Resize*Grad` ops), and the gradient of that is the resize again, so
resizing differentiates to any order. Everything else (crops, flips, colour, dtype conversion,
patches) is a composite of public ndflow ops.
"""

import math as _math

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.ops import _resize
from ndflow.ops import array as array_ops
from ndflow.ops import manip as manip_ops
from ndflow.ops import math as math_ops
from ndflow.ops import random as random_ops
from ndflow.ops import reduce as reduce_ops

_RESIZE_DTYPES = dtypes.REAL


class ResizeMethod:
    """The `method` names of `tf.image.resize`."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


# --- the resize primitives ------------------------------------------------------------------

def _apply(xp, rows, cols, images):
    """out[b, i, j, c] = sum_pq rows[i, p] cols[j, q] images[b, p, q, c], as two matmuls."""
    batch, height, width, channels = images.shape
    out = xp.matmul(rows, images.reshape(batch, height, width * channels))
    out = out.reshape(batch * rows.shape[0], width, channels)
    return xp.matmul(cols, out).reshape(batch, rows.shape[0], cols.shape[0], channels)


def _size_dims(op_name, size):
    if size.rank not in (None, 1) or size.shape is not None and size.shape[0] not in (None, 2):
        raise errors.InvalidArgumentError(
            f"{op_name}: size must be a 1-D int32 tensor of 2 elements, got shape "
            f"{list(size.shape)}")
    if size.value is None:
        return None, None
    height, width = (int(d) for d in size.value.reshape(-1))
    if height <= 0 or width <= 0:
        raise errors.InvalidArgumentError(
            f"{op_name}: output dimensions must be positive, got [{height}, {width}]")
    return height, width


def _resize_spec(op_name, images, size, dtype):
    _check_images(op_name, images)
    height, width = _size_dims(op_name, size)
    batch, channels = (None, None) if images.shape is None else (images.shape[0],
                                                                 images.shape[3])
    return Spec((batch, height, width, channels), dtype)


def _spatial_size(images):
    """[height, width] of a 4-D tensor as an int32 tensor (static when known)."""
    dims = images.shape.as_list() if images.shape.rank is not None else None
    if dims is not None and None not in dims[1:3]:
        return convert_to_tensor(dims[1:3], dtype=dtypes.int32)
    return array_ops.shape(images)[1:3]


def _kernel_size(size):
    """The output size in a kernel; a bad one raises so that `infer` reports it."""
    height, width = (int(d) for d in size.tolist())
    if height <= 0 or width <= 0:
        raise ValueError("output dimensions must be positive")
    return height, width


def _check_images(op_name, images):
    if images.rank not in (None, 4):
        raise errors.InvalidArgumentError(
            f"{op_name}: images must be 4-D [batch, height, width, channels], got shape "
            f"{list(images.shape)}")
    if images.dtype not in _RESIZE_DTYPES:
        raise errors.InvalidArgumentError(
            f"{op_name}: images must be a real tensor, got {images.dtype.name}")


def _extra_weights(weights, xp, in_size, out_size, extra, axis, attrs):
    """Weights for one axis; ScaleAndTranslate also passes its scale and translation."""
    if extra:
        scale, translation = extra
        return weights(xp, in_size, out_size, scale[axis], translation[axis], **attrs)
    return weights(xp, in_size, out_size, **attrs)


def _register_resize(name, weights, grad_name=None):
    """Registers resize op `name(images, size, *extra)` and its gradient `grad_name(grads,
    original_image, *extra)`, both applying the separable `weights`."""

    def infer(images, size, *extra, **attrs):
        return _resize_spec(name, images, size, dtypes.float32)

    def kernel(xp, images, size, *extra, **attrs):
        out_height, out_width = _kernel_size(size)
        rows = _extra_weights(weights, xp, images.shape[1], out_height, extra, 0, attrs)
        cols = _extra_weights(weights, xp, images.shape[2], out_width, extra, 1, attrs)
        return _apply(xp, rows, cols, images.astype(xp.float32))

    def grad(op, dy):
        extra = op.inputs[2:]
        dx = execute(grad_name, dy, op.inputs[0], *extra, **op.attrs)
        return [dx, None] + [None] * len(extra)

    def grad_infer(grads, original, *extra, **attrs):
        _check_images(grad_name, grads)
        _check_images(grad_name, original)
        return Spec(original.shape, original.dtype)

    def grad_kernel(xp, grads, original, *extra, **attrs):
        rows = _extra_weights(weights, xp, original.shape[1], grads.shape[1], extra, 0, attrs)
        cols = _extra_weights(weights, xp, original.shape[2], grads.shape[2], extra, 1, attrs)
        return _apply(xp, rows.T, cols.T, grads).astype(original.dtype)

    def grad_grad(op, ddx):
        extra = op.inputs[2:]
        size = _spatial_size(op.inputs[0])
        return [execute(name, ddx, size, *extra, **op.attrs), None] + [None] * len(extra)

    forward = {"infer": staticmethod(infer), "kernel": staticmethod(kernel)}
    if grad_name is not None:
        forward["grad"] = staticmethod(grad)
        primitive(grad_name, same_dtype=False)(type(grad_name, (), {
            "infer": staticmethod(grad_infer), "kernel": staticmethod(grad_kernel),
            "grad": staticmethod(grad_grad)}))
    primitive(name, same_dtype=False, input_dtypes={1: dtypes.int32})(type(name, (), forward))


_register_resize("ResizeBilinear", _resize.bilinear_weights, "ResizeBilinearGrad")
_register_resize("ResizeBicubic", _resize.bicubic_weights, "ResizeBicubicGrad")
_register_resize("ResizeArea", _resize.area_weights)
_register_resize("ScaleAndTranslate", _resize.scale_translate_weights, "ScaleAndTranslateGrad")


@primitive("ResizeNearestNeighbor", same_dtype=False, input_dtypes={1: dtypes.int32})
class ResizeNearestNeighbor:
    """Nearest-neighbour resizing keeps the dtype: a gather, not a matrix product."""

    def infer(images, size, *, align_corners, half_pixel_centers):
        return _resize_spec("ResizeNearestNeighbor", images, size, images.dtype)

    def kernel(xp, images, size, **attrs):
        out_height, out_width = _kernel_size(size)
        rows = _resize.nearest_index(xp, images.shape[1], out_height, **attrs)
        cols = _resize.nearest_index(xp, images.shape[2], out_width, **attrs)
        return images[:, rows][:, :, cols]

    def grad(op, dy):
        size = _spatial_size(op.inputs[0])
        return [execute("ResizeNearestNeighborGrad", dy, size, **op.attrs), None]


@primitive("ResizeNearestNeighborGrad", same_dtype=False, input_dtypes={1: dtypes.int32})
class ResizeNearestNeighborGrad:
    def infer(grads, size, *, align_corners, half_pixel_centers):
        return _resize_spec("ResizeNearestNeighborGrad", grads, size, grads.dtype)

    def kernel(xp, grads, size, **attrs):
        in_height, in_width = (int(d) for d in size.tolist())
        rows = _resize.nearest_weights(xp, in_height, grads.shape[1], **attrs)
        cols = _resize.nearest_weights(xp, in_width, grads.shape[2], **attrs)
        return _apply(xp, rows.T.astype(grads.dtype), cols.T.astype(grads.dtype), grads)

    def grad(op, ddx):
        size = _spatial_size(op.inputs[0])
        return [execute("ResizeNearestNeighbor", ddx, size, **op.attrs), None]


# --- public resizing ------------------------------------------------------------------------

_SCALE_AND_TRANSLATE = ("lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _as_batch(images, op_name):
    """(4-D images, whether the input was a single 3-D image); ValueError for other ranks."""
    images = convert_to_tensor(images)
    rank = images.shape.rank
    if rank == 3:
        return manip_ops.expand_dims(images, 0), True
    if rank != 4:
        raise ValueError(f"{op_name}: 'images' must have either 3 or 4 dimensions, got shape "
                         f"{images.shape}")
    return images, False


def _unbatch(images, single):
    return manip_ops.squeeze(images, axis=[0]) if single else images


def _static_int(value, what):
    """A Python int from an int or an eager scalar tensor."""
    if isinstance(value, Tensor):
        if not isinstance(value, EagerTensor):
            raise TypeError(f"{what} must be known when the graph is built")
        value = value.numpy()
    return int(value)


def _scale_and_translate(images, size, kernel_type, antialias):
    import numpy as np  # noqa: PLC0415 - host-side arithmetic on static sizes

    height, width = images.shape.as_list()[1:3]
    scale = np.array(size, np.float32) / np.array([height, width], np.float32)
    return execute("ScaleAndTranslate", images, convert_to_tensor(size, dtype=dtypes.int32),
                   convert_to_tensor(scale), convert_to_tensor(np.zeros(2, np.float32)),
                   kernel_type=kernel_type, antialias=bool(antialias))


def _aspect_size(images, size):
    import numpy as np  # noqa: PLC0415

    height, width = (np.float32(d) for d in images.shape.as_list()[1:3])
    factor = min(np.float32(size[0]) / height, np.float32(size[1]) / width)
    return [int(np.round(factor * height)), int(np.round(factor * width))]


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False,
           antialias=False, name=None):
    """Resizes images to `size` = [new_height, new_width] (`tf.image.resize`).

    Uses half-pixel centres as TF2 does. The result is float32, except with `nearest`, which
    keeps the input dtype. `antialias` widens the kernel when downsampling (bilinear, bicubic
    and the lanczos/gaussian/mitchellcubic methods).

    Raises:
      ValueError: for an unknown method or an image that is not 3-D or 4-D.
    """
    batch, single = _as_batch(images, "resize")
    size = [_static_int(d, "resize: size") for d in (size.numpy() if isinstance(size, Tensor)
                                                     else size)]
    if len(size) != 2:
        raise ValueError(f"resize: 'size' must be a 1-D tensor of 2 elements, got {size}")
    if preserve_aspect_ratio:
        size = _aspect_size(batch, size)
    method = getattr(method, "value", method)
    size_tensor = convert_to_tensor(size, dtype=dtypes.int32)
    if method == ResizeMethod.BILINEAR and antialias:
        result = _scale_and_translate(batch, size, "triangle", True)
    elif method == ResizeMethod.BILINEAR:
        result = execute("ResizeBilinear", batch, size_tensor, align_corners=False,
                         half_pixel_centers=True, name=name)
    elif method == ResizeMethod.NEAREST_NEIGHBOR:
        result = execute("ResizeNearestNeighbor", batch, size_tensor, align_corners=False,
                         half_pixel_centers=True, name=name)
    elif method == ResizeMethod.BICUBIC and antialias:
        result = _scale_and_translate(batch, size, "keyscubic", True)
    elif method == ResizeMethod.BICUBIC:
        result = execute("ResizeBicubic", batch, size_tensor, align_corners=False,
                         half_pixel_centers=True, name=name)
    elif method == ResizeMethod.AREA:
        result = execute("ResizeArea", batch, size_tensor, align_corners=False, name=name)
    elif method in _SCALE_AND_TRANSLATE:
        result = _scale_and_translate(batch, size, method, antialias)
    else:
        raise ValueError(f"Resize method is not implemented: {method}")
    return _unbatch(result, single)


def resize_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR,
                    antialias=False):
    """Resizes keeping the aspect ratio, then pads with zeros to the target size
    (`tf.image.resize_with_pad`)."""
    import numpy as np  # noqa: PLC0415

    batch, single = _as_batch(image, "resize_with_pad")
    _check_positive(target_height, target_width)
    height, width = (np.float32(d) for d in batch.shape.as_list()[1:3])
    target_h, target_w = np.float32(target_height), np.float32(target_width)
    ratio = max(width / target_w, height / target_h)
    new_height, new_width = height / ratio, width / ratio
    pad_top = max(0, int(np.floor((target_h - new_height) / 2)))
    pad_left = max(0, int(np.floor((target_w - new_width) / 2)))
    resized = resize(batch, [int(np.floor(new_height)), int(np.floor(new_width))], method,
                     antialias=antialias)
    padded = pad_to_bounding_box(resized, pad_top, pad_left, target_height, target_width)
    return _unbatch(padded, single)


def _check_positive(target_height, target_width):
    if target_width <= 0:
        raise ValueError("target_width must be > 0.")
    if target_height <= 0:
        raise ValueError("target_height must be > 0.")


# --- crops, pads, flips, rotations ----------------------------------------------------------

def _hw(images):
    height, width = images.shape.as_list()[1:3]
    if height is None or width is None:
        raise ValueError(f"image height and width must be known, got shape {images.shape}")
    return height, width


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Crops the box with top-left corner (offset_height, offset_width) and size
    (target_height, target_width) (`tf.image.crop_to_bounding_box`)."""
    from ndflow.ops import indexing as indexing_ops  # noqa: PLC0415 - indexing imports manip

    batch, single = _as_batch(image, "crop_to_bounding_box")
    height, width = _hw(batch)
    checks = [(offset_width >= 0, "offset_width must be >= 0."),
              (offset_height >= 0, "offset_height must be >= 0."),
              (target_width > 0, "target_width must be > 0."),
              (target_height > 0, "target_height must be > 0."),
              (width >= target_width + offset_width, "width must be >= target + offset."),
              (height >= target_height + offset_height, "height must be >= target + offset.")]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"crop_to_bounding_box: {message} (image shape {image.shape})")
    cropped = indexing_ops.slice(batch, [0, offset_height, offset_width, 0],
                                 [-1, target_height, target_width, -1])
    return _unbatch(cropped, single)


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Pads with zeros so the image sits at (offset_height, offset_width) in a
    target_height x target_width canvas (`tf.image.pad_to_bounding_box`)."""
    batch, single = _as_batch(image, "pad_to_bounding_box")
    height, width = _hw(batch)
    after_height = target_height - offset_height - height
    after_width = target_width - offset_width - width
    checks = [(offset_height >= 0, "offset_height must be >= 0"),
              (offset_width >= 0, "offset_width must be >= 0"),
              (after_width >= 0, "width must be <= target - offset"),
              (after_height >= 0, "height must be <= target - offset")]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"pad_to_bounding_box: {message} (image shape {image.shape})")
    paddings = [[0, 0], [offset_height, after_height], [offset_width, after_width], [0, 0]]
    return _unbatch(manip_ops.pad(batch, paddings), single)


def resize_with_crop_or_pad(image, target_height, target_width):
    """Centre-crops and/or zero-pads to the target size (`tf.image.resize_with_crop_or_pad`)."""
    batch, single = _as_batch(image, "resize_with_crop_or_pad")
    _check_positive(target_height, target_width)
    height, width = _hw(batch)
    cropped = crop_to_bounding_box(batch, max((height - target_height) // 2, 0),
                                   max((width - target_width) // 2, 0),
                                   min(target_height, height), min(target_width, width))
    padded = pad_to_bounding_box(cropped, max((target_height - height) // 2, 0),
                                 max((target_width - width) // 2, 0), target_height,
                                 target_width)
    return _unbatch(padded, single)


def central_crop(image, central_fraction):
    """Crops the central `central_fraction` of each side (`tf.image.central_crop`)."""
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError("central_fraction must be within (0, 1]")
    image = convert_to_tensor(image)
    if central_fraction == 1.0:
        return image
    batch, single = _as_batch(image, "central_crop")
    height, width = _hw(batch)
    top = int((height - height * central_fraction) / 2)
    left = int((width - width * central_fraction) / 2)
    return _unbatch(crop_to_bounding_box(batch, top, left, height - 2 * top, width - 2 * left),
                    single)


def flip_left_right(image):
    """Mirrors images horizontally (`tf.image.flip_left_right`)."""
    batch, single = _as_batch(image, "flip_left_right")
    return _unbatch(manip_ops.reverse(batch, [2]), single)


def flip_up_down(image):
    """Mirrors images vertically (`tf.image.flip_up_down`)."""
    batch, single = _as_batch(image, "flip_up_down")
    return _unbatch(manip_ops.reverse(batch, [1]), single)


def _random_flip(image, axis, seed, op_name):
    image = convert_to_tensor(image)
    if image.shape.rank == 3:
        from ndflow.ops import indexing as indexing_ops  # noqa: PLC0415

        draw = random_ops.uniform([], 0, 1.0, seed=seed)
        return indexing_ops.where(math_ops.less(draw, 0.5), manip_ops.reverse(image, [axis]),
                                  image)
    batch, _ = _as_batch(image, op_name)
    draws = random_ops.uniform(array_ops.shape(batch)[0:1], 0, 1.0, seed=seed)
    flips = array_ops.cast(math_ops.round(array_ops.reshape(draws, [-1, 1, 1, 1])), batch.dtype)
    return flips * manip_ops.reverse(batch, [axis + 1]) + (1 - flips) * batch


def random_flip_left_right(image, seed=None):
    """Mirrors each image horizontally with probability 1/2 (`tf.image.random_flip_left_right`)."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """Mirrors each image vertically with probability 1/2 (`tf.image.random_flip_up_down`)."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


def rot90(image, k=1, name=None):
    """Rotates images by 90 degrees counter-clockwise `k` times (`tf.image.rot90`)."""
    batch, single = _as_batch(image, "rot90")
    k = _static_int(k, "rot90: k") % 4
    if k == 1:
        batch = manip_ops.transpose(manip_ops.reverse(batch, [2]), [0, 2, 1, 3])
    elif k == 2:
        batch = manip_ops.reverse(batch, [1, 2])
    elif k == 3:
        batch = manip_ops.reverse(manip_ops.transpose(batch, [0, 2, 1, 3]), [2])
    return _unbatch(batch, single)


def transpose(image, name=None):
    """Swaps the height and width of images (`tf.image.transpose`)."""
    batch, single = _as_batch(image, "transpose")
    return _unbatch(manip_ops.transpose(batch, [0, 2, 1, 3]), single)


def random_crop(value, size, seed=None, name=None):
    """Crops a random `size` slice of `value` (`tf.image.random_crop`; any rank)."""
    from ndflow.ops import indexing as indexing_ops  # noqa: PLC0415

    value = convert_to_tensor(value)
    shape = value.shape.as_list()
    size = [_static_int(d, "random_crop: size") for d in size]
    if len(size) != len(shape) or any(s > d for s, d in zip(size, shape)):
        raise errors.InvalidArgumentError(
            f"random_crop: need size <= value.shape in every dimension, got size {size} for "
            f"shape {shape}")
    limit = convert_to_tensor([d - s + 1 for d, s in zip(shape, size)], dtype=dtypes.int32)
    offset = random_ops.uniform([len(shape)], maxval=dtypes.int32.max, dtype=dtypes.int32,
                                seed=seed) % limit
    return indexing_ops.slice(value, offset, size)


# --- dtypes and colour ----------------------------------------------------------------------

def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts between image dtypes with TF's scaling (`tf.image.convert_image_dtype`).

    Floats are in [0, 1); integers span [0, dtype.max]. Integer to integer rescales by powers
    of two; float to integer multiplies by `max + 0.5` and truncates, clipping first when
    `saturate` is True.
    """
    image = convert_to_tensor(image)
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise AttributeError("dtype must be either floating point or integer")
    if not (image.dtype.is_floating or image.dtype.is_integer):
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype is image.dtype:
        return array_ops.identity(image, name=name)
    cast = array_ops.saturate_cast if saturate else array_ops.cast
    if image.dtype.is_integer and dtype.is_integer:
        scale_in, scale_out = image.dtype.max, dtype.max
        if scale_in > scale_out:
            return cast(math_ops.floordiv(image, (scale_in + 1) // (scale_out + 1)), dtype)
        return math_ops.multiply(cast(image, dtype), (scale_out + 1) // (scale_in + 1))
    if image.dtype.is_floating and dtype.is_floating:
        return array_ops.cast(image, dtype, name=name)
    if image.dtype.is_integer:
        return math_ops.multiply(array_ops.cast(image, dtype), 1.0 / image.dtype.max)
    return cast(math_ops.multiply(image, dtype.max + 0.5), dtype)


def _to_float(image):
    image = convert_to_tensor(image)
    if image.dtype in (dtypes.float16, dtypes.float32):
        return image, image.dtype
    return convert_image_dtype(image, dtypes.float32), image.dtype


def _check_rgb(image, op_name):
    image = convert_to_tensor(image)
    channels = None if image.shape.rank is None else image.shape.as_list()[-1]
    if image.shape.rank is not None and (image.shape.rank < 1 or channels not in (None, 3)):
        raise ValueError(f"{op_name}: the last dimension must be 3 (RGB), got shape "
                         f"{image.shape}")
    return image


def adjust_brightness(image, delta):
    """Adds `delta` to every pixel, in float (`tf.image.adjust_brightness`)."""
    flt, orig_dtype = _to_float(image)
    adjusted = flt + array_ops.cast(delta, flt.dtype)
    return convert_image_dtype(adjusted, orig_dtype, saturate=True)


def adjust_contrast(images, contrast_factor):
    """Scales each channel's deviation from its per-image mean (`tf.image.adjust_contrast`)."""
    flt, orig_dtype = _to_float(images)
    mean = reduce_ops.reduce_mean(flt, axis=[-3, -2], keepdims=True)
    factor = array_ops.cast(contrast_factor, flt.dtype)
    return convert_image_dtype((flt - mean) * factor + mean, orig_dtype, saturate=True)


def _unstack_rgb(image):
    return manip_ops.unstack(image, axis=-1)


def rgb_to_hsv(images, name=None):
    """RGB in [0, 1] to HSV with hue in [0, 1) (`tf.image.rgb_to_hsv`)."""
    images = _check_rgb(images, "rgb_to_hsv")
    red, green, blue = _unstack_rgb(images)
    value = reduce_ops.reduce_max(images, axis=-1)
    chroma = value - reduce_ops.reduce_min(images, axis=-1)
    zero = array_ops.zeros_like(value)
    positive = math_ops.greater(chroma, zero)
    safe_chroma = _where(positive, chroma, array_ops.ones_like(chroma))
    saturation = _where(math_ops.greater(value, zero),
                        chroma / _where(math_ops.greater(value, zero), value,
                                        array_ops.ones_like(value)), zero)
    sixth = 1.0 / 6.0
    hue = _where(math_ops.equal(red, value), (green - blue) / safe_chroma * sixth,
                 _where(math_ops.equal(green, value),
                        (blue - red) / safe_chroma * sixth + 2 * sixth,
                        (red - green) / safe_chroma * sixth + 4 * sixth))
    hue = _where(positive, hue, zero)
    hue = _where(math_ops.less(hue, zero), hue + 1, hue)
    return manip_ops.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images, name=None):
    """HSV (hue in [0, 1)) to RGB (`tf.image.hsv_to_rgb`)."""
    images = _check_rgb(images, "hsv_to_rgb")
    hue, saturation, value = _unstack_rgb(images)
    scaled = hue * 6.0
    red = math_ops.clip_by_value(math_ops.abs(scaled - 3.0) - 1.0, 0.0, 1.0)
    green = math_ops.clip_by_value(2.0 - math_ops.abs(scaled - 2.0), 0.0, 1.0)
    blue = math_ops.clip_by_value(2.0 - math_ops.abs(scaled - 4.0), 0.0, 1.0)
    grey = 1.0 - saturation
    channels = [(grey + saturation * c) * value for c in (red, green, blue)]
    return manip_ops.stack(channels, axis=-1)


def _where(condition, x, y):
    from ndflow.ops import indexing as indexing_ops  # noqa: PLC0415

    return indexing_ops.where(condition, x, y)


def adjust_saturation(image, saturation_factor, name=None):
    """Multiplies the saturation by `saturation_factor`, clipped to [0, 1]
    (`tf.image.adjust_saturation`)."""
    flt, orig_dtype = _to_float(_check_rgb(image, "adjust_saturation"))
    hue, saturation, value = _unstack_rgb(rgb_to_hsv(flt))
    saturation = math_ops.clip_by_value(saturation * saturation_factor, 0.0, 1.0)
    rgb = hsv_to_rgb(manip_ops.stack([hue, saturation, value], axis=-1))
    return convert_image_dtype(rgb, orig_dtype)


def adjust_hue(image, delta, name=None):
    """Rotates the hue by `delta` in [-1, 1] (`tf.image.adjust_hue`)."""
    if isinstance(delta, (int, float)) and not -1 <= delta <= 1:
        raise ValueError("delta must be in the interval [-1, 1]")
    flt, orig_dtype = _to_float(_check_rgb(image, "adjust_hue"))
    hue, saturation, value = _unstack_rgb(rgb_to_hsv(flt))
    hue = math_ops.floormod(hue + array_ops.cast(delta, hue.dtype), 1.0)
    rgb = hsv_to_rgb(manip_ops.stack([hue, saturation, value], axis=-1))
    return convert_image_dtype(rgb, orig_dtype)


def rgb_to_grayscale(images, name=None):
    """Luma of RGB images, keeping a last dimension of 1 (`tf.image.rgb_to_grayscale`)."""
    images = _check_rgb(images, "rgb_to_grayscale")
    flt = convert_image_dtype(images, dtypes.float32)
    weights = convert_to_tensor([0.2989, 0.5870, 0.1140], dtype=dtypes.float32)
    gray = reduce_ops.reduce_sum(flt * weights, axis=-1, keepdims=True)
    return convert_image_dtype(gray, images.dtype)


def grayscale_to_rgb(images, name=None):
    """Repeats a single channel three times (`tf.image.grayscale_to_rgb`)."""
    images = convert_to_tensor(images)
    if images.shape.rank is not None and (images.shape.rank < 2
                                          or images.shape.as_list()[-1] not in (None, 1)):
        raise ValueError(f"grayscale_to_rgb: the last dimension must be 1, got shape "
                         f"{images.shape}")
    multiples = [1] * (images.shape.rank - 1) + [3]
    return manip_ops.tile(images, multiples)


def per_image_standardization(image):
    """Scales each image to zero mean and unit variance (`tf.image.per_image_standardization`);
    the deviation is at least 1/sqrt(number of pixels) so flat images do not divide by 0."""
    image = convert_to_tensor(image)
    if image.shape.rank is None or image.shape.rank < 3:
        raise ValueError(f"per_image_standardization: 'image' must be at least "
                         f"three-dimensional, got shape {image.shape}")
    if image.dtype.is_integer:
        image = array_ops.cast(image, dtypes.float32)
    pixels = 1
    for dim in image.shape.as_list()[-3:]:
        pixels *= dim
    mean = reduce_ops.reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
    stddev = reduce_ops.reduce_std(image, axis=[-1, -2, -3], keepdims=True)
    floor = convert_to_tensor(1.0 / _math.sqrt(pixels), dtype=image.dtype)
    return (image - mean) / math_ops.maximum(stddev, floor)


def random_brightness(image, max_delta, seed=None):
    """adjust_brightness by a delta drawn from [-max_delta, max_delta)
    (`tf.image.random_brightness`)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def random_contrast(image, lower, upper, seed=None):
    """adjust_contrast by a factor drawn from [lower, upper) (`tf.image.random_contrast`)."""
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    factor = random_ops.uniform([], lower, upper, seed=seed)
    return adjust_contrast(image, factor)


# --- patches --------------------------------------------------------------------------------

def _patch_index(height, width, sizes, strides, rates, padding):
    """Flat source pixel of every (row, col, patch row, patch col), -1 ... as `height*width`
    for padding; and the output rows and cols (TF's SAME/VALID arithmetic)."""
    import numpy as np  # noqa: PLC0415 - static index arithmetic, built once per call

    axes = []
    for size, stride, rate, extent in zip(sizes, strides, rates, (height, width)):
        span = (size - 1) * rate + 1
        if padding == "VALID":
            count = max(-(-(extent - span + 1) // stride), 0)
            before = 0
        else:
            count = -(-extent // stride)
            before = max((count - 1) * stride + span - extent, 0) // 2
        position = (np.arange(count)[:, None] * stride + np.arange(size)[None, :] * rate
                    - before)
        axes.append((position, count))
    (rows, out_rows), (cols, out_cols) = axes
    valid = ((rows >= 0) & (rows < height))[:, None, :, None] & (
        (cols >= 0) & (cols < width))[None, :, None, :]
    flat = rows[:, None, :, None] * width + cols[None, :, None, :]
    return np.where(valid, flat, height * width), out_rows, out_cols


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """Gathers `sizes` patches into the depth dimension (`tf.image.extract_patches`).

    Output `[batch, out_rows, out_cols, size_rows * size_cols * depth]`, patch pixels in row
    order then channels; SAME padding fills with zeros. Differentiable (a gather).
    """
    from ndflow.ops import indexing as indexing_ops  # noqa: PLC0415

    images = convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"extract_patches: images must be 4-D, got shape {images.shape}")
    padding = padding.upper()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"extract_patches: padding must be 'SAME' or 'VALID', got {padding!r}")
    for what, values in (("sizes", sizes), ("strides", strides), ("rates", rates)):
        if len(values) != 4 or values[0] != 1 or values[3] != 1 or min(values) < 1:
            raise ValueError(f"extract_patches: {what} must be [1, rows, cols, 1] with positive "
                             f"entries, got {list(values)}")
    _, height, width, depth = images.shape.as_list()
    index, out_rows, out_cols = _patch_index(height, width, sizes[1:3], strides[1:3],
                                             rates[1:3], padding)
    pixels = array_ops.reshape(images, [-1, height * width, depth])
    pixels = manip_ops.concat([pixels, array_ops.zeros_like(pixels[:, :1])], axis=1)
    patches = indexing_ops.gather(pixels, index.reshape(-1).astype("int32"), axis=1)
    size = sizes[1] * sizes[2] * depth
    return array_ops.reshape(patches, [-1, out_rows, out_cols, size])


API = {
    "image": [
        "ResizeMethod", "resize", "resize_with_pad", "resize_with_crop_or_pad", "central_crop",
        "crop_to_bounding_box", "pad_to_bounding_box", "flip_left_right", "flip_up_down",
        "random_flip_left_right", "random_flip_up_down", "rot90", "transpose",
        "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
        "rgb_to_grayscale", "grayscale_to_rgb", "rgb_to_hsv", "hsv_to_rgb",
        "convert_image_dtype", "per_image_standardization", "random_crop", "extract_patches",
        "random_brightness", "random_contrast",
    ],
}
