"""Pooling: MaxPool/AvgPool (2-D and 3-D, one N-d kernel family), their gradients MaxPoolGrad,
MaxPoolGradGrad and AvgPoolGrad, MaxPoolWithArgmax, and the public `tf.nn` pooling functions.

Kernels loop over window taps only (never pixels), each tap a strided view of the padded input.
TF semantics kept: the max-pool gradient goes to the FIRST maximum of each window in row-major
window order (an equality mask would also feed every tied maximum, badly wrong on flat zero
backgrounds); SAME average pooling divides by the number of real (unpadded) elements. Padding
arithmetic and attribute checks are shared with the convolutions (`conv_kernels.py`).
"""

import functools
import math

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import compiled
from ndflow.ops import conv as conv_ops
from ndflow.ops import conv_kernels
from ndflow.ops import manip

_ATTRS = ("ksize", "strides", "padding", "explicit_paddings", "data_format", "dilations")


# --- geometry --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def pool_geometry(op_name, n, x_shape, ksize, strides, padding, explicit_paddings, data_format,
                  dilations, allow_explicit):
    """Validates a pooling op's input shape and attrs and returns its conv_kernels.Geometry.

    `dilations` is an ndflow attribute (TF's pool ops have none): tf.nn.pool's dilated VALID
    pooling runs as one op instead of TF's space_to_batch rewrite; it is all ones otherwise.
    """
    x_shape = (None,) * (n + 2) if x_shape is None else tuple(x_shape)
    if len(x_shape) != n + 2:
        raise errors.InvalidArgumentError(
            f"{op_name}: input must be {n + 2}-dimensional ({n} spatial dimensions), got shape "
            f"{list(x_shape)}")
    last = conv_kernels.check_format(op_name, data_format, n)
    window = conv_kernels.check_window_attr(op_name, "ksize", ksize, n, last, "pooling windows")
    stride = conv_kernels.check_window_attr(op_name, "strides", strides, n, last)
    dilation = conv_kernels.check_window_attr(op_name, "dilations", dilations, n, last)
    pairs = conv_kernels.check_padding(op_name, padding, explicit_paddings, n, last, allow_explicit)
    sizes = x_shape[1:-1] if last else x_shape[2:]
    out, pads = [], []
    for i in range(n):
        size, pad = conv_kernels.output_size(op_name, sizes[i], window[i], stride[i], dilation[i],
                                         padding, pairs[i])
        out.append(size)
        pads.append(pad)
    return conv_kernels.Geometry(last, stride, dilation, window, tuple(pads), tuple(out), None)


def _geometry(op_name, n, x_shape, attrs, allow_explicit):
    return pool_geometry(op_name, n, None if x_shape is None else tuple(x_shape),
                         tuple(attrs["ksize"]), tuple(attrs["strides"]), attrs["padding"],
                         tuple(attrs["explicit_paddings"]), attrs["data_format"],
                         tuple(attrs["dilations"]), allow_explicit)


def _out_shape(geo, x_shape, n):
    x_shape = (None,) * (n + 2) if x_shape is None else x_shape
    channels = x_shape[-1] if geo.channels_last else x_shape[1]
    return conv_kernels.output_shape(geo, x_shape[0], channels)


# --- kernels (channels-last inside) ----------------------------------------------------------

def _lowest(xp, dtype):
    if dtype.kind == "f" or dtype.kind == "V":
        return -xp.inf
    return xp.iinfo(dtype).min


def _taps(xp, x, geo, fill):
    """The padded channels-last input and its (tap index, slice) list, in row-major order."""
    x = conv_kernels._to_last(xp, x, geo.channels_last)
    if any(p != (0, 0) for p in geo.pads):
        x = xp.pad(x, [(0, 0), *geo.pads, (0, 0)], constant_values=fill)
    taps = list(conv_kernels.tap_slices(geo.window, geo.strides, geo.dilations, geo.out))
    return x, taps


def _empty(geo, x):
    return math.prod(geo.out) == 0 or x.size == 0


def max_pool_kernel(xp, x, geo):
    if _empty(geo, x):
        shape = (x.shape[0], *geo.out, x.shape[-1 if geo.channels_last else 1])
        return conv_kernels._from_last(xp, xp.zeros(shape, x.dtype), geo.channels_last)
    padded, taps = _taps(xp, x, geo, _lowest(xp, x.dtype))
    out = padded[taps[0][1]].copy()
    for _, index in taps[1:]:
        xp.maximum(out, padded[index], out=out)
    return conv_kernels._from_last(xp, out, geo.channels_last)


def first_argmax(xp, x, geo):
    """The max of each window and the tap number of its FIRST maximum (row-major window
    order), as TF's CPU kernels pick it; channels-last outputs, and the padded input."""
    padded, taps = _taps(xp, x, geo, _lowest(xp, x.dtype))
    best = padded[taps[0][1]].copy()
    choice = xp.zeros(best.shape, dtype=xp.int8 if len(taps) < 128 else xp.int32)
    for number, (_, index) in enumerate(taps[1:], 1):
        candidate = padded[index]
        better = candidate > best
        xp.copyto(best, candidate, where=better)
        xp.putmask(choice, better, number)
    return best, choice, padded.shape, taps


def _first_max_taps(xp, x, y, geo):
    """The tap number of each window's FIRST maximum, given the pooled maxima `y`: one
    comparison per tap against the known maximum (later taps written first, so the earliest
    matching tap wins), instead of recomputing the maximum."""
    padded, taps = _taps(xp, x, geo, _lowest(xp, x.dtype))
    y = conv_kernels._to_last(xp, y, geo.channels_last)
    choice = xp.zeros(y.shape, dtype=xp.int8 if len(taps) < 128 else xp.int32)
    for number in range(len(taps) - 1, -1, -1):
        xp.putmask(choice, padded[taps[number][1]] == y, number)
    return choice, padded.shape, taps


def _tiles_exactly(geo, padded_shape):
    """Non-overlapping windows that cover every (padded) input element exactly once."""
    return all(k == s and d == 1 and o * s == size for k, s, d, o, size in
               zip(geo.window, geo.strides, geo.dilations, geo.out, padded_shape[1:-1]))


def _route_to_first_max(xp, padded, y, dy, dx, taps):
    """Non-overlapping windows: each tap writes dy where it holds the window's maximum and no
    earlier tap did (TF's first maximum), 0 elsewhere, straight into its own slice of dx.
    Branch-free: an equality mask, a 'taken so far' mask and a multiply per tap (select and
    putmask on random masks are several times slower in NumPy)."""
    taken = None
    last = len(taps) - 1
    for number, (_, index) in enumerate(taps):
        hit = xp.equal(padded[index], y)
        if taken is not None:
            xp.greater(hit, taken, out=hit)  # hit and not taken
        xp.multiply(dy, hit, out=dx[index])
        if taken is None:
            taken = hit
        elif number < last:
            xp.logical_or(taken, hit, out=taken)


def _route_by_choice(xp, x, y, dy, geo):
    """Any windows (overlapping ones add up): the tap number of each window's first maximum,
    then each tap's gradient added into its slice of the padded dx. `x` and `y` in the op's
    layout, `dy` channels-last; returns the padded channels-last dx."""
    choice, padded_shape, taps = _first_max_taps(xp, x, y, geo)
    dx = xp.zeros(padded_shape, dtype=dy.dtype)
    zero = xp.zeros((), dtype=dy.dtype)
    for number, (_, index) in enumerate(taps):
        dx[index] += xp.where(choice == number, dy, zero)
    return dx


def max_pool_grad_kernel(xp, x, dy, geo, y):
    """Routes each window's gradient (`dy`) to the window's first maximum, given the pooled
    maxima `y` (overlapping windows add up)."""
    if _empty(geo, x):
        return xp.zeros_like(x)
    dy = conv_kernels._to_last(xp, dy, geo.channels_last)
    if all(s >= (k - 1) * d + 1 for s, k, d in zip(geo.strides, geo.window, geo.dilations)):
        padded, taps = _taps(xp, x, geo, _lowest(xp, x.dtype))
        if _tiles_exactly(geo, padded.shape):
            dx = xp.empty(padded.shape, dtype=dy.dtype)  # every element is written below
        else:
            dx = xp.zeros(padded.shape, dtype=dy.dtype)
        _route_to_first_max(xp, padded, conv_kernels._to_last(xp, y, geo.channels_last), dy, dx,
                            taps)
    else:
        dx = _route_by_choice(xp, x, y, dy, geo)
    sizes = dx.shape[1:-1]
    crop = tuple(slice(b, size - a) for (b, a), size in zip(geo.pads, sizes))
    return conv_kernels._from_last(xp, dx[(slice(None), *crop)], geo.channels_last)


def routes_by_choice(geo, sizes):
    """True when the windows over spatial `sizes` can route gradients by tap number
    (`max_pool_with_choice`): channels-last, known sizes, unpadded, undilated, non-overlapping
    windows, fewer than 256 taps."""
    return (geo.channels_last and all(size is not None for size in sizes)
            and all(p == (0, 0) for p in geo.pads) and all(d == 1 for d in geo.dilations)
            and math.prod(geo.window) < 256
            and all(s >= k for s, k in zip(geo.strides, geo.window)))


def max_pool_with_choice(xp, x, geo):
    """For `routes_by_choice` geometries: each window's maximum and the number (uint8, row-major
    window order) of its FIRST maximum tap, TF's choice, so that the gradient needs neither the
    input nor the maximum later. Branch-free: with n_t = (tap t != max), the first maximum is
    n_0 * (1 + n_1 * (1 + ... n_(k-2))). A window holding NaN routes to its last tap."""
    compiled_kernels = compiled.kernels(xp)
    if compiled_kernels is not None and x.dtype.kind == "f" and x.flags.c_contiguous:
        shape = (x.shape[0], *geo.out, x.shape[-1])
        out, choice = xp.empty(shape, x.dtype), xp.empty(shape, xp.uint8)
        compiled_kernels.bias_max_pool(x, xp.zeros(x.shape[-1], x.dtype), *geo.window,
                                       *geo.strides, False, out, choice)
        return out, choice
    taps = conv_kernels.tap_slices(geo.window, geo.strides, geo.dilations, geo.out)
    out = x[taps[0][1]].copy()
    for _, index in taps[1:]:
        xp.maximum(out, x[index], out=out)
    choice = xp.zeros(out.shape, dtype=xp.uint8)
    if len(taps) > 1:
        xp.not_equal(x[taps[-2][1]], out, out=choice.view(xp.bool_))
        differs = xp.empty(out.shape, dtype=xp.bool_)
        for _, index in reversed(taps[:-2]):
            choice += 1
            xp.not_equal(x[index], out, out=differs)
            xp.multiply(choice, differs, out=choice)
    return out, choice


def max_pool_grad_by_choice(xp, choice, dy, x_shape, geo):
    """Max-pool gradient from `max_pool_with_choice`'s tap numbers: each tap's slice of dx gets
    dy where the window chose that tap, 0 elsewhere (and 0 where no window reaches)."""
    covered = all(k == s and o * s == size for k, s, o, size in
                  zip(geo.window, geo.strides, geo.out, x_shape[1:-1]))
    dx = xp.empty(x_shape, dtype=dy.dtype) if covered else xp.zeros(x_shape, dtype=dy.dtype)
    if dx.size == 0 or dy.size == 0:
        return dx
    compiled_kernels = compiled.kernels(xp)
    if compiled_kernels is not None and dy.dtype.kind == "f":
        compiled_kernels.max_pool_grad_by_choice(xp.ascontiguousarray(choice),
                                                 xp.ascontiguousarray(dy), *geo.window,
                                                 *geo.strides, dx)
        return dx
    taps = conv_kernels.tap_slices(geo.window, geo.strides, geo.dilations, geo.out)
    mask = xp.empty(choice.shape, dtype=xp.bool_)
    for number, (_, index) in enumerate(taps):
        xp.equal(choice, number, out=mask)
        xp.multiply(dy, mask, out=dx[index])
    return dx


def max_pool_grad_grad_kernel(xp, x, ddx, geo):
    """Picks, for each window, the entry of `ddx` at the window's first maximum."""
    shape = (x.shape[0], *geo.out, x.shape[-1 if geo.channels_last else 1])
    if _empty(geo, x):
        return conv_kernels._from_last(xp, xp.zeros(shape, ddx.dtype), geo.channels_last)
    _, choice, _, taps = first_argmax(xp, x, geo)
    padded, _ = _taps(xp, ddx, geo, 0)
    out = xp.zeros(choice.shape, dtype=ddx.dtype)
    for number, (_, index) in enumerate(taps):
        xp.copyto(out, padded[index], where=choice == number)
    return conv_kernels._from_last(xp, out, geo.channels_last)


def _counts(xp, geo, sizes, dtype):
    """Number of real (unpadded) elements in each window: shape (1, *out, 1)."""
    total = xp.ones((), dtype=dtype)
    for axis, (size, out, k, s, d, pad) in enumerate(zip(sizes, geo.out, geo.window,
                                                         geo.strides, geo.dilations, geo.pads)):
        start = xp.arange(out)[:, None] * s - pad[0] + xp.arange(k)[None, :] * d
        count = ((start >= 0) & (start < size)).sum(axis=1).astype(dtype)
        shape = [1] * len(sizes)
        shape[axis] = out
        total = total * count.reshape(shape)
    return total.reshape((1, *geo.out, 1))


def avg_pool_kernel(xp, x, geo):
    dtype = x.dtype
    work = conv_kernels._compute_type(xp, dtype)
    shape = (x.shape[0], *geo.out, x.shape[-1 if geo.channels_last else 1])
    if _empty(geo, x):
        return conv_kernels._from_last(xp, xp.zeros(shape, dtype), geo.channels_last)
    padded, taps = _taps(xp, x.astype(work, copy=False), geo, 0)
    total = padded[taps[0][1]].copy()
    for _, index in taps[1:]:
        total += padded[index]
    total /= _counts(xp, geo, _sizes(x, geo), work)
    return conv_kernels._from_last(xp, total.astype(dtype, copy=False), geo.channels_last)


def _sizes(x_shape, geo):
    shape = x_shape.shape if hasattr(x_shape, "shape") else x_shape
    return tuple(shape[1:-1]) if geo.channels_last else tuple(shape[2:])


def avg_pool_grad_kernel(xp, x_shape, dy, geo):
    """Spreads each window's gradient evenly over its real elements."""
    dtype = dy.dtype
    work = conv_kernels._compute_type(xp, dtype)
    sizes = _sizes(x_shape, geo)
    batch = x_shape[0]
    channels = x_shape[-1] if geo.channels_last else x_shape[1]
    padded_sizes = [size + sum(pad) for size, pad in zip(sizes, geo.pads)]
    dx = xp.zeros((batch, *padded_sizes, channels), dtype=work)
    if math.prod(geo.out) and dx.size:
        share = conv_kernels._to_last(xp, dy, geo.channels_last).astype(work)
        share /= _counts(xp, geo, sizes, work)
        for _, index in conv_kernels.tap_slices(geo.window, geo.strides, geo.dilations, geo.out):
            dx[index] += share
    crop = tuple(slice(b, b + size) for (b, _), size in zip(geo.pads, sizes))
    dx = dx[(slice(None), *crop)].astype(dtype, copy=False)
    return conv_kernels._from_last(xp, dx, geo.channels_last)


# --- primitives ------------------------------------------------------------------------------

def _attrs(op):
    return {name: op.get_attr(name) for name in _ATTRS}


def _sizes_value(spec, n):
    if spec.value is not None:
        return tuple(int(d) for d in spec.value.reshape(-1))
    if spec.shape is not None and spec.shape[0] is not None:
        return (None,) * spec.shape[0]
    return None


def _register_max(n, names, allowed, allow_explicit):
    """MaxPool{,3D}, its gradient and the gradient's gradient (which close under grad)."""
    forward, grad_name, grad_grad_name = names

    @primitive(forward, dtypes=allowed)
    class MaxPool:
        fresh_output = True  # a new array: the executor may write the next op into it

        def infer(x, **attrs):
            geo = _geometry(forward, n, x.shape, attrs, allow_explicit)
            return Spec(_out_shape(geo, x.shape, n), x.dtype)

        def kernel(xp, x, **attrs):
            return max_pool_kernel(xp, x, _geometry(forward, n, x.shape, attrs, allow_explicit))

        def grad(op, dy):
            return [execute(grad_name, op.inputs[0], op.outputs[0], dy, **_attrs(op))]

    @primitive(grad_name, dtypes=allowed)
    class MaxPoolGrad:
        fresh_output = True  # a new array (or a crop of one): the executor may write into it

        def infer(x, y, dy, **attrs):
            _geometry(grad_name, n, x.shape, attrs, allow_explicit)
            return Spec(x.shape, x.dtype)

        def kernel(xp, x, y, dy, **attrs):
            geo = _geometry(grad_name, n, x.shape, attrs, allow_explicit)
            return max_pool_grad_kernel(xp, x, dy, geo, y)

        def grad(op, ddx):
            x, y, _ = op.inputs
            return [array_ops.zeros_like(x), array_ops.zeros_like(y),
                    execute(grad_grad_name, x, y, ddx, **_attrs(op))]

    @primitive(grad_grad_name, dtypes=allowed)
    class MaxPoolGradGrad:
        def infer(x, y, ddx, **attrs):
            geo = _geometry(grad_grad_name, n, x.shape, attrs, allow_explicit)
            return Spec(_out_shape(geo, x.shape, n), x.dtype)

        def kernel(xp, x, y, ddx, **attrs):
            geo = _geometry(grad_grad_name, n, x.shape, attrs, allow_explicit)
            return max_pool_grad_grad_kernel(xp, x, ddx, geo)

        def grad(op, dy):
            x, y, _ = op.inputs
            return [array_ops.zeros_like(x), array_ops.zeros_like(y),
                    execute(grad_name, x, y, dy, **_attrs(op))]


@primitive("_MaxPoolGradByChoice", dtypes=dtypes.REAL, same_dtype=(1,),
           input_dtypes={0: dtypes.uint8})
class MaxPoolGradByChoice:
    """MaxPoolGrad from the window choices of `_FusedConv2DWithChoice` (graph passes build it
    after differentiation): `input_shape` is the pooled input's shape (its batch may be
    unknown until run time)."""

    fresh_output = True

    def infer(choice, dy, input_shape, ksize, strides, padding):
        _choice_geometry(input_shape, ksize, strides, padding)
        batch = dy.shape[0] if dy.shape is not None else None
        return Spec((batch, *input_shape[1:]), dy.dtype)

    def kernel(xp, choice, dy, input_shape, ksize, strides, padding):
        x_shape = (dy.shape[0], *input_shape[1:])
        geo = _choice_geometry(x_shape, ksize, strides, padding)
        if choice.shape != dy.shape or dy.shape[1:-1] != geo.out or \
                dy.shape[-1] != x_shape[-1]:
            raise errors.InvalidArgumentError(
                f"_MaxPoolGradByChoice: choice and gradient must have shape "
                f"{[dy.shape[0], *geo.out, x_shape[-1]]}, got {list(choice.shape)} and "
                f"{list(dy.shape)}")
        return max_pool_grad_by_choice(xp, choice, dy, x_shape, geo)


def _choice_geometry(x_shape, ksize, strides, padding):
    geo = pool_geometry("_MaxPoolGradByChoice", 2, tuple(x_shape), tuple(ksize), tuple(strides),
                        padding, (), "NHWC", (1, 1, 1, 1), False)
    if not routes_by_choice(geo, x_shape[1:-1]):
        raise errors.InvalidArgumentError(
            f"_MaxPoolGradByChoice: windows {list(ksize)} with strides {list(strides)} and "
            f"{padding} padding over input {list(x_shape)} do not tile without overlap or "
            "padding")
    return geo


def _register_avg(n, names):
    """AvgPool{,3D} and its gradient (whose gradient is AvgPool again)."""
    forward, grad_name = names

    @primitive(forward, dtypes=dtypes.FLOATS)
    class AvgPool:
        def infer(x, **attrs):
            geo = _geometry(forward, n, x.shape, attrs, False)
            return Spec(_out_shape(geo, x.shape, n), x.dtype)

        def kernel(xp, x, **attrs):
            return avg_pool_kernel(xp, x, _geometry(forward, n, x.shape, attrs, False))

        def grad(op, dy):
            x = op.inputs[0]
            return [execute(grad_name, array_ops.shape_of(x), dy, **_attrs(op))]

    @primitive(grad_name, dtypes=dtypes.FLOATS, same_dtype=(1,),
               input_dtypes={0: dtypes.int32})
    class AvgPoolGrad:
        def infer(sizes, dy, **attrs):
            x_shape = _sizes_value(sizes, n)
            _geometry(grad_name, n, x_shape, attrs, False)
            return Spec(x_shape if x_shape is not None else (None,) * (n + 2), dy.dtype)

        def kernel(xp, sizes, dy, **attrs):
            x_shape = tuple(sizes.tolist())
            geo = _geometry(grad_name, n, x_shape, attrs, False)
            return avg_pool_grad_kernel(xp, x_shape, dy, geo)

        def grad(op, ddx):
            return [None, execute(forward, ddx, **_attrs(op))]


_register_max(2, ("MaxPool", "MaxPoolGrad", "MaxPoolGradGrad"), dtypes.REAL, True)
_register_max(3, ("MaxPool3D", "MaxPool3DGrad", "MaxPool3DGradGrad"),
              frozenset([dtypes.float16, dtypes.bfloat16, dtypes.float32]), False)
_register_avg(2, ("AvgPool", "AvgPoolGrad"))
_register_avg(3, ("AvgPool3D", "AvgPool3DGrad"))


@primitive("MaxPoolWithArgmax", dtypes=dtypes.REAL, num_outputs=2)
class MaxPoolWithArgmax:
    def infer(x, ksize, strides, padding, Targmax, include_batch_in_index):
        geo = _geometry("MaxPoolWithArgmax", 2, x.shape, _argmax_attrs(ksize, strides, padding),
                        False)
        shape = _out_shape(geo, x.shape, 2)
        return Spec(shape, x.dtype), Spec(shape, Targmax)

    def kernel(xp, x, ksize, strides, padding, Targmax, include_batch_in_index):
        geo = _geometry("MaxPoolWithArgmax", 2, x.shape, _argmax_attrs(ksize, strides, padding),
                        False)
        if _empty(geo, x):
            shape = (x.shape[0], *geo.out, x.shape[-1])
            return xp.zeros(shape, x.dtype), xp.zeros(shape, Targmax.as_numpy_dtype)
        best, choice, _, _ = first_argmax(xp, x, geo)
        batch, height, width, channels = x.shape
        (_, kw), (sh, sw) = geo.window, geo.strides
        rows = (xp.arange(geo.out[0]) * sh - geo.pads[0][0])[:, None, None]
        cols = (xp.arange(geo.out[1]) * sw - geo.pads[1][0])[None, :, None]
        flat = ((rows + choice // kw) * width + cols + choice % kw) * channels
        flat = flat + xp.arange(channels)
        if include_batch_in_index:
            flat = flat + (xp.arange(batch) * (height * width * channels)).reshape(-1, 1, 1, 1)
        return best, flat.astype(Targmax.as_numpy_dtype)

    def grad(op, dy, dargmax):
        attrs = _argmax_attrs(op.get_attr("ksize"), op.get_attr("strides"),
                              op.get_attr("padding"))
        return [execute("MaxPoolGrad", op.inputs[0], op.outputs[0], dy, **attrs)]


def _argmax_attrs(ksize, strides, padding):
    return {"ksize": ksize, "strides": strides, "padding": padding, "explicit_paddings": (),
            "data_format": "NHWC", "dilations": (1, 1, 1, 1)}


# --- public functions ------------------------------------------------------------------------

_OPS = {("MAX", 2): "MaxPool", ("MAX", 3): "MaxPool3D", ("AVG", 2): "AvgPool",
        ("AVG", 3): "AvgPool3D"}


def _pool(kind, n, input, ksize, strides, padding, data_format, name,  # noqa: A002
          dilations=None):
    """Runs MaxPool/AvgPool of rank n (n = 1 runs the 2-D op over a unit height, as TF)."""
    data_format = data_format or conv_ops.FORMATS[n][0]
    last = not data_format.startswith("NC")
    allow_explicit = kind == "MAX" and n < 3
    padding, explicit = conv_ops.padding_attrs(padding, n, allow_explicit)
    ksize = conv_ops.get_sequence(ksize, n, last, "ksize")
    strides = conv_ops.get_sequence(strides, n, last, "strides")
    dilations = conv_ops.get_sequence(dilations, n, last, "dilations")
    if n == 1:
        if data_format not in ("NWC", "NCW"):
            raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format="
                             f"{data_format}")
        axis = 1 if last else 2
        if explicit:
            explicit = explicit[:2 * axis] + (0, 0) + explicit[2 * axis:]
        result = execute(_OPS[kind, 2], manip.expand_dims(input, axis),
                         ksize=(1, *ksize), strides=(1, *strides), padding=padding,
                         explicit_paddings=explicit, data_format="NHWC" if last else "NCHW",
                         dilations=(1, *dilations), name=name)
        return manip.squeeze(result, [axis])
    return execute(_OPS[kind, n], input, ksize=ksize, strides=strides, padding=padding,
                   explicit_paddings=explicit, data_format=data_format, dilations=dilations,
                   name=name)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D max pooling (`tf.nn.max_pool1d`); padding may be a list of 3 pairs."""
    return _pool("MAX", 1, input, ksize, strides, padding, data_format, name)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D max pooling (`tf.nn.max_pool2d`).

    Args:
      input: 4-D, NHWC or NCHW.
      ksize: an int or a list of 1, 2 or 4 ints: the window size.
      strides: an int or a list of 1, 2 or 4 ints.
      padding: 'SAME', 'VALID' or a list of 4 `[before, after]` pairs.
      data_format: 'NHWC' or 'NCHW'.
      name: unused.

    Returns:
      The maximum of each window. Its gradient goes to the first maximum of each window.
    """
    return _pool("MAX", 2, input, ksize, strides, padding, data_format, name)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """3-D max pooling (`tf.nn.max_pool3d`); float16/bfloat16/float32 as in TF."""
    return _pool("MAX", 3, input, ksize, strides, padding, data_format, name)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D average pooling (`tf.nn.avg_pool1d`)."""
    return _pool("AVG", 1, input, ksize, strides, padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D average pooling (`tf.nn.avg_pool2d`); SAME averages only the real elements of each
    window (padding is not counted)."""
    return _pool("AVG", 2, input, ksize, strides, padding, data_format, name)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """3-D average pooling (`tf.nn.avg_pool3d`)."""
    return _pool("AVG", 3, input, ksize, strides, padding, data_format, name)


def _rank_n(input):  # noqa: A002
    rank = convert_to_tensor(input).shape.rank
    if rank not in (3, 4, 5):
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: input.shape="
                         f"{convert_to_tensor(input).shape} of rank {rank}.")
    return rank - 2


def max_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling of rank 1, 2 or 3 from the input's rank (`tf.nn.max_pool`)."""
    input = convert_to_tensor(input)  # noqa: A001
    return _pool("MAX", _rank_n(input), input, ksize, strides, padding,
                 data_format, name)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling of rank 1, 2 or 3 from the input's rank (`tf.nn.avg_pool`)."""
    input = convert_to_tensor(input)  # noqa: A001
    return _pool("AVG", _rank_n(input), input, ksize, strides, padding,
                 data_format, name)


def pool(input, window_shape, pooling_type, strides=None, padding="VALID",  # noqa: A002
         data_format=None, dilations=None, name=None):
    """N-d max or average pooling, N = 1, 2, 3 (`tf.nn.pool`).

    Args:
      input: `[batch, *spatial, channels]`, or channels first when data_format starts "NC".
      window_shape: N ints.
      pooling_type: 'MAX' or 'AVG'.
      strides: N ints (default 1); strides > 1 and dilations > 1 cannot be combined.
      padding: 'SAME' or 'VALID' (dilations > 1 need VALID, as in TF).
      data_format: None (channels last) or the format string of the rank.
      dilations: N ints (default 1).
      name: unused.

    Returns:
      The pooled tensor.
    """
    window_shape = [int(k) for k in window_shape]
    n = len(window_shape)
    if pooling_type not in ("MAX", "AVG") or n not in conv_ops.FORMATS:
        raise ValueError(f"{n}-D {pooling_type} pooling is not supported.")
    stride = [1] * n if strides is None else [int(s) for s in strides]
    dilation = [1] * n if dilations is None else [int(d) for d in dilations]
    if any(d > 1 for d in dilation):
        if padding == "SAME":
            raise ValueError(f"pooling with 'SAME' padding is not implemented for "
                             f"`dilation_rate` > 1. Received: padding={padding} and "
                             f"dilation_rate={dilation}")
        if any(s > 1 for s in stride):
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate"
                             f" > 1`. Received: strides={stride} and dilation_rate={dilation}")
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    return _pool(pooling_type, n, input, window_shape, stride, padding, data_format, name,
                 dilations=dilation)


def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC",  # noqa: A002
                         output_dtype=dtypes.int64, include_batch_in_index=False, name=None):
    """2-D max pooling that also returns the flat index of each maximum
    (`tf.nn.max_pool_with_argmax`): `(y * width + x) * channels + c`, plus
    `b * height * width * channels` with `include_batch_in_index`.

    Returns:
      A tuple `(output, argmax)`; argmax has dtype `output_dtype`.
    """
    if data_format != "NHWC":
        raise ValueError(f"`data_format` values other  than 'NHWC' are not supported. "
                         f"Received: data_format={data_format}")
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    return execute("MaxPoolWithArgmax", input,
                   ksize=conv_ops.get_sequence(ksize, 2, True, "ksize"),
                   strides=conv_ops.get_sequence(strides, 2, True, "strides"), padding=padding,
                   Targmax=dtypes.as_dtype(output_dtype),
                   include_batch_in_index=bool(include_batch_in_index), name=name)


API = {
    "nn": ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "max_pool", "avg_pool", "pool", "max_pool_with_argmax"],
}
