"""Tests for ndflow/autodiff/custom_gradient.py: tf.custom_gradient and tf.recompute_grad."""

import pytest

import ndflow as tf
from tests.helpers import assert_close


@tf.custom_gradient
def scaled_identity(x):
    def grad_fn(dy):
        return dy * 10.0

    return x * 1.0, grad_fn


@tf.custom_gradient
def cube(x):
    """x**3 whose gradient reuses an intermediate of the forward pass (as TF's docs do)."""
    square = x * x

    def grad_fn(dy):
        return dy * 3.0 * square

    return square * x, grad_fn


def test_custom_gradient_replaces_the_gradient():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled_identity(x)
    assert_close(y.numpy(), [1.0, 2.0])
    assert_close(tape.gradient(y, x).numpy(), [10.0, 10.0])


def test_custom_gradient_without_a_tape_just_runs():
    assert_close(scaled_identity(tf.constant(4.0)).numpy(), 4.0)
    assert scaled_identity.__name__ == "scaled_identity"


def test_custom_gradient_composes_with_other_ops():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled_identity(x * x) * 3.0
    assert float(tape.gradient(y, x)) == 3.0 * 10.0 * 4.0


def test_custom_gradient_second_and_third_order():
    x = tf.constant(2.0)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = cube(x)
            first = t1.gradient(y, x)
        second = t2.gradient(first, x)
    third = t3.gradient(second, x)
    assert (float(first), float(second), float(third)) == (12.0, 12.0, 6.0)


def test_custom_gradient_several_inputs_and_outputs():
    @tf.custom_gradient
    def both(a, b):
        def grad_fn(d_sum, d_prod):
            return d_sum + d_prod * b, d_sum + d_prod * a

        return (a + b, a * b), grad_fn

    a = tf.constant(2.0)
    b = tf.constant(5.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        total, product = both(a, b)
    assert float(tape.gradient(total, a)) == 1.0
    assert float(tape.gradient(product, a)) == 5.0
    assert [float(g) for g in tape.gradient([total, product], [a, b])] == [6.0, 3.0]


def test_custom_gradient_none_gradient_for_an_input():
    @tf.custom_gradient
    def first_only(a, b):
        def grad_fn(dy):
            return dy, None

        return a * b, grad_fn

    a = tf.constant(2.0)
    b = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        y = first_only(a, b)
    grads = tape.gradient(y, [a, b])
    assert float(grads[0]) == 1.0 and grads[1] is None


def test_custom_gradient_with_variables():
    v = tf.Variable(3.0)

    @tf.custom_gradient
    def times_v(x):
        def grad_fn(dy, variables=None):
            assert variables == [v] or list(variables)[0] is v
            return dy * 100.0, [dy * 1000.0]

        return x * v, grad_fn

    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = times_v(x)
    grad_x, grad_v = tape.gradient(y, [x, v])
    assert (float(grad_x), float(grad_v)) == (100.0, 1000.0)


def test_custom_gradient_with_variables_needs_the_keyword():
    v = tf.Variable(3.0)

    @tf.custom_gradient
    def times_v(x):
        return x * v, lambda dy: dy

    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(TypeError, match="grad_fn must accept keyword argument 'variables'"):
            times_v(x)


def test_custom_gradient_wrong_number_of_gradients():
    @tf.custom_gradient
    def bad(a, b):
        return a * b, lambda dy: dy

    a = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = bad(a, a)
    with pytest.raises(ValueError, match="expected to return 2 gradients, but returned 1"):
        tape.gradient(y, a)


def test_custom_gradient_on_a_method():
    class Scaler:
        factor = 4.0

        @tf.custom_gradient
        def __call__(self, x):
            def grad_fn(dy):
                return dy * self.factor

            return x * 1.0, grad_fn

    x = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = Scaler()(x)
    assert float(tape.gradient(y, x)) == 4.0


def test_custom_gradient_clips_gradients_like_tf_docs():
    @tf.custom_gradient
    def clip_gradient_by_norm(x):
        def grad_fn(dy):
            return dy * 0.5

        return tf.identity(x), grad_fn

    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = clip_gradient_by_norm(v) * v
    assert_close(tape.gradient(y, v).numpy(), [0.5 + 1.0, 1.0 + 2.0])


def test_recompute_grad_matches_the_plain_gradient():
    def block(x):
        return x * x * x

    recomputed = tf.recompute_grad(block)
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = recomputed(x)
        grad = tape.gradient(y, x)
    assert_close(y.numpy(), [1.0, 8.0])
    assert_close(grad.numpy(), [3.0, 12.0])
    assert_close(outer.gradient(grad, x).numpy(), [6.0, 12.0])


def test_recompute_grad_with_variables():
    w = tf.Variable(2.0)
    recomputed = tf.recompute_grad(lambda x: x * w * w)
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = recomputed(x)
    grad_x, grad_w = tape.gradient(y, [x, w])
    assert (float(grad_x), float(grad_w)) == (4.0, 12.0)


def test_public_names():
    assert tf.custom_gradient is not None and tf.recompute_grad is not None
    assert tf.autodiff.GradientTape is tf.GradientTape
