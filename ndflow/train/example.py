"""`tf.train.Example` and its parts as small Python classes over a protobuf wire codec.

`Example`, `SequenceExample`, `Features`, `FeatureLists`, `FeatureList`, `Feature`,
`BytesList`, `FloatList` and `Int64List` behave like the generated protobuf classes for the
uses TF programs make of them: keyword construction, attribute access, auto-created map entries
(`features.feature["x"]`), `value.append/extend`, `WhichOneof`, `HasField`, `CopyFrom`,
`SerializeToString`/`FromString`/`ParseFromString`, equality and text format. The bytes are
protobuf's wire format, so TF reads them and they read TF's. Map entries are written in
insertion order; TF's upb writes them in hash order, which parses to the same message.
"""

import numpy as np

from ndflow.io import _wire

_REPEATED = ("bytes", "float", "int64")


def _as_bytes(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, np.bytes_):
        return bytes(value)
    raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: bytes")


def _as_float(value):
    return float(np.float32(value))


def _as_int(value):
    if isinstance(value, (float, np.floating)) and value != int(value):
        raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: int")
    result = int(value)
    if not -(1 << 63) <= result < 1 << 63:
        raise ValueError(f"Value out of range: {result}")
    return result


_CONVERT = {"bytes": _as_bytes, "float": _as_float, "int64": _as_int}


class RepeatedScalarContainer(list):
    """A repeated scalar field: a list that converts what is added to the field's type."""

    def __init__(self, kind, values=()):
        self._convert = _CONVERT[kind]
        super().__init__(self._convert(v) for v in _iterate(values))

    def append(self, value):
        super().append(self._convert(value))

    def extend(self, values):
        super().extend(self._convert(v) for v in _iterate(values))

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            super().__setitem__(index, [self._convert(v) for v in value])
        else:
            super().__setitem__(index, self._convert(value))


def _iterate(values):
    if isinstance(values, np.ndarray):
        return values.reshape(-1).tolist()
    if hasattr(values, "numpy"):
        return np.asarray(values.numpy()).reshape(-1).tolist()
    return values


class RepeatedCompositeContainer(list):
    """A repeated message field: `add(**fields)` appends a new message."""

    def __init__(self, message_class, values=()):
        self._class = message_class
        super().__init__(_coerce(message_class, v) for v in values)

    def add(self, **kwargs):
        message = self._class(**kwargs)
        self.append(message)
        return message


class MessageMap(dict):
    """A map<string, Message> field: reading a missing key creates an empty message."""

    def __init__(self, message_class, values=None):
        super().__init__()
        self._class = message_class
        for key, value in (values or {}).items():
            self[key] = _coerce(message_class, value)

    def __missing__(self, key):
        message = self._class()
        self[key] = message
        return message

    def get_or_create(self, key):
        return self[key]


def _coerce(message_class, value):
    if isinstance(value, message_class):
        return value
    if isinstance(value, dict):
        return message_class(**value)
    raise TypeError(f"expected a {message_class.__name__}, got {type(value).__name__}")


class _Message:
    """Base of the message classes; `_FIELDS` is name -> (number, kind, message class)."""

    _FIELDS = {}
    _ONEOF = ()

    def __init__(self, **kwargs):
        self._values = {}
        for name, value in kwargs.items():
            if name not in self._FIELDS:
                raise ValueError(f'Protocol message {type(self).__name__} has no "{name}" field.')
            if value is not None:
                self._assign(name, value)

    def _assign(self, name, value):
        _, kind, message_class = self._FIELDS[name]
        if kind in _REPEATED:
            self._values[name] = RepeatedScalarContainer(kind, value)
        elif kind == "map":
            self._values[name] = MessageMap(message_class, value)
        elif kind == "repeated":
            self._values[name] = RepeatedCompositeContainer(message_class, value)
        else:
            if name in self._ONEOF:
                for other in self._ONEOF:
                    self._values.pop(other, None)
            self._values[name] = _coerce(message_class, value).__copy__()

    def _default(self, name):
        _, kind, message_class = self._FIELDS[name]
        if kind in _REPEATED:
            return RepeatedScalarContainer(kind)
        if kind == "map":
            return MessageMap(message_class)
        if kind == "repeated":
            return RepeatedCompositeContainer(message_class)
        return message_class()

    def __getattr__(self, name):
        fields = type(self)._FIELDS
        if name.startswith("_") or name not in fields:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        values = self.__dict__["_values"]
        if name not in values:
            if name in self._ONEOF and any(o in values for o in self._ONEOF):
                return self._default(name)  # reading another oneof member changes nothing
            values[name] = self._default(name)
        return values[name]

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name not in self._FIELDS:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        kind = self._FIELDS[name][1]
        if kind != "message":
            raise AttributeError(f"Assignment not allowed to repeated field \"{name}\" in "
                                 f"protocol message object.")
        raise AttributeError(f"Assignment not allowed to field \"{name}\" in protocol message "
                             f"object; use {name}.CopyFrom(...)")

    def _present(self, name):
        value = self._values.get(name)
        if value is None:
            return False
        if self._FIELDS[name][1] == "message":
            return value._explicit or bool(value._values) and value.ByteSize() > 0
        return len(value) > 0

    def HasField(self, name):  # noqa: N802 - protobuf's name
        if name not in self._FIELDS:
            raise ValueError(f'Protocol message has no "{name}" field.')
        return self._present(name)

    def WhichOneof(self, group):  # noqa: N802
        for name in self._ONEOF:
            if self._present(name):
                return name
        return None

    def ClearField(self, name):  # noqa: N802
        self._values.pop(name, None)

    def Clear(self):  # noqa: N802
        self._values.clear()

    def CopyFrom(self, other):  # noqa: N802
        self.Clear()
        self.MergeFrom(other)

    def MergeFrom(self, other):  # noqa: N802
        self.MergeFromString(other.SerializeToString())

    def __copy__(self):
        copy = type(self).FromString(self.SerializeToString())
        copy._explicit = True
        return copy

    def __deepcopy__(self, memo):
        return self.__copy__()

    # --- wire format ---------------------------------------------------------------------

    def SerializeToString(self, deterministic=None):  # noqa: N802
        """The protobuf wire-format bytes of this message."""
        parts = []
        for name, (number, kind, _) in sorted(self._FIELDS.items(), key=lambda i: i[1][0]):
            if not self._present(name) and not (kind == "message" and name in self._ONEOF
                                                and name in self._values
                                                and self._values[name]._explicit):
                continue
            value = self._values[name]
            if kind == "bytes":
                parts.extend(_wire.delimited(number, v) for v in value)
            elif kind == "float":
                parts.append(_wire.delimited(number, _wire.encode_packed_float(value)))
            elif kind == "int64":
                parts.append(_wire.delimited(number, _wire.encode_packed_int64(value)))
            elif kind == "map":
                for key, message in value.items():
                    entry = _wire.delimited(1, key.encode("utf-8")) + _wire.delimited(
                        2, message.SerializeToString())
                    parts.append(_wire.delimited(number, entry))
            elif kind == "repeated":
                parts.extend(_wire.delimited(number, m.SerializeToString()) for m in value)
            else:
                parts.append(_wire.delimited(number, value.SerializeToString()))
        return b"".join(parts)

    SerializePartialToString = SerializeToString

    def ByteSize(self):  # noqa: N802
        return len(self.SerializeToString())

    def MergeFromString(self, serialized):  # noqa: N802
        """Adds the fields encoded in `serialized`; returns the number of bytes read."""
        buffer = memoryview(bytes(serialized))
        by_number = {number: (name, kind, cls)
                     for name, (number, kind, cls) in self._FIELDS.items()}
        for number, wire_type, value in _wire.fields(buffer):
            if number not in by_number:
                continue
            name, kind, message_class = by_number[number]
            self._merge_field(buffer, name, kind, message_class, wire_type, value)
        return len(buffer)

    def _merge_field(self, buffer, name, kind, message_class, wire_type, value):
        target = getattr(self, name)
        if kind == "bytes":
            target.append(bytes(buffer[value[0]:value[1]]))
        elif kind in ("float", "int64"):
            if wire_type == _wire.DELIMITED:
                data = buffer[value[0]:value[1]]
                array = (_wire.decode_packed_float(data) if kind == "float"
                         else _wire.decode_packed_int64(data))
                list.extend(target, array.tolist())
            elif kind == "float":
                list.append(target, float(np.array([value], np.uint32).view(np.float32)[0]))
            else:
                list.append(target, _wire.to_int64(value))
        elif kind == "map":
            key, entry = "", message_class()
            for entry_number, _, entry_value in _wire.fields(buffer, *value):
                if entry_number == 1:
                    key = bytes(buffer[entry_value[0]:entry_value[1]]).decode("utf-8")
                elif entry_number == 2:
                    entry.MergeFromString(buffer[entry_value[0]:entry_value[1]])
            target[key] = entry
        elif kind == "repeated":
            target.add().MergeFromString(buffer[value[0]:value[1]])
        else:
            if name in self._ONEOF:
                for other in self._ONEOF:
                    if other != name:
                        self._values.pop(other, None)
            target.MergeFromString(buffer[value[0]:value[1]])
            target._explicit = True

    def ParseFromString(self, serialized):  # noqa: N802
        """Replaces this message by the one encoded in `serialized`."""
        self.Clear()
        return self.MergeFromString(serialized)

    @classmethod
    def FromString(cls, serialized):  # noqa: N802
        """A new message decoded from wire-format bytes."""
        message = cls()
        message.MergeFromString(serialized)
        return message

    # --- comparison and text format --------------------------------------------------------

    def _canonical(self):
        result = {}
        for name in self._FIELDS:
            if not self._present(name):
                continue
            value = self._values[name]
            kind = self._FIELDS[name][1]
            if kind == "map":
                result[name] = {k: v._canonical() for k, v in value.items()}
            elif kind == "repeated":
                result[name] = [m._canonical() for m in value]
            elif kind == "message":
                result[name] = value._canonical()
            else:
                result[name] = list(value)
        return result

    def __eq__(self, other):
        return type(other) is type(self) and self._canonical() == other._canonical()

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def _text(self, indent):
        pad = "  " * indent
        lines = []
        for name, (_, kind, _) in sorted(self._FIELDS.items(), key=lambda i: i[1][0]):
            if not self._present(name):
                continue
            value = self._values[name]
            if kind in _REPEATED:
                lines.extend(f"{pad}{name}: {_scalar_text(kind, v)}" for v in value)
            elif kind == "map":
                for key, message in value.items():
                    lines += [f"{pad}{name} {{", f'{pad}  key: "{key}"', f"{pad}  value {{"]
                    lines += message._text(indent + 2)
                    lines += [f"{pad}  }}", f"{pad}}}"]
            else:
                for message in value if kind == "repeated" else [value]:
                    lines += [f"{pad}{name} {{"] + message._text(indent + 1) + [f"{pad}}}"]
        return lines

    def __str__(self):
        lines = self._text(0)
        return "\n".join(lines) + "\n" if lines else ""

    def __repr__(self):
        return str(self)


_Message._explicit = False


def _scalar_text(kind, value):
    if kind == "bytes":
        escaped = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03o}"
                          for b in value)
        return f'"{escaped}"'
    if kind == "float":
        text = repr(float(np.float32(value)))
        short = np.format_float_positional(np.float32(value), trim="-")
        return short if len(short) < len(text) else text
    return str(value)


class BytesList(_Message):
    """A list of byte strings (`tf.train.BytesList`)."""

    _FIELDS = {"value": (1, "bytes", None)}


class FloatList(_Message):
    """A list of float32 values (`tf.train.FloatList`)."""

    _FIELDS = {"value": (1, "float", None)}


class Int64List(_Message):
    """A list of int64 values (`tf.train.Int64List`)."""

    _FIELDS = {"value": (1, "int64", None)}


class Feature(_Message):
    """One feature: a BytesList, FloatList or Int64List (`tf.train.Feature`)."""

    _FIELDS = {"bytes_list": (1, "message", BytesList), "float_list": (2, "message", FloatList),
               "int64_list": (3, "message", Int64List)}
    _ONEOF = ("bytes_list", "float_list", "int64_list")


class Features(_Message):
    """A map from feature name to Feature (`tf.train.Features`)."""

    _FIELDS = {"feature": (1, "map", Feature)}


class FeatureList(_Message):
    """A sequence of Features of one name (`tf.train.FeatureList`)."""

    _FIELDS = {"feature": (1, "repeated", Feature)}


class FeatureLists(_Message):
    """A map from name to FeatureList (`tf.train.FeatureLists`)."""

    _FIELDS = {"feature_list": (1, "map", FeatureList)}


class Example(_Message):
    """A record of named features (`tf.train.Example`)."""

    _FIELDS = {"features": (1, "message", Features)}


class SequenceExample(_Message):
    """Context features plus named feature sequences (`tf.train.SequenceExample`)."""

    _FIELDS = {"context": (1, "message", Features),
               "feature_lists": (2, "message", FeatureLists)}
