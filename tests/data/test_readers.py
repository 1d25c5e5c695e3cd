"""File readers: TextLineDataset, CsvDataset, make_csv_dataset, list_files and
TFRecordDataset (TF-written files, parallel reads, batching straight from records)."""

import gzip
import os

import numpy as np
import pytest

import ndflow as tf

D = tf.data.Dataset
IO_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "io", "fixtures")


def values(dataset):
    return list(dataset.as_numpy_iterator())


def test_text_line_dataset_plain_and_gzip(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\r\n\nthree")
    with gzip.open(tmp_path / "b.txt.gz", "wt") as handle:
        handle.write("x\ny\n")
    assert values(tf.data.TextLineDataset(str(tmp_path / "a.txt"))) == [b"one", b"two", b"",
                                                                        b"three"]
    gz = tf.data.TextLineDataset([str(tmp_path / "b.txt.gz")], compression_type="GZIP")
    assert values(gz) == [b"x", b"y"]


def test_csv_dataset_defaults_and_errors(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text('h1,h2,h3\na,1,2.5\n"b,c",2,\n')
    dataset = tf.data.experimental.CsvDataset(str(path), [tf.string, tf.int32, [0.5]],
                                              header=True)
    assert dataset.element_spec[1] == tf.TensorSpec([], tf.int32)
    assert values(dataset) == [(b"a", 1, 2.5), (b"b,c", 2, 0.5)]
    selected = tf.data.experimental.CsvDataset(str(path), [tf.float32], header=True,
                                               select_cols=[2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="field 0 is required"):
        values(selected)
    wrong = tf.data.experimental.CsvDataset(str(path), [tf.string, tf.int32], header=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected 2 fields but have 3"):
        values(wrong)


def test_make_csv_dataset_infers_types_and_splits_label(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("name,count,score\nx,1,0.5\ny,2,1.5\nz,3,2.5\n")
    dataset = tf.data.experimental.make_csv_dataset(str(path), batch_size=2, label_name="score",
                                                    shuffle=False, num_epochs=1)
    batches = values(dataset)
    features, label = batches[0]
    assert features["count"].dtype == np.int32 and features["name"].tolist() == [b"x", b"y"]
    assert label.dtype == np.float32 and label.tolist() == [0.5, 1.5]
    assert len(batches) == 2


def test_list_files_sorted_or_shuffled(tmp_path):
    for name in ("b.rec", "a.rec", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    names = values(D.list_files(str(tmp_path / "*.rec"), shuffle=False))
    assert names == [str(tmp_path / "a.rec").encode(), str(tmp_path / "b.rec").encode()]
    assert sorted(values(D.list_files(str(tmp_path / "*.rec"), seed=1))) == names
    with pytest.raises(tf.errors.InvalidArgumentError, match="no files matched"):
        D.list_files(str(tmp_path / "*.none"))


def _write(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)


def test_tfrecord_dataset_files_parallel_reads_and_batches(tmp_path):
    _write(tmp_path / "a.tfrecord", [b"a0", b"a1", b"a2"])
    _write(tmp_path / "b.tfrecord", [b"b0"])
    files = [str(tmp_path / "a.tfrecord"), str(tmp_path / "b.tfrecord")]
    assert values(tf.data.TFRecordDataset(files)) == [b"a0", b"a1", b"a2", b"b0"]
    parallel = tf.data.TFRecordDataset(files, num_parallel_reads=2)
    assert values(parallel) == [b"a0", b"b0", b"a1", b"a2"]
    batched = values(tf.data.TFRecordDataset(files).batch(3))
    assert batched[0].tolist() == [b"a0", b"a1", b"a2"] and batched[1].tolist() == [b"b0"]
    from_files = D.from_tensor_slices(files).interleave(tf.data.TFRecordDataset, cycle_length=2)
    assert values(from_files) == [b"a0", b"b0", b"a1", b"a2"]


def test_tfrecord_dataset_reads_tf_fixture_and_parses():
    path = os.path.join(IO_FIXTURES, "examples.tfrecord")
    dataset = tf.data.TFRecordDataset(path).map(lambda record: tf.io.parse_single_example(
        record, {"label": tf.io.FixedLenFeature([], tf.int64),
                 "image": tf.io.FixedLenFeature([6], tf.float32)}))
    assert dataset.element_spec["image"] == tf.TensorSpec([6], tf.float32)
    assert [e["label"] for e in values(dataset)] == [-2, -1, 0, 1]
