"""Tests for ndflow/keras/layers/preprocessing/text_vectorization.py: standardize, split,
n-grams, the output modes and adapt, with Keras 3's results."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


def test_int_mode_matches_keras():
    layer = layers.TextVectorization(max_tokens=8, output_sequence_length=5)
    layer.adapt(["The cat sat.", "the dog, the CAT!"])
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat", "sat", "dog"]
    out = layer(["the cat ran far away now"])
    assert out.dtype == tf.int64 and out.numpy().tolist() == [[2, 3, 1, 1, 1]]
    ragged = layers.TextVectorization()
    ragged.adapt(["a b c", "a b"])
    assert ragged(["a b c d", "a"]).numpy().tolist() == [[3, 2, 4, 1], [3, 0, 0, 0]]


def test_ngrams_multi_hot_matches_keras():
    layer = layers.TextVectorization(ngrams=2, output_mode="multi_hot")
    layer.adapt(["a b c", "a b"])
    assert layer.get_vocabulary() == ["[UNK]", "b", "a b", "a", "c", "b c"]
    assert layer(["a b z"]).numpy().tolist() == [[1, 1, 1, 1, 0, 0]]


def test_tf_idf_matches_keras():
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.adapt(["a b c", "a b", "a"])
    out = layer(["a b z b"])
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [[0.72301793, 0.5596158, 1.3862944, 0.0]],
                               rtol=1e-6)


def test_count_split_character_and_standardize_options():
    count = layers.TextVectorization(output_mode="count", vocabulary=["x", "y"])
    assert count(["x y x q"]).numpy().tolist() == [[1, 2, 1]]
    chars = layers.TextVectorization(split="character", standardize=None,
                                     vocabulary=["a", "B"])
    assert chars(["aBc"]).numpy().tolist() == [[2, 3, 1]]
    lower = layers.TextVectorization(standardize="lower", vocabulary=["hi!"])
    assert lower(["HI!"]).numpy().tolist() == [[2]]
    custom = layers.TextVectorization(standardize=lambda t: tf.strings.regex_replace(t, "x", ""),
                                      vocabulary=["ab"])
    assert custom(["axb"]).numpy().tolist() == [[2]]
    padded = layers.TextVectorization(max_tokens=6, output_mode="multi_hot",
                                      pad_to_max_tokens=True, vocabulary=["a"])
    assert padded(["a"]).shape == (1, 6)


def test_graph_symbolic_dataset_and_config():
    layer = layers.TextVectorization(output_sequence_length=3)
    layer.adapt([["hello world"], ["hello"]])
    traced = tf.function(layer)
    assert traced(tf.constant(["world hello"])).numpy().tolist() == [[3, 2, 0]]
    inputs = keras.Input((1,), dtype="string")
    output = layer(inputs)
    assert output.shape.as_list() == [None, 3]
    model = keras.Model(inputs, output)
    assert model(np.array([["hello"]])).numpy().tolist() == [[2, 0, 0]]
    clone = layers.TextVectorization.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()


def test_text_classifier_fits():
    texts = np.array(["good movie", "bad movie", "good fun", "bad plot"] * 4)
    labels = np.array([1, 0, 1, 0] * 4, np.float32)[:, None]
    vectorize = layers.TextVectorization(output_sequence_length=2)
    vectorize.adapt(texts)
    ids = vectorize(texts).numpy()
    model = keras.Sequential([keras.Input((2,), dtype="int64"),
                              layers.Embedding(vectorize.vocabulary_size(), 4),
                              layers.GlobalAveragePooling1D() if hasattr(
                                  layers, "GlobalAveragePooling1D") else layers.Flatten(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="binary_crossentropy")
    loss = model.fit(ids, labels, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert loss[-1] < loss[0]


def test_errors():
    with pytest.raises(ValueError, match="TextVectorization: unknown output_mode"):
        layers.TextVectorization(output_mode="one_hot_bag")
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="TextVectorization: unknown split"):
        layers.TextVectorization(split="comma")
