"""Initializers, regularizers, constraints, activations and dtype policies."""

import math

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras


@pytest.mark.parametrize("name, limit", [
    ("glorot_uniform", math.sqrt(6 / (300 + 200))),
    ("he_uniform", math.sqrt(6 / 300)),
    ("lecun_uniform", math.sqrt(3 / 300)),
])
def test_uniform_variance_scaling_limits(name, limit):
    values = keras.initializers.get(name)((300, 200)).numpy()
    assert values.dtype == np.float32
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.9 * limit
    np.testing.assert_allclose(values.std(), limit / math.sqrt(3), rtol=0.05)


def test_normal_variance_scaling_and_conv_fans():
    values = keras.initializers.HeNormal(seed=1)((3, 3, 32, 64)).numpy()
    fan_in = 3 * 3 * 32
    np.testing.assert_allclose(values.std(), math.sqrt(2 / fan_in), rtol=0.05)
    assert np.abs(values).max() <= 2 * math.sqrt(2 / fan_in) / 0.87962566103423978 + 1e-6


def test_constant_zeros_ones_identity_orthogonal():
    np.testing.assert_array_equal(keras.initializers.Constant(2.5)((2, 2)).numpy(),
                                  np.full((2, 2), 2.5))
    assert keras.initializers.get("zeros")((3,)).numpy().tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(keras.initializers.Identity(2.0)((2, 2)).numpy(),
                                  2 * np.eye(2))
    q = keras.initializers.Orthogonal(seed=0)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_initializer_config_round_trip_and_unknown_name():
    init = keras.initializers.RandomNormal(mean=1.0, stddev=0.5, seed=3)
    config = keras.initializers.serialize(init)
    again = keras.initializers.deserialize(config)
    assert (again.mean, again.stddev, again.seed) == (1.0, 0.5, 3)
    with pytest.raises(ValueError, match="glorot_unifrom"):
        keras.initializers.get("glorot_unifrom")


def test_regularizer_values():
    x = tf.constant([[1.0, -2.0], [3.0, 0.5]])
    assert float(keras.regularizers.L1(0.1)(x)) == pytest.approx(0.1 * 6.5)
    assert float(keras.regularizers.L2(0.01)(x)) == pytest.approx(0.01 * 14.25)
    assert float(keras.regularizers.L1L2(0.1, 0.01)(x)) == pytest.approx(0.65 + 0.1425)
    reg = keras.regularizers.get({"class_name": "L2", "config": {"l2": 0.5}})
    assert reg.l2 == 0.5
    with pytest.raises(ValueError, match="regularizer"):
        keras.regularizers.get("l3")


def test_regularizer_losses_reach_the_model():
    layer = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.5),
                               kernel_initializer="ones")
    layer(np.ones((1, 3), np.float32))
    assert float(tf.add_n(layer.losses)) == pytest.approx(0.5 * 6.0)


def test_constraints_project_weights():
    w = tf.constant([[3.0, 0.1], [4.0, 0.1]])
    norms = np.linalg.norm(keras.constraints.MaxNorm(2.0)(w).numpy(), axis=0)
    np.testing.assert_allclose(norms, [2.0, np.linalg.norm([0.1, 0.1])], rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(keras.constraints.UnitNorm()(w).numpy(), axis=0),
                               [1.0, 1.0], rtol=1e-5)
    assert keras.constraints.NonNeg()(tf.constant([-1.0, 2.0])).numpy().tolist() == [0.0, 2.0]
    assert isinstance(keras.constraints.get("max_norm"), keras.constraints.MaxNorm)


@pytest.mark.parametrize("name, reference", [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("linear", lambda x: x),
    ("exponential", np.exp),
    ("hard_sigmoid", lambda x: np.clip(x + 3, 0, 6) / 6),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1)),
])
def test_activations_by_name(name, reference):
    x = np.linspace(-3, 3, 7).astype(np.float32)
    np.testing.assert_allclose(keras.activations.get(name)(tf.constant(x)).numpy(),
                               reference(x), rtol=1e-5, atol=1e-6)


def test_softmax_activation_and_unknown_name():
    x = tf.constant([[1.0, 2.0, 3.0]])
    out = keras.activations.softmax(x).numpy()
    np.testing.assert_allclose(out, np.exp([[1, 2, 3]]) / np.exp([1, 2, 3]).sum(), rtol=1e-6)
    with pytest.raises(ValueError, match="relux"):
        keras.activations.get("relux")


def test_mixed_precision_policies():
    policy = keras.mixed_precision.Policy("mixed_float16")
    assert policy.compute_dtype == tf.float16 and policy.variable_dtype == tf.float32
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = keras.layers.Dense(2)
        out = layer(np.ones((1, 3), np.float32))
        assert out.dtype == tf.float16
        assert layer.kernel.dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")
    keras.mixed_precision.experimental.set_policy("float32")  # the Keras 2 spelling
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="policy"):
        keras.mixed_precision.Policy("float33")
