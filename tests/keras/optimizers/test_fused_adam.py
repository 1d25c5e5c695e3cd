"""The fused Adam kernels (ops/training_ops.py) against the op-by-op updates they replace."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras.optimizers import adam as adam_module
from ndflow.ops import compiled


def _train(fused, dtype, use_function, steps=4, **kwargs):
    rng = np.random.default_rng(11)
    variables = [tf.Variable(rng.standard_normal(shape).astype(dtype))
                 for shape in [(3, 4), (4,), (2, 2, 3)]]
    grads = [[tf.constant(rng.standard_normal(v.shape.as_tuple()).astype(dtype))
              for v in variables] for _ in range(steps)]
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.01, **kwargs)

    def apply(gs):
        optimizer.apply_gradients(zip(gs, variables))

    if use_function:
        apply = tf.function(apply)
    original = adam_module._fusable
    if not fused:
        adam_module._fusable = lambda *_: False
    try:
        for gs in grads:
            apply(gs)
    finally:
        adam_module._fusable = original
    slots = [s.numpy() for s in optimizer._momentums + optimizer._velocities]
    return [v.numpy() for v in variables], slots


@pytest.mark.parametrize("numba", ["1", "0"])  # the compiled kernel and NumPy's
@pytest.mark.parametrize("use_function", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_keras_adam_gives_the_op_by_op_numbers(monkeypatch, numba, use_function, dtype):
    monkeypatch.setitem(compiled._state, "enabled", numba == "1")
    fused = _train(True, dtype, use_function)
    plain = _train(False, dtype, use_function)
    for a, b in zip(fused[0] + fused[1], plain[0] + plain[1]):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_fused_adam_matches_the_formula():
    rng = np.random.default_rng(5)
    var0 = rng.standard_normal(5).astype(np.float32)
    grads = rng.standard_normal((3, 5)).astype(np.float32)
    variable = tf.Variable(var0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.1, beta_1=0.8, beta_2=0.95,
                                         epsilon=1e-3)
    w, m, v = var0.astype(np.float64), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, 1):
        optimizer.apply_gradients([(tf.constant(g), variable)])
        m = 0.8 * m + 0.2 * g
        v = 0.95 * v + 0.05 * g * g
        alpha = 0.1 * np.sqrt(1 - 0.95**t) / (1 - 0.8**t)
        w = w - alpha * m / (np.sqrt(v) + 1e-3)
    np.testing.assert_allclose(variable.numpy(), w, rtol=1e-5)


def test_earlier_reads_keep_their_values_in_a_traced_step():
    variable = tf.Variable([1.0, 2.0, 3.0])
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.5)

    @tf.function
    def step():
        before = variable.read_value()
        optimizer.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), variable)])
        return before, variable.read_value()

    before, after = step()
    np.testing.assert_array_equal(before.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(after.numpy(), [0.5, 1.5, 2.5], rtol=1e-5)


@pytest.mark.parametrize("numba", ["1", "0"])
def test_resource_apply_adam_is_tfs_formula_and_checks_shapes(monkeypatch, numba):
    monkeypatch.setitem(compiled._state, "enabled", numba == "1")
    from ndflow.framework import errors
    from ndflow.ops import training_ops

    var, m, v = tf.Variable([1.0, -1.0]), tf.Variable([0.0, 0.0]), tf.Variable([0.0, 0.0])
    grad = np.array([0.5, -2.0], np.float32)
    training_ops.apply_adam("ResourceApplyAdam", var, m, v, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-8,
                            tf.constant(grad))
    one = np.float32(1)
    m_t = (grad - 0) * (one - np.float32(0.9))
    v_t = (grad * grad) * (one - np.float32(0.999))
    alpha = np.float32(0.1) * np.sqrt(one - np.float32(0.999)) / (one - np.float32(0.9))
    expected = np.float32([1.0, -1.0]) - (m_t * alpha) / (np.sqrt(v_t) + np.float32(1e-8))
    np.testing.assert_array_equal(m.numpy(), m_t)
    np.testing.assert_array_equal(v.numpy(), v_t)
    np.testing.assert_array_equal(var.numpy(), expected)
    with pytest.raises(errors.InvalidArgumentError, match="ResourceApplyAdam.*same shape"):
        training_ops.apply_adam("ResourceApplyAdam", var, m, v, 0.9, 0.999, 0.1, 0.9, 0.999,
                                1e-8, tf.constant([1.0, 2.0, 3.0]))


def test_resource_apply_adam_nesterov():
    from ndflow.ops import training_ops

    var, m, v = tf.Variable([1.0, -1.0]), tf.Variable([0.2, 0.1]), tf.Variable([0.3, 0.4])
    grad = np.array([0.5, -2.0], np.float32)
    training_ops.apply_adam("ResourceApplyAdam", var, m, v, 0.81, 0.998, 0.1, 0.9, 0.999, 1e-8,
                            tf.constant(grad), use_nesterov=True)
    m_t = 0.9 * np.array([0.2, 0.1]) + 0.1 * grad
    v_t = 0.999 * np.array([0.3, 0.4]) + 0.001 * grad * grad
    alpha = 0.1 * np.sqrt(1 - 0.998) / (1 - 0.81)
    expected = np.array([1.0, -1.0]) - (grad * 0.1 + 0.9 * m_t) * alpha / (np.sqrt(v_t) + 1e-8)
    np.testing.assert_allclose(var.numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("nesterov", [None, 0.9])
def test_adam_blocks_on_several_threads_give_the_same_bits(monkeypatch, nesterov):
    from ndflow.framework import parallel
    from ndflow.ops import training_ops

    rng = np.random.default_rng(6)
    var, m, v, grad = (rng.standard_normal((300, 250)).astype(np.float32) for _ in range(4))
    v = np.abs(v)
    scalars = [np.float32(s) for s in (0.9, 0.999, 0.01, 0.1, 0.001, 1e-7)]
    single = training_ops._adam_arrays(np, "op", var, m, v, *scalars, grad, nesterov)
    monkeypatch.setattr(parallel._local, "depth", 1, raising=False)
    monkeypatch.setattr(parallel._local, "threads", 2, raising=False)
    split = training_ops._adam_arrays(np, "op", var, m, v, *scalars, grad, nesterov)
    for a, b in zip(single, split):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nesterov", [None, 0.9])
def test_compiled_adam_gives_numpys_bits(monkeypatch, dtype, nesterov):
    from ndflow.ops import training_ops

    if compiled.kernels() is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(7)
    var, m, v, grad = (rng.standard_normal((70, 30)).astype(dtype) for _ in range(4))
    v = np.abs(v)
    scalars = [dtype(s) for s in (0.9**3, 0.999**3, 0.01, 0.1, 0.001, 1e-7)]
    results = {}
    for numba in ("1", "0"):
        monkeypatch.setitem(compiled._state, "enabled", numba == "1")
        results[numba] = training_ops._adam_arrays(np, "op", var, m, v, *scalars, grad,
                                                   None if nesterov is None else dtype(nesterov))
    for a, b in zip(results["1"], results["0"]):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
