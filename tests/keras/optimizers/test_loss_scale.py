"""Tests for ndflow/keras/optimizers/loss_scale.py: dynamic loss scaling as tf.keras does it
(skip and halve on non-finite gradients, double after `dynamic_growth_steps` finite steps),
eagerly and inside ndflow.function; Keras 2's API; configs and errors."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import optimizers
from tests.keras.optimizers.fixtures.optimizer_cases import LOSS_SCALE_GRADS

with open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_reference.json")) as _f:
    KERAS = json.load(_f)["loss_scale"]


def _base_name(name):
    return name.removesuffix(":0")


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "function"])
def test_loss_scale_sequence_matches_keras(traced):
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0,
                                              dynamic_growth_steps=2)
    variable = tf.Variable(np.array([1.0, -2.0], np.float32))

    def step(gradient):
        optimizer.apply_gradients([(gradient, variable)])

    if traced:
        step = tf.function(step)
    scales, weights = [], []
    for grad in LOSS_SCALE_GRADS:
        step(tf.constant(np.array(grad, np.float32)))
        scales.append(float(optimizer.dynamic_scale.numpy()))
        weights.append(variable.numpy().tolist())
    assert scales == KERAS["scales"]
    np.testing.assert_allclose(weights, KERAS["weights"], rtol=1e-6)
    assert int(optimizer.iterations.numpy()) == KERAS["iterations"]
    assert [_base_name(v.name) for v in optimizer.variables] == KERAS["variables"]


def test_inf_gradient_skips_step_and_halves_scale():
    inner = optimizers.Adam(0.1)
    optimizer = optimizers.LossScaleOptimizer(inner)
    variable = tf.Variable([1.0, 1.0])
    optimizer.apply_gradients([(tf.constant([np.inf, 1.0]), variable)])
    np.testing.assert_array_equal(variable.numpy(), [1.0, 1.0])
    assert float(optimizer.dynamic_scale.numpy()) == 2.0**14
    assert int(optimizer.iterations.numpy()) == 0
    assert np.all(inner.variables[2].numpy() == 0)  # Adam's momentum untouched


def test_scale_loss_and_gradients_round_trip():
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=4.0)
    variable = tf.Variable([3.0])
    assert float(optimizer.scale_loss(tf.constant(2.0))) == 8.0
    with tf.GradientTape() as tape:
        loss = optimizer.scale_loss(tf.reduce_sum(variable * variable))
    gradients = tape.gradient(loss, [variable])
    np.testing.assert_allclose(gradients[0].numpy(), [24.0])
    optimizer.apply_gradients(zip(gradients, [variable]))
    np.testing.assert_allclose(variable.numpy(), [-3.0])  # 3 - 1.0 * 6


def test_scale_loss_keeps_float16_loss_dtype():
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD())
    scaled = optimizer.scale_loss(tf.constant(np.float16(0.5)))
    assert scaled.dtype == tf.float16
    assert float(scaled) == 0.5 * 2**15


def test_keras2_scaled_loss_and_unscaled_gradients_are_not_unscaled_twice():
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=4.0)
    variable = tf.Variable([3.0])
    with tf.GradientTape() as tape:
        scaled = optimizer.get_scaled_loss(tf.reduce_sum(variable * variable))
    gradients = optimizer.get_unscaled_gradients(tape.gradient(scaled, [variable]))
    np.testing.assert_allclose(gradients[0].numpy(), [6.0])
    optimizer.apply_gradients(zip(gradients, [variable]))
    np.testing.assert_allclose(variable.numpy(), [-3.0])
    assert float(optimizer.loss_scale.numpy()) == 4.0
    assert optimizer.get_unscaled_gradients([None]) == [None]


def test_learning_rate_and_iterations_come_from_inner_optimizer():
    inner = optimizers.SGD(0.5)
    optimizer = optimizers.LossScaleOptimizer(inner)
    assert optimizer.learning_rate is inner.learning_rate
    optimizer.learning_rate = 0.25
    np.testing.assert_allclose(inner.learning_rate.numpy(), 0.25)
    assert optimizer.iterations is inner.iterations


def test_config_round_trip_and_get():
    optimizer = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=64.0,
                                              dynamic_growth_steps=10)
    config = optimizers.serialize(optimizer)
    restored = optimizers.deserialize(config)
    assert isinstance(restored, optimizers.LossScaleOptimizer)
    assert isinstance(restored.inner_optimizer, optimizers.Adam)
    assert restored.initial_scale == 64.0 and restored.dynamic_growth_steps == 10
    assert restored.inner_optimizer.learning_rate.numpy() == pytest.approx(0.01)


def test_finalize_goes_to_inner_optimizer():
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(1.0, use_ema=True))
    variable = tf.Variable([1.0])
    for _ in range(2):
        optimizer.apply_gradients([(tf.constant([2.0**15]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-1.0])
    optimizer.finalize_variable_values([variable])
    # EMA: the first average is the weight (0.0), then 0.99 * 0.0 + 0.01 * -1.0
    np.testing.assert_allclose(variable.numpy(), [-0.01], rtol=1e-6)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"dynamic": False}, ValueError, "no longer supports `dynamic=False`"),
    ({"clipnorm": 1.0}, ValueError, "does not support `clipnorm`"),
    ({"foo": 1}, ValueError, "does not support arguments: `foo`"),
], ids=["static", "clipnorm", "unknown"])
def test_constructor_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        optimizers.LossScaleOptimizer(optimizers.SGD(), **kwargs)


def test_inner_must_be_an_optimizer():
    with pytest.raises(TypeError, match="LossScaleOptimizer: `inner_optimizer` must be"):
        optimizers.LossScaleOptimizer("sgd")
