"""tf.py_function and tf.numpy_function: values, dtypes, gradients (eager and in graphs), and
errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad


def test_py_function_single_and_several_outputs():
    x = tf.constant([1.0, 2.0])
    single = tf.py_function(lambda a: a * 2, [x], tf.float32)
    np.testing.assert_allclose(single.numpy(), [2.0, 4.0])
    pair = tf.py_function(lambda a: [a * 2, a], [x], [tf.float32, tf.float32])
    assert isinstance(pair, list) and len(pair) == 2
    np.testing.assert_allclose(pair[1].numpy(), [1.0, 2.0])
    assert tf.py_function(lambda a: None, [x], []) == []
    converted = tf.py_function(lambda a: 3, [x], tf.float32)
    assert converted.dtype == tf.float32 and float(converted) == 3.0


def test_py_function_in_graph_runs_on_eager_tensors():
    seen = []

    def record(a):
        seen.append(a.numpy().tolist())
        return a + 1

    @tf.function
    def f(x):
        y = tf.py_function(record, [x], tf.int32)
        assert y.shape.rank is None  # unknown while tracing, as in TF
        return y * 2

    np.testing.assert_array_equal(f(tf.constant([1, 2])).numpy(), [4, 6])
    np.testing.assert_array_equal(f(tf.constant([5, 6])).numpy(), [12, 14])
    assert seen == [[1, 2], [5, 6]]


def _cube(a):
    return tf.py_function(lambda t: t * t * t, [a], tf.float64)


def test_py_function_gradient_eagerly_to_second_order():
    check_grad(_cube, np.array([0.5, -1.5, 2.0]), order=2)


def test_py_function_gradient_inside_function():
    @tf.function
    def f(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.py_function(lambda a: a * a * a, [x], tf.float32)
            dy = inner.gradient(y, x)
        return dy, outer.gradient(dy, x)

    dy, d2y = f(tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(dy.numpy(), [3.0, 12.0])
    np.testing.assert_allclose(d2y.numpy(), [6.0, 12.0])


def test_py_function_integer_inputs_have_no_gradient():
    @tf.function
    def f(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.py_function(lambda a, k: a * tf.cast(k, tf.float32), [x, n], tf.float32)
        return tape.gradient(y, x)

    np.testing.assert_allclose(f(tf.constant([1.0, 2.0]), tf.constant(3)).numpy(), [3.0, 3.0])


def test_numpy_function_sees_arrays_eagerly_and_in_graphs():
    def add_one(a):
        assert isinstance(a, np.ndarray)
        return a + np.float32(1)

    x = tf.constant([1.0, 2.0])
    np.testing.assert_allclose(tf.numpy_function(add_one, [x], tf.float32).numpy(), [2.0, 3.0])
    traced = tf.function(lambda t: tf.numpy_function(add_one, [t], tf.float32, stateful=False))
    np.testing.assert_allclose(traced(x).numpy(), [2.0, 3.0])
    assert tf.numpy_function(lambda a: 1.0, [x], tf.float32).dtype == tf.float32


def test_numpy_function_is_not_differentiable():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.numpy_function(lambda a: a * 2, [x], tf.float32)
    assert tape.gradient(y, x) is None


@pytest.mark.parametrize("call,error,match", [
    (lambda x: tf.py_function(lambda a: a, [x], tf.int32), errors.InvalidArgumentError,
     ("EagerPyFunc: value 0 returned by the Python function <lambda> has dtype float32, but "
     "Tout says int32")),
    (lambda x: tf.py_function(lambda a: "x", [x], tf.float32), errors.InvalidArgumentError,
     "cannot be converted to float32"),
    (lambda x: tf.py_function(lambda a: 1 / 0, [x], tf.float32), errors.UnknownError,
     "ZeroDivisionError: division by zero"),
    (lambda x: tf.py_function(lambda a: [a], [x], [tf.float32, tf.float32]),
     errors.InvalidArgumentError, "must return 2 values"),
    (lambda x: tf.numpy_function(lambda a: a.astype(np.float64), [x], tf.float32),
     errors.InvalidArgumentError, "PyFunc: value 0 .* has dtype float64, but Tout says float32"),
    (lambda x: tf.numpy_function(lambda a: next(iter([])), [x], tf.float32),
     errors.OutOfRangeError, "raised StopIteration"),
], ids=["py-dtype", "py-unconvertible", "py-raises", "py-count", "np-dtype", "np-stop"])
def test_errors_eagerly_and_in_graphs(call, error, match):
    x = tf.constant([1.0, 2.0])
    with pytest.raises(error, match=match):
        call(x)
    with pytest.raises(error, match=match):
        tf.function(call)(x)
