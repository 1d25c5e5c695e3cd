"""A small protobuf wire-format codec: just what `tf.train.Example` and friends need.

Varints, length-delimited fields, packed float32 and int64 lists. Decoding works on
`memoryview`s and returns offsets, so parsing an Example copies nothing until a value is read;
packed numbers become NumPy arrays in one call (`np.frombuffer` for floats, a vectorised varint
decoder for int64), which is what keeps `parse_example` off a per-number Python loop.
"""

import struct

import numpy as np

from ndflow.framework import errors

VARINT, FIXED64, DELIMITED, FIXED32 = 0, 1, 2, 5
_MASK64 = (1 << 64) - 1


def encode_varint(value):
    """Bytes of one varint; negative int64 values take ten bytes (two's complement)."""
    value &= _MASK64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(number, wire_type):
    return encode_varint((number << 3) | wire_type)


def delimited(number, payload):
    """A length-delimited field: tag, length, payload."""
    return b"".join((tag(number, DELIMITED), encode_varint(len(payload)), payload))


def decode_varint(buffer, position):
    """(value, next position) of the varint at `position` of a bytes/memoryview."""
    result = 0
    shift = 0
    while True:
        try:
            byte = buffer[position]
        except IndexError:
            raise errors.DataLossError("protobuf: truncated varint") from None
        result |= (byte & 0x7F) << shift
        position += 1
        if byte < 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise errors.DataLossError("protobuf: varint longer than 10 bytes")


def fields(buffer, start=0, end=None):
    """Yields (field number, wire type, value) for a message; DELIMITED values are
    (start, end) offsets into `buffer`, others are integers."""
    position = start
    end = len(buffer) if end is None else end
    while position < end:
        key, position = decode_varint(buffer, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, position = decode_varint(buffer, position)
        elif wire_type == DELIMITED:
            length, position = decode_varint(buffer, position)
            value = (position, position + length)
            position += length
        elif wire_type == FIXED32:
            value = struct.unpack_from("<I", buffer, position)[0]
            position += 4
        elif wire_type == FIXED64:
            value = struct.unpack_from("<Q", buffer, position)[0]
            position += 8
        else:
            raise errors.DataLossError(f"protobuf: unsupported wire type {wire_type}")
        if position > end:
            raise errors.DataLossError("protobuf: a field runs past the end of its message")
        yield number, wire_type, value


def to_int64(value):
    """A decoded unsigned varint as a signed int64."""
    return value - (1 << 64) if value >= 1 << 63 else value


def encode_packed_int64(values):
    array = np.asarray(values, dtype=np.int64).reshape(-1)
    if array.size and array.min() >= 0 and array.max() < 0x80:
        return array.astype(np.uint8).tobytes()
    return b"".join(encode_varint(int(v)) for v in array)


def decode_packed_int64(data):
    """int64 array of the varints in `data` (bytes-like), vectorised."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    more = raw >= 0x80
    if not more.any():
        return raw.astype(np.int64)
    if more[-1]:
        raise errors.DataLossError("protobuf: truncated packed varint list")
    ends = np.flatnonzero(~more)
    starts = np.concatenate(([0], ends[:-1] + 1))
    index = np.arange(raw.size)
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    shift = ((index - starts[group]) * 7).astype(np.uint64)
    pieces = (raw & 0x7F).astype(np.uint64) << shift
    values = np.zeros(ends.size, dtype=np.uint64)
    np.bitwise_or.at(values, group, pieces)
    return values.view(np.int64)


def encode_packed_float(values):
    return np.asarray(values, dtype="<f4").reshape(-1).tobytes()


def decode_packed_float(data):
    if len(data) % 4:
        raise errors.DataLossError("protobuf: packed float list length is not a multiple of 4")
    return np.frombuffer(data, dtype="<f4")


# --- Example features, read straight from the wire (parse_example's fast path) ---------------

BYTES, FLOAT, INT64 = "bytes_list", "float_list", "int64_list"
_KINDS = {1: BYTES, 2: FLOAT, 3: INT64}


def _list_values(buffer, start, end, kind):
    """The values of one BytesList/FloatList/Int64List message."""
    if kind == BYTES:
        return [bytes(buffer[s:e]) for number, _, (s, e) in fields(buffer, start, end)
                if number == 1]
    chunks = []
    for number, wire_type, value in fields(buffer, start, end):
        if number != 1:
            continue
        if wire_type == DELIMITED:
            data = buffer[value[0]:value[1]]
            chunks.append(decode_packed_float(data) if kind == FLOAT
                          else decode_packed_int64(data))
        elif kind == FLOAT:
            chunks.append(np.array([value], dtype=np.uint32).view(np.float32))
        else:
            chunks.append(np.array([to_int64(value)], dtype=np.int64))
    if len(chunks) == 1:
        return chunks[0]
    dtype = np.float32 if kind == FLOAT else np.int64
    return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype=dtype)


def decode_feature(buffer, start, end):
    """(kind, values) of a Feature message; kind is None for an empty Feature."""
    kind, values = None, None
    for number, _, value in fields(buffer, start, end):
        if number in _KINDS:
            kind = _KINDS[number]
            values = _list_values(buffer, value[0], value[1], kind)
    return kind, values


def decode_feature_map(buffer, start, end, wanted=None):
    """{key: (start, end) of the Feature} of a Features message (map field 1)."""
    found = {}
    for number, _, (entry_start, entry_end) in fields(buffer, start, end):
        if number != 1:
            continue
        key, value = None, (0, 0)
        for entry_number, _, entry_value in fields(buffer, entry_start, entry_end):
            if entry_number == 1:
                key = bytes(buffer[entry_value[0]:entry_value[1]]).decode("utf-8")
            elif entry_number == 2:
                value = entry_value
        if wanted is None or key in wanted:
            found[key] = value
    return found


def example_features(serialized, wanted=None):
    """{key: (kind, values)} of a serialized Example (only the `wanted` keys if given)."""
    buffer = memoryview(serialized)
    result = {}
    for number, _, (start, end) in fields(buffer):
        if number == 1:
            for key, (f_start, f_end) in decode_feature_map(buffer, start, end, wanted).items():
                result[key] = decode_feature(buffer, f_start, f_end)
    return result


def sequence_example_parts(serialized, context_keys=None, sequence_keys=None):
    """(context {key: (kind, values)}, feature lists {key: [(kind, values), ...]})."""
    buffer = memoryview(serialized)
    context, lists = {}, {}
    for number, _, (start, end) in fields(buffer):
        if number == 1:
            for key, (f_start, f_end) in decode_feature_map(buffer, start, end,
                                                            context_keys).items():
                context[key] = decode_feature(buffer, f_start, f_end)
        elif number == 2:
            for key, (l_start, l_end) in decode_feature_map(buffer, start, end,
                                                            sequence_keys).items():
                lists[key] = [decode_feature(buffer, s, e)
                              for n, _, (s, e) in fields(buffer, l_start, l_end) if n == 1]
    return context, lists


def _varint_at(buffer, position):
    """decode_varint with the one-byte case inline (most tags and lengths)."""
    byte = buffer[position]
    if byte < 0x80:
        return byte, position + 1
    return decode_varint(buffer, position)


def raw_example_features(serialized, wanted, offsets=False):
    """{key: (kind, payload)} for the `wanted` keys (bytes) of a serialized Example; payload is
    the packed bytes of a FloatList/Int64List or the list of BytesList values; None when the
    record uses an encoding this fast path does not take (unpacked numbers, repeated fields),
    so the caller falls back to `example_features`. With `offsets`, numeric payloads are
    (start, end) positions instead of bytes. One-byte varints are decoded inline: this loop is
    parse_example's per-record cost."""
    buffer = serialized
    size = len(buffer)
    found = {}
    position = 0
    while position < size:
        key = buffer[position]
        if key & 7 != DELIMITED or key >= 0x80:
            return None
        length, position = _varint_at(buffer, position + 1)
        end = position + length
        if key != 0x0A:
            position = end
            continue
        while position < end:  # map entries of Features
            if buffer[position] != 0x0A:
                return None
            entry_length = buffer[position + 1]
            if entry_length < 0x80:
                position += 2
            else:
                entry_length, position = decode_varint(buffer, position + 1)
            entry_end = position + entry_length
            if buffer[position] != 0x0A:
                return None
            key_length = buffer[position + 1]
            if key_length >= 0x80:
                return None
            key_start = position + 2
            position = key_start + key_length
            name = buffer[key_start:position]
            if name in wanted:
                if position == entry_end:
                    found[name] = (None, None)
                elif buffer[position] != 0x12:
                    return None
                else:
                    value = _raw_feature(buffer, position, entry_end, offsets)
                    if value is False:
                        return None
                    found[name] = value
            position = entry_end
        position = end
    return found


def _raw_feature(buffer, position, end, offsets=False):
    """(kind, payload) of the Feature value of one map entry at `position`."""
    _, position = _varint_at(buffer, position + 1)
    if position == end:
        return (None, None)
    kind_tag = buffer[position]
    kind = _KINDS.get(kind_tag >> 3)
    if kind is None or kind_tag & 7 != DELIMITED:
        return False
    list_length, position = _varint_at(buffer, position + 1)
    list_end = position + list_length
    if kind == BYTES:
        values = []
        while position < list_end:
            if buffer[position] != 0x0A:
                return False
            value_length, position = _varint_at(buffer, position + 1)
            values.append(buffer[position:position + value_length])
            position += value_length
        return kind, values
    if position == list_end:
        return kind, (position, position) if offsets else b""
    if buffer[position] != 0x0A:
        return False
    packed_length, position = _varint_at(buffer, position + 1)
    if position + packed_length != list_end:
        return False
    return kind, (position, list_end) if offsets else buffer[position:list_end]
