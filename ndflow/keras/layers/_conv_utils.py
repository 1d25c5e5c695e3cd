"""Argument checks shared by the convolution, pooling and reshaping layers: Keras' tuple,
padding and data-format normalisation, and shape arithmetic that works with unknown dims."""

import numpy as np

from ndflow.ops import array as array_ops
from ndflow.ops import manip
from ndflow.variables import Variable


def standardize_tuple(value, n, name, allow_zero=False):
    """An int or n ints -> a tuple of n non-negative (positive unless allow_zero) ints."""
    if isinstance(value, (int, np.integer)):
        result = (int(value),) * n
    else:
        try:
            result = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            result = None
        if result is None or len(result) != n or any(
                not isinstance(v, (int, np.integer)) for v in value):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value}")
    lowest = 0 if allow_zero else 1
    if any(v < lowest for v in result):
        which = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers {which}. "
                         f"Received {name}={value}")
    return result


def standardize_padding(padding, allow_causal=False):
    if isinstance(padding, (tuple, list)):
        return padding
    value = str(padding).lower()
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    if value not in allowed:
        raise ValueError(f"The `padding` argument must be a list/tuple or one of "
                         f"{sorted(allowed)}. Received: {padding}")
    return value


def standardize_data_format(data_format):
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return value


_TF_FORMATS = {}  # (data_format, n) -> format string: layers ask on every call


def tf_format(data_format, n):
    """Keras' data_format -> TF's format string for n spatial dims (NWC, NCHW, ...)."""
    try:
        return _TF_FORMATS[data_format, n]
    except KeyError:
        spatial = "DHW"[3 - n:] if n > 1 else "W"
        result = f"N{spatial}C" if data_format == "channels_last" else f"NC{spatial}"
        _TF_FORMATS[data_format, n] = result
        return result


def spatial_dims(shape, data_format):
    shape = tuple(shape)
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def with_spatial(batch, spatial, channels, data_format):
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def shape_text(shape):
    dims = ["None" if d is None else str(d) for d in tuple(shape)]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def conv_output_length(size, window, padding, stride, dilation=1):
    """Output length of a convolution/pooling window; None when the input length is."""
    if size is None:
        return None
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return -(-size // stride)
    if padding == "causal":
        return -(-size // stride)
    return (size - effective) // stride + 1


def runtime_shape(inputs, static):
    """`static` (ints, None for unknown) as a shape the ops accept: a list of ints when all are
    known, else an int32 vector filling the unknown dims from `ndflow.shape(inputs)`."""
    if None not in static:
        return list(static)
    dynamic = array_ops.shape(inputs)
    parts = [dynamic[i] if d is None else array_ops.constant(d, dtype="int32")
             for i, d in enumerate(static)]
    return manip.stack(parts)


def dim_value(inputs, axis):
    """Static size of `axis` if known, else its size as a scalar int32 tensor."""
    static = inputs.shape.as_list()[axis]
    return static if static is not None else array_ops.shape(inputs)[axis]


def serialize_or_none(serialize, value):
    return None if value is None else serialize(value)


def cast_like(variable, inputs):
    """A weight in the inputs' dtype (mixed precision computes in float16 on float32 weights)."""
    if variable.dtype is inputs.dtype:
        return variable
    return array_ops.cast(variable, inputs.dtype)


def read_like(weight, inputs):
    """`cast_like` read now, for an op called right away: the variable read is the one the op
    would do, and eager ops then get a tensor (their fast path) instead of a Variable."""
    if weight.dtype is not inputs.dtype:
        return array_ops.cast(weight, inputs.dtype)
    return weight.value() if isinstance(weight, Variable) else weight


def stack_shape(parts):
    """A shape from ints and scalar int32 tensors: a list when all are ints, else a vector."""
    if all(isinstance(p, (int, np.integer)) for p in parts):
        return [int(p) for p in parts]
    return manip.stack([array_ops.cast(p, "int32") if not isinstance(p, (int, np.integer))
                        else array_ops.constant(int(p), dtype="int32") for p in parts])


def refine_shape(tensor, static):
    """Gives a traced tensor the static shape Keras knows (ops fed run-time shapes lose it)."""
    if hasattr(tensor, "set_shape") and not tensor.shape.is_fully_defined():
        tensor.set_shape(static)
    return tensor
