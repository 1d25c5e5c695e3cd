"""PyDataset/Sequence with fit, pad_sequences, split_dataset (expected values from Keras)."""

import math

import numpy as np
import pytest

import ndflow as tf

utils = tf.keras.utils


class Batches(utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_py_dataset_drives_fit():
    x = np.random.RandomState(0).randn(20, 2).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    data = Batches(x, y, batch_size=8, workers=2, use_multiprocessing=False)
    assert len(data) == 3 and data.num_batches == 3 and data.workers == 2
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    batches = []
    record = tf.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append(batch))
    history = model.fit(data, epochs=2, verbose=0, callbacks=[record])
    assert batches == [0, 1, 2, 0, 1, 2]
    assert data.epochs_ended == 2
    assert history.history["loss"][1] < history.history["loss"][0]


def test_sequence_is_py_dataset_and_iterates():
    assert utils.Sequence is utils.PyDataset
    data = Batches(np.arange(5), np.arange(5), batch_size=2)
    assert [list(x) for x, _ in data] == [[0, 1], [2, 3], [4]]
    assert data.max_queue_size == 10 and data.use_multiprocessing is False


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [[1, 2, 3], [0, 0, 4]]),
    ({"maxlen": 2}, [[2, 3], [0, 4]]),
    ({"maxlen": 2, "padding": "post", "truncating": "post", "value": -1}, [[1, 2], [4, -1]]),
    ({"maxlen": 4, "padding": "post"}, [[1, 2, 3, 0], [4, 0, 0, 0]]),
], ids=["default", "truncate_pre", "post_post_value", "pad_post"])
def test_pad_sequences(kwargs, expected):
    out = utils.pad_sequences([[1, 2, 3], [4]], **kwargs)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expected)


def test_pad_sequences_dtype_empty_and_item_shape():
    out = utils.pad_sequences([[0.5], []], maxlen=2, dtype="float32")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0.5], [0, 0]])
    vectors = utils.pad_sequences([np.ones((1, 3)), np.ones((2, 3))])
    assert vectors.shape == (2, 2, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"padding": "middle"}, 'Padding type "middle" not understood'),
    ({"truncating": "middle"}, 'Truncating type "middle" not understood'),
    ({"value": "x"}, "not compatible with `value`'s type"),
], ids=["padding", "truncating", "string_value"])
def test_pad_sequences_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        utils.pad_sequences([[1, 2]], **kwargs)


def test_pad_sequences_non_iterable_item():
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable: 3"):
        utils.pad_sequences([[1], 3])


def _values(part):
    if hasattr(part, "element_spec"):
        return [np.asarray(v).tolist() for v in part.as_numpy_iterator()]
    return np.asarray(part).tolist()


def test_split_dataset_shuffle_matches_keras_order():
    left, right = utils.split_dataset(np.arange(10), left_size=0.7, shuffle=True, seed=3)
    assert _values(left) == [1, 5, 6, 0, 9, 4, 7]  # keras.utils.split_dataset, same seed
    assert _values(right) == [2, 8, 3]


def test_split_dataset_tuple_right_size():
    left, right = utils.split_dataset((np.arange(10), np.arange(10) * 2), right_size=3)
    if hasattr(right, "element_spec"):
        assert [tuple(v) for v in _values(right)] == [(7, 14), (8, 16), (9, 18)]
    else:
        np.testing.assert_array_equal(right[1], [14, 16, 18])
        assert len(left[0]) == 7


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, ValueError, "At least one of the `left_size` or `right_size`"),
    ({"left_size": 10}, ValueError, "`left_size` should be either a positive integer smaller"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "greater than 1"),
    ({"left_size": "half"}, TypeError, "Invalid `left_size` Type"),
    ({"left_size": 0.01}, ValueError, "left side dataset split will be empty"),
], ids=["no_size", "too_big", "sum_over_1", "bad_type", "empty_left"])
def test_split_dataset_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        utils.split_dataset(np.arange(10), **kwargs)


def test_split_dataset_unequal_lengths():
    with pytest.raises(ValueError, match=r"arrays of the same length.*\(3,\), \(4,\)"):
        utils.split_dataset((np.arange(3), np.arange(4)), left_size=1)
