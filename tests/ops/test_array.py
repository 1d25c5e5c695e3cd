"""Tests for ndflow/ops/array.py: constant, fill/zeros/ones, cast, identity, shapes, broadcast_to,
range, linspace, one_hot, eye, sequence_mask and meshgrid."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import assert_close, check_grad, check_op

RNG = np.random.default_rng(2)
X = RNG.standard_normal((2, 3))


# --- constant --------------------------------------------------------------------------------

@pytest.mark.parametrize("value,dtype", [(1.5, tf.float32), (3, tf.int32), (True, tf.bool),
                                         ([1, 2], tf.int32), ([1.0, 2], tf.float32),
                                         (2**40, tf.int64), (np.float64(1), tf.float64),
                                         (np.arange(3, dtype=np.int16), tf.int16),
                                         ("ab", tf.string), (1 + 2j, tf.complex128)],
                         ids=["float", "int", "bool", "int_list", "mixed_list", "big_int",
                              "numpy_scalar", "numpy_array", "string", "complex"])
def test_constant_default_dtypes(value, dtype):
    assert tf.constant(value).dtype == dtype


def test_constant_dtype_and_shape():
    assert_close(tf.constant([1, 2], dtype=tf.float16), np.array([1, 2], np.float16))
    assert_close(tf.constant(7, shape=[2, 3]), np.full((2, 3), 7, np.int32))
    assert_close(tf.constant([1, 2, 3, 4], shape=(2, 2)), [[1, 2], [3, 4]])
    assert tf.constant([], dtype=tf.float32).shape == (0,)
    assert tf.constant(tf.constant([1, 2]), dtype=tf.int64).dtype == tf.int64


def test_constant_errors():
    with pytest.raises(TypeError, match="has 3 elements, but got `shape`"):
        tf.constant([1, 2, 3], shape=[2, 2])
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype int32"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(ValueError):
        tf.constant([[1, 2], [3]])


# --- fill, zeros, ones -----------------------------------------------------------------------

def test_fill_zeros_ones():
    check_op(lambda v: tf.fill([2, 3], v), lambda v: np.full((2, 3), v), np.float32(2.5))
    assert_close(tf.zeros([2, 0]), np.zeros((2, 0), np.float32))
    assert tf.ones((2,), dtype=tf.bool).numpy().tolist() == [True, True]
    assert tf.zeros(tf.TensorShape([3]), tf.int64).dtype == tf.int64
    check_op(tf.zeros_like, np.zeros_like, X)
    check_op(tf.ones_like, np.ones_like, np.array([1, 2], np.int32))
    assert tf.zeros_like(X, dtype=tf.int32).dtype == tf.int32
    check_grad(lambda v: tf.fill([2, 2], v), np.float64(1.0), order=2)


def test_fill_error():
    with pytest.raises(errors.InvalidArgumentError, match=r"Fill: value must be a scalar, got "
                                                          r"shape \(2,\)"):
        tf.fill([2], tf.constant([1.0, 2.0]))


# --- cast, identity, stop_gradient -----------------------------------------------------------

def test_cast_truncates_toward_zero():
    assert_close(tf.cast([-1.7, 2.9, -0.5], tf.int32), [-1, 2, 0])


def test_cast_bool_and_complex():
    assert tf.cast([0.0, 0.5, -2.0], tf.bool).numpy().tolist() == [False, True, True]
    assert_close(tf.cast([True, False], tf.float32), [1.0, 0.0])
    result = tf.cast(tf.constant([1 + 2j, -3 - 1j]), tf.float32)
    assert result.dtype == tf.float32
    assert_close(result, [1.0, -3.0])


def test_cast_gradient():
    check_grad(lambda t: tf.cast(tf.cast(t, tf.complex128) * tf.cast(t, tf.complex128),
                                 tf.float64), X, order=2)
    x32 = tf.constant([1.5, 2.5])
    with tf.GradientTape() as tape:
        tape.watch(x32)
        y = tf.cast(x32, tf.float64) * tf.constant([2.0, 3.0], tf.float64)
    grad = tape.gradient(y, x32)
    assert grad.dtype == tf.float32
    assert_close(grad, [2.0, 3.0])
    x = tf.constant([1.5, 2.5])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(tf.cast(x, tf.int32), tf.float32)
    assert tape.gradient(y, x) is None


def test_identity_and_stop_gradient():
    check_op(tf.identity, lambda a: a, X)
    check_grad(tf.identity, X, order=2)
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * tf.stop_gradient(x)
    assert_close(tape.gradient(y, x), X)


# --- shape, size, rank, broadcast_to ---------------------------------------------------------

def test_shape_size_rank():
    t = tf.constant(np.zeros((2, 0, 3)))
    assert_close(tf.shape(t), [2, 0, 3])
    assert tf.shape(t).dtype == tf.int32
    assert tf.shape(t, out_type=tf.int64).dtype == tf.int64
    assert int(tf.size(t)) == 0 and tf.size(t).dtype == tf.int32
    assert int(tf.rank(t)) == 3 and int(tf.rank(tf.constant(1.0))) == 0


def test_broadcast_to():
    check_op(lambda t: tf.broadcast_to(t, [4, 2, 3]), lambda a: np.broadcast_to(a, (4, 2, 3)), X)
    check_grad(lambda t: tf.broadcast_to(t, [4, 2, 3]), X[:1], order=2)
    with pytest.raises(errors.InvalidArgumentError, match=r"BroadcastTo: Incompatible shapes"):
        tf.broadcast_to(tf.constant(X), [4, 3])


def test_reshape():
    check_op(lambda t: tf.reshape(t, [3, -1]), lambda a: a.reshape(3, -1), X)
    check_grad(lambda t: tf.reshape(t, [6]), X, order=2)
    with pytest.raises(errors.InvalidArgumentError, match=r"Reshape: cannot reshape a tensor with"
                                                          r" 6 elements to shape \[4, -1\]"):
        tf.reshape(tf.constant(X), [4, -1])


def test_shape_arguments_convert_like_tensors():
    from ndflow.ops.array import _shape_input  # noqa: PLC0415 - the helper every shape arg uses

    assert _shape_input([-1, 3]).dtype is tf.int32
    assert _shape_input((2, 3)).numpy().tolist() == [2, 3]
    assert _shape_input([]).shape == (0,) and _shape_input([]).dtype is tf.int32
    assert _shape_input([2**31, 1]).dtype is tf.int64  # beyond int32, as convert_to_tensor
    assert tf.reshape(tf.constant(X), (np.int64(3), -1)).shape == (3, 2)


# --- range, linspace -------------------------------------------------------------------------

@pytest.mark.parametrize("args,kwargs,expected_dtype", [
    ((5,), {}, tf.int32), ((1, 5.0), {}, tf.float32), ((10, 2, -3), {}, tf.int32),
    ((0.0, 1.0, 0.1), {}, tf.float32), ((np.int64(4),), {}, tf.int64),
    ((5,), {"dtype": tf.float64}, tf.float64), ((5, 1, -1.5), {}, tf.float32),
    ((3, 3), {}, tf.int32)],
    ids=["count", "float_limit", "negative_delta", "float_step", "int64", "dtype", "neg_float",
         "empty"])
def test_range(args, kwargs, expected_dtype):
    result = tf.range(*args, **kwargs)
    assert result.dtype == expected_dtype
    start, limit, delta = (0, args[0], 1) if len(args) == 1 else (args + (1,))[:3]
    expected = np.arange(start, limit, delta, dtype=expected_dtype.as_numpy_dtype)
    assert_close(result, expected)


def test_range_float_values_match_tf():
    # TF computes start + i * delta in float32, which is what NumPy's arange does here
    assert tf.range(0.0, 3.3, 0.3).numpy()[7] == np.float32(2.1000001430511475)


def test_range_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Range: Requires start <= limit when "
                                                          r"delta > 0: 5/1"):
        tf.range(5, 1)
    with pytest.raises(errors.InvalidArgumentError, match=r"Range: Requires delta != 0"):
        tf.range(0, 5, 0)
    with pytest.raises(errors.InvalidArgumentError, match=r"Range: limit must be a scalar, not "
                                                          r"shape \[2\]"):
        tf.range(tf.constant([1, 2]))


def test_linspace():
    result = tf.linspace(0.0, 1.0, 5)
    assert result.dtype == tf.float32
    assert_close(result, np.linspace(0, 1, 5))
    ints = tf.linspace(0, 10, 5)
    assert ints.dtype == tf.float64
    assert_close(ints, np.linspace(0, 10, 5))
    assert tf.linspace(5.0, 10.0, 0).shape == (0,)
    assert_close(tf.linspace(2.0, 3.0, 1), [2.0])
    batched = tf.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=-1)
    assert_close(batched, [[0.0, 0.5, 1.0], [1.0, 2.0, 3.0]])
    assert_close(tf.lin_space(0.0, 2.0, 3), [0.0, 1.0, 2.0])
    check_grad(lambda a, b: tf.linspace(a, b, 4), np.array([0.5, 1.0]), np.array([2.0, -1.0]),
               order=2)


# --- one_hot, eye ----------------------------------------------------------------------------

def test_one_hot_minus_one_is_zero_row():
    check_op(lambda i: tf.one_hot(i, 3), lambda i: np.eye(3, dtype=np.float32)[i] * (i >= 0)[
        :, None], np.array([0, -1, 2]), expect_dtype=tf.float32)


def test_one_hot_options():
    result = tf.one_hot([1, 2], 3, on_value=5, off_value=-1, axis=0)
    assert result.dtype == tf.int32
    assert_close(result, [[-1, -1], [5, -1], [-1, 5]])
    assert tf.one_hot([[1], [0]], 4, dtype=tf.float64).shape == (2, 1, 4)
    assert tf.one_hot(np.array([1, 5], np.int64), 2).numpy().tolist() == [[0, 1], [0, 0]]
    assert tf.one_hot([1, 0], 2, on_value=True, off_value=False).dtype == tf.bool
    assert tf.one_hot([1, 0], 2, on_value=1, dtype=tf.float64).dtype == tf.float64
    assert tf.one_hot([1, 0], 2, off_value=2.0).dtype == tf.float32


def test_one_hot_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"OneHot: Expected axis to be -1 or "
                                                          r"between \[0, 2\).*received: 2"):
        tf.one_hot([1, 2], 3, axis=2)
    with pytest.raises(errors.InvalidArgumentError, match="OneHot: depth must be non-negative"):
        tf.one_hot([1, 2], -1)
    with pytest.raises(errors.InvalidArgumentError, match="OneHot: indices must be"):
        tf.one_hot([1.0, 2.0], 3)
    with pytest.raises(TypeError, match="does not match dtype parameter int32"):
        tf.one_hot([1, 2], 3, on_value=1.5, dtype=tf.int32)
    with pytest.raises(TypeError, match="does not match"):
        tf.one_hot([1, 2], 3, on_value=tf.constant(1), off_value=tf.constant(0.0))


def test_eye():
    assert_close(tf.eye(3), np.eye(3, dtype=np.float32))
    assert_close(tf.eye(2, 3, dtype=tf.int32), np.eye(2, 3, dtype=np.int32))
    batch = tf.eye(2, 3, batch_shape=[2])
    assert batch.shape == (2, 2, 3)
    assert_close(batch, np.broadcast_to(np.eye(2, 3), (2, 2, 3)))
    assert tf.linalg.eye(4, 2).shape == (4, 2)


# --- sequence_mask, meshgrid -----------------------------------------------------------------

def test_sequence_mask():
    result = tf.sequence_mask([1, 3], 4)
    assert result.dtype == tf.bool
    assert_close(result, [[True, False, False, False], [True, True, True, False]])
    floats = tf.sequence_mask([[1, 3], [0, 2]], dtype=tf.float32)
    assert floats.shape == (2, 2, 3) and floats.dtype == tf.float32
    assert_close(floats, np.arange(3) < np.array([[1, 3], [0, 2]])[..., None])
    with pytest.raises(ValueError, match="SequenceMask: maxlen must be a scalar"):
        tf.sequence_mask([1], [2, 3])


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    x, y, z = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0]), np.array([6.0, 7.0, 8.0, 9.0])
    results = tf.meshgrid(x, y, z, indexing=indexing)
    for result, expected in zip(results, np.meshgrid(x, y, z, indexing=indexing)):
        assert_close(result, expected)
    check_grad(lambda a, b: tf.meshgrid(a, b, indexing=indexing)[0] * tf.meshgrid(
        a, b, indexing=indexing)[1], x, y, order=2)
    with pytest.raises(ValueError, match="indexing must be"):
        tf.meshgrid(x, indexing="yx")


def test_saturate_cast_float32_to_int32_stays_in_range():
    result = tf.dtypes.saturate_cast(tf.constant([1e10, -1e10, 5.5]), tf.int32).numpy()
    assert result.tolist() == [2147483520, -2147483648, 5]


def test_cast_of_nan_to_int_is_silent():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.cast(tf.constant([np.nan, 1e20]), tf.int32)
