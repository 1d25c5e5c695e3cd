"""Tests for ndflow/keras/layers/embedding.py: Keras 3's numbers, masks, IndexedSlices
gradients, the harness, Keras 2's input_length, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers._layers_b import check_against_keras, names


@pytest.mark.parametrize("name", names("Embedding"))
def test_matches_keras(name):
    check_against_keras(name)


def test_lookup_values_and_shapes():
    layer = layers.Embedding(6, 3)
    ids = np.array([[0, 5, 2], [1, 1, 4]])
    out = layer(ids)
    assert out.shape == (2, 3, 3) and out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), layer.embeddings.numpy()[ids])
    assert layer.count_params() == 18
    assert [w._layer_path for w in layer.weights] == [f"{layer.name}/embeddings"]
    assert layer.compute_output_shape((None, 7)) == (None, 7, 3)


def test_float_ids_are_cast():
    layer = layers.Embedding(4, 2)
    np.testing.assert_array_equal(layer(np.array([[1.0, 3.0]], np.float32)).numpy(),
                                  layer.embeddings.numpy()[[[1, 3]]])


def test_mask_zero_mask():
    layer = layers.Embedding(5, 2, mask_zero=True)
    out = layer(np.array([[3, 0, 1]]))
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, False, True]])
    assert layers.Embedding(5, 2).compute_mask(np.array([[1]])) is None


def test_gradient_is_indexed_slices():
    layer = layers.Embedding(10, 3)
    ids = tf.constant([[1, 1, 7]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(ids))
    grad = tape.gradient(loss, layer.embeddings)
    assert isinstance(grad, tf.IndexedSlices)
    dense = tf.convert_to_tensor(grad).numpy()
    np.testing.assert_array_equal(dense[1], [2, 2, 2])
    np.testing.assert_array_equal(dense[7], [1, 1, 1])
    assert dense.sum() == 9


def test_config_round_trip_and_weights():
    layer = layers.Embedding(7, 2, mask_zero=True, embeddings_initializer="ones")
    layer(np.array([[1]]))
    clone = layers.Embedding.from_config(layer.get_config())
    assert clone.mask_zero and clone.output_dim == 2
    clone(np.array([[1]]))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone.get_weights()[0], np.ones((7, 2), np.float32))


def test_keras2_input_length_builds_sequential():
    model = keras.Sequential([layers.Embedding(20, 4, input_length=6)])
    assert model.output_shape == (None, 6, 4)
    assert layers.Embedding.from_config(model.layers[0].get_config()).input_length == 6


def test_symbolic_and_fit_lower_loss():
    inputs = keras.Input((5,), dtype="int32")
    hidden = layers.Embedding(12, 4, mask_zero=True)(inputs)
    assert hidden.shape.as_list() == [None, 5, 4]
    output = layers.Dense(1)(layers.Flatten()(hidden))
    model = keras.Model(inputs, output)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, (16, 5))
    y = rng.standard_normal((16, 1)).astype("float32")
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]


@pytest.mark.parametrize("kwargs", [{"input_dim": 0, "output_dim": 2},
                                    {"input_dim": 3, "output_dim": -1}],
                         ids=["input_dim", "output_dim"])
def test_invalid_sizes(kwargs):
    with pytest.raises(ValueError, match="Embedding: `(input|output)_dim` must be a positive"):
        layers.Embedding(**kwargs)


def test_out_of_range_id_raises():
    layer = layers.Embedding(3, 2)
    with pytest.raises(tf.errors.InvalidArgumentError):
        layer(np.array([[5]]))


def test_live_keras_differential():
    keras_ref = pytest.importorskip("tensorflow").keras
    ref = keras_ref.layers.Embedding(8, 3)
    ref.build((None, 4))
    mine = layers.Embedding(8, 3)
    mine.build((None, 4))
    mine.set_weights(ref.get_weights())
    ids = np.array([[0, 7, 3, 3]])
    np.testing.assert_allclose(mine(ids).numpy(), np.asarray(ref(ids)))
