"""Parsing `tf.train.Example` records into tensors: `parse_example`, `parse_single_example`,
`parse_single_sequence_example`, and the feature configurations they take.

Parsing is an op (`ParseExampleV2`, `ParseSingleSequenceExample`), so it runs inside traced
`Dataset.map` functions and `tf.function`. The feature configuration is a static attribute.
Decoding reads the protobuf wire format straight into NumPy (`_wire.example_features`).
"""

import collections

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.io.codecs import string_input
from ndflow.io.sparse import SparseTensor

_PARSE_DTYPES = (dtypes.float32, dtypes.int64, dtypes.string)
_KIND_OF = {dtypes.float32: "float_list", dtypes.int64: "int64_list",
            dtypes.string: "bytes_list"}
_TYPE_TEXT = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A feature of fixed shape (`tf.io.FixedLenFeature`); missing ones take `default_value`."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A variable number of fixed-shape values (`tf.io.FixedLenSequenceFeature`)."""

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A variable-length feature, parsed to a SparseTensor (`tf.io.VarLenFeature`)."""


def _shape_tuple(shape):
    if shape is None:
        return ()
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) for d in (shape.as_list() if hasattr(shape, "as_list") else shape))


def _config_entry(key, feature):
    """A hashable (key, kind, dtype, shape, default) for one feature."""
    if not isinstance(feature, (FixedLenFeature, FixedLenSequenceFeature, VarLenFeature)):
        raise ValueError(f"parse_example: unsupported feature configuration for {key!r}: "  # noqa: TRY004 - TF's class
                         f"{feature!r}")
    dtype = dtypes.as_dtype(feature.dtype)
    if dtype not in _PARSE_DTYPES:
        raise ValueError(f"parse_example: feature {key!r} has dtype {dtype.name}; expected one "
                         f"of float32, int64 or string")
    if isinstance(feature, VarLenFeature):
        return (key, "var", dtype, None, None)
    shape = _shape_tuple(feature.shape)
    default = feature.default_value
    if default is not None:
        default = np.asarray(default if dtype is not dtypes.string else
                             np.asarray(default, dtype=object), dtype=_np_dtype(dtype))
        if isinstance(feature, FixedLenFeature):
            default = np.broadcast_to(default, shape)
        default = tuple(default.reshape(-1).tolist())
    kind = "fixed" if isinstance(feature, FixedLenFeature) else "sequence"
    if kind == "sequence" and not feature.allow_missing:
        kind = "sequence_required"
    return (key, kind, dtype, shape, default)


def _np_dtype(dtype):
    return object if dtype is dtypes.string else dtype.as_numpy_dtype


def _config(features):
    entries = [_config_entry(k, features[k]) for k in sorted(features)]
    sparse = tuple(e for e in entries if e[1] == "var")
    dense = tuple(e for e in entries if e[1] != "var")
    return sparse, dense


def _values_array(kind, values, dtype):
    if kind == "bytes_list":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    return values.astype(dtype.as_numpy_dtype, copy=False)


def _feature_values(found, key, dtype, index):
    """The values of feature `key` in one example, or None when it is absent."""
    entry = found.get(key)
    if entry is None or entry[0] is None:
        return None
    kind, values = entry
    if kind != _KIND_OF[dtype]:
        raise errors.InvalidArgumentError(
            f"ParseExample: Key: {key}, Index: {index}. Data types don't match. Data type: "
            f"{_TYPE_TEXT[kind]} but expected type: {_TYPE_TEXT[_KIND_OF[dtype]]}")
    return _values_array(kind, values, dtype)


def _dense_value(entry, values, index):
    key, kind, dtype, shape, default = entry
    size = int(np.prod(shape)) if shape else 1
    if values is None:
        if kind == "fixed" and default is None:
            raise errors.InvalidArgumentError(
                f"ParseExample: Feature: {key} (data type: {_TYPE_TEXT[_KIND_OF[dtype]]}) is "
                f"required but could not be found (example {index})")
        if kind == "fixed":
            return np.asarray(default, dtype=_np_dtype(dtype)).reshape(shape)
        return np.zeros((0,) + shape, dtype=_np_dtype(dtype))
    if kind == "fixed":
        if values.size != size:
            raise errors.InvalidArgumentError(
                f"ParseExample: Key: {key}, Index: {index}. Number of "
                f"{_TYPE_TEXT[_KIND_OF[dtype]]} values != expected. Values size: {values.size} "
                f"but output shape: {list(shape)}")
        return values.reshape(shape)
    if size == 0 or values.size % size:
        raise errors.InvalidArgumentError(
            f"ParseExample: Key: {key}, Index: {index}. Number of values is not a multiple of "
            f"stride {size}, got {values.size} values for shape {list(shape)}")
    return values.reshape((-1,) + shape)


def _pad_value(entry):
    dtype, default = entry[2], entry[4]
    if default is not None:
        return default[0]
    return b"" if dtype is dtypes.string else 0


def _stack_dense(entry, rows):
    kind, dtype, shape = entry[1:4]
    if kind == "fixed":
        return np.stack(rows).astype(_np_dtype(dtype), copy=False) if rows else np.zeros(
            (0,) + shape, dtype=_np_dtype(dtype))
    longest = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), longest) + shape, _pad_value(entry), dtype=_np_dtype(dtype))
    for row, value in enumerate(rows):
        out[row, :len(value)] = value
    return out


def _sparse_outputs(rows, dtype):
    """(indices, values, dense_shape) of a batch of variable-length value lists."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    total = int(lengths.sum())
    batch = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    values = np.concatenate(rows) if total else np.zeros(0, dtype=_np_dtype(dtype))
    if dtype is dtypes.string:
        values = np.asarray(values, dtype=object)
    shape = np.array([len(rows), lengths.max() if rows else 0], dtype=np.int64)
    return np.stack([batch, position], axis=1), values.astype(_np_dtype(dtype)), shape


def _parse_batch(serialized, sparse, dense):
    """Lists of per-example values for each sparse and dense feature."""
    from ndflow.io import _wire  # noqa: PLC0415 - keeps this module light to import

    wanted = {e[0] for e in sparse + dense}
    sparse_rows = [[] for _ in sparse]
    dense_rows = [[] for _ in dense]
    for index, record in enumerate(serialized):
        found = _wire.example_features(record, wanted)
        for rows, entry in zip(sparse_rows, sparse):
            values = _feature_values(found, entry[0], entry[2], index)
            rows.append(values if values is not None else _values_array(
                _KIND_OF[entry[2]], np.zeros(0, _np_dtype(entry[2])), entry[2]))
        for rows, entry in zip(dense_rows, dense):
            value = _feature_values(found, entry[0], entry[2], index)
            if value is None and entry[1] == "sequence_required":
                raise errors.InvalidArgumentError(
                    f"ParseExample: Feature: {entry[0]} is required (FixedLenSequenceFeature "
                    f"without allow_missing) but could not be found (example {index})")
            rows.append(_dense_value(entry, value, index))
    return sparse_rows, dense_rows


def _fast_dense(serialized, dense):
    """Batched arrays of fixed-length float/int64 features decoded straight from the packed
    bytes of every record (one join and one frombuffer per feature), or None when any record
    needs the general path (a missing feature, another type or size, an unusual encoding)."""
    from ndflow.io import _wire  # noqa: PLC0415

    if not dense or any(e[1] != "fixed" or e[2] is dtypes.string for e in dense):
        return None
    wanted = {e[0].encode("utf-8") for e in dense}
    same_layout = _same_layout(serialized, dense, wanted)
    if same_layout is not None:
        return same_layout
    payloads = [[] for _ in dense]
    plan = [(column, entry[0].encode("utf-8"), _KIND_OF[entry[2]])
            for column, entry in zip(payloads, dense)]
    decode = _wire.raw_example_features
    for record in serialized:
        found = decode(record, wanted)
        if found is None:
            return None
        for column, key, kind in plan:
            value = found.get(key)
            if value is None or value[0] != kind:
                return None
            column.append(value[1])
    outputs = []
    for column, entry in zip(payloads, dense):
        size = int(np.prod(entry[3])) if entry[3] else 1
        joined = b"".join(column)
        if entry[2] is dtypes.float32:
            if len(joined) != 4 * size * len(column):
                return None
            values = np.frombuffer(joined, dtype="<f4").astype(np.float32)
        else:
            values = _wire.decode_packed_int64(joined)
            if values.size != size * len(column):
                return None
        outputs.append(values.reshape((len(column),) + entry[3]))
    return outputs


def _same_layout(serialized, dense, wanted):
    """The batch parsed as one byte matrix when every record has the first one's layout
    (same length, same bytes outside the wanted values): typical of files written in a loop.
    Each feature is then a column slice, so the batch costs a few NumPy calls."""
    from ndflow.io import _wire  # noqa: PLC0415

    count = len(serialized)
    first = serialized[0] if count > 1 else None
    if first is None or any(len(r) != len(first) for r in serialized):
        return None
    found = _wire.raw_example_features(first, wanted, offsets=True)
    if found is None or len(found) != len(dense):
        return None
    matrix = np.frombuffer(b"".join(serialized), dtype=np.uint8).reshape(count, len(first))
    fixed = np.ones(len(first), dtype=bool)
    columns = []
    for entry in dense:
        kind, span = found[entry[0].encode("utf-8")]
        size = int(np.prod(entry[3])) if entry[3] else 1
        width = size * 4 if entry[2] is dtypes.float32 else size
        if kind != _KIND_OF[entry[2]] or span is None or span[1] - span[0] != width:
            return None
        fixed[span[0]:span[1]] = False
        columns.append((entry, matrix[:, span[0]:span[1]]))
    if not np.array_equal(matrix[:, fixed], np.broadcast_to(matrix[0, fixed], (count,
                                                                                int(fixed.sum())))):
        return None
    outputs = []
    for entry, block in columns:
        if entry[2] is dtypes.float32:
            values = np.ascontiguousarray(block).view("<f4").astype(np.float32, copy=False)
        elif (block >= 0x80).any():
            return None  # multi-byte varints: the per-record path decodes them
        else:
            values = block.astype(np.int64)
        outputs.append(values.reshape((count,) + entry[3]))
    return outputs


@primitive("ParseExampleV2", dtypes={dtypes.string}, same_dtype=False, num_outputs=None)
class ParseExampleV2:
    """Outputs: sparse indices..., sparse values..., sparse shapes..., dense values...

    A scalar `serialized` parses one example (no batch dimension), as parse_single_example.
    """

    def infer(serialized, sparse, dense):
        if serialized.dtype is not dtypes.string:
            raise errors.InvalidArgumentError(
                f"ParseExampleV2: serialized must be a string tensor, got "
                f"{serialized.dtype.name}")
        if serialized.shape is not None and len(serialized.shape) > 1:
            raise errors.InvalidArgumentError(
                f"ParseExampleV2: serialized must be a scalar or a vector, got shape "
                f"{serialized.shape}")
        single = serialized.shape == ()
        batch = () if single else ((serialized.shape or (None,))[0],)
        rank = 1 if single else 2
        outputs = [Spec((None, rank), dtypes.int64) for _ in sparse]
        outputs += [Spec((None,), entry[2]) for entry in sparse]
        outputs += [Spec((rank,), dtypes.int64) for _ in sparse]
        for entry in dense:
            extra = () if entry[1] == "fixed" else (None,)
            outputs.append(Spec(batch + extra + entry[3], entry[2]))
        return tuple(outputs)

    def kernel(xp, serialized, sparse, dense):
        single = serialized.ndim == 0
        records = [serialized[()]] if single else list(serialized)
        fast = None if sparse or single else _fast_dense(records, dense)
        if fast is not None:
            return tuple(fast)
        sparse_rows, dense_rows = _parse_batch(records, sparse, dense)
        triples = [_sparse_outputs(rows, entry[2]) for rows, entry in zip(sparse_rows, sparse)]
        if single:
            triples = [(i[:, 1:], v, s[1:]) for i, v, s in triples]
        outputs = [t[0] for t in triples] + [t[1] for t in triples] + [t[2] for t in triples]
        for rows, entry in zip(dense_rows, dense):
            stacked = _stack_dense(entry, rows)
            outputs.append(stacked[0] if single else stacked)
        return tuple(outputs)


def _pack_parsed(outputs, sparse, dense):
    count = len(sparse)
    result = {}
    for i, entry in enumerate(sparse):
        result[entry[0]] = SparseTensor(outputs[i], outputs[count + i], outputs[2 * count + i])
    for i, entry in enumerate(dense):
        result[entry[0]] = outputs[3 * count + i]
    return result


def parse_example(serialized, features, example_names=None, name=None):
    """Parses a batch of serialized `Example`s into a dict of tensors (`tf.io.parse_example`).

    Args:
      serialized: a vector (or scalar) string tensor of serialized Example protos.
      features: dict from feature key to `FixedLenFeature`, `VarLenFeature` or
        `FixedLenSequenceFeature`.
      example_names: unused (TF uses it in error messages).
      name: op name.

    Returns:
      A dict from key to a dense Tensor or a SparseTensor (VarLenFeature).

    Raises:
      InvalidArgumentError: a required feature is missing, or has the wrong type or size.
    """
    if not features:
        raise ValueError("parse_example: features must be a non-empty dict")
    sparse, dense = _config(features)
    outputs = execute("ParseExampleV2", string_input(serialized), sparse=sparse, dense=dense,
                      name=name)
    return _pack_parsed(outputs, sparse, dense)


def parse_single_example(serialized, features, example_names=None, name=None):
    """Parses one serialized `Example` (`tf.io.parse_single_example`); see parse_example."""
    if not features:
        raise ValueError("parse_single_example: features must be a non-empty dict")
    sparse, dense = _config(features)
    shape = getattr(serialized, "shape", None)
    if shape is not None and len(shape) != 0:
        raise ValueError(f"parse_single_example: serialized must be a scalar, got shape {shape}")
    outputs = execute("ParseExampleV2", string_input(serialized), sparse=sparse, dense=dense,
                      name=name)
    return _pack_parsed(outputs, sparse, dense)


@primitive("ParseSingleSequenceExample", dtypes={dtypes.string}, same_dtype=False,
           num_outputs=None)
class ParseSingleSequenceExample:
    """Outputs: context (sparse triples then dense), then sequence (sparse triples then dense)."""

    def infer(serialized, context_sparse, context_dense, sequence_sparse, sequence_dense):
        if serialized.dtype is not dtypes.string or (serialized.shape not in (None, ())):
            raise errors.InvalidArgumentError(
                f"ParseSingleSequenceExample: serialized must be a string scalar, got "
                f"{serialized.dtype.name} tensor of shape {serialized.shape}")
        outputs = _sparse_specs(context_sparse, 1)
        outputs += [Spec(entry[3], entry[2]) for entry in context_dense]
        outputs += _sparse_specs(sequence_sparse, 2)
        outputs += [Spec((None,) + entry[3], entry[2]) for entry in sequence_dense]
        return tuple(outputs)

    def kernel(xp, serialized, context_sparse, context_dense, sequence_sparse, sequence_dense):
        from ndflow.io import _wire  # noqa: PLC0415

        wanted_context = {e[0] for e in context_sparse + context_dense}
        wanted_lists = {e[0] for e in sequence_sparse + sequence_dense}
        context, lists = _wire.sequence_example_parts(serialized[()], wanted_context,
                                                      wanted_lists)
        outputs = []
        sparse_rows, dense_rows = _rows_from(context, context_sparse, context_dense)
        outputs += _sparse_arrays(sparse_rows, context_sparse, single=True)
        outputs += [_stack_dense(e, [r])[0] for e, r in zip(context_dense, dense_rows)]
        steps = [[_feature_values({k: f}, k, e[2], i) for i, f in enumerate(lists.get(k, []))]
                 for e in sequence_sparse for k in [e[0]]]
        outputs += _sparse_arrays(steps, sequence_sparse, single=False)
        for entry in sequence_dense:
            frames = lists.get(entry[0])
            if frames is None and entry[1] == "sequence_required":
                raise errors.InvalidArgumentError(
                    f"ParseSingleSequenceExample: feature list {entry[0]} is required but "
                    f"could not be found")
            values = [_dense_value((entry[0], "fixed") + entry[2:], _feature_values(
                {entry[0]: f}, entry[0], entry[2], i), i) for i, f in enumerate(frames or [])]
            outputs.append(_stack_dense(("", "fixed") + entry[2:], values))
        return tuple(outputs)


def _sparse_specs(entries, rank):
    return ([Spec((None, rank), dtypes.int64) for _ in entries]
            + [Spec((None,), e[2]) for e in entries]
            + [Spec((rank,), dtypes.int64) for _ in entries])


def _rows_from(found, sparse, dense):
    sparse_rows = [_feature_values(found, e[0], e[2], 0) for e in sparse]
    sparse_rows = [r if r is not None else np.zeros(0, _np_dtype(e[2]))
                   for r, e in zip(sparse_rows, sparse)]
    dense_rows = [_dense_value(e, _feature_values(found, e[0], e[2], 0), 0) for e in dense]
    return sparse_rows, dense_rows


def _sparse_arrays(rows, entries, single):
    triples = []
    for value, entry in zip(rows, entries):
        if single:
            indices, values, shape = _sparse_outputs([value], entry[2])
            triples.append((indices[:, 1:], values, shape[1:]))
        else:
            value = [v if v is not None else np.zeros(0, _np_dtype(entry[2])) for v in value]
            triples.append(_sparse_outputs(value, entry[2]))
    return [t[0] for t in triples] + [t[1] for t in triples] + [t[2] for t in triples]


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized `SequenceExample` (`tf.io.parse_single_sequence_example`).

    Returns:
      (context dict, sequence dict): FixedLenFeature context values, FixedLenSequenceFeature
      sequences of shape [time, ...], and SparseTensors for VarLenFeature.
    """
    context_sparse, context_dense = _config(context_features or {})
    sequence_sparse, sequence_dense = _config(sequence_features or {})
    outputs = execute("ParseSingleSequenceExample", string_input(serialized),
                      context_sparse=context_sparse,
                      context_dense=context_dense, sequence_sparse=sequence_sparse,
                      sequence_dense=sequence_dense, name=name)
    split = 3 * len(context_sparse) + len(context_dense)
    context = _pack_parsed(outputs[:split], context_sparse, context_dense)
    sequence = _pack_parsed(outputs[split:], sequence_sparse, sequence_dense)
    return context, sequence
