"""The compiled executor: plans, buffer release, in-place reuse of dead buffers."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.function.executor import Plan


def _concrete(fn, *specs):
    return tf.function(fn, autograph=False).get_concrete_function(*specs)


def test_dead_elementwise_buffers_are_reused_in_place():
    concrete = _concrete(lambda x: tf.exp(x * 2.0) + 1.0, tf.TensorSpec([64, 128], tf.float32))
    x = np.linspace(-1, 1, 64 * 128, dtype=np.float32).reshape(64, 128)
    result = concrete(tf.constant(x)).numpy()
    np.testing.assert_allclose(result, np.exp(x * 2) + 1, rtol=1e-6)
    small = _concrete(lambda x: tf.exp(x * 2.0) + 1.0, tf.TensorSpec([4], tf.float32))
    small(tf.constant([0.0, 1.0, 2.0, 3.0]))
    assert all(not s.kernel.__qualname__.startswith("_in_place") for s in small._plan.steps)
    plan = concrete._plan
    in_place = [s for s in plan.steps if s.kernel.__name__ == "kernel" and
                s.kernel.__qualname__.startswith("_in_place")]
    assert len(in_place) >= 2  # exp and add write into the dying product's buffer


def test_inputs_variables_and_shared_values_are_never_overwritten():
    variable = tf.Variable([1.0, 2.0, 3.0])

    def fn(x):
        y = x * 2.0
        z = y + variable  # the variable's array must not be written
        w = y * 3.0  # y has two readers: neither may write into it
        return z + w, y

    concrete = _concrete(fn, tf.TensorSpec([3], tf.float32))
    x = tf.constant([1.0, 1.0, 1.0])
    x_before = x.numpy().copy()
    total, y = concrete(x)
    np.testing.assert_allclose(total.numpy(), [9.0, 10.0, 11.0])
    np.testing.assert_allclose(y.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.numpy(), x_before)
    np.testing.assert_array_equal(variable.numpy(), [1.0, 2.0, 3.0])


def test_plan_frees_intermediate_buffers():
    concrete = _concrete(lambda x: tf.reduce_sum(tf.exp(x) * x), tf.TensorSpec([3], tf.float32))
    concrete(tf.constant([1.0, 2.0, 3.0]))
    plan = concrete._plan
    freed = {s for free in plan.frees for s in free}
    assert freed  # intermediates are released after their last reader
    assert not freed & {s for s in plan.output_slots if s is not None}


def test_plan_runs_only_what_fetches_need_when_not_keeping_state():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [2])
        needed = x + 1.0
        unused = x * 5.0  # noqa: F841 - not fetched
    plan = Plan(graph, [x], [needed], keep_stateful=False)
    assert [s.op.type for s in plan.steps] == ["AddV2"]
    assert plan.run([np.array([1.0, 2.0], np.float32)])[0].tolist() == [2.0, 3.0]


def test_bias_add_and_relu_write_into_a_fresh_matmul_result():
    kernel = np.linspace(-1, 1, 32 * 256, dtype=np.float32).reshape(32, 256)
    bias = np.linspace(-0.5, 0.5, 256, dtype=np.float32)

    def fn(x):
        return tf.nn.relu(tf.nn.bias_add(tf.matmul(x, tf.constant(kernel)), tf.constant(bias)))

    concrete = _concrete(fn, tf.TensorSpec([64, 32], tf.float32))
    x = np.linspace(-2, 2, 64 * 32, dtype=np.float32).reshape(64, 32)
    np.testing.assert_allclose(concrete(tf.constant(x)).numpy(),
                               np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=2e-5)
    into = [s.op.type for s in concrete._plan.steps if s.kernel.__name__ == "kernel_into"]
    assert into == ["BiasAdd", "Relu"]


def test_relu_grad_writes_into_a_fresh_conv_input_gradient():
    rng = np.random.default_rng(3)
    x = tf.constant(rng.integers(-2, 3, size=(4, 16, 16, 8)).astype(np.float32))  # many zeros
    first = tf.constant(rng.standard_normal((3, 3, 8, 8)).astype(np.float32))
    second = tf.constant(rng.standard_normal((3, 3, 8, 8)).astype(np.float32))

    def fn(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            hidden = tf.nn.relu(tf.nn.conv2d(x, first, 1, "SAME"))
            total = tf.reduce_sum(tf.nn.conv2d(hidden, second, 1, "SAME") ** 2)
        return tape.gradient(total, x)

    concrete = _concrete(fn, tf.TensorSpec([4, 16, 16, 8], tf.float32))
    np.testing.assert_allclose(concrete(x).numpy(), fn(x).numpy(), rtol=1e-5, atol=1e-3)
    into = [s.op.type for s in concrete._plan.steps if s.kernel.__name__ == "kernel_into"]
    assert "ReluGrad" in into


def _mixed_plan():
    """A plan with constants, a multi-output op, a stateful op without outputs, attrs, an
    output that is a fed input and one that is a constant."""
    variable = tf.Variable(0.0)

    def fn(x):
        parts = tf.split(x, 2)  # two outputs
        total = tf.reduce_sum(parts[0] * 3.0) + tf.reduce_sum(parts[1])
        variable.assign_add(total)  # no outputs
        return total, x, tf.constant(7.0)

    return _concrete(fn, tf.TensorSpec([4], tf.float32)), variable


@pytest.mark.parametrize("generated", [True, False])
def test_generated_and_interpreted_plans_give_the_same_results(monkeypatch, generated):
    from ndflow.function import executor

    if not generated:
        monkeypatch.setattr(executor, "_GENERATED_MAX_STEPS", 0)
    concrete, variable = _mixed_plan()
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    total, same, seven = concrete(tf.constant(x))
    assert total.numpy() == 16.0 and seven.numpy() == 7.0
    np.testing.assert_array_equal(same.numpy(), x)
    concrete(tf.constant(x))
    assert variable.numpy() == 32.0
    program = concrete._plan._compiled
    assert (program.__code__.co_filename == "<ndflow plan>") == generated


@pytest.mark.parametrize("generated", [True, False])
def test_a_failing_kernel_names_its_op_and_inputs(monkeypatch, generated):
    from ndflow.function import executor

    if not generated:
        monkeypatch.setattr(executor, "_GENERATED_MAX_STEPS", 0)

    def fn(x, index):
        y = tf.exp(x)
        return tf.gather(y, index)

    concrete = _concrete(fn, tf.TensorSpec([3], tf.float32), tf.TensorSpec([], tf.int32))
    np.testing.assert_allclose(concrete(tf.constant([0.0, 1.0, 2.0]), tf.constant(1)).numpy(),
                               np.e, rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        concrete(tf.constant([0.0, 1.0, 2.0]), tf.constant(5))
    message = str(caught.value)
    assert "GatherV2" in message and "5" in message and "in op" in message
