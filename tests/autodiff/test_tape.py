"""Tests for ndflow/autodiff/tape.py: tf.GradientTape against TF's documented behaviour."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework.op_registry import registered_ops
from tests.helpers import assert_close


def _square(x):
    return x * x


# --- sources, targets and structure ----------------------------------------------------------

def test_gradient_of_single_source():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_gradient_keeps_the_structure_of_sources():
    x = tf.constant(2.0)
    z = tf.constant(5.0)
    with tf.GradientTape() as tape:
        tape.watch([x, z])
        y = x * x * z
    grads = tape.gradient(y, {"a": x, "b": [x, z], "c": (z,)})
    assert set(grads) == {"a", "b", "c"}
    assert float(grads["a"]) == 20.0
    assert [float(g) for g in grads["b"]] == [20.0, 4.0]
    assert isinstance(grads["c"], tuple) and float(grads["c"][0]) == 4.0


def test_gradient_sums_over_several_and_nested_targets():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1 = x * x
        y2 = x * 3.0
    assert float(tape.gradient([y1, y2], x)) == 7.0
    assert float(tape.gradient({"a": y1, "b": [y2]}, x)) == 7.0


def test_gradient_of_non_scalar_target_sums_its_elements():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert_close(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])


def test_output_gradients_weight_the_targets():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient([y, y], x, output_gradients=[2.0, 3.0])) == 20.0
    vector = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(vector)
        out = vector * vector
    grad = tape.gradient(out, vector, output_gradients=tf.constant([10.0, 100.0]))
    assert_close(grad.numpy(), [20.0, 400.0])
    with pytest.raises(ValueError, match="2 targets but 1 output_gradients"):
        tf.GradientTape(persistent=True).gradient([y, y], x, output_gradients=[1.0])


def test_gradient_of_a_source_itself_is_one():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
    assert float(tape.gradient(x, x)) == 1.0


def test_unconnected_gradients_none_and_zero():
    x = tf.constant([1.0, 2.0])
    unrelated = tf.constant(5.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, unrelated])
        y = x * x
    assert tape.gradient(y, unrelated) is None
    assert tape.gradient(y, unrelated, unconnected_gradients="none") is None
    for zero in ["zero", tf.UnconnectedGradients.ZERO]:
        grad = tape.gradient(y, [unrelated, x], unconnected_gradients=zero)
        assert float(grad[0]) == 0.0
        assert_close(grad[1].numpy(), [2.0, 4.0])
    assert_close(tape.gradient(tf.constant(1.0), x, unconnected_gradients="zero").numpy(),
                 [0.0, 0.0])
    with pytest.raises(ValueError, match="bogus"):
        tape.gradient(y, x, unconnected_gradients="bogus")


def test_gradient_wrt_integer_tensor_is_none():
    i = tf.constant(3)
    with tf.GradientTape() as tape:
        tape.watch(i)
        y = i * i
    assert tape.gradient(y, i) is None


def test_gradient_of_a_target_computed_outside_the_tape_is_none():
    x = tf.constant(2.0)
    before = x * x
    with tf.GradientTape() as tape:
        tape.watch(x)
    after = x * x
    assert tape.gradient([before, after], x) is None


def test_sources_that_are_not_tensors_raise():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises((TypeError, ValueError), match="GradientTape.gradient: sources must be "
                                                      "tensors or variables, got float"):
        tape.gradient(y, 1.0)
    with pytest.raises((TypeError, ValueError), match="got NoneType"):
        tape.gradient(y, [x, None])


def test_watch_rejects_non_tensors():
    with pytest.raises(ValueError, match="GradientTape.watch: expected a Tensor or Variable, "
                                         "got float"):
        tf.GradientTape().watch(1.0)


# --- persistence, reset, recording -----------------------------------------------------------

def test_non_persistent_tape_raises_on_second_call():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.jacobian(y, x)


def test_persistent_tape_allows_several_calls():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x)) == 4.0
    assert float(tape.gradient(z, x)) == 32.0
    assert float(tape.gradient(z, y)) == 8.0


def test_gradient_inside_the_recording_block():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        grad = tape.gradient(y, x)
        z = y * 2.0
    assert float(grad) == 6.0
    assert float(tape.gradient(z, x)) == 12.0


def test_stop_recording():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            hidden = x * x
        z = y + hidden
    assert float(tape.gradient(z, x)) == 6.0


def test_reset_forgets_everything():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        z = x * 3.0
        tape.watch(x)
        w = x * 5.0
    assert float(tape.gradient([y, z, w], x)) == 5.0
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
    assert tape.gradient(y, x) is None


# --- variables -------------------------------------------------------------------------------

def test_trainable_variables_are_watched_automatically():
    v = tf.Variable(1.0)
    frozen = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * frozen
    grads = tape.gradient(y, [v, frozen])
    assert float(grads[0]) == 2.0
    assert grads[1] is None
    assert tape.watched_variables() == (v,)


def test_non_trainable_variable_can_be_watched_explicitly():
    frozen = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        tape.watch(frozen)
        y = frozen * frozen
    assert float(tape.gradient(y, frozen)) == 4.0


def test_watch_accessed_variables_false():
    a = tf.Variable(1.0)
    b = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    assert float(tape.gradient(y, a)) == 2.0
    assert tape.watched_variables() == (a,)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        y = a * b
    assert tape.gradient(y, [a, b]) == [None, None]


def test_variable_read_several_times_and_assigned_between_reads():
    v = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        first = v * 1.0
        v.assign(5.0)
        second = v * v
        y = first + second
    assert float(tape.gradient(y, v)) == 1.0 + 10.0


def test_gradient_wrt_a_variable_read_tensor_is_not_the_variable():
    v = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = v * 2.0
    assert tape.gradient(y, v.value()) is None


def test_unconnected_zero_for_variable_and_gradient_dtype():
    v = tf.Variable([1.0, 2.0], dtype=tf.float64)
    x = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    grad = tape.gradient(y, v, unconnected_gradients="zero")
    assert grad.dtype == tf.float64 and grad.shape == (2,)


# --- higher order and jacobians --------------------------------------------------------------

def test_second_and_third_derivatives_with_nested_tapes():
    x = tf.constant(2.0)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = x * x * x
            dy = t1.gradient(y, x)
        d2y = t2.gradient(dy, x)
    d3y = t3.gradient(d2y, x)
    assert (float(dy), float(d2y), float(d3y)) == (12.0, 12.0, 6.0)


def test_second_derivative_with_a_persistent_tape_watching_itself():
    v = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape() as inner:
            y = v * v * v
        grad = inner.gradient(y, v)
    assert float(outer.gradient(grad, v)) == 18.0


def test_jacobian():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    jac = tape.jacobian(y, x)
    assert_close(jac.numpy(), np.diag([2.0, 4.0, 6.0]))


def test_jacobian_of_matrix_wrt_structure():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    b = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = a * b
    jac = tape.jacobian(y, {"a": a, "b": b})
    assert jac["a"].shape == (2, 2, 2, 2)
    assert_close(jac["a"].numpy(), 2.0 * np.eye(4).reshape(2, 2, 2, 2))
    assert_close(jac["b"].numpy(), a.numpy())
    unrelated = tf.constant([1.0])
    assert tape.jacobian(y, unrelated) is None
    zeros = tape.jacobian(y, unrelated, unconnected_gradients="zero")
    assert_close(zeros.numpy(), np.zeros((2, 2, 1)))


def test_batch_jacobian():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x * 2.0
    jac = tape.batch_jacobian(y, x)
    assert jac.shape == (3, 2, 2)
    expected = np.stack([np.diag(4.0 * row) for row in x.numpy()])
    assert_close(jac.numpy(), expected)


def test_jacobian_to_second_order():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        jac = inner.jacobian(y, x)
    hessian_diag = outer.gradient(jac, x)
    assert_close(hessian_diag.numpy(), [6.0, 12.0])


# --- sparse gradients ------------------------------------------------------------------------

def test_gather_gradient_is_indexed_slices():
    if not hasattr(tf, "gather"):
        pytest.skip("tf.gather (the GatherV2 op of the array/indexing work) is not available")
    params = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as tape:
        y = tf.gather(params, [0, 2, 0])
    grad = tape.gradient(y, params)
    assert isinstance(grad, tf.IndexedSlices)
    assert_close(grad.values.numpy(), np.ones((3, 2)))
    np.testing.assert_array_equal(grad.indices.numpy(), [0, 2, 0])
    if "UnsortedSegmentSum" not in registered_ops():
        pytest.skip("densifying IndexedSlices needs UnsortedSegmentSum (math work), not there")
    dense = tf.convert_to_tensor(grad)
    assert_close(dense.numpy(), [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


def test_persistent_tape_differentiates_its_own_gradient_inside_its_block():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x * x
        grad = tape.gradient(y, x)
    assert float(grad) == 27.0
    assert float(tape.gradient(grad, x)) == 18.0


def test_gradient_wrt_a_source_and_an_intermediate_together():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.watch(y)
        z = y * y
    grads = tape.gradient(z, [x, y])
    assert [float(g) for g in grads] == [108.0, 18.0]
