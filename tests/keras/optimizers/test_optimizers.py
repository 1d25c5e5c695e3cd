"""Tests for ndflow/keras/optimizers (base.py and the optimizer families): Keras 3's numbers
(fixtures from tf.keras, and NumPy formulas), eagerly and inside ndflow.function; slots,
iterations, clipping, weight decay, EMA, gradient accumulation, configs and errors."""

import json
import os
import warnings

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import optimizers
from tests.keras.optimizers import numpy_reference
from tests.keras.optimizers.fixtures.optimizer_cases import (
    OPTIMIZER_CASES,
    initial_weights_and_grads,
)

with open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_reference.json")) as _f:
    KERAS = json.load(_f)


def _base_name(name):
    return name.removesuffix(":0")


def _make(class_name, kwargs):
    kwargs = dict(kwargs)
    schedule = kwargs.pop("schedule", None)
    if schedule is not None:
        kwargs["learning_rate"] = getattr(optimizers.schedules, schedule[0])(**schedule[1])
    return getattr(optimizers, class_name)(**kwargs)


def _train(optimizer, weights0, grads, traced=False):
    variables = [tf.Variable(w) for w in weights0]

    def step(gradients):
        optimizer.apply_gradients(zip(gradients, variables))

    if traced:
        step = tf.function(step)
    for gradients in grads:
        step([tf.constant(g) for g in gradients])
    return variables


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "function"])
@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_optimizer_matches_keras(case, traced):
    class_name, kwargs = OPTIMIZER_CASES[case]
    expected = KERAS["optimizers"][case]
    optimizer = _make(class_name, kwargs)
    weights0, grads = initial_weights_and_grads()
    variables = _train(optimizer, weights0, grads, traced)
    for variable, want in zip(variables, expected["weights"]):
        np.testing.assert_allclose(variable.numpy(), np.float32(want), rtol=2e-6, atol=1e-7)
    assert int(optimizer.iterations.numpy()) == expected["iterations"]
    names = [_base_name(v.name) for v in optimizer.variables]
    assert names == [_base_name(name) for name, _ in expected["variables"]]
    assert [v.shape.as_list() for v in optimizer.variables] == [s for _, s in expected["variables"]]
    if "finalized" in expected:
        optimizer.finalize_variable_values(variables)
        for variable, want in zip(variables, expected["finalized"]):
            np.testing.assert_allclose(variable.numpy(), np.float32(want), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_traced_updates_equal_eager_updates(case):
    class_name, kwargs = OPTIMIZER_CASES[case]
    weights0, grads = initial_weights_and_grads(steps=3)
    eager = _train(_make(class_name, kwargs), weights0, grads)
    traced = _train(_make(class_name, kwargs), weights0, grads, traced=True)
    for a, b in zip(eager, traced):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


NUMPY_CASES = [case for case, (name, kwargs) in OPTIMIZER_CASES.items()
               if name in numpy_reference.REFERENCES and set(kwargs) <= {
                   "learning_rate", "momentum", "nesterov", "amsgrad", "weight_decay",
                   "centered", "l1_regularization_strength", "l2_regularization_strength",
                   "l2_shrinkage_regularization_strength", "beta"}
               and (name in ("Adam", "AdamW") or "weight_decay" not in kwargs)]


@pytest.mark.parametrize("case", NUMPY_CASES)
def test_optimizer_matches_numpy_formula(case):
    class_name, kwargs = OPTIMIZER_CASES[case]
    weights0, grads = initial_weights_and_grads(steps=5)
    variables = _train(_make(class_name, kwargs), weights0, grads)
    reference = numpy_reference.REFERENCES[class_name]
    expected = reference([w.astype(np.float64) for w in weights0],
                         [[g.astype(np.float64) for g in step] for step in grads], **kwargs)
    for variable, want in zip(variables, expected):
        np.testing.assert_allclose(variable.numpy(), want, rtol=2e-5, atol=2e-6)


def test_iterations_is_int64_variable_counting_applies():
    optimizer = optimizers.SGD(0.1)
    variable = tf.Variable([1.0, 2.0])
    assert optimizer.iterations.dtype == tf.int64
    assert not optimizer.iterations.trainable
    for expected in (1, 2, 3):
        result = optimizer.apply_gradients([(tf.constant([1.0, 1.0]), variable)])
        assert int(result.numpy()) == expected
    assert int(optimizer.iterations.numpy()) == 3


def test_slots_created_once_inside_function_are_eager_variables():
    optimizer = optimizers.Adam(0.1)
    variable = tf.Variable([1.0, 2.0])

    @tf.function
    def step(gradient):
        optimizer.apply_gradients([(gradient, variable)])

    step(tf.constant([1.0, 1.0]))
    step(tf.constant([2.0, 1.0]))
    assert len(optimizer.variables) == 4
    slots = optimizer.variables[2:]
    assert all(isinstance(s, tf.Variable) and s.numpy().shape == (2,) for s in slots)
    assert np.all(slots[0].numpy() != 0)  # the momentum was updated by the graph
    assert step.experimental_get_tracing_count() == 1


def test_learning_rate_variable_is_assignable():
    optimizer = optimizers.SGD(learning_rate=0.5)
    assert optimizer.learning_rate.dtype == tf.float32
    optimizer.learning_rate = 0.25
    np.testing.assert_allclose(optimizer.learning_rate.numpy(), 0.25)
    optimizer.learning_rate.assign(0.125)
    variable = tf.Variable([1.0])
    optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [0.875])
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.125)


def test_learning_rate_schedule_is_called_with_iterations():
    schedule = optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(learning_rate=schedule)
    variable = tf.Variable([0.0])
    for _ in range(3):
        optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-(1.0 + 0.5 + 0.25)])
    np.testing.assert_allclose(optimizer.learning_rate.numpy(), 0.125)
    assert [v.name.split(":")[0] for v in optimizer.variables] == ["iteration"]
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        optimizer.learning_rate = 0.1


def test_callable_learning_rate():
    optimizer = optimizers.SGD(learning_rate=lambda: 0.5)
    variable = tf.Variable([1.0])
    optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [0.5])


def test_keras2_lr_and_decay_arguments():
    optimizer = optimizers.SGD(lr=0.5, decay=1.0)
    np.testing.assert_allclose(optimizer.lr.numpy(), 0.5)
    variable = tf.Variable([0.0])
    for _ in range(3):  # rates 0.5 / (1 + iterations): 0.5, 0.25, 0.5/3
        optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-(0.5 + 0.25 + 0.5 / 3)], rtol=1e-6)
    assert optimizers.Adam(learning_rate=1).get_config()["learning_rate"] == 1.0


def test_none_gradients_are_skipped_with_a_warning():
    optimizer = optimizers.SGD(0.1)
    used, unused = tf.Variable([1.0], name="used"), tf.Variable([5.0], name="unused")
    with pytest.warns(UserWarning, match="unused"):
        optimizer.apply_gradients([(tf.constant([1.0]), used), (None, unused)])
    np.testing.assert_allclose(used.numpy(), [0.9])
    np.testing.assert_allclose(unused.numpy(), [5.0])


def test_all_none_gradients_raise_naming_the_variables():
    optimizer = optimizers.Adam()
    a, b = tf.Variable([1.0], name="kernel"), tf.Variable([1.0], name="bias")
    with pytest.raises(ValueError, match=r"No gradients provided for any variable.*kernel.*bias"):
        optimizer.apply_gradients([(None, a), (None, b)])


def test_indexed_slices_gradients_are_densified():
    table = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2))
    optimizer = optimizers.Adam(0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.gather(table, [1, 3, 1]))
    gradient = tape.gradient(loss, table)
    assert isinstance(gradient, tf.IndexedSlices)
    optimizer.apply_gradients([(gradient, table)])
    dense = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2))
    optimizers.Adam(0.1).apply_gradients([(tf.convert_to_tensor(gradient), dense)])
    np.testing.assert_array_equal(table.numpy(), dense.numpy())
    np.testing.assert_array_equal(table.numpy()[0], [0.0, 1.0])  # row without gradient


def test_minimize_with_callable_loss_and_with_tape():
    variable = tf.Variable([3.0, -1.0])
    optimizer = optimizers.SGD(0.25)
    optimizer.minimize(lambda: tf.reduce_sum(variable * variable), [variable])
    np.testing.assert_allclose(variable.numpy(), [1.5, -0.5])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(variable * variable)
    optimizer.minimize(loss, [variable], tape=tape)
    np.testing.assert_allclose(variable.numpy(), [0.75, -0.25])
    with pytest.raises(ValueError, match="`tape` is required"):
        optimizer.minimize(tf.constant(1.0), [variable])


def test_apply_without_variables_uses_built_list():
    optimizer = optimizers.SGD(1.0)
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    optimizer.build([a, b])
    optimizer.apply([tf.constant([1.0]), tf.constant([1.0])])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="Received a list of 1 gradients.*tracking 2"):
        optimizer.apply([tf.constant([1.0])])
    with pytest.raises(ValueError, match="must already be built"):
        optimizers.SGD().apply([tf.constant([1.0])])
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply_gradients([(tf.constant([1.0]), tf.Variable([0.0]))])


def test_exclude_from_weight_decay_by_object_and_name():
    optimizer = optimizers.SGD(learning_rate=1.0, weight_decay=0.5)
    kernel, bias = tf.Variable([2.0], name="kernel"), tf.Variable([2.0], name="dense/bias")
    other = tf.Variable([2.0], name="other")
    optimizer.exclude_from_weight_decay(var_list=[other], var_names=["bias"])
    zero = tf.constant([0.0])
    optimizer.apply_gradients([(zero, kernel), (zero, bias), (zero, other)])
    np.testing.assert_allclose([kernel.numpy()[0], bias.numpy()[0], other.numpy()[0]],
                               [1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["kernel"])


def test_variable_constraint_applied_after_update():
    variable = tf.Variable([0.5, -0.5], constraint=lambda v: tf.clip_by_value(v, 0.0, 1.0))
    optimizers.SGD(1.0).apply_gradients([(tf.constant([-1.0, 1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [1.0, 0.0])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_global_clipnorm_with_inf_gradient_gives_nan():
    variable = tf.Variable([1.0, 1.0])
    optimizers.SGD(0.1, global_clipnorm=1.0).apply_gradients(
        [(tf.constant([np.inf, 1.0]), variable)])
    assert np.all(np.isnan(variable.numpy()))


def test_ema_overwrite_and_finalize_in_function():
    weights0, grads = initial_weights_and_grads()
    kwargs = OPTIMIZER_CASES["sgd_ema_overwrite"][1]
    eager = _train(optimizers.SGD(**kwargs), weights0, grads)
    optimizer = optimizers.SGD(**kwargs)
    traced = _train(optimizer, weights0, grads, traced=True)
    for a, b in zip(eager, traced):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    averages = [v for v in optimizer.variables if "average" in v.name]
    assert len(averages) == 2
    optimizer.finalize_variable_values(traced)
    for variable, average in zip(traced, averages):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
    with pytest.raises(ValueError, match="length of model variables"):
        optimizer.finalize_variable_values(traced[:1])


def test_gradient_accumulation_counts_real_steps_for_schedules():
    optimizer = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    variable = tf.Variable([0.0])
    optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [0.0])
    optimizer.apply_gradients([(tf.constant([3.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-2.0])
    assert int(optimizer.iterations.numpy()) == 1
    assert int(optimizer._iterations.numpy()) == 2


def test_float16_variables_get_float16_updates():
    variable = tf.Variable(np.array([1.0, 2.0], np.float16))
    optimizer = optimizers.Adam(0.1)
    optimizer.apply_gradients([(tf.constant(np.array([1.0, -1.0], np.float16)), variable)])
    assert variable.dtype == tf.float16
    assert all(v.dtype == tf.float16 for v in optimizer.variables[2:])
    # tf.keras gives [0.9014, 2.1]: the whole update is computed in float16.
    np.testing.assert_array_equal(variable.numpy(), np.array([0.9014, 2.1], np.float16))


def test_get_serialize_deserialize_and_legacy_names():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW)
    assert isinstance(optimizers.get(optimizers.Nadam), optimizers.Nadam)
    instance = optimizers.SGD()
    assert optimizers.get(instance) is instance
    assert optimizers.get(None) is None
    config = optimizers.serialize(optimizers.Adam(learning_rate=0.5, amsgrad=True))
    assert config["class_name"] == "Adam" and config["module"] == "keras.optimizers"
    restored = optimizers.get(config)
    assert restored.amsgrad and restored.learning_rate.numpy() == pytest.approx(0.5)
    keras2 = optimizers.deserialize({"class_name": "Custom>Adam", "config": {
        "learning_rate": 0.1, "decay": 0.0, "jit_compile": True, "is_legacy_optimizer": False}})
    assert isinstance(keras2, optimizers.Adam)
    assert optimizers.legacy.Adam is optimizers.Adam
    assert optimizers.legacy.SGD is optimizers.SGD
    assert optimizers.experimental.AdamW is optimizers.AdamW
    from ndflow.keras.optimizers.legacy import RMSprop  # noqa: PLC0415 - the import form

    assert RMSprop is optimizers.RMSprop


@pytest.mark.parametrize("identifier", ["adamz", 3, {"class_name": "Nope", "config": {}}],
                         ids=["unknown-name", "int", "unknown-dict"])
def test_get_unknown_identifier_raises(identifier):
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(identifier)


@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_config_round_trip(case):
    class_name, kwargs = OPTIMIZER_CASES[case]
    optimizer = _make(class_name, kwargs)
    config = optimizer.get_config()
    restored = type(optimizer).from_config(config)
    assert restored.get_config() == config


def test_names_are_snake_case_and_unique():
    first, second = optimizers.RMSprop(), optimizers.RMSprop()
    assert first.name.startswith("rm_sprop") and first.name != second.name
    assert optimizers.AdamW(name="mine").name == "mine"


def test_weights_round_trip():
    variable = tf.Variable([1.0, 2.0])
    optimizer = optimizers.Adam(0.1)
    optimizer.apply_gradients([(tf.constant([1.0, 1.0]), variable)])
    weights = optimizer.get_weights()
    other = optimizers.Adam(0.1)
    other.build([tf.Variable([0.0, 0.0])])
    other.set_weights(weights)
    for a, b in zip(other.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not yet been built"):
        optimizers.Adam().set_weights(weights)


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), "Only one of `clipnorm`"),
    (lambda: optimizers.SGD(unknown=1), "Argument\\(s\\) not recognized"),
    (lambda: optimizers.SGD(learning_rate="fast"), "Argument `learning_rate` should be float"),
    (lambda: optimizers.SGD(momentum=1.5), "`momentum` must be a float between"),
    (lambda: optimizers.SGD(use_ema=True, ema_momentum=2.0), "`ema_momentum` must be in"),
    (lambda: optimizers.SGD(use_ema=True, ema_overwrite_frequency=0.5),
     "`ema_overwrite_frequency` must be an integer"),
    (lambda: optimizers.SGD(gradient_accumulation_steps=1),
     "`gradient_accumulation_steps` must be an integer >= 2"),
    (lambda: optimizers.AdamW(weight_decay=None), "Argument `weight_decay` must be a float"),
    (lambda: optimizers.Ftrl(initial_accumulator_value=-1.0),
     "`initial_accumulator_value` needs to be positive"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5), "`learning_rate_power` needs to be"),
    (lambda: optimizers.Lion(beta_1=0.0), "Argument `beta_1` must be in the"),
], ids=["two-clips", "unknown-kwarg", "bad-lr", "momentum", "ema-momentum", "ema-frequency",
        "accumulation", "adamw-decay", "ftrl-accumulator", "ftrl-power", "lion-beta"])
def test_constructor_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_subclass_without_update_step_raises():
    class Custom(optimizers.Optimizer):
        pass

    with pytest.raises(TypeError, match="Custom.*must override `update_step"):
        Custom(0.1).apply_gradients([(tf.constant([1.0]), tf.Variable([1.0]))])


def test_custom_optimizer_with_keras_helpers():
    class Halving(optimizers.Optimizer):
        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self.counts = self.add_optimizer_variables(var_list, "count", initializer="ones")

        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, gradient * tf.cast(learning_rate, variable.dtype) * 0.5)
            self.assign_add(self.counts[self._get_variable_index(variable)], tf.ones_like(gradient))

    optimizer = Halving(learning_rate=1.0)
    variable = tf.Variable([4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.apply_gradients([(tf.constant([2.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [3.0])
    np.testing.assert_allclose(optimizer.counts[0].numpy(), [2.0])
