"""Tiny models and data shared by the callback tests."""

import numpy as np
import pytest

import ndflow as tf


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    x = rng.randn(32, 3).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
    return x, y


@pytest.fixture
def make_model():
    def make(learning_rate=0.05, optimizer=None):
        tf.keras.utils.set_random_seed(1)
        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer or tf.keras.optimizers.SGD(learning_rate), "mse")
        return model

    return make

