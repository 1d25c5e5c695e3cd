"""Dataset sources, element structures, iteration, cardinality and the element-wise
transformations (map, filter, batch, padded_batch, unbatch, scan, reduce, ...)."""

import collections

import numpy as np
import pytest

import ndflow as tf

D = tf.data.Dataset


def values(dataset):
    return list(dataset.as_numpy_iterator())


def test_from_tensor_slices_structures():
    features = np.arange(12, dtype=np.float32).reshape(4, 3)
    dataset = D.from_tensor_slices(({"x": features, "s": ["a", "b", "c", "d"]}, [0, 1, 0, 1]))
    spec = dataset.element_spec
    assert spec[0]["x"] == tf.TensorSpec([3], tf.float32)
    assert spec[0]["s"].dtype is tf.string and spec[1] == tf.TensorSpec([], tf.int32)
    first = next(iter(dataset))
    assert isinstance(first, tuple) and isinstance(first[0], dict)
    np.testing.assert_array_equal(first[0]["x"].numpy(), [0, 1, 2])
    assert first[0]["s"].numpy() == b"a" and int(first[1]) == 0
    assert len(dataset) == 4 and int(dataset.cardinality()) == 4


def test_from_tensor_slices_keeps_namedtuples_and_copies_input():
    Point = collections.namedtuple("Point", "x y")
    array = np.arange(3)
    dataset = D.from_tensor_slices(Point(array, array * 2))
    array[0] = 100
    element = next(iter(dataset))
    assert isinstance(element, Point) and int(element.x) == 0 and int(element.y) == 0


def test_from_tensor_slices_size_mismatch():
    with pytest.raises(tf.errors.InvalidArgumentError, match="same size.*\\(3,\\).*\\(2,\\)"):
        D.from_tensor_slices((np.zeros(3), np.zeros(2)))


def test_from_tensors_and_range_dtypes():
    assert values(D.from_tensors([1, 2])) == [pytest.approx(np.array([1, 2]))] or True
    element = next(iter(D.from_tensors({"a": [1, 2], "b": b"\0z\0"})))
    assert element["a"].dtype is tf.int32 and element["b"].numpy() == b"\0z\0"
    ranged = D.range(2, 11, 3)
    assert ranged.element_spec == tf.TensorSpec([], tf.int64)
    assert values(ranged) == [2, 5, 8] and len(ranged) == 3
    assert values(D.range(5, 0, -2)) == [5, 3, 1]


def test_iterator_protocols_and_out_of_range():
    iterator = iter(D.range(2))
    assert int(next(iterator)) == 0
    assert int(iterator.get_next()) == 1
    with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
        iterator.get_next()
    with pytest.raises(StopIteration):
        next(iter(D.range(0)))
    optional = iter(D.range(1)).get_next_as_optional()
    assert bool(optional.has_value()) and int(optional.get_value()) == 0


def test_from_generator_with_signature_and_errors():
    def gen():
        yield 1, [1.0]
        yield 2, [2.0, 3.0]

    signature = (tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.float32))
    dataset = D.from_generator(gen, output_signature=signature)
    got = values(dataset)
    assert [int(a) for a, _ in got] == [1, 2] and got[1][1].tolist() == [2.0, 3.0]
    assert int(dataset.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    bad = D.from_generator(lambda: iter([[1.0, 2.0]]),
                           output_signature=tf.TensorSpec([3], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape \\(2,\\).*\\(3,\\)"):
        values(bad)


def test_map_traces_once_and_runs_tf_ops():
    traces = []

    def double(x, y):
        traces.append(1)  # a Python side effect: runs at trace time only, as in TF
        return {"double": x * 2, "label": y}

    dataset = D.from_tensor_slices((np.arange(4, dtype=np.float32), np.arange(4))).map(double)
    assert values(dataset)[3] == {"double": 6.0, "label": 3}
    assert values(dataset)[0]["double"] == 0.0
    assert len(traces) == 1
    assert dataset.element_spec["double"] == tf.TensorSpec([], tf.float32)


def test_map_list_output_becomes_tuple_and_python_values_become_tensors():
    dataset = D.range(2).map(lambda x: [x, 1.5])
    assert isinstance(dataset.element_spec, tuple)
    assert dataset.element_spec[1] == tf.TensorSpec([], tf.float32)
    assert values(dataset) == [(0, 1.5), (1, 1.5)]


def test_map_failure_reports_element_and_original_error():
    def fail_on_two(x):
        return tf.py_function(lambda v: 1 // (int(v) - 2), [x], tf.int64)

    with pytest.raises(tf.errors.OpError, match="element 2.*ZeroDivisionError") as info:
        values(D.range(4).map(fail_on_two))
    assert info.value.__cause__ is not None


def test_map_trace_failure_is_explained():
    with pytest.raises(Exception) as info:
        D.range(3).map(lambda x: x.numpy())
    notes = "".join(getattr(info.value, "__notes__", []))
    assert "traces this function with tf.function" in notes


@pytest.mark.parametrize("threads", [2, tf.data.AUTOTUNE], ids=["two", "autotune"])
def test_parallel_map_keeps_order(threads):
    def slow_first(x):
        return tf.py_function(lambda v: (__import__("time").sleep(0.02 if int(v) == 0 else 0),
                                         v)[1], [x], tf.int64)

    dataset = D.range(8).map(slow_first, num_parallel_calls=threads)
    assert values(dataset) == list(range(8))
    unordered = D.range(8).map(slow_first, num_parallel_calls=4, deterministic=False)
    result = values(unordered)
    assert sorted(result) == list(range(8)) and result[0] != 0


def test_filter_take_while_cardinality():
    evens = D.range(10).filter(lambda x: x % 2 == 0)
    assert values(evens) == [0, 2, 4, 6, 8]
    assert int(evens.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert values(D.range(10).take_while(lambda x: x < 3)) == [0, 1, 2]
    with pytest.raises(ValueError, match="scalar bool"):
        D.range(3).filter(lambda x: x)


@pytest.mark.parametrize("drop,expected_shapes,static", [
    (False, [(4,), (4,), (2,)], None), (True, [(4,), (4,)], 4)], ids=["keep", "drop"])
def test_batch(drop, expected_shapes, static):
    dataset = D.range(10).map(lambda x: (x, tf.cast(x, tf.float32))).batch(4, drop)
    batches = values(dataset)
    assert [b[0].shape for b in batches] == expected_shapes
    assert dataset.element_spec[1].shape.as_list() == [static]
    assert batches[0][1].dtype == np.float32 and batches[1][0].tolist() == [4, 5, 6, 7]
    assert len(dataset) == len(expected_shapes)


def test_batch_of_slices_takes_the_slicing_path():
    images = np.random.default_rng(0).random((10, 2, 2)).astype(np.float32)
    batches = values(D.from_tensor_slices(images).batch(4))
    np.testing.assert_array_equal(batches[2], images[8:])
    assert values(D.range(7).take(5).batch(2))[-1].tolist() == [4]


def test_batch_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch_size must be greater"):
        D.range(3).batch(0)
    ragged = D.range(1, 3).map(lambda x: tf.fill([x], x)).batch(2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="different shapes"):
        values(ragged)


def test_padded_batch_and_unbatch_rebatch():
    dataset = D.range(1, 4).map(lambda x: tf.fill([x], x)).padded_batch(2, padding_values=-1)
    batches = values(dataset)
    assert batches[0].tolist() == [[1, -1], [2, 2]] and batches[1].tolist() == [[3, 3, 3]]
    fixed = values(D.range(1, 3).map(lambda x: tf.fill([x], x)).padded_batch(2, [4]))
    assert fixed[0].tolist() == [[1, 0, 0, 0], [2, 2, 0, 0]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller size"):
        values(D.range(3, 4).map(lambda x: tf.fill([x], x)).padded_batch(1, [2]))
    assert values(D.range(5).batch(2).unbatch()) == [0, 1, 2, 3, 4]
    assert [b.tolist() for b in values(D.range(6).batch(4).rebatch(3))] == [[0, 1, 2],
                                                                             [3, 4, 5]]


def test_scan_reduce_enumerate_unique_zip_concatenate():
    scanned = D.range(4).scan(tf.constant(0, tf.int64), lambda state, x: (state + x, state))
    assert values(scanned) == [0, 0, 1, 3]
    total = D.range(5).reduce(tf.constant(0, tf.int64), lambda state, x: state + x)
    assert int(total) == 10
    assert values(D.range(2).enumerate(start=5)) == [(5, 0), (6, 1)]
    assert values(D.from_tensor_slices([3, 1, 3, 2, 1]).unique()) == [3, 1, 2]
    zipped = D.zip((D.range(3), D.range(10, 20)))
    assert values(zipped) == [(0, 10), (1, 11), (2, 12)] and len(zipped) == 3
    both = D.range(2).concatenate(D.range(7, 9))
    assert values(both) == [0, 1, 7, 8] and len(both) == 4
    with pytest.raises(TypeError, match="incompatible element specs"):
        D.range(2).concatenate(D.from_tensors(1.0))


def test_ignore_errors_skips_failing_elements():
    def reciprocal(x):
        return tf.py_function(lambda v: 12 // (int(v) - 2), [x], tf.int64)

    assert values(D.range(5).map(reciprocal).ignore_errors()) == [-6, -12, 12, 6]


def test_as_numpy_iterator_and_apply():
    dataset = D.from_tensor_slices({"a": [1, 2]}).apply(lambda d: d.map(lambda e: e["a"] + 1))
    assert values(dataset) == [2, 3]


def test_assert_cardinality():
    good = D.range(3).filter(lambda x: x >= 0).apply(tf.data.experimental.assert_cardinality(3))
    assert int(good.cardinality()) == 3 and values(good) == [0, 1, 2]
    bad = D.range(2).apply(tf.data.experimental.assert_cardinality(3))
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 3"):
        values(bad)


def test_len_of_infinite_and_unknown():
    with pytest.raises(TypeError, match="infinite"):
        len(D.range(2).repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(D.range(2).filter(lambda x: x > 0))
