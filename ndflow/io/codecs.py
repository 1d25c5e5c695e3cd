"""Byte-level codecs as ops: `decode_raw`, `serialize_tensor`/`parse_tensor` (TensorProto wire
format), `read_file`/`write_file`, and PNG/JPEG through Pillow (the `data` extra, imported
when an image op first runs)."""

import os

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.io import _wire

_RAW_TYPES = {dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64, dtypes.int8,
              dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16,
              dtypes.uint32, dtypes.uint64, dtypes.complex64, dtypes.complex128, dtypes.bool}


def string_input(value):
    """Python bytes (or lists of them) as a string tensor, keeping trailing NUL bytes (NumPy's
    fixed-width bytes dtype would drop them)."""
    if isinstance(value, (bytes, str)) or (isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (bytes, str)) for v in value)):
        from ndflow.framework.tensor import EagerTensor  # noqa: PLC0415

        items = [value] if isinstance(value, (bytes, str)) else list(value)
        array = np.empty(len(items), dtype=object)
        array[:] = [v.encode("utf-8") if isinstance(v, str) else v for v in items]
        return EagerTensor(array.reshape(()) if isinstance(value, (bytes, str)) else array,
                           dtypes.string)
    return value


def _string_spec_error(op, spec):
    return errors.InvalidArgumentError(f"{op}: input must be a string tensor, got "
                                       f"{spec.dtype.name}")


@primitive("DecodeRaw", dtypes={dtypes.string}, same_dtype=False)
class DecodeRaw:
    def infer(data, out_type, little_endian, fixed_length):
        if data.dtype is not dtypes.string:
            raise _string_spec_error("DecodeRaw", data)
        if out_type not in _RAW_TYPES:
            raise errors.InvalidArgumentError(f"DecodeRaw: out_type {out_type.name} is not "
                                              f"supported")
        if data.shape is None:
            return Spec(None, out_type)
        width = None
        if fixed_length is not None:
            width = fixed_length // out_type.size
        return Spec(data.shape + (width,), out_type)

    def kernel(xp, data, out_type, little_endian, fixed_length):
        flat = [bytes(b) for b in data.reshape(-1)]
        size = out_type.size
        numpy_type = np.dtype(out_type.as_numpy_dtype).newbyteorder("<" if little_endian
                                                                    else ">")
        if fixed_length is not None:
            flat = [b[:fixed_length].ljust(fixed_length, b"\0") for b in flat]
        lengths = {len(b) for b in flat}
        if len(lengths) > 1:
            raise errors.InvalidArgumentError(
                f"DecodeRaw: input to DecodeRaw has length {len(flat[-1])} that does not match "
                f"the length {len(flat[0])} of the first element (all strings must have the "
                f"same length)")
        length = lengths.pop() if lengths else 0
        if length % size:
            raise errors.InvalidArgumentError(
                f"DecodeRaw: input to DecodeRaw has length {length} that is not a multiple of "
                f"{size}, the size of {out_type.name}")
        values = np.frombuffer(b"".join(flat), dtype=numpy_type)
        return values.astype(out_type.as_numpy_dtype).reshape(data.shape + (length // size,))


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None):
    """Reinterprets the bytes of each string as a vector of `out_type` (`tf.io.decode_raw`).

    Returns:
      A tensor of shape `input_bytes.shape + [length / sizeof(out_type)]`.
    """
    return execute("DecodeRaw", string_input(input_bytes), out_type=dtypes.as_dtype(out_type),
                   little_endian=bool(little_endian),
                   fixed_length=None if fixed_length is None else int(fixed_length), name=name)


# --- TensorProto ------------------------------------------------------------------------------

def _tensor_proto(array, dtype):
    # proto3 leaves out a zero size, so a 0-sized dimension is an empty `dim {}`.
    dims = b"".join(_wire.delimited(2, _wire.tag(1, _wire.VARINT) + _wire.encode_varint(d)
                                    if d else b"") for d in array.shape)
    parts = [_wire.tag(1, _wire.VARINT) + _wire.encode_varint(dtype.as_datatype_enum),
             _wire.delimited(2, dims)]
    if dtype is dtypes.string:
        parts += [_wire.delimited(8, bytes(v)) for v in array.reshape(-1)]
    elif array.size:
        content = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"))
        parts.append(_wire.delimited(4, content.tobytes()))
    return b"".join(parts)


def _parse_proto(data):
    buffer = memoryview(data)
    enum, shape, content, strings = 0, [], None, []
    for number, _, value in _wire.fields(buffer):
        if number == 1:
            enum = value
        elif number == 2:
            for dim_number, _, (s, e) in _wire.fields(buffer, *value):
                if dim_number == 2:
                    size = [v for n, _, v in _wire.fields(buffer, s, e) if n == 1]
                    shape.append(_wire.to_int64(size[0]) if size else 0)
        elif number == 4:
            content = bytes(buffer[value[0]:value[1]])
        elif number == 8:
            strings.append(bytes(buffer[value[0]:value[1]]))
    return enum, tuple(shape), content, strings


@primitive("SerializeTensor", dtypes=None, same_dtype=False)
class SerializeTensor:
    def infer(tensor):
        return Spec((), dtypes.string)

    def kernel(xp, tensor):
        dtype = dtypes.string if tensor.dtype == object else dtypes.from_numpy(tensor.dtype)
        result = np.empty((), dtype=object)
        result[()] = _tensor_proto(np.asarray(tensor), dtype)
        return result


def serialize_tensor(tensor, name=None):
    """A TensorProto's wire bytes for `tensor` (`tf.io.serialize_tensor`)."""
    return execute("SerializeTensor", tensor, name=name)


@primitive("ParseTensor", dtypes={dtypes.string}, same_dtype=False)
class ParseTensor:
    def infer(serialized, out_type):
        if serialized.dtype is not dtypes.string or serialized.shape not in (None, ()):
            raise errors.InvalidArgumentError(
                f"ParseTensor: serialized must be a string scalar, got {serialized.dtype.name} "
                f"of shape {serialized.shape}")
        return Spec(None, out_type)

    def kernel(xp, serialized, out_type):
        try:
            enum, shape, content, strings = _parse_proto(bytes(serialized[()]))
        except errors.DataLossError as error:
            raise errors.InvalidArgumentError(f"ParseTensor: could not parse `serialized` as "
                                              f"TensorProto: {error}") from error
        parsed = dtypes.as_dtype(enum) if enum else None
        if parsed is not out_type:
            raise errors.InvalidArgumentError(
                f"ParseTensor: type mismatch between parsed tensor "
                f"({parsed.name if parsed else 'invalid'}) and dtype ({out_type.name})")
        if out_type is dtypes.string:
            array = np.empty(len(strings), dtype=object)
            array[:] = strings
            return array.reshape(shape)
        numpy_type = np.dtype(out_type.as_numpy_dtype)
        if content is None:
            return np.zeros(shape, dtype=numpy_type)
        array = np.frombuffer(content, dtype=numpy_type.newbyteorder("<"))
        return array.astype(numpy_type).reshape(shape)


def parse_tensor(serialized, out_type, name=None):
    """The tensor in a serialized TensorProto (`tf.io.parse_tensor`).

    Raises:
      InvalidArgumentError: the proto's dtype is not `out_type`, or the bytes do not parse.
    """
    return execute("ParseTensor", string_input(serialized), out_type=dtypes.as_dtype(out_type),
                   name=name)


# --- files -----------------------------------------------------------------------------------

@primitive("ReadFile", dtypes={dtypes.string}, same_dtype=False)
class ReadFile:
    def infer(filename):
        return Spec((), dtypes.string)

    def kernel(xp, filename):
        path = bytes(filename[()]).decode("utf-8")
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError as error:
            raise errors.NotFoundError(f"{path}; No such file or directory") from error
        result = np.empty((), dtype=object)
        result[()] = data
        return result


def read_file(filename, name=None):
    """The contents of a file as a string scalar (`tf.io.read_file`)."""
    return execute("ReadFile", string_input(filename), name=name)


@primitive("WriteFile", dtypes={dtypes.string}, same_dtype=False, num_outputs=0, stateful=True)
class WriteFile:
    def infer(filename, contents):
        return ()

    def kernel(xp, filename, contents):
        path = bytes(filename[()]).decode("utf-8")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(bytes(contents[()]))
        return ()


def write_file(filename, contents, name=None):
    """Writes a string scalar to a file (`tf.io.write_file`)."""
    return execute("WriteFile", string_input(filename), string_input(contents), name=name)


# --- images (Pillow) -------------------------------------------------------------------------

def _pillow():
    try:
        from PIL import Image  # noqa: PLC0415 - optional dependency (`data` extra)
    except ImportError as error:
        raise ImportError("Image decoding needs Pillow: pip install 'ndflow[data]'") from error
    return Image


_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _decode_image(data, channels, dtype, op):
    import io  # noqa: PLC0415

    image_module = _pillow()
    try:
        image = image_module.open(io.BytesIO(bytes(data)))
        image.load()
    except Exception as error:  # noqa: BLE001 - Pillow raises many kinds
        raise errors.InvalidArgumentError(f"{op}: the data is not a valid image: "
                                          f"{error}") from error
    if channels == 0:
        channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I;16": 1, "I": 1}.get(image.mode, 3)
        if image.mode == "P":
            channels = 4 if "transparency" in image.info else 3
    if image.mode in ("I;16", "I;16B", "I") and dtype is dtypes.uint16:
        array = np.asarray(image, dtype=np.uint16)
        return array[:, :, None] if channels == 1 else np.repeat(array[:, :, None], channels, 2)
    array = np.asarray(image.convert(_MODES[channels]))
    if array.ndim == 2:
        array = array[:, :, None]
    if dtype is dtypes.uint16:
        return array.astype(np.uint16) * np.uint16(257)
    return array.astype(np.uint8)


def _image_infer(op, contents, channels, dtype):
    if contents.dtype is not dtypes.string or contents.shape not in (None, ()):
        raise errors.InvalidArgumentError(f"{op}: contents must be a string scalar, got "
                                          f"{contents.dtype.name} of shape {contents.shape}")
    if channels not in (0, 1, 2, 3, 4):
        raise errors.InvalidArgumentError(f"{op}: channels must be 0, 1, 2, 3 or 4, got "
                                          f"{channels}")
    return Spec((None, None, channels or None), dtype)


@primitive("DecodePng", dtypes={dtypes.string}, same_dtype=False)
class DecodePng:
    def infer(contents, channels, dtype):
        return _image_infer("DecodePng", contents, channels, dtype)

    def kernel(xp, contents, channels, dtype):
        return _decode_image(contents[()], channels, dtype, "DecodePng")


@primitive("DecodeJpeg", dtypes={dtypes.string}, same_dtype=False)
class DecodeJpeg:
    def infer(contents, channels, dtype):
        return _image_infer("DecodeJpeg", contents, channels, dtype)

    def kernel(xp, contents, channels, dtype):
        return _decode_image(contents[()], channels, dtype, "DecodeJpeg")


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None):
    """Decodes a PNG image to a uint8/uint16 tensor [height, width, channels]."""
    return execute("DecodePng", string_input(contents), channels=int(channels),
                   dtype=dtypes.as_dtype(dtype), name=name)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="", name=None):
    """Decodes a JPEG image to a uint8 tensor [height, width, channels] (Pillow's decoder;
    pixel values can differ from TF's libjpeg by a unit or two)."""
    return execute("DecodeJpeg", string_input(contents), channels=int(channels), dtype=dtypes.uint8,
                   name=name)


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None,
                 expand_animations=True):
    """Decodes a PNG or JPEG image (`tf.io.decode_image`)."""
    return execute("DecodePng", string_input(contents), channels=int(channels or 0),
                   dtype=dtypes.as_dtype(dtype), name=name)


@primitive("EncodePng", dtypes={dtypes.uint8, dtypes.uint16}, same_dtype=False)
class EncodePng:
    def infer(image, compression):
        if image.shape is not None and (len(image.shape) != 3 or image.shape[-1] not in (
                None, 1, 2, 3, 4)):
            raise errors.InvalidArgumentError(
                f"EncodePng: image must be 3-dimensional with 1-4 channels, got shape "
                f"{image.shape}")
        return Spec((), dtypes.string)

    def kernel(xp, image, compression):
        import io  # noqa: PLC0415

        image_module = _pillow()
        array = np.asarray(image)
        if array.dtype == np.uint16:
            picture = image_module.fromarray(array[:, :, 0].astype(np.uint16), mode="I;16")
        else:
            channels = array.shape[-1]
            picture = image_module.fromarray(array[:, :, 0] if channels == 1 else array,
                                             mode=_MODES[channels])
        out = io.BytesIO()
        picture.save(out, format="PNG", compress_level=6 if compression < 0 else compression)
        result = np.empty((), dtype=object)
        result[()] = out.getvalue()
        return result


def encode_png(image, compression=-1, name=None):
    """Encodes a uint8/uint16 image [height, width, channels] as PNG bytes."""
    return execute("EncodePng", image, compression=int(compression), name=name)


