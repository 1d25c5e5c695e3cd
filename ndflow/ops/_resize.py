"""Resampling weights of TF's resize kernels (image/resize_*_op.cc, scale_and_translate_op.cc).

Every resize method is separable and linear: along one axis it is an (output x input) weight
matrix. These builders compute those matrices with TF's sampling arithmetic (float32 source
coordinates, half-pixel centres, Keys cubic coefficients read from TF's 1024-entry table), on
`xp` arrays so the kernels in `image.py` run on NumPy and CuPy alike.
"""


def _resize_scale(xp, in_size, out_size, align_corners):
    if align_corners and out_size > 1:
        return xp.float32((in_size - 1) / xp.float32(out_size - 1))
    return xp.float32(in_size / xp.float32(out_size))


def _one_hot(xp, index, in_size):
    return (index[:, None] == xp.arange(in_size)[None, :]).astype(xp.float32)


def _sample_points(xp, in_size, out_size, align_corners, half_pixel_centers, shift):
    """Source coordinates of the output samples, in float32 as TF computes them."""
    scale = _resize_scale(xp, in_size, out_size, align_corners)
    index = xp.arange(out_size, dtype=xp.float32)
    if half_pixel_centers:
        return (index + xp.float32(0.5)) * scale - xp.float32(shift)
    return index * scale


def bilinear_weights(xp, in_size, out_size, *, align_corners, half_pixel_centers):
    coord = _sample_points(xp, in_size, out_size, align_corners, half_pixel_centers, 0.5)
    floor = xp.floor(coord)
    lower = xp.maximum(floor.astype(xp.int64), 0)
    upper = xp.minimum(xp.ceil(coord).astype(xp.int64), in_size - 1)
    lerp = (coord - floor)[:, None]
    return (1 - lerp) * _one_hot(xp, lower, in_size) + lerp * _one_hot(xp, upper, in_size)


def nearest_index(xp, in_size, out_size, *, align_corners, half_pixel_centers):
    coord = _sample_points(xp, in_size, out_size, align_corners, half_pixel_centers, 0.0)
    # roundf rounds half away from zero; coordinates are non-negative here.
    index = xp.floor(coord + xp.float32(0.5)) if align_corners else xp.floor(coord)
    index = xp.minimum(index.astype(xp.int64), in_size - 1)
    return xp.maximum(index, 0) if half_pixel_centers else index


def nearest_weights(xp, in_size, out_size, **attrs):
    return _one_hot(xp, nearest_index(xp, in_size, out_size, **attrs), in_size)


def _cubic_table(xp, delta, a):
    """TF's Keys cubic coefficients, read from its 1024-entry table (so quantised as TF's)."""
    offset = xp.rint(delta * 1024).astype(xp.float64)
    near = offset / 1024
    far = (1024 - offset) / 1024

    def inner(x):
        return (((a + 2) * x - (a + 3)) * x * x + 1).astype(xp.float32)

    def outer(x):
        return (((a * x - 5 * a) * x + 8 * a) * x - 4 * a).astype(xp.float32)

    return outer(near + 1), inner(near), inner(far), outer(far + 1)


def bicubic_weights(xp, in_size, out_size, *, align_corners, half_pixel_centers):
    coord = _sample_points(xp, in_size, out_size, align_corners, half_pixel_centers, 0.5)
    start = xp.floor(coord)
    coefficients = _cubic_table(xp, coord - start, -0.5 if half_pixel_centers else -0.75)
    start = start.astype(xp.int64)
    weights = xp.zeros((out_size, in_size), xp.float32)
    for tap, coefficient in zip(range(-1, 3), coefficients):
        index = xp.clip(start + tap, 0, in_size - 1)
        if half_pixel_centers:  # taps outside the image get no weight; the rest renormalise
            coefficient = xp.where(index == start + tap, coefficient, xp.float32(0))
        weights += coefficient[:, None] * _one_hot(xp, index, in_size)
    if half_pixel_centers:
        total = weights.sum(axis=1, keepdims=True)
        weights = xp.where(xp.abs(total) >= 1000 * xp.finfo(xp.float32).tiny, weights / total,
                           weights)
    return weights


def area_weights(xp, in_size, out_size, *, align_corners):
    scale = _resize_scale(xp, in_size, out_size, align_corners)
    start = xp.arange(out_size, dtype=xp.float32)[:, None] * scale
    end = (xp.arange(out_size, dtype=xp.float32)[:, None] + 1) * scale
    pixel = xp.arange(in_size, dtype=xp.float32)[None, :]
    overlap = xp.minimum(pixel + 1, end) - xp.maximum(pixel, start)
    return xp.maximum(overlap, 0) / scale


def _kernel_function(xp, kernel_type):
    """(function of |x|, radius) of ScaleAndTranslate's kernels."""
    def lanczos(radius):
        def function(x):
            with xp.errstate(invalid="ignore", divide="ignore"):
                value = radius * xp.sin(xp.pi * x) * xp.sin(xp.pi * x / radius) / (
                    xp.pi * xp.pi * x * x)
            return xp.where(x > radius, 0.0, xp.where(x <= 1e-3, 1.0, value))
        return function, radius

    def keys_cubic(x):
        near = ((1.5 * x - 2.5) * x) * x + 1
        far = ((-0.5 * x + 2.5) * x - 4) * x + 2
        return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))

    def mitchell_cubic(x):
        near = (7 / 6 * x - 2) * x * x + 8 / 9
        far = ((-7 / 18 * x + 2) * x - 10 / 3) * x + 16 / 9
        return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))

    kernels = {
        "lanczos1": lanczos(1.0), "lanczos3": lanczos(3.0), "lanczos5": lanczos(5.0),
        "triangle": (lambda x: xp.maximum(1 - x, 0.0), 1.0),
        "keyscubic": (keys_cubic, 2.0),
        "mitchellcubic": (mitchell_cubic, 2.0),
        "gaussian": (lambda x: xp.where(x < 1.5, xp.exp(-x * x / (2.0 * 0.5 * 0.5)), 0.0), 1.5),
        "box": (lambda x: xp.where(x < 0.5, 1.0, xp.where(x == 0.5, 0.5, 0.0)), 1.0),
    }
    return kernels[kernel_type]


def scale_translate_weights(xp, in_size, out_size, scale, translation, *, kernel_type,
                             antialias):
    # float32 throughout, as TF: a sample landing exactly on a kernel's radius is common.
    f32 = xp.float32
    function, radius = _kernel_function(xp, kernel_type)
    inv_scale = f32(1.0 / float(f32(scale)))
    kernel_scale = max(inv_scale, f32(1)) if antialias else f32(1)
    sample = (xp.arange(out_size, dtype=f32) + f32(0.5)) * inv_scale + f32(-inv_scale * f32(
        translation))
    sample = sample[:, None]
    span = f32(radius) * kernel_scale
    first = xp.clip(xp.ceil(sample - span - f32(0.5)), 0, in_size - 1)
    last = xp.clip(xp.floor(sample + span - f32(0.5)), 0, in_size - 1)
    source = xp.arange(in_size, dtype=f32)[None, :]
    inside = (source >= first) & (source <= last) & (sample >= 0) & (sample <= in_size)
    position = xp.abs((source + f32(0.5) - sample) * (f32(1) / kernel_scale))
    weights = xp.where(inside, function(position.astype(xp.float64)), 0.0).astype(f32)
    total = weights.sum(axis=1, keepdims=True)
    return xp.where(xp.abs(total) >= 1000 * xp.finfo(f32).tiny,
                    weights / xp.where(total == 0, f32(1), total), weights)
