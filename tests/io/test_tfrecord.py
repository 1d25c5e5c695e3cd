"""TFRecord framing: round trips, TF-written fixtures (plain, GZIP, ZLIB), CRC32C, and
DataLossError on corrupted or truncated files."""

import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.io import _crc32c, tfrecord

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
TF_RECORDS = [b"", b"first", bytes(range(256)) * 3]


@pytest.mark.parametrize("name,compression", [("records.tfrecord", None),
                                              ("records.tfrecord.gz", "GZIP"),
                                              ("records.tfrecord.zz", "ZLIB")],
                         ids=["plain", "gzip", "zlib"])
def test_reads_tf_written_files(name, compression):
    records = list(tfrecord.read_records(os.path.join(FIXTURES, name), compression))
    assert records == TF_RECORDS


def test_plain_file_is_byte_identical_to_tf(tmp_path):
    path = tmp_path / "ours.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in TF_RECORDS:
            writer.write(record)
    with open(os.path.join(FIXTURES, "records.tfrecord"), "rb") as handle:
        assert path.read_bytes() == handle.read()


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_round_trip_with_compression(tmp_path, compression):
    path = str(tmp_path / "r.tfrecord")
    records = [b"x" * n for n in (0, 1, 1000)] + ["text"]
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression)) as writer:
        for record in records:
            writer.write(record)
    got = list(tf.data.TFRecordDataset(path, compression_type=compression).as_numpy_iterator())
    assert got == [b"", b"x", b"x" * 1000, b"text"]


@pytest.mark.parametrize("size", [0, 1, 9, 63, 64, 255, 256, 257, 1000, 70000])
def test_crc32c_numpy_fallback_matches(size, monkeypatch):
    data = np.random.default_rng(size).bytes(size)
    expected = _crc32c.value(data)
    monkeypatch.setattr(_crc32c, "_google", None)
    assert _crc32c.value(data) == expected


def test_crc32c_known_value():
    assert _crc32c.value(b"123456789") == 0xE3069283


def _corrupt(tmp_path, position):
    with open(os.path.join(FIXTURES, "records.tfrecord"), "rb") as handle:
        data = bytearray(handle.read())
    data[position] ^= 0x01
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(bytes(data))
    return str(path)


@pytest.mark.parametrize("position,what", [(16 + 3, "length"), (16 + 12 + 2, "data")],
                         ids=["length_crc", "data_crc"])
def test_corrupted_record_raises_data_loss_with_file_and_offset(tmp_path, position, what):
    path = _corrupt(tmp_path, position)
    dataset = tf.data.TFRecordDataset(path)
    with pytest.raises(tf.errors.DataLossError, match=f"corrupted record at offset 16.*{what}") \
            as info:
        list(dataset)
    assert path in str(info.value)


def test_truncated_file_raises_data_loss(tmp_path):
    with open(os.path.join(FIXTURES, "records.tfrecord"), "rb") as handle:
        data = handle.read()
    path = tmp_path / "short.tfrecord"
    path.write_bytes(data[:-10])
    with pytest.raises(tf.errors.DataLossError, match="truncated record at offset 37"):
        list(tfrecord.read_records(str(path)))


def test_missing_file_raises_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="missing.tfrecord"):
        list(tf.data.TFRecordDataset(str(tmp_path / "missing.tfrecord")))


def test_bad_compression_type_is_rejected():
    with pytest.raises(tf.errors.InvalidArgumentError, match="compression_type"):
        tf.io.TFRecordOptions("BZIP2")


def test_ignore_errors_stops_at_corruption(tmp_path):
    path = _corrupt(tmp_path, 16 + 12 + 2)
    assert list(tf.data.TFRecordDataset(path).ignore_errors().as_numpy_iterator()) == [b""]


@pytest.mark.reference
def test_tensorflow_reads_ndflow_files(tmp_path):
    reference = pytest.importorskip("tensorflow")
    for compression in ("", "GZIP", "ZLIB"):
        path = str(tmp_path / f"r{compression}.tfrecord")
        with tf.io.TFRecordWriter(path, compression) as writer:
            for record in TF_RECORDS:
                writer.write(record)
        dataset = reference.data.TFRecordDataset(path, compression_type=compression)
        assert list(dataset.as_numpy_iterator()) == TF_RECORDS
