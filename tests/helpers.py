"""Shared test harnesses: `check_op` (values against NumPy) and `check_grad` (tape gradients
against central finite differences, to second order). Every op test uses these."""

import numpy as np

import ndflow as tf

# Per-dtype tolerances (rtol, atol), in one table.
TOLERANCES = {
    "float16": (1e-2, 1e-2),
    "bfloat16": (3e-2, 3e-2),
    "float32": (1e-5, 1e-6),
    "float64": (1e-10, 1e-12),
    "complex64": (1e-5, 1e-6),
    "complex128": (1e-10, 1e-12),
}


def assert_close(actual, expected, dtype=None, rtol=None, atol=None):
    """Compares values with the tolerance of `dtype` (exact for integers and bools)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    name = (dtype or tf.as_dtype(actual.dtype)).name if actual.dtype != object else "string"
    default_rtol, default_atol = TOLERANCES.get(name, (0, 0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if actual.dtype.kind in "fc" or expected.dtype.kind in "fc":
        np.testing.assert_allclose(actual.astype(np.complex128 if actual.dtype.kind == "c"
                                                 else np.float64),
                                   expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected)


def check_op(fn, reference, *args, dtype=None, rtol=None, atol=None, expect_dtype=None,
             **kwargs):
    """Runs `fn` on tensors made from `args` and `reference` on the NumPy arrays; checks shape,
    then dtype, then values. `expect_dtype` is the output dtype (default: the first arg's)."""
    arrays = [np.asarray(a) if dtype is None else np.asarray(a).astype(tf.as_dtype(dtype)
                                                                         .as_numpy_dtype)
              for a in args]
    tensors = [tf.constant(a) for a in arrays]
    result = fn(*tensors, **kwargs)
    expected = np.asarray(reference(*arrays, **kwargs))
    assert tuple(result.shape.as_list()) == expected.shape, (
        f"shape {result.shape} != expected {expected.shape}")
    want = tf.as_dtype(expect_dtype) if expect_dtype is not None else (
        tensors[0].dtype if tensors else None)
    if want is not None:
        assert result.dtype == want, f"dtype {result.dtype} != expected {want}"
    assert_close(result.numpy(), expected, result.dtype, rtol, atol)
    return result


def _numeric_jacobian(fn, arrays, index, eps):
    """d sum(w * fn(...)) / d arrays[index] by central differences, w fixed random weights."""
    base = arrays[index]
    grad = np.zeros_like(base, dtype=np.float64)
    flat = grad.reshape(-1)
    for i in range(base.size):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[index].reshape(-1)[i] += eps
        minus[index].reshape(-1)[i] -= eps
        flat[i] = (fn(*plus) - fn(*minus)) / (2 * eps)
    return grad


def _weights(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=shape)


def check_grad(fn, *args, order=1, rtol=1e-5, atol=1e-6, eps=1e-6, wrt=None, **kwargs):
    """Checks tape gradients of `fn` against central finite differences in float64.

    The scalar differentiated is sum(w * fn(*args)) with fixed random weights w, so that errors
    in individual gradient entries cannot cancel out. With `order=2`, also checks the gradient
    of the first-order gradient (a tape inside a tape) against finite differences of it.
    `wrt` lists the argument positions to check (default: all float arguments).
    """
    arrays = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
              else np.asarray(a) for a in args]
    positions = wrt if wrt is not None else [
        i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    out_shape = np.asarray(fn(*[tf.constant(a) for a in arrays], **kwargs)).shape
    weights = _weights(out_shape)

    def scalar(*values):
        return float(np.sum(weights * np.asarray(fn(*[tf.constant(v) for v in values],
                                                     **kwargs))))

    def tape_grads(*values):
        tensors = [tf.constant(v) for v in values]
        with tf.GradientTape() as tape:
            for i in positions:
                tape.watch(tensors[i])
            out = fn(*tensors, **kwargs)
            total = tf.reduce_sum(out * tf.constant(weights))
        return tape.gradient(total, [tensors[i] for i in positions])

    grads = tape_grads(*arrays)
    for i, grad in zip(positions, grads):
        numeric = _numeric_jacobian(scalar, arrays, i, eps)
        assert grad is not None, f"gradient for argument {i} is None"
        np.testing.assert_allclose(np.asarray(tf.convert_to_tensor(grad)), numeric, rtol=rtol,
                                   atol=atol, err_msg=f"first-order gradient, argument {i}")
    if order >= 2:
        _check_second_order(fn, arrays, positions, weights, rtol, atol, eps, kwargs)
    return grads


def _check_second_order(fn, arrays, positions, weights, rtol, atol, eps, kwargs):
    """d/dx_j of sum(v * d(sum w f)/dx_i), with a tape inside a tape, against finite
    differences of the first-order tape gradient."""
    for i in positions:
        v = _weights(arrays[i].shape, seed=1)

        def first(*values, i=i, v=v):
            tensors = [tf.constant(a) for a in values]
            with tf.GradientTape() as tape:
                tape.watch(tensors[i])
                total = tf.reduce_sum(fn(*tensors, **kwargs) * tf.constant(weights))
            grad = tape.gradient(total, tensors[i])
            if grad is None:
                return 0.0
            return float(np.sum(v * np.asarray(tf.convert_to_tensor(grad))))

        tensors = [tf.constant(a) for a in arrays]
        with tf.GradientTape(persistent=True) as outer:
            for j in positions:
                outer.watch(tensors[j])
            with tf.GradientTape() as inner:
                inner.watch(tensors[i])
                total = tf.reduce_sum(fn(*tensors, **kwargs) * tf.constant(weights))
            grad = inner.gradient(total, tensors[i])
            projected = tf.reduce_sum(tf.convert_to_tensor(grad) * tf.constant(v))
        for j in positions:
            second = outer.gradient(projected, tensors[j])
            numeric = _numeric_jacobian(first, arrays, j, eps * 10)
            actual = (np.zeros_like(numeric) if second is None
                      else np.asarray(tf.convert_to_tensor(second)))
            np.testing.assert_allclose(actual, numeric, rtol=max(rtol, 1e-4),
                                       atol=max(atol, 1e-5),
                                       err_msg=f"second-order gradient d/d{j} of d/d{i}")
