"""Convolution geometry and kernels, shared by the convolution ops (`conv.py`), pooling
(`pool.py`) and the fused conv block (`fused_conv.py`).

Geometry is TF's padding arithmetic (SAME/VALID/explicit output sizes and pads). The kernels
work on xp arrays, channels-last inside: the forward pass is im2col (a strided view copied into
a (positions, taps*channels) matrix, a few images at a time so it is still in cache for the
GEMM that reads it) and one float32 GEMM; the filter gradient is the transposed GEMM; the input
gradient is one GEMM per filter tap added into the (padded) input gradient. Grouped and
depthwise convolutions are batched GEMMs over the groups.
"""

import functools
import itertools
import math

from ndflow.framework import errors, parallel
from ndflow.ops import compiled

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


def _batch_chunks(batch, bytes_per_image, minimum=1):
    """[start, stop) ranges of images whose patch matrix stays in cache between the im2col
    copy and the GEMM that reads it (a 64-image conv2 of the seed CNN: 9 MB in 5 chunks), and
    at least `minimum` ranges when the batch allows (work for every thread)."""
    size = max(1, min(_CHUNK_BYTES // max(bytes_per_image, 1), -(-batch // minimum)))
    return [(start, min(batch, start + size)) for start in range(0, batch, size)]


def run_chunks(xp, run_chunk, count):
    """Calls `run_chunk(number, matmul)` for every chunk: on ndflow's threads when it owns them
    (whole chunks per thread, so the copies and compiled passes run in parallel too, each
    chunk's product on one BLAS thread), else in order with products that may split."""
    if parallel.threads() > 1 and count > 1:
        parallel.run_blocks(lambda number: run_chunk(number, xp.matmul), count)
        return

    def matmul(a, b, out=None):
        return parallel.matmul(xp, a, b, out=out)

    for number in range(count):
        run_chunk(number, matmul)


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
    compiled_kernels = compiled.kernels(xp) if len(geo.out) == 2 and geo.groups == 1 else None
    if compiled_kernels is not None and work.kind == "f" and math.prod(last) and dy.size:
        dx = _input_grad_by_chunks(xp, compiled_kernels, last, w, dy, geo)
        return _from_last(xp, dx.astype(dtype, copy=False), geo.channels_last)
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


def _input_grad_by_chunks(xp, compiled_kernels, last, w, dy, geo):
    """2-D input gradient, a few images at a time: one GEMM of dy with the whole filter
    (rows x taps * C, in cache), then the compiled col2im adds the taps into dx in one pass.
    1.2x faster than a product per tap added into dx (seed CNN conv2, one or two threads)."""
    taps, in_depth, out_depth = math.prod(geo.window), last[-1], dy.shape[-1]
    matrix = xp.ascontiguousarray(w.reshape(taps * in_depth, out_depth).T)
    positions = math.prod(geo.out)
    dx = xp.empty(last, dtype=matrix.dtype)
    chunks = _batch_chunks(last[0], positions * (taps * in_depth + out_depth) *
                           matrix.dtype.itemsize)
    (pad_top, _), (pad_left, _) = geo.pads

    def run_chunk(number, matmul):
        start, stop = chunks[number]
        cols = xp.empty(((stop - start) * positions, taps * in_depth), dtype=matrix.dtype)
        matmul(dy[start:stop].reshape(-1, out_depth), matrix, out=cols)
        compiled_kernels.col2im(cols.reshape(stop - start, *geo.out, taps, in_depth),
                                *geo.window, *geo.strides, *geo.dilations, pad_top, pad_left,
                                dx[start:stop])

    run_chunks(xp, run_chunk, len(chunks))
    return dx


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
                           x.dtype.itemsize, minimum=4)
    if groups == 1:
        # partial products over a few images at a time, summed in chunk order (the same bits
        # whether the chunks ran on one thread or several); on ndflow's threads each chunk's
        # im2col runs in parallel too, and a product with few outputs and a long inner
        # dimension (the first layer's: 9 x 43,264 x 32) still splits
        partials = [None] * len(chunks)

        def run_chunk(number, matmul):
            start, stop = chunks[number]
            partials[number] = matmul(_im2col(xp, x[start:stop], geo).T,
                                      dy2[start * positions:stop * positions])

        run_chunks(xp, run_chunk, len(chunks))
        dw = partials[0] if partials else None
        for part in partials[1:]:
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
