"""Tests for ndflow/keras/layers/preprocessing/normalization.py: Normalization (adapt over
arrays and batches, fixed statistics, invert, axes) and Discretization; values as Keras 3."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


def test_adapt_array_matches_numpy():
    data = np.random.default_rng(0).standard_normal((50, 3)).astype("float32") * 4 + 2
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.get_weights()[0], data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[1], data.var(0), rtol=1e-4)
    out = layer(data).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-4)
    assert [w.trainable for w in layer.weights] == [False, False, False]
    assert layer.count_params() == 7


def test_adapt_batches_equals_whole():
    data = np.random.default_rng(1).standard_normal((40, 2, 3)).astype("float32")
    whole = layers.Normalization(axis=(1, 2))
    whole.adapt(data)
    batched = layers.Normalization(axis=(1, 2))
    batched.adapt([data[:15], data[15:]])
    for a, b in zip(whole.get_weights()[:2], batched.get_weights()[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert whole.get_weights()[0].shape == (2, 3)


def test_keras_values_fixed_and_invert():
    layer = layers.Normalization()
    layer.adapt(np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(layer(np.array([[1.0, 2.0]])).numpy(), [[-1.0, -1.0]])
    fixed = layers.Normalization(mean=2.0, variance=4.0)
    np.testing.assert_allclose(fixed(np.array([[1.0, 2.0]])).numpy(), [[-0.5, 0.0]])
    assert fixed.weights == []
    inverse = layers.Normalization(mean=2.0, variance=4.0, invert=True)
    np.testing.assert_allclose(inverse(np.array([[-0.5, 0.0]])).numpy(), [[1.0, 2.0]])
    scalar = layers.Normalization(axis=None)
    scalar.adapt(np.array([1.0, 3.0]))
    np.testing.assert_allclose(scalar(np.array([3.0])).numpy(), [1.0])


def test_config_graph_and_symbolic():
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    clone = layers.Normalization.from_config(layer.get_config())
    x = np.array([[3.0, 6.0]], np.float32)
    np.testing.assert_allclose(clone(x).numpy(), [[2.0, 2.0]])
    np.testing.assert_allclose(tf.function(layer)(x).numpy(), [[2.0, 2.0]])
    symbolic = layers.Normalization(mean=0.0, variance=1.0)(keras.Input((2,)))
    assert symbolic.shape.as_list() == [None, 2]


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="Normalization 'norm': all `axis` values must have a "
                                         "defined size"):
        layers.Normalization(name="norm").build((None, None))


def test_discretization_boundaries_and_adapt():
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0])
    out = layer(np.array([[-1.0, 0.5, 1.0, 2.0]]))
    assert out.dtype == tf.int32 and out.numpy().tolist() == [[0, 1, 2, 2]]
    learned = layers.Discretization(num_bins=3)
    learned.adapt(np.arange(10.0))
    np.testing.assert_allclose(learned.bin_boundaries, [2.3333333, 5.6666667], rtol=1e-6)
    hot = layers.Discretization(bin_boundaries=[0.0], output_mode="one_hot")
    np.testing.assert_array_equal(hot(np.array([-1.0, 1.0])).numpy(), [[1, 0], [0, 1]])
    config = layer.get_config()
    assert layers.Discretization.from_config(config).bin_boundaries == [0.0, 1.0]


def test_discretization_errors():
    with pytest.raises(ValueError, match="Both `num_bins` and `bin_boundaries`"):
        layers.Discretization(bin_boundaries=[1.0], num_bins=2)
    with pytest.raises(ValueError, match="Discretization 'd': call adapt"):
        layers.Discretization(num_bins=2, name="d")(np.array([1.0]))
