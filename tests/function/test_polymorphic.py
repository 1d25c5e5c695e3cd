import numpy as np
import pytest

import ndflow as tf


def test_traced_function_gives_eager_numbers():
    @tf.function
    def f(x, y):
        return x * y + x

    a = tf.constant([1.0, 2.0])
    np.testing.assert_allclose(f(a, a).numpy(), [2.0, 6.0])
    np.testing.assert_allclose(f(a, 2.0).numpy(), [3.0, 6.0])


def test_retracing_follows_tensorflow():
    @tf.function
    def f(x, scale):
        return x * scale

    a = tf.constant([1.0, 2.0])
    f(a, 2.0)
    f(a, 2.0)
    assert f.experimental_get_tracing_count() == 1
    f(a, 3.0)  # new Python value: retrace
    assert f.experimental_get_tracing_count() == 2
    f(tf.constant([1.0, 2.0, 3.0]), 3.0)  # new shape: retrace
    assert f.experimental_get_tracing_count() == 3
    f(tf.constant([4.0, 5.0]), 3.0)  # seen signature: no retrace
    assert f.experimental_get_tracing_count() == 3
    f(tf.constant([1, 2]), 3)  # new dtype
    assert f.experimental_get_tracing_count() == 4


def test_input_signature_with_unknown_dims():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        return x + 1.0

    assert f(tf.constant([1.0])).numpy().tolist() == [2.0]
    assert f(tf.constant([1.0, 2.0, 3.0])).numpy().tolist() == [2.0, 3.0, 4.0]
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="incompatible with input_signature"):
        f(tf.constant([[1.0]]))


def test_reduce_retracing_generalises_shapes():
    @tf.function(reduce_retracing=True)
    def f(x):
        return x * 2.0

    f(tf.constant([1.0]))
    f(tf.constant([1.0, 2.0]))
    f(tf.constant([1.0, 2.0, 3.0]))
    assert f.experimental_get_tracing_count() == 2


def test_get_concrete_function_and_nested_outputs():
    @tf.function
    def f(x):
        return {"double": x * 2.0, "pair": (x, x + 1.0)}

    concrete = f.get_concrete_function(tf.TensorSpec([None, 2], tf.float32))
    out = concrete(tf.ones([3, 2]))
    assert out["double"].shape.as_list() == [3, 2]
    np.testing.assert_allclose(out["pair"][1].numpy(), np.full((3, 2), 2.0))
    assert concrete.inputs[0].shape.as_list() == [None, 2]


def test_function_on_methods_binds_self():
    class Scaler:
        def __init__(self, factor):
            self.factor = factor

        @tf.function
        def __call__(self, x):
            return x * self.factor

    assert float(Scaler(3.0)(tf.constant(2.0))) == 6.0
    assert float(Scaler(4.0)(tf.constant(2.0))) == 8.0


def test_runtime_error_names_op_and_user_line():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        return tf.reshape(x, [2, 2])

    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        f(tf.constant([1.0, 2.0, 3.0]))
    message = str(info.value)
    assert "Reshape" in message
    assert "test_polymorphic.py" in message


def test_gradient_tape_inside_a_traced_function():
    weight = tf.Variable([[1.0], [2.0]])

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.matmul(x, weight) ** 2)
        dx, dw = tape.gradient(y, [x, weight])
        return dx, dw

    x = np.array([[1.0, 3.0]], np.float32)
    dx, dw = step(tf.constant(x))
    z = x @ np.array([[1.0], [2.0]], np.float32)
    np.testing.assert_allclose(dx.numpy(), 2 * z * np.array([[1.0, 2.0]]), rtol=1e-6)
    np.testing.assert_allclose(dw.numpy(), 2 * x.T @ z, rtol=1e-6)
    assert step.experimental_get_tracing_count() == 1


def test_variables_only_on_the_first_trace():
    holder = []

    @tf.function
    def make(x):
        if not holder:
            holder.append(tf.Variable(1.0))
        return x * holder[0]

    assert float(make(tf.constant(2.0))) == 2.0

    @tf.function
    def always_new(x):
        return x * tf.Variable(1.0)

    always_new(tf.constant(1.0))
    with pytest.raises(ValueError, match="first call"):
        always_new(tf.constant([1.0, 2.0]))  # a new shape retraces and creates again


def test_captured_tensors_and_python_closures():
    scale = tf.constant(3.0)

    @tf.function
    def f(x):
        return x * scale

    assert float(f(tf.constant(2.0))) == 6.0


def test_automatic_control_dependencies_keep_program_order():
    counter = tf.Variable(0.0)

    @tf.function
    def f():
        counter.assign(1.0)
        first = counter.read_value()
        counter.assign_add(10.0)
        return first, counter.read_value()

    first, second = f()
    assert float(first) == 1.0 and float(second) == 11.0
