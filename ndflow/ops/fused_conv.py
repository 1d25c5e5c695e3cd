"""`_FusedConv2D`: a 2-D convolution with its bias, ReLU and max pooling in one kernel.

The graph pass `passes.fuse_conv_blocks` builds it from Conv2D -> BiasAdd [-> Relu]
[-> MaxPool [-> Relu]] chains whose intermediate results feed nothing else (TF's grappler does
the same for Conv2D + BiasAdd + activation). The kernel works a few images at a time: the patch
matrix, the GEMM result, the bias, the ReLU and the pooling of one chunk stay in cache, and only
the chunk's final result is written out. Measured on the seed CNN's first block at batch 256:
25 ms unfused (a 22 MB activation written, re-read for the bias and again for the pool) against
11 ms fused. In a training graph the activation feeds the pooling gradient too, so only the
convolution and its bias are fused there.

Numbers are the unfused ops' numbers (the ReLU is applied after the pooling when both are
fused: the two commute exactly).
"""

import math

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, primitive
from ndflow.ops import compiled, conv_kernels
from ndflow.ops import pool as pool_ops

_FLOATS = frozenset([dtypes.float32, dtypes.float64])
_CONV_ATTRS = ("strides", "padding", "explicit_paddings", "data_format", "dilations")


def _conv_geometry(x_shape, w_shape, attrs):
    return conv_kernels.conv_geometry("_FusedConv2D", 2, x_shape, w_shape, tuple(attrs["strides"]),
                                  attrs["padding"], tuple(attrs["explicit_paddings"]),
                                  attrs["data_format"], tuple(attrs["dilations"]))


def _pool_geometry(y_shape, pool):
    ksize, strides, padding = pool
    return pool_ops.pool_geometry("_FusedConv2D", 2, y_shape, tuple(ksize), tuple(strides),
                                  padding, (), "NHWC", (1, 1, 1, 1), False)


def _check_format(op_name, data_format):
    if data_format != "NHWC":
        raise errors.InvalidArgumentError(
            f"{op_name}: only NHWC is fused, got data_format={data_format!r}")


def _infer(op_name, x, w, attrs, pool):
    """The fused op's output shape (pooled when `pool`)."""
    _check_format(op_name, attrs["data_format"])
    geo = _conv_geometry(x.shape, w.shape, attrs)
    batch = None if x.shape is None else x.shape[0]
    depth = None if w.shape is None else w.shape[-1]
    shape = conv_kernels.output_shape(geo, batch, depth)
    if pool:
        shape = pool_ops._out_shape(_pool_geometry(shape, pool), shape, 2)
    return shape


def _run(xp, x, w, bias, attrs, relu, pool, with_choice=False):
    """conv + bias [+ relu] [+ max pool], a chunk of images at a time; with `with_choice`
    also each window's first-maximum tap (pool.max_pool_with_choice): returns (out, choice)."""
    geo = _conv_geometry(x.shape, w.shape, attrs)
    if bias.shape != (w.shape[-1],):
        raise errors.InvalidArgumentError(
            f"_FusedConv2D: bias must have shape [{w.shape[-1]}], got {list(bias.shape)}")
    batch, depth = x.shape[0], w.shape[-1]
    positions = math.prod(geo.out)
    conv_shape = (batch, *geo.out, depth)
    pool_geo = _pool_geometry(conv_shape, pool) if pool else None
    out_shape = ((batch, *pool_geo.out, depth) if pool else conv_shape)
    out = xp.empty(out_shape, dtype=x.dtype)
    choice = xp.empty(out_shape, dtype=xp.uint8) if with_choice else None
    if out.size == 0:
        return (out, choice) if with_choice else out
    matrix = w.reshape(-1, depth)
    per_image = positions * (matrix.shape[0] + depth) * x.dtype.itemsize
    chunks = conv_kernels._batch_chunks(batch, per_image)
    # one compiled pass for bias, pooling (and choice) and ReLU, when the windows allow it
    compiled_kernels = None
    if pool and x.dtype.kind == "f" and pool_ops.routes_by_choice(pool_geo, geo.out):
        compiled_kernels = compiled.kernels(xp)

    def run_chunk(number, matmul):
        start, stop = chunks[number]
        cols = conv_kernels._im2col(xp, x[start:stop], geo)
        if pool:
            target = xp.empty((cols.shape[0], depth), dtype=out.dtype)
        else:
            target = out[start:stop].reshape(-1, depth)
        matmul(cols, matrix, out=target)
        if pool and compiled_kernels is not None:
            images = target.reshape(stop - start, *geo.out, depth)
            # the compiled pooling always writes the choices (to scratch when not kept)
            chosen = (choice[start:stop] if with_choice else
                      xp.empty((stop - start, *out_shape[1:]), dtype=xp.uint8))
            compiled_kernels.bias_max_pool(images, bias, *pool_geo.window, *pool_geo.strides,
                                           relu, out[start:stop], chosen)
            return
        target += bias
        if pool:
            images = target.reshape(stop - start, *geo.out, depth)
            chunk_geo = _pool_geometry(images.shape, pool)
            if with_choice:
                pooled, choice[start:stop] = pool_ops.max_pool_with_choice(xp, images, chunk_geo)
            else:
                pooled = pool_ops.max_pool_kernel(xp, images, chunk_geo)
            if relu:
                xp.maximum(pooled, 0, out=pooled)
            out[start:stop] = pooled
        elif relu:
            xp.maximum(target, 0, out=target)

    conv_kernels.run_chunks(xp, run_chunk, len(chunks))
    return (out, choice) if with_choice else out


@primitive("_FusedConv2D", dtypes=_FLOATS)
class FusedConv2D:
    """conv2d(x, w) + bias, then ReLU when `relu`, then max pooling when `pool` is
    (ksize, strides, padding) (channels-last only)."""

    fresh_output = True

    def infer(x, w, bias, strides, padding, explicit_paddings, data_format, dilations, relu,
              pool):
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                     data_format=data_format, dilations=dilations)
        return Spec(_infer("_FusedConv2D", x, w, attrs, pool), x.dtype)

    def kernel(xp, x, w, bias, strides, padding, explicit_paddings, data_format, dilations,
               relu, pool):
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                     data_format=data_format, dilations=dilations)
        return _run(xp, x, w, bias, attrs, relu, pool)


@primitive("_FusedConv2DWithChoice", dtypes=_FLOATS, num_outputs=2)
class FusedConv2DWithChoice:
    """The training form of a fused conv -> bias -> max pool [-> ReLU] block: the pooled
    output and, for `_MaxPoolGradByChoice`, each window's first-maximum tap (uint8), so the
    unpooled activation is never written out nor read back (`pool` must satisfy
    pool.routes_by_choice)."""

    fresh_output = True

    def infer(x, w, bias, strides, padding, explicit_paddings, data_format, dilations, relu,
              pool):
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                     data_format=data_format, dilations=dilations)
        shape = _infer("_FusedConv2DWithChoice", x, w, attrs, pool)
        return Spec(shape, x.dtype), Spec(shape, dtypes.uint8)

    def kernel(xp, x, w, bias, strides, padding, explicit_paddings, data_format, dilations,
               relu, pool):
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                     data_format=data_format, dilations=dilations)
        return _run(xp, x, w, bias, attrs, relu, pool, with_choice=True)
