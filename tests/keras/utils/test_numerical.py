"""to_categorical, normalize, set_random_seed (values checked against Keras 3.15 by hand)."""

import random

import numpy as np
import pytest

import ndflow as tf

utils = tf.keras.utils


@pytest.mark.parametrize("labels, num_classes, shape", [
    ([1, 2, 0], None, (3, 3)),
    ([1, 2, 0], 5, (3, 5)),
    ([[1], [0]], None, (2, 2)),
    ([[1, 2], [0, 0]], 3, (2, 2, 3)),
    ([], 4, (0, 4)),
], ids=["infer", "explicit", "trailing_1_dropped", "rank2", "empty"])
def test_to_categorical_numpy(labels, num_classes, shape):
    out = utils.to_categorical(labels, num_classes)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == shape
    flat = np.asarray(labels, dtype=np.int64).reshape(-1)
    np.testing.assert_array_equal(out.reshape(-1, shape[-1]), np.eye(shape[-1])[flat])


def test_to_categorical_tensor_gives_tensor():
    out = utils.to_categorical(tf.constant([[2], [0]]), num_classes=3)
    assert isinstance(out, tf.Tensor) and out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[0, 0, 1], [1, 0, 0]])


def test_normalize_numpy_l2_and_zero_rows():
    out = utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_normalize_axis0_order1():
    # Keras 2's (correct) result; Keras 3 expands the norm on the wrong axis for axis=0.
    out = utils.normalize(np.array([[3.0, 4.0], [1.0, 1.0]]), axis=0, order=1)
    np.testing.assert_allclose(out, [[0.75, 0.8], [0.25, 0.2]])


def test_normalize_tensor():
    out = utils.normalize(tf.constant([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)


def test_set_random_seed_repeats_python_numpy_and_ndflow():
    def draw():
        return (random.random(), np.random.rand(), tf.random.uniform([2]).numpy().tolist())

    utils.set_random_seed(42)
    first = draw()
    utils.set_random_seed(42)
    assert draw() == first


def test_set_random_seed_rejects_non_int():
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        utils.set_random_seed(1.5)
