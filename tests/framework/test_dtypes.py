import ml_dtypes
import numpy as np
import pytest

import ndflow as tf


@pytest.mark.parametrize(
    "name, np_type, floating, integer",
    [
        ("float16", np.float16, True, False),
        ("bfloat16", ml_dtypes.bfloat16, True, False),
        ("float32", np.float32, True, False),
        ("float64", np.float64, True, False),
        ("int8", np.int8, False, True),
        ("int16", np.int16, False, True),
        ("int32", np.int32, False, True),
        ("int64", np.int64, False, True),
        ("uint8", np.uint8, False, True),
        ("uint16", np.uint16, False, True),
        ("uint32", np.uint32, False, True),
        ("uint64", np.uint64, False, True),
        ("bool", np.bool_, False, False),
        ("complex64", np.complex64, False, False),
        ("complex128", np.complex128, False, False),
    ],
)
def test_dtype_properties(name, np_type, floating, integer):
    dtype = getattr(tf, name)
    assert dtype.name == name
    assert dtype.as_numpy_dtype is np_type
    assert dtype.is_floating is floating
    assert dtype.is_integer is integer
    assert tf.as_dtype(name) is dtype
    assert tf.as_dtype(np_type) is dtype
    assert tf.as_dtype(np.dtype(np_type)) is dtype
    assert tf.dtypes.as_dtype(dtype) is dtype
    assert getattr(tf.dtypes, name) is dtype


def test_min_max_match_numpy():
    assert tf.float32.max == np.finfo(np.float32).max
    assert tf.float16.max == 65504
    assert tf.uint8.max == 255 and tf.uint8.min == 0
    assert tf.int8.min == -128
    assert float(tf.bfloat16.min) == pytest.approx(-3.38953e38, rel=1e-5)
    with pytest.raises(TypeError):
        tf.bool.min  # noqa: B018


def test_python_types_and_strings():
    assert tf.as_dtype(float) is tf.float32
    assert tf.as_dtype(int) is tf.int32
    assert tf.as_dtype(bool) is tf.bool
    assert tf.as_dtype("string") is tf.string
    assert tf.as_dtype("double") is tf.float64
    assert tf.as_dtype("half") is tf.float16


def test_equality_and_repr():
    assert tf.float32 == "float32"
    assert tf.float32 == np.float32
    assert tf.float32 != tf.float64
    assert tf.float32 != None  # noqa: E711 - TF allows the comparison
    assert repr(tf.float32) == "tf.float32"
    assert str(tf.float32) == "<dtype: 'float32'>"
    assert len({tf.float32, tf.as_dtype("float32")}) == 1
    assert tf.float32.size == 4
    assert tf.complex64.real_dtype is tf.float32


def test_unknown_type_raises():
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.as_dtype("float128x")
    with pytest.raises(TypeError):
        tf.as_dtype(object())
