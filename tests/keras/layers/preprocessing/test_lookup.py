"""Tests for ndflow/keras/layers/preprocessing/lookup.py: CategoryEncoding, Hashing (TF's
FarmHash buckets), StringLookup and IntegerLookup; values as Keras 3 gives them."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


@pytest.mark.parametrize("mode,expected", [
    ("count", [[0, 2, 0, 1]]), ("multi_hot", [[0, 1, 0, 1]]),
], ids=["count", "multi_hot"])
def test_category_encoding(mode, expected):
    out = layers.CategoryEncoding(num_tokens=4, output_mode=mode)(np.array([[1, 1, 3]]))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), expected)


def test_category_encoding_one_hot_and_errors():
    out = layers.CategoryEncoding(3, output_mode="one_hot")(np.array([[0], [2]]))
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(3, output_mode="tf_idf")


def test_hashing_matches_keras():
    layer = layers.Hashing(num_bins=5)
    assert layer(np.array([["a"], ["b"], ["c"]])).numpy().tolist() == [[4], [2], [2]]
    assert layer(np.array([[1], [2]])).numpy().tolist() == [[4], [4]]
    masked = layers.Hashing(num_bins=5, mask_value="")(np.array(["", "a"]))
    assert masked.numpy()[0] == 0 and 1 <= masked.numpy()[1] < 5
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(3, salt=1)
    with pytest.raises(ValueError, match="num_bins"):
        layers.Hashing(0)


def test_string_lookup_vocabulary_oov_and_invert():
    layer = layers.StringLookup(vocabulary=["a", "b", "c"])
    out = layer(np.array([["a", "z", "c"]]))
    assert out.dtype == tf.int64 and out.numpy().tolist() == [[1, 0, 3]]
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    assert layer.vocabulary_size() == 4
    masked = layers.StringLookup(vocabulary=["a", "b"], mask_token="")
    assert masked(np.array(["", "b", "q"])).numpy().tolist() == [0, 3, 1]
    inverse = layers.StringLookup(vocabulary=["a", "b"], invert=True)
    assert inverse(np.array([1, 2, 0, 9])).numpy().tolist() == [b"a", b"b", b"[UNK]", b"[UNK]"]
    two = layers.StringLookup(vocabulary=["a"], num_oov_indices=2)
    assert set(two(np.array(["x", "y", "zz", "w"])).numpy().tolist()) <= {0, 1}


def test_string_lookup_adapt_and_modes():
    layer = layers.StringLookup()
    layer.adapt(np.array(["b", "a", "b", "c", "c", "c"]))
    assert layer.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    hot = layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    np.testing.assert_array_equal(hot(np.array([["a", "a", "x"]])).numpy(), [[1, 1, 0]])
    count = layers.StringLookup(vocabulary=["a", "b"], output_mode="count")
    np.testing.assert_array_equal(count(np.array([["a", "a", "x"]])).numpy(), [[1, 2, 0]])
    idf = layers.StringLookup(vocabulary=["a", "b"], output_mode="tf_idf",
                              idf_weights=[0.5, 2.0])
    np.testing.assert_allclose(idf(np.array([["b", "b"]])).numpy(), [[0, 0, 4.0]])
    limited = layers.StringLookup(max_tokens=3)
    limited.adapt(np.array(["x", "y", "y", "z", "z", "z"]))
    assert limited.get_vocabulary() == ["[UNK]", "z", "y"]


def test_integer_lookup():
    layer = layers.IntegerLookup(vocabulary=[12, 36])
    assert layer(np.array([[12, 1, 36]])).numpy().tolist() == [[1, 0, 2]]
    assert layer.get_vocabulary() == [-1, 12, 36]
    inverse = layers.IntegerLookup(vocabulary=[12, 36], invert=True)
    assert inverse(np.array([2, 0])).numpy().tolist() == [36, -1]
    masked = layers.IntegerLookup(vocabulary=[5], mask_token=0)
    assert masked(np.array([0, 5, 7])).numpy().tolist() == [0, 2, 1]


def test_lookup_in_graph_symbolic_and_config():
    layer = layers.StringLookup(vocabulary=["a", "b"])
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, 2), tf.string)])
    result = traced(tf.constant([["b", "q"]]))
    assert result.numpy().tolist() == [[2, 0]]
    symbolic = layer(keras.Input((3,), dtype="string"))
    assert symbolic.shape.as_list() == [None, 3] and symbolic.dtype == tf.int64
    clone = layers.StringLookup.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()


def test_lookup_errors():
    with pytest.raises(ValueError, match="repeated term"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="`output_mode` must be 'int' when `invert`"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="StringLookup: unknown output_mode"):
        layers.StringLookup(output_mode="bag")
    with pytest.raises(ValueError, match="reserved token"):
        layers.StringLookup(vocabulary=["x", "[UNK]"])
