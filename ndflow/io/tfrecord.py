"""TFRecord files: TensorFlow's record framing, written and read byte for byte as TF does.

Each record on disk is `uint64 length | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)`, little-endian (tensorflow/core/lib/io/record_writer.cc). Files may
be GZIP or ZLIB compressed as a whole stream. A record whose checksums do not match raises
`DataLossError` naming the file and the byte offset of the record, as TF's reader does.
"""

import contextlib
import gzip
import struct
import zlib

from ndflow.framework import errors
from ndflow.io import _crc32c

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_COMPRESSIONS = {None: "", "": "", "NONE": "", "GZIP": "GZIP", "ZLIB": "ZLIB"}


class TFRecordCompressionType:
    """The compression of a TFRecord file (`tf.io.TFRecordCompressionType`)."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


_TYPE_NAMES = {0: "", 1: "ZLIB", 2: "GZIP"}


def compression_name(compression_type):
    """The canonical name ("", "GZIP" or "ZLIB") of a compression type or options object."""
    if isinstance(compression_type, TFRecordOptions):
        return compression_type.compression_type
    if isinstance(compression_type, int):
        return _TYPE_NAMES.get(compression_type, "")
    if hasattr(compression_type, "numpy"):
        compression_type = compression_type.numpy()
    if isinstance(compression_type, bytes):
        compression_type = compression_type.decode()
    try:
        return _COMPRESSIONS[compression_type.upper() if compression_type else compression_type]
    except (KeyError, AttributeError):
        raise errors.InvalidArgumentError(
            f"TFRecord: compression_type must be one of '', 'ZLIB' or 'GZIP', got "
            f"{compression_type!r}") from None


class TFRecordOptions:
    """Options for TFRecord writing and reading (`tf.io.TFRecordOptions`)."""

    compression_type_map = {TFRecordCompressionType.ZLIB: "ZLIB",
                            TFRecordCompressionType.GZIP: "GZIP",
                            TFRecordCompressionType.NONE: ""}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None):
        self.compression_type = compression_name(compression_type)
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options):
        """The compression name of `options` (an options object, a type or a string)."""
        return compression_name(options) if options is not None else ""


def encode_record(data):
    """One record's on-disk bytes."""
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", _crc32c.masked(header)), data,
                     struct.pack("<I", _crc32c.masked(data))))


class _ZlibWriter:
    """A file object that zlib-compresses what is written (TF's ZLIB: a zlib-format stream)."""

    def __init__(self, raw, level, window_bits):
        self._raw = raw
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, window_bits)

    def write(self, data):
        self._raw.write(self._compressor.compress(data))

    def flush(self):
        self._raw.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._raw.flush()

    def close(self):
        self._raw.write(self._compressor.flush())
        self._raw.close()


class _ZlibReader:
    """A readable file object over a zlib-compressed stream."""

    def __init__(self, raw, chunk=1 << 16):
        self._raw = raw
        self._decompressor = zlib.decompressobj()
        self._buffer = bytearray()
        self._chunk = chunk

    def read(self, size):
        while len(self._buffer) < size:
            compressed = self._raw.read(self._chunk)
            if not compressed:
                self._buffer += self._decompressor.flush()
                break
            self._buffer += self._decompressor.decompress(compressed)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def close(self):
        self._raw.close()


def _open_write(path, options):
    from ndflow.io import gfile  # noqa: PLC0415 - gfile imports this module's errors

    gfile.makedirs_for_file(path)
    compression = options.compression_type
    level = options.compression_level
    level = 6 if level is None or level < 0 else level
    if compression == "GZIP":
        return gzip.GzipFile(path, "wb", compresslevel=level, mtime=0)
    raw = open(path, "wb")  # noqa: SIM115 - closed by the writer
    if compression == "ZLIB":
        return _ZlibWriter(raw, level, options.window_bits or zlib.MAX_WBITS)
    return raw


class TFRecordWriter:
    """Writes records to a TFRecord file (`tf.io.TFRecordWriter`).

    Args:
      path: the file to write.
      options: a `TFRecordOptions` or a compression type ("", "GZIP", "ZLIB").

    >>> with TFRecordWriter("/tmp/ndflow_doctest.tfrecord") as writer:
    ...     writer.write(b"record")
    """

    def __init__(self, path, options=None):
        if not isinstance(options, TFRecordOptions):
            options = TFRecordOptions(options)
        self._path = str(path)
        try:
            self._file = _open_write(self._path, options)
        except FileNotFoundError as error:
            raise errors.NotFoundError(f"{self._path}; No such file or directory") from error

    def write(self, record):
        """Appends one record (bytes or a string)."""
        if self._file is None:
            raise errors.FailedPreconditionError(f"TFRecordWriter {self._path} is closed")
        if hasattr(record, "numpy"):
            record = record.numpy()
        if isinstance(record, str):
            record = record.encode("utf-8")
        self._file.write(encode_record(bytes(record)))

    def flush(self):
        """Flushes buffered records to the file."""
        self._file.flush()

    def close(self):
        """Flushes and closes the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        with contextlib.suppress(Exception):  # never raise from a finaliser
            self.close()


def _open_read(path, compression, buffer_size):
    try:
        raw = open(path, "rb", buffering=buffer_size or -1)  # noqa: SIM115
    except FileNotFoundError as error:
        raise errors.NotFoundError(f"{path}; No such file or directory") from error
    if compression == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "ZLIB":
        return _ZlibReader(raw)
    return raw


_CHUNK = 1 << 22


def read_records(path, compression_type=None, buffer_size=None, verify=True):
    """Yields the records of one TFRecord file as bytes.

    The stream is read in large chunks and records are cut out of them, so a record costs a
    few slicing and checksum calls rather than several file reads.

    Raises:
      DataLossError: a truncated or corrupted record (checksum mismatch), naming the file
        and the record's offset in the (uncompressed) stream.
    """
    path = str(path)
    stream = _open_read(path, compression_name(compression_type), buffer_size)
    masked = _crc32c.masker()
    unpack_header = _HEADER.unpack_from
    unpack_footer = _FOOTER.unpack_from
    chunk = max(int(buffer_size or 0), _CHUNK)
    buffer = b""
    position = 0
    offset = 0  # stream offset of buffer[0]
    try:
        while True:
            if len(buffer) - position < 12:
                buffer = buffer[position:] + _read(stream, chunk, path, offset + position)
                offset += position
                position = 0
                if not buffer:
                    return
                if len(buffer) < 12:
                    raise errors.DataLossError(f"{path}: truncated record at offset {offset}")
            length, length_crc = unpack_header(buffer, position)
            if verify and masked(buffer[position:position + 8]) != length_crc:
                raise errors.DataLossError(f"{path}: corrupted record at offset "
                                           f"{offset + position} (the length checksum does "
                                           f"not match)")
            end = position + 16 + length
            if end > len(buffer):
                buffer = buffer[position:] + _read(stream, max(chunk, end - position), path,
                                                   offset + position)
                offset += position
                position, end = 0, 16 + length
                if end > len(buffer):
                    raise errors.DataLossError(f"{path}: truncated record at offset {offset}")
            data = buffer[position + 12:end - 4]
            if verify and masked(data) != unpack_footer(buffer, end - 4)[0]:
                raise errors.DataLossError(f"{path}: corrupted record at offset "
                                           f"{offset + position} (the data checksum does not "
                                           f"match)")
            yield data
            position = end
    finally:
        stream.close()


def _read(stream, size, path, offset):
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as error:
        raise errors.DataLossError(f"{path}: corrupted compressed data after offset {offset}: "
                                   f"{error}") from error


def tf_record_iterator(path, options=None):
    """Iterates over the records of a TFRecord file (`tf.compat.v1.io.tf_record_iterator`)."""
    return read_records(path, options)
