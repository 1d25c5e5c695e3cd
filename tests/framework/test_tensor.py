import numpy as np
import pytest

import ndflow as tf


@pytest.mark.parametrize(
    "value, dtype",
    [
        (1.5, tf.float32),
        (3, tf.int32),
        (True, tf.bool),
        ([1, 2], tf.int32),
        ([1.0, 2], tf.float32),
        ([[1, 2], [3, 4]], tf.int32),
        (2**40, tf.int64),
        ([1, 2**40], tf.int64),
        (1j, tf.complex128),
        ("abc", tf.string),
        (np.float64(1.0), tf.float64),
        (np.array([1, 2], dtype=np.int16), tf.int16),
        (np.array([1.0], dtype=np.float64), tf.float64),
        ([np.float32(1.0)], tf.float32),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_constant_default_dtypes(value, dtype):
    assert tf.constant(value).dtype is dtype
    assert tf.convert_to_tensor(value).dtype is dtype


def test_constant_values_and_shape_argument():
    np.testing.assert_array_equal(tf.constant(7, shape=[2, 3]).numpy(), np.full((2, 3), 7))
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=[2, 2]).numpy(),
                                  [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="elements"):
        tf.constant([1, 2, 3], shape=[2, 2])
    assert tf.constant([1, 2], dtype=tf.float64).dtype is tf.float64
    assert tf.constant(np.array([1.5]), dtype=tf.float32).numpy()[0] == np.float32(1.5)


def test_lossy_python_conversion_raises():
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype int32"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant(300, dtype=tf.uint8)


def test_convert_to_tensor_dtype_rules():
    t = tf.constant([1.0])
    assert tf.convert_to_tensor(t) is t
    with pytest.raises(ValueError, match="requested dtype int32 for Tensor with dtype float32"):
        tf.convert_to_tensor(t, dtype=tf.int32)
    assert tf.convert_to_tensor([1, 2], dtype_hint=tf.float32).dtype is tf.float32
    assert tf.convert_to_tensor([1.5, 2], dtype_hint=tf.int32).dtype is tf.float32
    assert tf.convert_to_tensor(tf.Variable(2.0)).dtype is tf.float32


def test_string_tensor():
    t = tf.constant(["a", "bc"])
    assert t.dtype is tf.string
    assert list(t.numpy()) == [b"a", b"bc"]


def test_repr_and_str_match_tensorflow():
    assert repr(tf.constant(1.5)) == "<tf.Tensor: shape=(), dtype=float32, numpy=1.5>"
    assert (repr(tf.constant([1, 2]))
            == "<tf.Tensor: shape=(2,), dtype=int32, numpy=array([1, 2], dtype=int32)>")
    assert str(tf.constant(3)) == "tf.Tensor(3, shape=(), dtype=int32)"
    assert (str(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
            == "tf.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)")


def test_python_conversions():
    assert float(tf.constant(2.5)) == 2.5
    assert int(tf.constant(3)) == 3
    assert bool(tf.constant(True)) is True
    assert len(tf.constant([1, 2, 3])) == 3
    assert [1, 2, 3][tf.constant(1)] == 2
    assert f"{tf.constant(2.5):.2f}" == "2.50"
    with pytest.raises(TypeError):
        len(tf.constant(1.0))


def test_numpy_interop():
    t = tf.constant([[1.0, 2.0]])
    array = np.asarray(t)
    assert array.dtype == np.float32 and array.shape == (1, 2)
    assert isinstance(tf.constant(2.0).numpy(), np.float32)
    np.testing.assert_array_equal(np.exp(t), np.exp(array))
    result = np.ones((1, 2), np.float32) + t
    assert isinstance(result, tf.Tensor)


def test_shape_dtype_ndim():
    t = tf.zeros([2, 3])
    assert t.shape == tf.TensorShape([2, 3])
    assert t.shape.as_list() == [2, 3]
    assert t.dtype is tf.float32
    assert t.ndim == 2
    assert t.device.endswith("CPU:0")


def test_tensor_equality_and_hashing():
    t = tf.constant([1, 2])
    np.testing.assert_array_equal((t == [1, 3]).numpy(), [True, False])
    np.testing.assert_array_equal((t != [1, 3]).numpy(), [False, True])
    assert (t == None) is False  # noqa: E711 - TF2 semantics
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    refs = {t.ref(): "a"}
    assert refs[t.ref()] == "a"
    assert t.ref().deref() is t


def test_python_scalars_adopt_tensor_dtype():
    assert (tf.constant(1.0, tf.float16) + 1.0).dtype is tf.float16
    assert (tf.constant(1, tf.int64) * 3).dtype is tf.int64
    assert (2.0 - tf.constant([1.0], tf.float64)).dtype is tf.float64
    with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2"):
        tf.constant(1) + 1.5


def test_is_tensor():
    assert tf.is_tensor(tf.constant(1))
    assert tf.is_tensor(tf.Variable(1))
    assert not tf.is_tensor(np.ones(2))


def test_string_constants_keep_trailing_nul_bytes():
    assert tf.constant(b"a\x00").numpy() == b"a\x00"
    assert list(tf.constant([b"a\x00", b"b"]).numpy()) == [b"a\x00", b"b"]
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([["a", "b"], ["c"]])
