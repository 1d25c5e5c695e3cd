"""`tf.print`: the stateful `PrintV2` op and TF's tensor text format.

The format follows TF's C++ `SummarizeValue` for print_v2: `[1 2 3]`, nested brackets with one
newline per inner rank, and `...` in place of all but the first and last `summarize` entries of
each dimension. Floats print with 6 significant digits when that round-trips (9 for float32,
17 for float64 when it does not), bools as 1/0, strings quoted.
"""

import logging as _pylogging
import sys
import uuid

import numpy as np

from ndflow.framework import context, dtypes
from ndflow.framework.op_registry import execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.util import nest

_IMPORT_STDOUT, _IMPORT_STDERR = sys.stdout, sys.stderr  # the signature default's identity
_STREAMS = ("stdout", "stderr", "log(info)", "log(warning)", "log(error)")


def _format_element(value, kind):
    if kind == "b":
        return "1" if value else "0"
    if kind in "iu":
        return str(int(value))
    if kind == "f16":
        return _float_text(float(value), np.float32, 6, 9)
    if kind == "f64":
        return _float_text(float(value), np.float64, 15, 17)
    if kind == "c":
        return str(complex(value))
    if isinstance(value, bytes):
        return '"' + value.decode("utf-8", "backslashreplace") + '"'
    return f'"{value}"'


def _float_text(value, numpy_type, short, long):
    text = f"{value:.{short}g}"
    if np.isfinite(value) and numpy_type(float(text)) != numpy_type(value):
        text = f"{value:.{long}g}"
    return text


def _kind(array):
    kind = array.dtype.kind
    if kind == "f" or array.dtype.name == "bfloat16":
        return "f64" if array.dtype == np.float64 else "f16"
    if kind == "V":  # ml_dtypes types other than bfloat16 report kind 'V'
        return "f16"
    return kind if kind in "biuc" else "O"


def format_value(array, summarize=3):
    """TF's print_v2 text of an array: `[1 2 ... 9]`, summarised to `summarize` entries at
    each end of every dimension (-1 prints everything)."""
    array = np.asarray(array)
    if array.dtype.name == "bfloat16" or array.dtype.kind == "V":
        array = array.astype(np.float32)
    limit = array.size if summarize is None or summarize < 0 else min(summarize, array.size)
    kind = _kind(array)
    if array.ndim == 0:
        return _format_element(array[()], kind) if limit else ""
    parts = []
    _format_dim(array, 0, array.ndim, limit, kind, parts)
    return "".join(parts)


def _spacing(dim, rank):
    if dim == rank - 1:
        return " "
    return "\n" * (rank - dim - 1) + " " * (dim + 1)


def _format_dim(array, dim, rank, ends, kind, parts):
    """TF's PrintOneDimV2: the first and last `ends` entries of each dimension."""
    if dim == rank:
        parts.append(_format_element(array[()], kind))
        return
    parts.append("[")
    count = array.shape[0]
    for i in range(min(ends, count)):
        if i > 0:
            parts.append(_spacing(dim, rank))
        _format_dim(array[i, ...], dim + 1, rank, ends, kind, parts)
    if count > 2 * ends:
        parts.append(_spacing(dim, rank))
        parts.append("...")
    for i in range(max(ends, count - ends), count):
        parts.append(_spacing(dim, rank))
        _format_dim(array[i, ...], dim + 1, rank, ends, kind, parts)
    parts.append("]")


def _host(xp, array):
    return np.asarray(xp.asnumpy(array) if hasattr(xp, "asnumpy") else array)


def _write(stream, text):
    if stream == "stdout":
        sys.stdout.write(text)
        sys.stdout.flush()
    elif stream == "stderr":
        sys.stderr.write(text)
        sys.stderr.flush()
    elif isinstance(stream, str) and stream.startswith("log("):
        level = getattr(_pylogging, stream[4:-1].upper())
        _pylogging.getLogger("ndflow").log(level, text.rstrip("\n"))
    elif isinstance(stream, str):
        with open(stream[len("file://"):], "a", encoding="utf-8") as handle:
            handle.write(text)
    else:
        stream.write(text)


@primitive("PrintV2", dtypes=None, same_dtype=False, num_outputs=0, stateful=True)
class PrintV2:
    """Writes the template `pieces` with each input's text between them, then `end`."""

    def infer(*inputs, pieces, output_stream, summarize, end):
        return ()

    def kernel(xp, *inputs, pieces, output_stream, summarize, end):
        texts = [format_value(_host(xp, value), summarize) for value in inputs]
        body = pieces[0] + "".join(t + p for t, p in zip(texts, pieces[1:]))
        _write(output_stream, body + end)
        return ()


def _stream_name(output_stream):
    if any(output_stream is s for s in (sys.stdout, sys.__stdout__, _IMPORT_STDOUT)):
        return "stdout"
    if any(output_stream is s for s in (sys.stderr, sys.__stderr__, _IMPORT_STDERR)):
        return "stderr"
    if isinstance(output_stream, str):
        if output_stream in _STREAMS or output_stream.startswith("file://"):
            return output_stream
        raise ValueError(f"print: output_stream must be sys.stdout, sys.stderr, one of "
                         f"{list(_STREAMS)} or a 'file://' path, got {output_stream!r}")
    if hasattr(output_stream, "write"):
        return output_stream
    raise ValueError(f"print: output_stream must be sys.stdout, sys.stderr, a log level or a "
                     f"'file://' path, got {output_stream!r}")


class _Token:
    """Stands for a tensor in the printed structure; its repr is a unique marker."""

    def __init__(self, marker):
        self.marker = marker

    def __repr__(self):
        return self.marker


def _is_tensor_like(value):
    return isinstance(value, Tensor) or getattr(value, "_is_ndflow_variable", False)


def _template(inputs, sep):
    """Splits the printed text into literal pieces around the tensors; returns (pieces,
    tensors)."""
    marker = f"\x00{uuid.uuid4().hex}\x00"
    tensors = []
    texts = []
    for value in inputs:
        if isinstance(value, str):
            texts.append(value)
            continue
        if _is_tensor_like(value):
            tensors.append(convert_to_tensor(value))
            texts.append(marker)
            continue
        flat = nest.flatten(value)
        leaves = []
        for leaf in flat:
            if _is_tensor_like(leaf):
                tensors.append(convert_to_tensor(leaf))
                leaves.append(_Token(marker))
            else:
                leaves.append(leaf)
        texts.append(str(nest.pack_sequence_as(value, leaves)) if flat else str(value))
    return tuple(sep.join(texts).split(marker)), tensors


def print(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\n",
          name=None):
    """Prints tensors and Python values (`tf.print`), when the op runs.

    Eagerly it prints at once; inside `tf.function` it prints every time the function runs,
    in program order. Tensors print in TF's format (`[1 2 3]`, `...` beyond `summarize`
    entries at each end of a dimension; `summarize=-1` prints all).

    Args:
      *inputs: tensors, Python values, or nested structures of them.
      output_stream: sys.stderr (default), sys.stdout, 'log(info)', 'log(warning)',
        'log(error)' or 'file://<path>' (appended to).
      summarize: entries printed at each end of every dimension.
      sep: text between inputs.
      end: text after the last input.
      name: name for the op.

    Returns:
      None eagerly; the PrintV2 operation inside a graph.
    """
    stream = _stream_name(output_stream)
    pieces, tensors = _template(inputs, sep)
    summarize = -1 if summarize is None else int(summarize)
    execute("PrintV2", *tensors, pieces=pieces, output_stream=stream, summarize=summarize,
            end=end, name=name)
    graph = context.state.graph
    return graph._operations[-1] if graph is not None else None


API = {"": ["print"]}

__all__ = ["dtypes", "format_value", "print"]
