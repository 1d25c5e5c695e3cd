"""tf.train.Example messages (wire bytes against TF's) and Example parsing ops."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.io import tfrecord

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
with open(os.path.join(FIXTURES, "tf_bytes.json")) as _handle:
    TF_BYTES = json.load(_handle)

train = tf.train


def _feature(**kwargs):
    return train.Feature(**kwargs)


@pytest.mark.parametrize("key,message", [
    ("example_int64", lambda: train.Example(features=train.Features(feature={
        "x": _feature(int64_list=train.Int64List(value=[1, -1, 300, 2**40]))}))),
    ("example_float", lambda: train.Example(features=train.Features(feature={
        "f": _feature(float_list=train.FloatList(value=[0.1, -2.5, 1e30]))}))),
    ("example_bytes", lambda: train.Example(features=train.Features(feature={
        "s": _feature(bytes_list=train.BytesList(value=[b"", b"abc", b"\0\xff"]))}))),
    ("sequence_example", lambda: train.SequenceExample(
        context=train.Features(feature={"length": _feature(int64_list=train.Int64List(
            value=[3]))}),
        feature_lists=train.FeatureLists(feature_list={"tokens": train.FeatureList(feature=[
            _feature(int64_list=train.Int64List(value=[i, i + 1])) for i in range(3)])}))),
], ids=["int64", "float", "bytes", "sequence"])
def test_serialization_is_byte_identical_to_tf(key, message):
    expected = bytes.fromhex(TF_BYTES[key])
    built = message()
    assert built.SerializeToString() == expected
    assert type(built).FromString(expected) == built


def test_message_api_behaves_like_protobuf():
    example = train.Example()
    assert example.SerializeToString() == b""
    example.features.feature["a"].float_list.value.append(1.5)
    example.features.feature["a"].float_list.value.extend(np.array([0.1], np.float32))
    assert example.features.feature["a"].WhichOneof("kind") == "float_list"
    assert example.features.feature["a"].float_list.value == [1.5, float(np.float32(0.1))]
    assert example.HasField("features")
    parsed = train.Example()
    parsed.ParseFromString(example.SerializeToString())
    assert parsed == example
    assert 'key: "a"' in str(example) and "value: 1.5" in str(example)
    with pytest.raises(TypeError, match="expected one of: int"):
        train.Int64List(value=[1.5])
    with pytest.raises(ValueError, match="no \"nope\" field"):
        train.Example(nope=1)


def _examples():
    path = os.path.join(FIXTURES, "examples.tfrecord")
    return list(tfrecord.read_records(path))


FEATURES = {
    "image": tf.io.FixedLenFeature([6], tf.float32),
    "label": tf.io.FixedLenFeature([], tf.int64),
    "name": tf.io.FixedLenFeature([], tf.string),
    "tags": tf.io.VarLenFeature(tf.int64),
    "missing": tf.io.FixedLenFeature([2], tf.float32, default_value=[7.0, 8.0]),
}


def test_parse_example_on_tf_written_records():
    parsed = tf.io.parse_example(np.array(_examples(), dtype=object), FEATURES)
    base = np.linspace(0, 1, 6, dtype=np.float32)
    expected = base + np.arange(4, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(parsed["image"].numpy(), expected)
    assert parsed["image"].dtype is tf.float32
    np.testing.assert_array_equal(parsed["label"].numpy(), [-2, -1, 0, 1])
    assert parsed["name"].numpy().tolist() == [b"n0", b"n1", b"n2", b"n3"]
    tags = parsed["tags"]
    assert tags.indices.numpy().tolist() == [[1, 0], [2, 0], [2, 1], [3, 0], [3, 1], [3, 2]]
    assert tags.values.numpy().tolist() == [0, 0, 1, 0, 1, 2]
    assert tags.dense_shape.numpy().tolist() == [4, 3]
    np.testing.assert_array_equal(parsed["missing"].numpy(), [[7, 8]] * 4)


def test_parse_single_example_and_sequence_feature():
    record = _examples()[3]
    parsed = tf.io.parse_single_example(record, {
        "label": tf.io.FixedLenFeature([], tf.int64),
        "tags": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)})
    assert parsed["label"].numpy() == 1
    assert parsed["tags"].numpy().tolist() == [0, 1, 2]
    batch = tf.io.parse_example(np.array(_examples(), dtype=object), {
        "tags": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True,
                                              default_value=-1)})
    assert batch["tags"].numpy().tolist() == [[-1, -1, -1], [0, -1, -1], [0, 1, -1], [0, 1, 2]]


def test_parse_single_sequence_example_from_tf_bytes():
    context, sequence = tf.io.parse_single_sequence_example(
        bytes.fromhex(TF_BYTES["sequence_example"]),
        context_features={"length": tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={"tokens": tf.io.FixedLenSequenceFeature([2], tf.int64)})
    assert context["length"].numpy() == 3
    assert sequence["tokens"].numpy().tolist() == [[0, 1], [1, 2], [2, 3]]


def test_parse_example_inside_function_and_map():
    @tf.function
    def parse(serialized):
        return tf.io.parse_example(serialized, {"label": tf.io.FixedLenFeature([], tf.int64)})

    records = np.array(_examples(), dtype=object)
    assert parse(records)["label"].numpy().tolist() == [-2, -1, 0, 1]
    dataset = tf.data.TFRecordDataset(os.path.join(FIXTURES, "examples.tfrecord")).batch(3).map(
        lambda s: tf.io.parse_example(s, {"label": tf.io.FixedLenFeature([], tf.int64)}))
    assert dataset.element_spec["label"].shape.as_list() == [None]
    assert [b["label"].tolist() for b in dataset.as_numpy_iterator()] == [[-2, -1, 0], [1]]


@pytest.mark.parametrize("features,message", [
    ({"absent": tf.io.FixedLenFeature([], tf.int64)}, "Feature: absent .* is required"),
    ({"label": tf.io.FixedLenFeature([], tf.float32)}, "Key: label.*Data types don't match"),
    ({"image": tf.io.FixedLenFeature([5], tf.float32)},
     "Key: image.*Values size: 6 but output shape: \\[5\\]"),
], ids=["missing", "dtype", "size"])
def test_parse_errors_name_the_feature(features, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        tf.io.parse_example(np.array(_examples(), dtype=object), features)


def test_parse_example_rejects_matrix_input():
    with pytest.raises(tf.errors.InvalidArgumentError, match="ParseExampleV2.*shape"):
        tf.io.parse_example(np.array([_examples()[:2]] * 2, dtype=object),
                            {"label": tf.io.FixedLenFeature([], tf.int64)})


@pytest.mark.reference
def test_tensorflow_parses_ndflow_examples():
    reference = pytest.importorskip("tensorflow")
    example = train.Example(features=train.Features(feature={
        "b": _feature(bytes_list=train.BytesList(value=[b"q"])),
        "a": _feature(float_list=train.FloatList(value=[1.0, 2.0]))}))
    parsed = reference.io.parse_single_example(example.SerializeToString(), {
        "a": reference.io.FixedLenFeature([2], reference.float32),
        "b": reference.io.FixedLenFeature([], reference.string)})
    assert parsed["a"].numpy().tolist() == [1.0, 2.0] and parsed["b"].numpy() == b"q"


def _uniform_records(count, label_offset=0):
    records = []
    for index in range(count):
        example = train.Example(features=train.Features(feature={
            "image": _feature(float_list=train.FloatList(value=np.arange(4) * index + 0.5)),
            "label": _feature(int64_list=train.Int64List(value=[index + label_offset])),
            "other": _feature(bytes_list=train.BytesList(value=[b"%03d" % index]))}))
        records.append(example.SerializeToString())
    return np.array(records, dtype=object)


@pytest.mark.parametrize("label_offset", [0, 200, -3], ids=["one_byte", "two_byte", "negative"])
def test_parse_example_same_layout_batch_matches_general_path(label_offset):
    records = _uniform_records(5, label_offset)
    features = {"image": tf.io.FixedLenFeature([2, 2], tf.float32),
                "label": tf.io.FixedLenFeature([], tf.int64)}
    parsed = tf.io.parse_example(records, features)
    expected_image = (np.arange(4)[None, :] * np.arange(5)[:, None] + 0.5).reshape(5, 2, 2)
    np.testing.assert_array_equal(parsed["image"].numpy(), expected_image)
    assert parsed["image"].dtype is tf.float32
    assert parsed["label"].numpy().tolist() == [i + label_offset for i in range(5)]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Key: image"):
        tf.io.parse_example(records, {"image": tf.io.FixedLenFeature([3], tf.float32)})
