"""decode_raw, serialize_tensor/parse_tensor (TF's TensorProto bytes), read/write_file and
PNG/JPEG through Pillow."""

import json
import os

import numpy as np
import pytest

import ndflow as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
with open(os.path.join(FIXTURES, "tf_bytes.json")) as _handle:
    TF_BYTES = json.load(_handle)


def _strings(*values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


@pytest.mark.parametrize("dtype,little_endian", [(tf.int16, True), (tf.int16, False),
                                                 (tf.float32, True), (tf.uint8, True)],
                         ids=["int16", "int16_big", "float32", "uint8"])
def test_decode_raw(dtype, little_endian):
    values = np.arange(8).astype(dtype.as_numpy_dtype).reshape(2, 4)
    order = "<" if little_endian else ">"
    raw = _strings(*[row.astype(values.dtype.newbyteorder(order)).tobytes() for row in values])
    out = tf.io.decode_raw(raw, dtype, little_endian=little_endian)
    assert out.dtype is dtype and out.shape == (2, 4)
    np.testing.assert_array_equal(out.numpy(), values)


def test_decode_raw_length_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="DecodeRaw.*not a multiple of 4"):
        tf.io.decode_raw(_strings(b"abc"), tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="DecodeRaw.*same length"):
        tf.io.decode_raw(_strings(b"ab", b"abcd"), tf.uint8)


@pytest.mark.parametrize("key,value", [
    ("float32_2x3", np.arange(6, dtype=np.float32).reshape(2, 3)),
    ("int64_scalar", np.array(-5, np.int64)),
    ("uint8_empty", np.zeros([0, 2], np.uint8)),
    ("string_vector", _strings(b"a", b"", b"xyz")),
    ("bool_vector", np.array([True, False])),
], ids=lambda v: v if isinstance(v, str) else "")
def test_serialize_tensor_matches_tf_bytes(key, value):
    expected = bytes.fromhex(TF_BYTES["serialize_tensor"][key])
    dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
    serialized = tf.io.serialize_tensor(value)
    assert serialized.numpy() == expected
    parsed = tf.io.parse_tensor(expected, dtype)
    assert parsed.shape == value.shape
    np.testing.assert_array_equal(parsed.numpy(), value)


def test_parse_tensor_type_mismatch():
    expected = bytes.fromhex(TF_BYTES["serialize_tensor"]["float32_2x3"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="ParseTensor.*float32.*int32"):
        tf.io.parse_tensor(expected, tf.int32)


def test_read_and_write_file(tmp_path):
    path = str(tmp_path / "sub" / "f.bin")
    tf.io.write_file(path, b"\0payload")
    assert tf.io.read_file(path).numpy() == b"\0payload"
    with pytest.raises(tf.errors.NotFoundError, match="nope"):
        tf.io.read_file(str(tmp_path / "nope"))


IMAGE = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3) * 7


def test_decode_tf_png_and_round_trip():
    pytest.importorskip("PIL")
    decoded = tf.io.decode_png(bytes.fromhex(TF_BYTES["png"]))
    assert decoded.dtype is tf.uint8
    np.testing.assert_array_equal(decoded.numpy(), IMAGE)
    again = tf.io.decode_png(tf.io.encode_png(IMAGE), channels=1)
    assert again.shape == (4, 3, 1)
    gray = tf.io.decode_png(tf.io.encode_png(IMAGE[:, :, :1]))
    np.testing.assert_array_equal(gray.numpy(), IMAGE[:, :, :1])


def test_decode_tf_jpeg_close_to_source():
    pytest.importorskip("PIL")
    decoded = tf.io.decode_jpeg(bytes.fromhex(TF_BYTES["jpeg"]), channels=3)
    assert decoded.shape == (4, 3, 3)
    assert np.abs(decoded.numpy().astype(int) - IMAGE).max() <= 8


def test_decode_png_bad_data():
    pytest.importorskip("PIL")
    with pytest.raises(tf.errors.InvalidArgumentError, match="DecodePng.*not a valid image"):
        tf.io.decode_png(b"not a png")
