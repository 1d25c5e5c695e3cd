"""Tests for ndflow/keras/optimizers/schedules.py: values against tf.keras fixtures and the
documented formulas, eagerly and inside ndflow.function; configs and errors."""

import json
import math
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras.optimizers import schedules
from tests.keras.optimizers.fixtures.optimizer_cases import SCHEDULE_CASES, SCHEDULE_STEPS

with open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_reference.json")) as _f:
    KERAS = json.load(_f)["schedules"]


def _schedule(case):
    class_name, kwargs = SCHEDULE_CASES[case]
    return getattr(schedules, class_name)(**kwargs)


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_schedule_matches_keras(case):
    schedule = _schedule(case)
    values = [float(schedule(tf.constant(step, tf.int64))) for step in SCHEDULE_STEPS]
    np.testing.assert_allclose(values, KERAS[case], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_schedule_in_function_with_variable_step(case):
    schedule = _schedule(case)
    step = tf.Variable(0, dtype=tf.int64)
    traced = tf.function(lambda: schedule(step))
    values = []
    for value in SCHEDULE_STEPS:
        step.assign(value)
        values.append(float(traced()))
    np.testing.assert_allclose(values, KERAS[case], rtol=1e-6, atol=1e-8)
    assert traced.experimental_get_tracing_count() == 1


def test_exponential_decay_formula():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.8, staircase=True)
    for step in range(10):
        expected = 0.1 * 0.8 ** (step // 4)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-6)
    assert schedule(3).dtype == tf.float32


def test_piecewise_constant_boundaries_are_inclusive_on_the_left_interval():
    schedule = schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.25])
    values = [float(schedule(tf.constant(s))) for s in range(6)]
    assert values == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_polynomial_decay_formula_and_cycle():
    schedule = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, power=2.0)
    assert float(schedule(5)) == pytest.approx(0.25)
    assert float(schedule(50)) == pytest.approx(0.0)
    cyclic = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True)
    # step 15 decays over ceil(15 / 10) * 10 = 20 steps
    assert float(cyclic(15)) == pytest.approx(1 - 15 / 20)
    assert float(cyclic(0)) == pytest.approx(1.0)


def test_inverse_time_and_cosine_formulas():
    inverse = schedules.InverseTimeDecay(1.0, decay_steps=2, decay_rate=0.5)
    assert float(inverse(3)) == pytest.approx(1 / (1 + 0.5 * 1.5))
    cosine = schedules.CosineDecay(2.0, decay_steps=10, alpha=0.1)
    expected = 2.0 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * 0.3)) + 0.1)
    assert float(cosine(3)) == pytest.approx(expected, rel=1e-6)
    assert float(cosine(100)) == pytest.approx(0.2, rel=1e-6)
    warm = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert float(warm(2)) == pytest.approx(0.5)
    assert float(warm(4)) == pytest.approx(1.0)


def test_cosine_restarts_restart_and_shrink():
    schedule = schedules.CosineDecayRestarts(1.0, first_decay_steps=4, t_mul=2.0, m_mul=0.5)
    assert float(schedule(0)) == pytest.approx(1.0)
    assert float(schedule(4)) == pytest.approx(0.5)  # second period starts at m_mul
    assert float(schedule(12)) == pytest.approx(0.25)  # third period: 4 + 8 steps later


def test_optimizer_uses_schedule_inside_function():
    schedule = schedules.PiecewiseConstantDecay([1], [1.0, 0.1])
    from ndflow.keras import optimizers  # noqa: PLC0415

    optimizer = optimizers.SGD(learning_rate=schedule)
    variable = tf.Variable([0.0])
    step = tf.function(lambda g: optimizer.apply_gradients([(g, variable)]))
    for _ in range(3):
        step(tf.constant([1.0]))
    np.testing.assert_allclose(variable.numpy(), [-(1.0 + 1.0 + 0.1)], rtol=1e-6)


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_serialize_round_trip(case):
    schedule = _schedule(case)
    config = schedules.serialize(schedule)
    assert config["class_name"] == SCHEDULE_CASES[case][0]
    assert config["module"] == "keras.optimizers.schedules"
    restored = schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    keras2 = schedules.deserialize({"class_name": config["class_name"],
                                    "config": config["config"]})
    assert float(keras2(7)) == pytest.approx(float(schedule(7)))


def test_custom_schedule_deserialize_with_custom_objects():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.5 ** tf.cast(step, tf.float32)

        def get_config(self):
            return {}

    config = schedules.serialize(Halving())
    restored = schedules.deserialize(config, custom_objects={"Halving": Halving})
    assert float(restored(2)) == 0.25
    with pytest.raises(ValueError, match="Unknown decay: 'Halving'"):
        schedules.deserialize(config)


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "`decay_steps` must be > 0"),
    (lambda: schedules.PolynomialDecay(0.1, -1), "`decay_steps` must be > 0"),
    (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "`decay_steps` must be > 0"),
    (lambda: schedules.CosineDecay(0.1, 0), "`decay_steps` must be > 0"),
    (lambda: schedules.CosineDecayRestarts(0.1, 0), "`first_decay_steps` must be > 0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5]),
     "length of boundaries should be 1 less"),
], ids=["exponential", "polynomial", "inverse-time", "cosine", "restarts", "piecewise"])
def test_schedule_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_base_schedule_requires_call_and_config():
    with pytest.raises(TypeError, match="must override `__call__"):
        schedules.LearningRateSchedule()(1)
    with pytest.raises(TypeError, match="must override `get_config"):
        schedules.LearningRateSchedule().get_config()
