"""Convolutions: Conv2D/Conv3D, DepthwiseConv2dNative and their input/filter backprops, and the
public `tf.nn` functions built on them (conv1d/2d/3d, convolution, the transposed convolutions,
depthwise, separable and atrous convolutions).

One N-d kernel family serves every rank, grouped convolution and depthwise convolution (a
depthwise conv is a grouped conv with one input channel per group); the geometry and the
im2col/GEMM kernels are in `conv_kernels.py`. Each backprop op's gradient is written with the
other two ops, as in TF, so gradients go to any order.
"""

import functools

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import manip
from ndflow.ops.conv_kernels import (
    FORMATS,
    _dims,
    conv_filter_grad,
    conv_forward,
    conv_geometry,
    conv_input_grad,
    output_shape,
    spatial,
)

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


def _conv(op_type, n, input, filters, strides, padding, data_format, dilations, name,
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


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None,
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


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,
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


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None,
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


def convolution(input, filters, strides=None, padding="VALID", data_format=None,
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


def _transpose(op_type, n, input, filters, output_shape, strides, padding,
               data_format, dilations, name, allow_explicit=True):
    last = _channels_last(data_format)
    padding, explicit = padding_attrs(padding, n, allow_explicit)
    return execute(op_type, _sizes_tensor(output_shape), filters, input,
                   strides=get_sequence(strides, n, last, "strides"), padding=padding,
                   explicit_paddings=explicit, data_format=data_format or FORMATS[n][0],
                   dilations=get_sequence(dilations, n, last, "dilations"), name=name)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",
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


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NDHWC", dilations=None, name=None):
    """The transpose (gradient) of `conv3d` (`tf.nn.conv3d_transpose`)."""
    return _transpose("Conv3DBackpropInputV2", 3, input, filters, output_shape, strides,
                      padding, data_format, dilations, name, allow_explicit=False)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",
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


def conv_transpose(input, filters, output_shape, strides, padding="SAME",
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


def depthwise_conv2d(input, filter, strides, padding, data_format=None,
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


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides,
                                    padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                                    name=None):
    """Gradient of `depthwise_conv2d` with respect to its input."""
    padding, explicit = padding_attrs(padding, 2)
    return execute("DepthwiseConv2dNativeBackpropInput", _sizes_tensor(input_sizes), filter,
                   out_backprop, strides=tuple(strides), padding=padding,
                   explicit_paddings=explicit, data_format=data_format,
                   dilations=tuple(dilations), name=name)


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides,
                                     padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                                     name=None):
    """Gradient of `depthwise_conv2d` with respect to its filter."""
    padding, explicit = padding_attrs(padding, 2)
    return execute("DepthwiseConv2dNativeBackpropFilter", input, _sizes_tensor(filter_sizes),
                   out_backprop, strides=tuple(strides), padding=padding,
                   explicit_paddings=explicit, data_format=data_format,
                   dilations=tuple(dilations), name=name)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,
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
