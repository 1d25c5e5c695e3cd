"""Convolutions: Conv2D/Conv3D, DepthwiseConv2dNative and their input/filter backprops, and the
public `tf.nn` functions built on them (conv1d/2d/3d, convolution, the transposed convolutions,
depthwise, separable and atrous convolutions).

One N-d kernel family serves every rank, grouped convolution and depthwise convolution (a
depthwise conv is a grouped conv with one input channel per group). The forward pass is im2col
(a strided view copied once into a (positions, taps*channels) matrix) and one float32 GEMM; the
filter gradient is the transposed GEMM; the input gradient is a GEMM followed by col2im, a loop
over kernel taps only. Each backprop op's gradient is written with the other two ops, as in TF,
so gradients go to any order. Padding arithmetic (SAME/VALID/explicit) is TF's and is shared
with pooling (`pool.py`).
"""

import functools
import itertools
import math

from ndflow.framework import dtypes, errors, parallel
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import manip

FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


# --- geometry: TF's padding arithmetic, shared with pool.py ----------------------------------

def output_size(op_name, size, window, stride, dilation, padding, pad_pair):
    """TF's output size and (before, after) padding for one spatial dim; None when unknown."""
    effective = (window - 1) * dilation + 1
    if size is None:
        return None, None
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + effective - size, 0)
        return out, (total // 2, total - total // 2)
    before, after = pad_pair if padding == "EXPLICIT" else (0, 0)
    out = (size + before + after - effective + stride) // stride
    if out < 0:
        raise errors.InvalidArgumentError(
            f"{op_name}: the window must fit in the padded input, got computed output size "
            f"{out} [input_size: {size}, effective_filter_size: {effective}, stride: {stride}]")
    return out, (before, after)


def check_format(op_name, data_format, n):
    """True for channels-last formats; raises for a format the rank does not have."""
    if data_format not in FORMATS[n]:
        raise errors.InvalidArgumentError(
            f"{op_name}: data_format must be one of {', '.join(FORMATS[n])}, got {data_format!r}")
    return data_format[-1] == "C"


def spatial(values, channels_last):
    """The spatial entries of a full-rank attribute list (strides, ksize, dilations)."""
    return tuple(values[1:-1]) if channels_last else tuple(values[2:])


def check_window_attr(op_name, attr, values, n, channels_last, what="strides"):
    """Validates a full-length (n + 2) attribute such as strides or dilations."""
    if len(values) != n + 2:
        raise errors.InvalidArgumentError(
            f"{op_name}: {attr} must specify {n + 2} dimensions, got {list(values)}")
    if any(v <= 0 for v in values):
        raise errors.InvalidArgumentError(
            f"{op_name}: {attr} must be larger than 0, got {list(values)}")
    outer = (values[0], values[-1]) if channels_last else (values[0], values[1])
    if outer != (1, 1):
        raise errors.UnimplementedError(
            f"{op_name}: {what} in the batch and depth dimensions are not supported, got "
            f"{attr}={list(values)}")
    return spatial(values, channels_last)


def check_padding(op_name, padding, explicit_paddings, n, channels_last, allow_explicit):
    """Validates padding attrs; returns the spatial (before, after) pairs for EXPLICIT."""
    allowed = ("SAME", "VALID", "EXPLICIT") if allow_explicit else ("SAME", "VALID")
    if padding not in allowed:
        raise errors.InvalidArgumentError(
            f"{op_name}: padding must be one of {', '.join(allowed)}, got {padding!r}")
    if padding != "EXPLICIT":
        return (None,) * n
    pads = list(explicit_paddings)
    if len(pads) != 2 * (n + 2):
        raise errors.InvalidArgumentError(
            f"{op_name}: explicit_paddings must have {2 * (n + 2)} values, got {pads}")
    if any(p < 0 for p in pads):
        raise errors.InvalidArgumentError(
            f"{op_name}: all explicit_paddings must be nonnegative, got {pads}")
    pairs = [tuple(pads[2 * i:2 * i + 2]) for i in range(n + 2)]
    outer = (pairs[0], pairs[-1]) if channels_last else (pairs[0], pairs[1])
    if outer != ((0, 0), (0, 0)):
        raise errors.InvalidArgumentError(
            f"{op_name}: nonzero explicit padding in the batch or depth dimensions is not "
            f"supported, got {pads}")
    return spatial(pairs, channels_last)


def _dims(shape, rank):
    return (None,) * rank if shape is None else tuple(shape)


class Geometry:
    """Static layout of one convolution, in channels-last terms (spatial lists have n entries)."""

    __slots__ = ("channels_last", "strides", "dilations", "window", "pads", "out", "groups")

    def __init__(self, channels_last, strides, dilations, window, pads, out, groups):
        self.channels_last = channels_last
        self.strides = strides
        self.dilations = dilations
        self.window = window
        self.pads = pads
        self.out = out
        self.groups = groups


@functools.lru_cache(maxsize=1024)
def conv_geometry(op_name, n, x_shape, w_shape, strides, padding, explicit_paddings, data_format,
                  dilations, depthwise=False):
    """Validates a convolution's shapes and attrs (TF's checks and error classes) and returns
    its Geometry. Shapes are tuples with None for unknown dims; the filter is in TF's layout."""
    x_shape, w_shape = _dims(x_shape, n + 2), _dims(w_shape, n + 2)
    for what, shape in (("input", x_shape), ("filter", w_shape)):
        if len(shape) != n + 2:
            raise errors.InvalidArgumentError(
                f"{op_name}: {what} must be {n + 2}-dimensional, got shape {list(shape)}")
    last = check_format(op_name, data_format, n)
    stride = check_window_attr(op_name, "strides", strides, n, last)
    dilation = check_window_attr(op_name, "dilations", dilations, n, last, "dilations")
    pairs = check_padding(op_name, padding, explicit_paddings, n, last, n == 2)
    if depthwise and stride[0] != stride[1]:
        raise errors.InvalidArgumentError(
            f"{op_name}: only equal strides in the row and column dimensions are supported, "
            f"got strides={list(strides)}")
    channels = x_shape[-1] if last else x_shape[1]
    in_depth, out_depth = w_shape[-2], w_shape[-1]
    if depthwise:
        groups = channels
        if None not in (channels, in_depth) and channels != in_depth:
            raise errors.InvalidArgumentError(
                f"{op_name}: input and filter must have the same depth, got input shape "
                f"{list(x_shape)} and filter shape {list(w_shape)}")
    else:
        groups = None if None in (channels, in_depth) or in_depth == 0 else channels // in_depth
        if groups is not None and (channels % in_depth or groups == 0):
            raise errors.InvalidArgumentError(
                f"{op_name}: input depth must be evenly divisible by filter depth, got input "
                f"shape {list(x_shape)} and filter shape {list(w_shape)}")
        if groups is not None and out_depth is not None and out_depth % groups:
            raise errors.InvalidArgumentError(
                f"{op_name}: output depth must be evenly divisible by the number of groups "
                f"{groups}, got input shape {list(x_shape)} and filter shape {list(w_shape)}")
    sizes = x_shape[1:-1] if last else x_shape[2:]
    out, pads = [], []
    for i in range(n):
        window = w_shape[i]
        if window is None:
            out.append(None)
            pads.append(None)
            continue
        size, pad = output_size(op_name, sizes[i], window, stride[i], dilation[i], padding,
                                pairs[i])
        out.append(size)
        pads.append(pad)
    return Geometry(last, stride, dilation, tuple(w_shape[:n]), tuple(pads), tuple(out), groups)


def output_shape(geo, batch, channels):
    if geo.channels_last:
        return (batch, *geo.out, channels)
    return (batch, channels, *geo.out)


# --- kernels (xp arrays, channels-last inside) -----------------------------------------------

def _compute_type(xp, dtype):
    """float16/bfloat16 compute in float32: NumPy has no half-precision BLAS (50x slower)."""
    return xp.float32 if dtype.itemsize == 2 and dtype.kind in "fV" else dtype


def _to_last(xp, x, channels_last):
    return x if channels_last else xp.moveaxis(x, 1, -1)


def _from_last(xp, y, channels_last):
    return y if channels_last else xp.ascontiguousarray(xp.moveaxis(y, -1, 1))


def _padded(xp, x, pads):
    if all(p == (0, 0) for p in pads):
        return x
    return xp.pad(x, [(0, 0), *pads, (0, 0)])


def windows(xp, x, window, strides, dilations, out):
    """Strided view (N, *out, *window, C) of a padded channels-last array: no copy."""
    n = len(window)
    step = x.strides
    shape = (x.shape[0], *out, *window, x.shape[-1])
    strides_ = (step[0], *(step[1 + i] * strides[i] for i in range(n)),
                *(step[1 + i] * dilations[i] for i in range(n)), step[-1])
    return xp.lib.stride_tricks.as_strided(x, shape, strides_, writeable=False)


@functools.lru_cache(maxsize=256)
def tap_slices(window, strides, dilations, out):
    """(tap, index) pairs: the slice of the padded input that each window tap reads (cached:
    the same geometry recurs every step)."""
    pairs = []
    for tap in itertools.product(*(range(k) for k in window)):
        index = tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                      for t, d, s, o in zip(tap, dilations, strides, out))
        pairs.append((tap, (slice(None), *index)))
    return tuple(pairs)


def _im2col(xp, x, geo):
    """(N * positions, taps * C) patch matrix of channels-last x: the one im2col copy."""
    x = _padded(xp, x, geo.pads)
    rows = x.shape[0] * math.prod(geo.out)
    cols = math.prod(geo.window) * x.shape[-1]
    if x.shape[-1] > 4 or rows == 0:
        view = windows(xp, x, geo.window, geo.strides, geo.dilations, geo.out)
        return view.reshape(rows, cols)
    # Few channels: one copy per tap is 3x faster than copying the 6-D view (measured on
    # 64x28x28x1, 3x3); with 32 channels it is 5x slower.
    patches = xp.empty((x.shape[0], *geo.out, *geo.window, x.shape[-1]), dtype=x.dtype)
    lead = (slice(None),) * (1 + len(geo.out))
    for tap, index in tap_slices(geo.window, geo.strides, geo.dilations, geo.out):
        patches[lead + tap] = x[index]
    return patches.reshape(rows, cols)


def _filter_matrix(w, groups):
    """TF filter (*window, Cg, O) -> (taps * Cg, O), or (G, taps * Cg, O / G) when grouped."""
    out_depth = w.shape[-1]
    taps = math.prod(w.shape[:-2])
    matrix = w.reshape(taps * w.shape[-2], out_depth)
    if groups == 1:
        return matrix
    in_depth = w.shape[-2]
    per_group = out_depth // groups
    return (w.reshape(taps, in_depth, groups, per_group).transpose(2, 0, 1, 3)
            .reshape(groups, taps * in_depth, per_group))


def _group_cols(cols, groups, in_depth):
    rows = cols.shape[0]
    taps = cols.shape[1] // (groups * in_depth)
    return (cols.reshape(rows, taps, groups, in_depth).transpose(2, 0, 1, 3)
            .reshape(groups, rows, taps * in_depth))


_CHUNK_BYTES = 2 << 20  # patch matrices are built and used this many bytes at a time


def _batch_chunks(batch, bytes_per_image):
    """[start, stop) ranges of images whose patch matrix stays in cache between the im2col
    copy and the GEMM that reads it (a 64-image conv2 of the seed CNN: 9 MB in 5 chunks)."""
    size = max(1, _CHUNK_BYTES // max(bytes_per_image, 1))
    return [(start, min(batch, start + size)) for start in range(0, batch, size)]


def conv_forward(xp, x, w, geo):
    """The convolution itself: im2col and one GEMM (a batched GEMM per group when grouped)."""
    dtype = x.dtype
    work = _compute_type(xp, dtype)
    x = _to_last(xp, x, geo.channels_last).astype(work, copy=False)
    w = w.astype(work, copy=False)
    batch, out_depth = x.shape[0], w.shape[-1]
    groups = geo.groups or 1
    positions = math.prod(geo.out)
    chunks = _batch_chunks(batch, positions * math.prod(geo.window) * x.shape[-1] *
                           x.dtype.itemsize)
    if groups == 1 and len(chunks) > 1:
        matrix = _filter_matrix(w, 1)
        result = xp.empty((batch * positions, out_depth), dtype=xp.result_type(x, w))
        for start, stop in chunks:
            parallel.matmul(xp, _im2col(xp, x[start:stop], geo), matrix,
                            out=result[start * positions:stop * positions])
    elif groups == 1:
        result = parallel.matmul(xp, _im2col(xp, x, geo), _filter_matrix(w, 1))
    else:
        cols = _im2col(xp, x, geo)
        grouped = xp.matmul(_group_cols(cols, groups, w.shape[-2]), _filter_matrix(w, groups))
        result = grouped.transpose(1, 0, 2).reshape(cols.shape[0], out_depth)
    result = result.reshape(batch, *geo.out, out_depth).astype(dtype, copy=False)
    return _from_last(xp, result, geo.channels_last)


def conv_input_grad(xp, x_shape, w, dy, geo):
    """d(conv)/d(input): a GEMM of dy with the filter, then col2im (a loop over taps only)."""
    dtype = dy.dtype
    work = _compute_type(xp, dtype)
    dy = _to_last(xp, dy, geo.channels_last).astype(work, copy=False)
    w = w.astype(work, copy=False)
    last = x_shape if geo.channels_last else (x_shape[0], *x_shape[2:], x_shape[1])
    padded = [size + sum(pad) for size, pad in zip(last[1:-1], geo.pads)]
    dx = xp.zeros((last[0], *padded, last[-1]), dtype=work)
    rows = dy.shape[0] * math.prod(geo.out)
    if rows and last[-1] and dy.shape[-1]:
        dy2 = dy.reshape(rows, dy.shape[-1])
        groups = geo.groups or 1
        taps = math.prod(geo.window)
        slices = tap_slices(geo.window, geo.strides, geo.dilations, geo.out)
        if groups == 1:
            # One product per tap, added into dx while it is still in cache (measured 1.2x
            # faster than one batched product of every tap, 1.6x than a (rows, taps * C)
            # product sliced per tap).
            w_taps = w.reshape(taps, w.shape[-2], w.shape[-1]).transpose(0, 2, 1)
            for number, (_, index) in enumerate(slices):
                dx[index] += parallel.matmul(xp, dy2, w_taps[number]).reshape(
                    dy.shape[0], *geo.out, last[-1])
        else:
            dyg = dy2.reshape(rows, groups, dy.shape[-1] // groups).transpose(1, 0, 2)
            dcols = xp.matmul(dyg, _filter_matrix(w, groups).transpose(0, 2, 1))
            dcols = dcols.reshape(groups, rows, taps, w.shape[-2]).transpose(1, 2, 0, 3)
            blocks = xp.moveaxis(dcols.reshape(dy.shape[0], *geo.out, taps, last[-1]), -2, 0)
            for number, (_, index) in enumerate(slices):
                dx[index] += blocks[number]
    crop = tuple(slice(pad[0], pad[0] + size) for pad, size in zip(geo.pads, last[1:-1]))
    dx = dx[(slice(None), *crop)].astype(dtype, copy=False)
    return _from_last(xp, dx, geo.channels_last)


def conv_filter_grad(xp, x, w_shape, dy, geo):
    """d(conv)/d(filter): the patch matrix transposed times dy (one GEMM)."""
    dtype = dy.dtype
    work = _compute_type(xp, dtype)
    x = _to_last(xp, x, geo.channels_last).astype(work, copy=False)
    dy = _to_last(xp, dy, geo.channels_last).astype(work, copy=False)
    groups = geo.groups or 1
    positions = math.prod(geo.out)
    dy2 = dy.reshape(x.shape[0] * positions, dy.shape[-1])
    chunks = _batch_chunks(x.shape[0], positions * math.prod(geo.window) * x.shape[-1] *
                           x.dtype.itemsize)
    if groups == 1:
        dw = None
        for start, stop in chunks:  # partial products over a few images at a time, summed
            part = parallel.matmul(xp, _im2col(xp, x[start:stop], geo).T,
                                   dy2[start * positions:stop * positions])
            if dw is None:
                dw = part
            else:
                dw += part
        if dw is None:
            dw = xp.zeros((math.prod(geo.window) * x.shape[-1], dy.shape[-1]), dtype=work)
    else:
        cols = _im2col(xp, x, geo)
        in_depth = w_shape[-2]
        per_group = dy.shape[-1] // groups
        dyg = dy2.reshape(cols.shape[0], groups, per_group).transpose(1, 0, 2)
        dw = xp.matmul(_group_cols(cols, groups, in_depth).transpose(0, 2, 1), dyg)
        taps = math.prod(geo.window)
        dw = dw.reshape(groups, taps, in_depth, per_group).transpose(1, 2, 0, 3)
    return xp.ascontiguousarray(dw.reshape(w_shape)).astype(dtype, copy=False)


# --- primitives: one family per rank (and one for depthwise) ---------------------------------

_ATTRS = ("strides", "padding", "explicit_paddings", "data_format", "dilations")


def _attrs(op):
    return {name: op.get_attr(name) for name in _ATTRS}


def _sizes_shape(sizes, n, dy_shape, w_shape, channels_last):
    """The full input shape from an input_sizes vector; a spatial-only vector (allowed by TF)
    takes the batch from out_backprop and the depth from the filter."""
    if sizes is None or len(sizes) != n:
        return None if sizes is None else tuple(sizes)
    batch = None if dy_shape is None else dy_shape[0]
    channels = None if w_shape is None else w_shape[-2]
    return (batch, *sizes, channels) if channels_last else (batch, channels, *sizes)


def _sizes_value(spec, n):
    """Static shape tuple (None dims) from a shape-vector Spec, or None when not even the
    length is known."""
    if spec.value is not None:
        return tuple(None if int(d) < 0 else int(d) for d in spec.value.reshape(-1))
    if spec.shape is not None and len(spec.shape) == 1 and spec.shape[0] is not None:
        return (None,) * spec.shape[0]
    return None


def _check_out_backprop(op_name, geo, dy_shape, x_shape, w_shape, channels):
    """TF's check that out_backprop has the shape the forward op would have produced."""
    if dy_shape is None:
        return
    expected = output_shape(geo, x_shape[0] if x_shape else None, channels)
    if len(dy_shape) != len(expected) or any(
            a is not None and b is not None and a != b for a, b in zip(dy_shape, expected)):
        raise errors.InvalidArgumentError(
            f"{op_name}: out_backprop must have the forward output shape "
            f"{[None if d is None else d for d in expected]}, got {list(dy_shape)} (input "
            f"shape {None if x_shape is None else list(x_shape)}, filter shape "
            f"{None if w_shape is None else list(w_shape)})")


def _internal_filter(w, depthwise):
    """Depthwise filter (*window, C, multiplier) as a grouped filter (*window, 1, C * mult)."""
    if not depthwise:
        return w
    return w.reshape(*w.shape[:-2], 1, w.shape[-2] * w.shape[-1])


def _out_depth(w_shape, depthwise):
    if w_shape is None:
        return None
    if depthwise:
        return None if None in w_shape[-2:] else w_shape[-2] * w_shape[-1]
    return w_shape[-1]


def _register_family(n, names, forward_dtypes, filter_dtypes, depthwise=False):
    """Registers the forward, input-backprop and filter-backprop ops of one family."""
    forward, backprop_input, backprop_filter = names

    def geometry(name, x_shape, w_shape, attrs):
        return conv_geometry(name, n, x_shape, w_shape, tuple(attrs["strides"]),
                             attrs["padding"], tuple(attrs["explicit_paddings"]),
                             attrs["data_format"], tuple(attrs["dilations"]), depthwise)

    @primitive(forward, dtypes=forward_dtypes)
    class Forward:
        fresh_output = True  # a new GEMM result: the executor may add bias/relu into it

        def infer(x, w, **attrs):
            geo = geometry(forward, x.shape, w.shape, attrs)
            batch = None if x.shape is None else x.shape[0]
            return Spec(output_shape(geo, batch, _out_depth(w.shape, depthwise)), x.dtype)

        def kernel(xp, x, w, **attrs):
            geo = geometry(forward, x.shape, w.shape, attrs)
            return conv_forward(xp, x, _internal_filter(w, depthwise), geo)

        def grad(op, dy):
            x, w = op.inputs
            attrs = _attrs(op)
            return [execute(backprop_input, array_ops.shape_of(x), w, dy, **attrs),
                    execute(backprop_filter, x, array_ops.shape_of(w), dy, **attrs)]

    @primitive(backprop_input, dtypes=forward_dtypes, same_dtype=(1, 2),
               input_dtypes={0: dtypes.int32})
    class BackpropInput:
        fresh_output = True  # a crop of a new array

        def infer(sizes, w, dy, **attrs):
            last = attrs["data_format"][-1] == "C"
            x_shape = _sizes_shape(_sizes_value(sizes, n), n, dy.shape, w.shape, last)
            geo = geometry(backprop_input, x_shape, w.shape, attrs)
            x_shape = _dims(x_shape, n + 2)
            _check_out_backprop(backprop_input, geo, dy.shape, x_shape, w.shape,
                                _out_depth(w.shape, depthwise))
            return Spec(x_shape, w.dtype)

        def kernel(xp, sizes, w, dy, **attrs):
            last = attrs["data_format"][-1] == "C"
            x_shape = _sizes_shape(sizes.tolist(), n, dy.shape, w.shape, last)
            geo = geometry(backprop_input, x_shape, w.shape, attrs)
            _check_out_backprop(backprop_input, geo, dy.shape, x_shape, w.shape,
                                _out_depth(w.shape, depthwise))
            return conv_input_grad(xp, x_shape, _internal_filter(w, depthwise), dy, geo)

        def grad(op, dx):
            sizes, w, dy = op.inputs
            attrs = _attrs(op)
            return [None, execute(backprop_filter, dx, array_ops.shape_of(w), dy, **attrs),
                    execute(forward, dx, w, **attrs)]

    @primitive(backprop_filter, dtypes=filter_dtypes, same_dtype=(0, 2),
               input_dtypes={1: dtypes.int32})
    class BackpropFilter:
        def infer(x, sizes, dy, **attrs):
            w_shape = _sizes_value(sizes, n)
            geo = geometry(backprop_filter, x.shape, w_shape, attrs)
            _check_out_backprop(backprop_filter, geo, dy.shape, _dims(x.shape, n + 2), w_shape,
                                _out_depth(w_shape, depthwise))
            return Spec(_dims(w_shape, n + 2), x.dtype)

        def kernel(xp, x, sizes, dy, **attrs):
            w_shape = tuple(sizes.tolist())
            geo = geometry(backprop_filter, x.shape, w_shape, attrs)
            _check_out_backprop(backprop_filter, geo, dy.shape, x.shape, w_shape,
                                _out_depth(w_shape, depthwise))
            internal = w_shape[:-2] + (1, w_shape[-2] * w_shape[-1]) if depthwise else w_shape
            return conv_filter_grad(xp, x, internal, dy, geo).reshape(w_shape)

        def grad(op, dw):
            x, sizes, dy = op.inputs
            attrs = _attrs(op)
            return [execute(backprop_input, array_ops.shape_of(x), dw, dy, **attrs), None,
                    execute(forward, x, dw, **attrs)]


_HALF_UP = dtypes.FLOATS
_register_family(2, ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"),
                 _HALF_UP | {dtypes.int32}, _HALF_UP)
_register_family(3, ("Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"), _HALF_UP,
                 _HALF_UP)
_register_family(2, ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                     "DepthwiseConv2dNativeBackpropFilter"), _HALF_UP, _HALF_UP, depthwise=True)


# --- public functions ------------------------------------------------------------------------

def get_sequence(value, n, channels_last, name):
    """TF's `_get_sequence`: an int or a list of 1, n or n + 2 ints -> the full n + 2 tuple."""
    if isinstance(value, Tensor):
        value = value.numpy().tolist()
    try:
        return _sequence(tuple(value) if isinstance(value, list) else value, n,
                         channels_last, name)
    except (TypeError, ValueError):  # unhashable (an array), or an error to report as given
        return _sequence.__wrapped__(value, n, channels_last, name)


@functools.lru_cache(maxsize=256)
def _sequence(value, n, channels_last, name):
    """get_sequence on a hashable value (a layer passes the same strides every call)."""
    if value is None:
        return (1,) * (n + 2)
    values = [int(value)] if isinstance(value, int) else [int(v) for v in value]
    if len(values) == n + 2:
        return tuple(values)
    if len(values) == 1:
        values = values * n
    elif len(values) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: "
                         f"{name}={value} of length {len(values)}")
    return (1, *values, 1) if channels_last else (1, 1, *values)


def padding_attrs(padding, n, allow_explicit=True):
    """A padding argument -> (padding string, explicit_paddings tuple), as TF converts it."""
    if isinstance(padding, str):
        return padding, ()
    if not allow_explicit or not isinstance(padding, (list, tuple)):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    if len(padding) != n + 2:
        raise ValueError(f"When padding is a list, it must be of size {n + 2}. Received: "
                         f"padding={padding} of size {len(padding)}")
    flat = []
    for pair in padding:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"When padding is a list, each element must be a list of 2 "
                             f"integers. Received: padding={padding}")
        flat.extend(int(p) for p in pair)
    return "EXPLICIT", tuple(flat)


def _channels_last(data_format):
    return data_format is None or not data_format.startswith("NC")


def _conv(op_type, n, input, filters, strides, padding, data_format, dilations, name,  # noqa: A002
          allow_explicit=True):
    last = _channels_last(data_format)
    padding, explicit = padding_attrs(padding, n, allow_explicit)
    return execute(op_type, input, filters, strides=get_sequence(strides, n, last, "strides"),
                   padding=padding, explicit_paddings=explicit,
                   data_format=data_format or FORMATS[n][0],
                   dilations=get_sequence(dilations, n, last, "dilations"), name=name)


def _one_d_format(data_format):
    if data_format in (None, "NWC", "NHWC"):
        return "NHWC", 1
    if data_format in ("NCW", "NCHW"):
        return "NCHW", 2
    raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format="
                     f"{data_format}")


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None,  # noqa: A002
           name=None):
    """1-D convolution, computed as a 2-D one over a unit height (`tf.nn.conv1d`).

    Args:
      input: `[batch, in_width, in_channels]` (NWC) or `[batch, in_channels, in_width]` (NCW).
      filters: `[filter_width, in_channels, out_channels]`.
      stride: an int or a list of 1 or 3 ints.
      padding: 'SAME' or 'VALID'.
      data_format: 'NWC' or 'NCW'.
      dilations: an int or a list of 1 or 3 ints.
      name: unused.

    Returns:
      The convolution, in `data_format`.
    """
    data_format, axis = _one_d_format(data_format)
    last = data_format == "NHWC"
    strides = (1, *get_sequence(stride, 1, last, "stride"))
    dilations = (1, *get_sequence(dilations, 1, last, "dilations"))
    padding, explicit = padding_attrs(padding, 1, allow_explicit=False)
    result = execute("Conv2D", manip.expand_dims(input, axis), manip.expand_dims(filters, 0),
                     strides=strides, padding=padding, explicit_paddings=explicit,
                     data_format=data_format, dilations=dilations, name=name)
    return manip.squeeze(result, [axis])


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None):
    """2-D convolution (`tf.nn.conv2d`); grouped when in_channels is a multiple of the
    filter's depth.

    Args:
      input: `[batch, height, width, channels]` (NHWC) or `[batch, channels, height, width]`.
      filters: `[filter_height, filter_width, in_channels / groups, out_channels]`.
      strides: an int or a list of 1, 2 or 4 ints.
      padding: 'SAME', 'VALID', or a list of 4 `[before, after]` pairs in `data_format` order.
      data_format: 'NHWC' or 'NCHW'.
      dilations: an int or a list of 1, 2 or 4 ints.
      name: unused.

    Returns:
      The convolution, in `data_format`. SAME pads `max((out - 1) * stride + (k - 1) *
      dilation + 1 - in, 0)` in total, the odd one after (bottom/right), as TF does.

    Raises:
      InvalidArgumentError: bad ranks, channels, strides, dilations or padding.
    """
    return _conv("Conv2D", 2, input, filters, strides, padding, data_format, dilations, name)


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None,  # noqa: A002
           name=None):
    """3-D convolution (`tf.nn.conv3d`).

    Args:
      input: `[batch, depth, height, width, channels]` (NDHWC) or NCDHW.
      filters: `[d, h, w, in_channels / groups, out_channels]`.
      strides: a list of 5 ints (1, 3 or an int are accepted too).
      padding: 'SAME' or 'VALID'.
      data_format: 'NDHWC' or 'NCDHW'.
      dilations: a list of 5 ints, default 1.
      name: unused.

    Returns:
      The convolution, in `data_format`.
    """
    return _conv("Conv3D", 3, input, filters, strides, padding, data_format, dilations, name,
                 allow_explicit=False)


def convolution(input, filters, strides=None, padding="VALID", data_format=None,  # noqa: A002
                dilations=None, name=None):
    """N-d convolution for N = 1, 2, 3, from the filter's rank (`tf.nn.convolution`).

    Args:
      input: `[batch, *spatial, channels]`, or channels first when data_format starts "NC".
      filters: `[*window, in_channels, out_channels]`.
      strides: an int or N ints; strides > 1 and dilations > 1 cannot be combined.
      padding: 'SAME' or 'VALID'.
      data_format: None (channels last) or the format string of the rank.
      dilations: an int or N ints.
      name: unused.

    Returns:
      The convolution.
    """
    filters = convert_to_tensor(filters)
    rank = filters.shape.rank
    n = rank - 2 if rank is not None else convert_to_tensor(input).shape.rank - 2
    if n not in FORMATS:
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5 (N = 1, 2, 3 spatial dims). "
                         f"Received: filters.shape={filters.shape}")
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    last = _channels_last(data_format)
    stride = spatial(get_sequence(strides, n, last, "strides"), last)
    dilation = spatial(get_sequence(dilations, n, last, "dilations"), last)
    if any(s > 1 for s in stride) and any(d > 1 for d in dilation):
        raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`."
                         f" Received: strides={list(stride)} and dilation_rate={list(dilation)}")
    data_format = data_format or FORMATS[n][0]
    if n == 1:
        return conv1d(input, filters, stride, padding, data_format, dilation, name)
    op_type = "Conv2D" if n == 2 else "Conv3D"
    return _conv(op_type, n, input, filters, stride, padding, data_format, dilation, name)


def _sizes_tensor(output_shape):
    if isinstance(output_shape, Tensor):
        return output_shape
    return convert_to_tensor(list(output_shape), dtype_hint=dtypes.int32)


def _transpose(op_type, n, input, filters, output_shape, strides, padding,  # noqa: A002
               data_format, dilations, name, allow_explicit=True):
    last = _channels_last(data_format)
    padding, explicit = padding_attrs(padding, n, allow_explicit)
    return execute(op_type, _sizes_tensor(output_shape), filters, input,
                   strides=get_sequence(strides, n, last, "strides"), padding=padding,
                   explicit_paddings=explicit, data_format=data_format or FORMATS[n][0],
                   dilations=get_sequence(dilations, n, last, "dilations"), name=name)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None):
    """The transpose (gradient) of `conv2d` (`tf.nn.conv2d_transpose`).

    Args:
      input: `[batch, height, width, in_channels]` (or NCHW).
      filters: `[filter_height, filter_width, output_channels, in_channels]`.
      output_shape: the 4-element shape of the result (a list or a 1-D int tensor).
      strides, padding, data_format, dilations: as in `conv2d`.
      name: unused.

    Returns:
      A tensor of `output_shape`.
    """
    return _transpose("Conv2DBackpropInput", 2, input, filters, output_shape, strides, padding,
                      data_format, dilations, name)


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NDHWC", dilations=None, name=None):
    """The transpose (gradient) of `conv3d` (`tf.nn.conv3d_transpose`)."""
    return _transpose("Conv3DBackpropInputV2", 3, input, filters, output_shape, strides,
                      padding, data_format, dilations, name, allow_explicit=False)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NWC", dilations=None, name=None):
    """The transpose (gradient) of `conv1d` (`tf.nn.conv1d_transpose`)."""
    data_format, axis = _one_d_format(data_format)
    last = data_format == "NHWC"
    if isinstance(output_shape, Tensor):
        shape = manip.concat([output_shape[:axis], [1], output_shape[axis:]], 0)
    else:
        shape = list(output_shape)
        shape.insert(axis, 1)
    padding, explicit = padding_attrs(padding, 1, allow_explicit=False)
    result = execute("Conv2DBackpropInput", _sizes_tensor(shape), manip.expand_dims(filters, 0),
                     manip.expand_dims(input, axis),
                     strides=(1, *get_sequence(strides, 1, last, "strides")), padding=padding,
                     explicit_paddings=explicit, data_format=data_format,
                     dilations=(1, *get_sequence(dilations, 1, last, "dilations")), name=name)
    return manip.squeeze(result, [axis])


def conv_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                   data_format=None, dilations=None, name=None):
    """The transpose of `convolution` for N = 1, 2, 3 (`tf.nn.conv_transpose`)."""
    if isinstance(output_shape, Tensor):
        n = output_shape.shape[0] - 2
    else:
        n = len(output_shape) - 2
    if n not in FORMATS:
        raise ValueError(f"output_shape must have length 3, 4, or 5. Received: output_shape="
                         f"{output_shape}")
    functions = {1: conv1d_transpose, 2: conv2d_transpose, 3: conv3d_transpose}
    return functions[n](input, filters, output_shape, strides, padding,
                        data_format or FORMATS[n][0], dilations, name)


def depthwise_conv2d(input, filter, strides, padding, data_format=None,  # noqa: A002
                     dilations=None, name=None):
    """Depthwise 2-D convolution: each input channel convolved with its own `channel_multiplier`
    filters (`tf.nn.depthwise_conv2d`).

    Args:
      input: 4-D, NHWC (default) or NCHW.
      filter: `[filter_height, filter_width, in_channels, channel_multiplier]`.
      strides: 4 ints; the row and column strides must be equal.
      padding: 'SAME', 'VALID' or a list of 4 `[before, after]` pairs.
      data_format: 'NHWC' or 'NCHW'.
      dilations: 2 ints (the rate).
      name: unused.

    Returns:
      `in_channels * channel_multiplier` channels, channel `c * multiplier + m` first by c.
    """
    last = _channels_last(data_format)
    padding, explicit = padding_attrs(padding, 2)
    strides = tuple(int(s) for s in strides)
    return execute("DepthwiseConv2dNative", input, filter, strides=strides, padding=padding,
                   explicit_paddings=explicit, data_format=data_format or "NHWC",
                   dilations=get_sequence(dilations, 2, last, "dilations"), name=name)


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides,  # noqa: A002
                                    padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                                    name=None):
    """Gradient of `depthwise_conv2d` with respect to its input."""
    padding, explicit = padding_attrs(padding, 2)
    return execute("DepthwiseConv2dNativeBackpropInput", _sizes_tensor(input_sizes), filter,
                   out_backprop, strides=tuple(strides), padding=padding,
                   explicit_paddings=explicit, data_format=data_format,
                   dilations=tuple(dilations), name=name)


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides,  # noqa: A002
                                     padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                                     name=None):
    """Gradient of `depthwise_conv2d` with respect to its filter."""
    padding, explicit = padding_attrs(padding, 2)
    return execute("DepthwiseConv2dNativeBackpropFilter", input, _sizes_tensor(filter_sizes),
                   out_backprop, strides=tuple(strides), padding=padding,
                   explicit_paddings=explicit, data_format=data_format,
                   dilations=tuple(dilations), name=name)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     data_format=None, dilations=None, name=None):
    """A depthwise convolution followed by a 1x1 convolution (`tf.nn.separable_conv2d`)."""
    depthwise = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format,
                                 dilations)
    return conv2d(depthwise, pointwise_filter, 1, "VALID", data_format or "NHWC", name=name)


def _rate(rate):
    if int(rate) < 1:
        raise ValueError(f"all values of `dilation_rate` must be positive. Received: "
                         f"dilation_rate={[rate, rate]}")
    return int(rate)


def atrous_conv2d(value, filters, rate, padding, name=None):
    """2-D convolution with holes: `conv2d` with dilation `rate` (`tf.nn.atrous_conv2d`)."""
    return conv2d(value, filters, 1, padding, dilations=_rate(rate), name=name)


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None):
    """The transpose of `atrous_conv2d` (`tf.nn.atrous_conv2d_transpose`)."""
    return conv2d_transpose(value, filters, output_shape, 1, padding, dilations=_rate(rate),
                            name=name)


API = {
    "nn": ["conv1d", "conv2d", "conv3d", "convolution", "conv1d_transpose", "conv2d_transpose",
           "conv3d_transpose", "conv_transpose", "depthwise_conv2d",
           "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter",
           "separable_conv2d", "atrous_conv2d", "atrous_conv2d_transpose"],
}
