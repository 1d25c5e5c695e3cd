"""Tests for ndflow/ops/tensor_array.py: TensorArray eagerly and in tf.function, and map_fn,
scan, foldl, foldr, vectorized_map against NumPy, with gradients."""

import numpy as np
import pytest

import ndflow as tf
from tests.helpers import assert_close, check_grad

MODES = ["eager", "function"]


def _run(mode, fn, *args):
    return (tf.function(fn) if mode == "function" else fn)(*args)


# --- TensorArray --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_write_read_stack(mode):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=3)
        ta = ta.write(0, x).write(2, x * 2.0)
        return ta.read(2), ta.stack(), ta.size()

    read, stacked, size = _run(mode, fn, tf.constant([1.0, 2.0]))
    assert_close(read.numpy(), np.array([2.0, 4.0], np.float32))
    assert_close(stacked.numpy(), np.array([[1, 2], [0, 0], [2, 4]], np.float32))
    assert size.numpy() == 3


@pytest.mark.parametrize("mode", MODES)
def test_dynamic_size_in_while_loop(mode):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        _, ta = tf.while_loop(lambda i, t: i < 4,
                              lambda i, t: (i + 1, t.write(i, x * tf.cast(i, tf.float32))),
                              (tf.constant(0), ta))
        return ta.stack()

    result = _run(mode, fn, tf.constant([1.0, 2.0]))
    assert_close(result.numpy(), np.arange(4, dtype=np.float32)[:, None] * [1.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_unstack_gather_concat_split(mode):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=3).unstack(x)
        halves = tf.TensorArray(tf.float32, size=2).split(tf.reshape(x, [-1]), [3, 3])
        return ta.gather([2, 0]), ta.concat(), halves.read(1)

    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    gathered, concatenated, half = _run(mode, fn, tf.constant(x))
    assert_close(gathered.numpy(), x[[2, 0]])
    assert_close(concatenated.numpy(), x.reshape(-1))
    assert_close(half.numpy(), x.reshape(-1)[3:])


@pytest.mark.parametrize("mode", MODES)
def test_scatter(mode):
    def fn(x):
        return tf.TensorArray(tf.float32, size=3, element_shape=[2]).scatter([2, 0], x).stack()

    result = _run(mode, fn, tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert_close(result.numpy(), np.array([[3, 4], [0, 0], [1, 2]], np.float32))


def test_eager_write_is_shared_and_returns_new_array():
    ta = tf.TensorArray(tf.float32, size=2)
    written = ta.write(0, 1.0)
    assert written is not ta
    assert ta.read(0).numpy() == 1.0  # TF's eager TensorArray shares the storage


def test_write_out_of_range_not_resizeable():
    ta = tf.TensorArray(tf.float32, size=2)
    with pytest.raises(tf.errors.OutOfRangeError,
                       match="Tried to write to index 5 but array is not resizeable and size "
                             "is: 2"):
        ta.write(5, 1.0)

    @tf.function
    def fn(x):
        return tf.TensorArray(tf.float32, size=2).write(3, x).stack()

    with pytest.raises(tf.errors.OutOfRangeError, match="index 3.*size is: 2"):
        fn(tf.constant(1.0))


def test_write_incompatible_element_shape():
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"Incompatible shape for value \(\(3,\)\), expected "
                                         r"\(\(2,\)\)"):
        ta.write(1, [1.0, 2.0, 3.0])


def test_write_wrong_dtype():
    ta = tf.TensorArray(tf.int32, size=1)
    with pytest.raises((tf.errors.InvalidArgumentError, TypeError, ValueError)):
        ta.write(0, tf.constant(1.5))


def test_size_required_without_dynamic_size():
    with pytest.raises(ValueError, match="TensorArray: size must be given"):
        tf.TensorArray(tf.float32)


def test_tensor_array_write_op_error_names_shapes():
    @tf.function
    def fn(x, y):
        ta = tf.TensorArray(tf.float32, size=2, infer_shape=False)
        return ta.write(0, x).write(1, y).stack()

    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"TensorArrayWrite: could not write an element of shape \(3,\)"):
        fn(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0]))


def test_gradient_through_tensor_array_in_function():
    @tf.function
    def fn(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = tf.TensorArray(tf.float64, size=2).write(0, x * x).write(1, x * 3.0)
            y = tf.reduce_sum(ta.stack() * tf.constant([[1.0], [2.0]], tf.float64))
        return tape.gradient(y, x)

    x = np.array([0.5, -2.0])
    assert_close(fn(tf.constant(x)).numpy(), 2 * x + 6.0)


def test_tensor_array_write_gradient_eager():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=2)
        return ta.write(1, x * x).write(0, x).stack()

    check_grad(fn, np.array([0.3, 1.7]), order=2)


# --- map_fn / scan / foldl / foldr / vectorized_map ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_map_fn(mode):
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    result = _run(mode, lambda t: tf.map_fn(lambda r: tf.reduce_sum(r * r), t), tf.constant(x))
    assert_close(result.numpy(), np.sum(x * x, axis=1))


@pytest.mark.parametrize("mode", MODES)
def test_map_fn_nested_and_output_signature(mode):
    def fn(a, b):
        return tf.map_fn(lambda e: {"sum": tf.cast(e[0], tf.float32) + e[1]}, (a, b),
                         fn_output_signature={"sum": tf.float32})

    result = _run(mode, fn, tf.constant([1, 2, 3]), tf.constant([0.5, 0.5, 0.5]))
    assert_close(result["sum"].numpy(), np.array([1.5, 2.5, 3.5], np.float32))


def test_map_fn_structure_mismatch():
    with pytest.raises(ValueError, match="map_fn: fn's output must have the structure"):
        tf.map_fn(lambda x: (x, x), tf.constant([1.0, 2.0]))


def test_map_fn_scalar_elems():
    with pytest.raises(ValueError, match=r"map_fn: elems must have a first dimension"):
        tf.map_fn(lambda x: x, tf.constant(1.0))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_scan(mode, reverse):
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    result = _run(mode, lambda t: tf.scan(lambda a, e: a + e, t, reverse=reverse),
                  tf.constant(x))
    expected = np.cumsum(x[::-1])[::-1] if reverse else np.cumsum(x)
    assert_close(result.numpy(), expected)


@pytest.mark.parametrize("mode", MODES)
def test_scan_with_initializer_structure(mode):
    def fn(t):
        return tf.scan(lambda acc, e: (acc[0] + e, acc[1] * e), t,
                       initializer=(tf.constant(0.0), tf.constant(1.0)))

    x = np.array([1.0, 2.0, 3.0], np.float32)
    sums, products = _run(mode, fn, tf.constant(x))
    assert_close(sums.numpy(), np.cumsum(x))
    assert_close(products.numpy(), np.cumprod(x))


@pytest.mark.parametrize("mode", MODES)
def test_foldl_foldr(mode):
    x = np.array([1.0, 2.0, 3.0], np.float32)

    def fn(t):
        return (tf.foldl(lambda a, e: a - e, t), tf.foldr(lambda a, e: a - e, t),
                tf.foldl(lambda a, e: a * 10.0 + e, t, initializer=tf.constant(0.0)))

    left, right, digits = _run(mode, fn, tf.constant(x))
    assert_close(left.numpy(), 1.0 - 2.0 - 3.0)
    assert_close(right.numpy(), 3.0 - 2.0 - 1.0)
    assert_close(digits.numpy(), 123.0)


@pytest.mark.parametrize("mode", MODES)
def test_vectorized_map(mode):
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    result = _run(mode, lambda t: tf.vectorized_map(lambda r: tf.cast(r[0] > 1.0, tf.int32), t),
                  tf.constant(x))
    assert_close(result.numpy(), (x[:, 0] > 1).astype(np.int32))


def test_map_fn_gradient_eager():
    check_grad(lambda x: tf.map_fn(lambda r: r * r * r, x), np.array([[0.5, -1.0], [2.0, 0.1]]),
               order=2)


def test_scan_gradient_eager():
    check_grad(lambda x: tf.scan(lambda a, e: a * e + 1.0, x), np.array([0.5, -1.5, 2.0]),
               order=1)


@pytest.mark.parametrize("op", ["map_fn", "scan"])
def test_gradient_in_function(op):
    def forward(x):
        if op == "map_fn":
            return tf.map_fn(lambda r: tf.reduce_sum(r * r * r), x)
        return tf.scan(lambda a, e: a * e + 1.0, x)

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(forward(x) * tf.constant([1.0, 2.0, 3.0], tf.float64))
        return tape.gradient(y, x)

    x0 = np.array([0.5, -1.5, 2.0]) if op == "scan" else np.array([[0.5, 1.0], [-1.5, 0.2],
                                                                      [2.0, 0.3]])
    grad = grads(tf.constant(x0)).numpy()
    numeric = np.zeros_like(x0)
    for i in range(x0.size):
        plus, minus = x0.copy(), x0.copy()
        plus.reshape(-1)[i] += 1e-6
        minus.reshape(-1)[i] -= 1e-6
        f = [float(np.sum(forward(tf.constant(v)).numpy() * [1.0, 2.0, 3.0]))
             for v in (plus, minus)]
        numeric.reshape(-1)[i] = (f[0] - f[1]) / 2e-6
    assert_close(grad, numeric, rtol=1e-6, atol=1e-8)
