"""Image conversion helpers of `keras.utils` (Pillow, imported when first used):
array_to_img, img_to_array, load_img, save_img."""

import io
import os

import numpy as np

from ndflow.keras import backend


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("Could not import PIL.Image. The use of image utilities requires "
                          "Pillow: `pip install pillow`.") from None
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array (height, width, channels with 1, 3 or 4 channels) as a PIL image
    (`keras.utils.array_to_img`); `scale` maps the values to 0..255 first."""
    image = _pil()
    data_format = data_format or backend.image_data_format()
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as a 3-D float array (`keras.utils.img_to_array`)."""
    data_format = data_format or backend.image_data_format()
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[:, :, None] if data_format == "channels_last" else x[None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Loads an image file as a PIL image (`keras.utils.load_img`).

    Args:
      path: a path or a binary file object.
      color_mode: "grayscale", "rgb" or "rgba".
      target_size: `(height, width)` to resize to, or None.
      interpolation: "nearest", "bilinear", "bicubic", "hamming", "box" or "lanczos".
      keep_aspect_ratio: crop the centre to the target aspect ratio before resizing.
    """
    image = _pil()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as handle:
            img = image.open(io.BytesIO(handle.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    modes = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if img.mode not in modes[color_mode]:
        img = img.convert({"grayscale": "L", "rgba": "RGBA", "rgb": "RGB"}[color_mode])
    if target_size is None:
        return img
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported "
                         f"methods are {', '.join(_INTERPOLATIONS)}")
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    resample = getattr(image.Resampling, interpolation.upper())
    if keep_aspect_ratio:
        width, height = img.size
        crop_height = min(height, width * target_size[0] // target_size[1])
        crop_width = min(width, height * target_size[1] // target_size[0])
        top = (height - crop_height) // 2
        left = (width - crop_width) // 2
        img = img.crop((left, top, left + crop_width, top + crop_height))
    return img.resize(width_height, resample)


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves a 3-D array as an image file (`keras.utils.save_img`)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpeg" or str(path).lower().endswith(
            (".jpg", ".jpeg"))):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
