"""Tests for ndflow/ops/control_flow.py: cond, case, switch_case, while_loop, eagerly and
inside tf.function (If/While ops), with their gradients."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops import state as state_ops
from tests.helpers import assert_close, check_grad


def _numeric_derivative(fn, x, eps=1e-4):
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.reshape(-1)[i] += eps
        minus.reshape(-1)[i] -= eps
        grad.reshape(-1)[i] = (np.sum(fn(plus)) - np.sum(fn(minus))) / (2 * eps)
    return grad


# --- cond ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["eager", "function"])
@pytest.mark.parametrize("value", [2.0, -1.0], ids=["true", "false"])
def test_cond_picks_branch(mode, value):
    def fn(x):
        return tf.cond(x > 0, lambda: {"a": x * 3.0, "b": (x, 1.0)},
                       lambda: {"a": x - 1.0, "b": (x * x, 2.0)})

    run = tf.function(fn) if mode == "function" else fn
    result = run(tf.constant(value))
    expected_a = value * 3 if value > 0 else value - 1
    assert_close(result["a"].numpy(), expected_a)
    assert_close(result["b"][0].numpy(), value if value > 0 else value * value)
    assert_close(np.asarray(result["b"][1]), 1.0 if value > 0 else 2.0)


def test_cond_eager_runs_only_one_branch():
    calls = []
    tf.cond(tf.constant(True), lambda: calls.append("t"), lambda: calls.append("f"))
    assert calls == ["t"]


def test_cond_in_function_output_shape_is_most_specific_compatible():
    @tf.function
    def fn(x):
        return tf.cond(x[0] > 0, lambda: tf.zeros([2, 3]), lambda: tf.ones([4, 3]))

    concrete = fn.get_concrete_function(tf.constant([1.0]))
    assert concrete.structured_outputs.shape.as_list() == [None, 3]
    assert fn(tf.constant([-1.0])).shape.as_list() == [4, 3]


def test_cond_dtype_mismatch_names_both_dtypes():
    @tf.function
    def fn(x):
        return tf.cond(x > 0, lambda: x, lambda: tf.cast(x, tf.int32))

    with pytest.raises(TypeError, match="(?s)true_fn and false_fn.*float32 and int32"):
        fn(tf.constant(1.0))


def test_cond_structure_mismatch():
    @tf.function
    def fn(x):
        return tf.cond(x > 0, lambda: (x, x), lambda: x)

    with pytest.raises(ValueError, match="same number, type, and overall structure"):
        fn(tf.constant(1.0))


def test_cond_pred_must_be_scalar_bool():
    @tf.function
    def fn(x):
        return tf.cond(x, lambda: 1.0, lambda: 2.0)

    with pytest.raises(TypeError, match="cond: pred must be a bool tensor, got dtype float32"):
        fn(tf.constant(1.0))
    with pytest.raises(ValueError, match=r"cond: the predicate must be a scalar, got shape \(2,\)"):
        tf.cond(tf.constant([True, False]), lambda: 1, lambda: 2)


def test_cond_stateful_branch_runs_only_when_taken():
    counter = tf.Variable(0)

    @tf.function
    def fn(x):
        tf.cond(x > 0,
                lambda: state_ops.assign_variable(counter, 1, "AssignAddVariableOp"),
                lambda: state_ops.assign_variable(counter, 10, "AssignAddVariableOp"))
        return x

    fn(tf.constant(1.0))
    assert counter.numpy() == 1
    fn(tf.constant(-1.0))
    fn(tf.constant(-1.0))
    assert counter.numpy() == 21


@pytest.mark.parametrize("value", [1.5, -0.7], ids=["true", "false"])
def test_cond_gradient_eager_second_order(value):
    check_grad(lambda x: tf.cond(x > 0, lambda: x * x * x, lambda: x * 2.0 + x * x),
               np.float64(value), order=2)


@pytest.mark.parametrize("value", [1.5, -0.7], ids=["true", "false"])
def test_cond_gradient_in_function_first_and_second_order(value):
    y_var = tf.constant(0.5, dtype=tf.float64)

    def forward(x):
        return tf.cond(x > 0, lambda: x * x * x * y_var, lambda: tf.sin(x) * x)

    @tf.function
    def grads(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = forward(x)
            dy = inner.gradient(y, x)
        return dy, outer.gradient(dy, x)

    dy, d2y = grads(tf.constant(value, dtype=tf.float64))
    numeric = _numeric_derivative(lambda v: forward(tf.constant(v)).numpy(), value)
    assert_close(dy.numpy(), numeric, rtol=1e-6, atol=1e-8)
    exact = 6 * value * 0.5 if value > 0 else -np.sin(value) * value + 2 * np.cos(value)
    assert_close(d2y.numpy(), exact, rtol=1e-8, atol=1e-10)


def test_cond_gradient_unused_input_is_zero_in_one_branch():
    @tf.function
    def fn(x, z):
        with tf.GradientTape() as tape:
            tape.watch([x, z])
            y = tf.cond(x > 0, lambda: x * z, lambda: x * 2.0)
        return tape.gradient(y, [x, z])

    dx, dz = fn(tf.constant(-1.0), tf.constant(3.0))
    assert_close(dx.numpy(), 2.0)
    assert_close(dz.numpy(), 0.0)


# --- case / switch_case ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["eager", "function"])
@pytest.mark.parametrize("index,expected", [(0, 10), (1, 20), (2, 30), (7, 30), (-1, 30)],
                         ids=["0", "1", "2", "out_of_range_default", "negative_default"])
def test_switch_case(mode, index, expected):
    def fn(i):
        return tf.switch_case(i, [lambda: tf.constant(10), lambda: tf.constant(20),
                                  lambda: tf.constant(30)])

    run = tf.function(fn) if mode == "function" else fn
    assert run(tf.constant(index)).numpy() == expected


def test_switch_case_dict_and_default():
    branches = {1: lambda: tf.constant(1.0), 3: lambda: tf.constant(3.0)}
    assert tf.switch_case(tf.constant(3), branches).numpy() == 3.0
    assert tf.switch_case(tf.constant(2), branches, default=lambda: tf.constant(-1.0)
                          ).numpy() == -1.0


@pytest.mark.parametrize("mode", ["eager", "function"])
@pytest.mark.parametrize("x,expected", [(-5, 1), (0, 2), (5, 3)], ids=["neg", "zero", "pos"])
def test_case(mode, x, expected):
    def fn(x):
        return tf.case([(x < 0, lambda: tf.constant(1)), (tf.equal(x, 0), lambda: tf.constant(2))],
                       default=lambda: tf.constant(3))

    run = tf.function(fn) if mode == "function" else fn
    assert run(tf.constant(x)).numpy() == expected


def test_case_exclusive_raises_when_two_are_true():
    with pytest.raises(tf.errors.InvalidArgumentError, match="case: exclusive=True.*got 2"):
        tf.case([(tf.constant(True), lambda: 1), (tf.constant(True), lambda: 2)],
                default=lambda: 3, exclusive=True)


# --- while_loop -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_while_loop_values(mode):
    def fn(x):
        return tf.while_loop(lambda i, acc: i < 5,
                             lambda i, acc: (i + 1, {"s": acc["s"] + x * tf.cast(i, tf.float32)}),
                             (tf.constant(0), {"s": tf.zeros([2])}))

    run = tf.function(fn) if mode == "function" else fn
    i, acc = run(tf.constant([1.0, 2.0]))
    assert i.numpy() == 5
    assert_close(acc["s"].numpy(), np.array([10.0, 20.0], np.float32))


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_while_loop_maximum_iterations(mode):
    def fn(x):
        return tf.while_loop(lambda i: i < 100, lambda i: [i + 1], [x], maximum_iterations=3)

    run = tf.function(fn) if mode == "function" else fn
    assert run(tf.constant(0))[0].numpy() == 3


def test_while_loop_single_tensor_loop_var():
    assert tf.while_loop(lambda i: i < 4, lambda i: i * 2, tf.constant(1)).numpy() == 4
    traced = tf.function(lambda x: tf.while_loop(lambda i: i < 4, lambda i: i * 2, x))
    assert traced(tf.constant(1)).numpy() == 4


def test_while_loop_shape_change_needs_invariant():
    @tf.function
    def grows(x):
        return tf.while_loop(lambda v: tf.reduce_sum(v) < 30, lambda v: tf.concat([v, v], 0), [x])

    with pytest.raises(ValueError, match=r"enters the loop with shape \(1,\), but has shape "
                                         r"\(2,\) after one iteration.*shape_invariants"):
        grows(tf.constant([1.0]))

    @tf.function
    def relaxed(x):
        return tf.while_loop(lambda v: tf.reduce_sum(v) < 30, lambda v: tf.concat([v, v], 0),
                             [x], shape_invariants=[tf.TensorShape([None])])

    assert relaxed(tf.constant([1.0]))[0].shape.as_list() == [32]


def test_while_loop_invariant_incompatible_with_initial_shape():
    @tf.function
    def fn(x):
        return tf.while_loop(lambda v: False, lambda v: v, [x],
                             shape_invariants=[tf.TensorShape([3])])

    with pytest.raises(ValueError, match=r"shape invariant \(3,\) is not compatible with the "
                                         r"initial shape \(2,\)"):
        fn(tf.constant([1.0, 2.0]))


def test_while_loop_body_dtype_change():
    @tf.function
    def fn(x):
        return tf.while_loop(lambda v: v < 3, lambda v: tf.cast(v, tf.float32), [x])

    with pytest.raises(TypeError, match="enters the loop with dtype int32, but has dtype "
                                        "float32"):
        fn(tf.constant(0))


def test_while_loop_structure_mismatch():
    with pytest.raises(ValueError, match="while_loop: body must return the structure"):
        tf.while_loop(lambda i: i < 3, lambda i: (i + 1, i), [tf.constant(0)])


def test_while_loop_gradient_eager():
    check_grad(lambda x: tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x + 1.0),
                                       (tf.constant(0), x))[1],
               np.array([0.5, -1.2]), order=2)


def test_while_loop_gradient_in_function_data_dependent_trip_count():
    weight = tf.Variable(np.float64(1.5))

    def forward(x):
        return tf.while_loop(lambda i, s: tf.reduce_sum(s) < 50.0,
                             lambda i, s: (i + 1, s * weight + x), (tf.constant(0), x))[1]

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(forward(x) * tf.constant([1.0, 2.0], tf.float64))
        return y, tape.gradient(y, [x, weight])

    x0 = np.array([0.7, 1.1])
    y, (dx, dw) = grads(tf.constant(x0))

    def value(x, w):
        weight.assign(np.float64(w))
        try:
            return float(np.sum(forward(tf.constant(x)).numpy() * [1.0, 2.0]))
        finally:
            weight.assign(np.float64(1.5))

    assert_close(y.numpy(), value(x0, 1.5))
    assert_close(dx.numpy(), _numeric_derivative(lambda v: value(v, 1.5), x0, eps=1e-6),
                 rtol=1e-6, atol=1e-8)
    numeric_dw = (value(x0, 1.5 + 1e-6) - value(x0, 1.5 - 1e-6)) / 2e-6
    assert_close(dw.numpy(), numeric_dw, rtol=1e-6, atol=1e-8)


def test_nested_cond_in_while_in_function_with_gradient():
    def forward(x):
        def body(i, s):
            return i + 1, tf.cond(tf.equal(i % 2, 0), lambda: s + x, lambda: s * x)

        return tf.while_loop(lambda i, s: i < 4, body, (tf.constant(0), tf.ones_like(x)))[1]

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = forward(x)
        return y, tape.gradient(y, x)

    y, dy = run(tf.constant(2.0, tf.float64))
    assert_close(y.numpy(), 16.0)  # ((1 + x) x + x) x
    assert_close(dy.numpy(), 4 * 2.0 + 3 * 2.0 ** 2)


def test_while_in_cond_in_function():
    @tf.function
    def fn(x, n):
        return tf.cond(n > 0,
                       lambda: tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s * x),
                                             (0, tf.ones_like(x)))[1],
                       lambda: -x)

    assert_close(fn(tf.constant(3.0), tf.constant(2)).numpy(), 9.0)
    assert_close(fn(tf.constant(3.0), tf.constant(0)).numpy(), -3.0)


def test_while_stateful_body_runs_each_iteration():
    counter = tf.Variable(0)

    @tf.function
    def fn(n):
        def body(i):
            state_ops.assign_variable(counter, 2, "AssignAddVariableOp")
            return [i + 1]

        return tf.while_loop(lambda i: i < n, body, [tf.constant(0)])

    fn(tf.constant(3))
    assert counter.numpy() == 6
    fn(tf.constant(0))
    assert counter.numpy() == 6
