"""`tf.DType`: the element types of tensors, and conversion from NumPy/Python types.

Each DType wraps one NumPy dtype (bfloat16 comes from ml_dtypes). DType objects are singletons,
so `a.dtype is b.dtype` is the fast equality check the dispatcher uses.
"""

import builtins

import ml_dtypes
import numpy as np


class DType:
    """The type of the elements of a tensor (`tf.float32`, `tf.int64`, ...)."""

    __slots__ = ("_name", "_np", "_enum")

    def __init__(self, name, np_dtype, enum):
        self._name = name
        self._np = np.dtype(np_dtype)
        self._enum = enum

    @property
    def name(self):
        return self._name

    @property
    def as_numpy_dtype(self):
        """The NumPy scalar type (`np.float32`, ...), as TF returns it."""
        return self._np.type

    @property
    def as_datatype_enum(self):
        return self._enum

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        return {complex64: float32, complex128: float64}.get(self, self)

    @property
    def is_floating(self):
        return self in _FLOATING

    @property
    def is_integer(self):
        return self in _INTEGER

    @property
    def is_unsigned(self):
        return self in _UNSIGNED

    @property
    def is_complex(self):
        return self in (complex64, complex128)

    @property
    def is_bool(self):
        return self is bool

    @property
    def is_numeric(self):
        return self is not string and self is not bool

    @property
    def is_quantized(self):
        return False

    @property
    def size(self):
        return self._np.itemsize if self is not string else 1

    @property
    def min(self):
        """The lowest representable value (TF raises TypeError for bool/complex/string)."""
        if self in _FLOATING:
            return _finfo(self._np).min
        if self in _INTEGER:
            return np.iinfo(self._np).min
        raise TypeError(f"Cannot find minimum value of {self._name}.")

    @property
    def max(self):
        """The highest representable value."""
        if self in _FLOATING:
            return _finfo(self._np).max
        if self in _INTEGER:
            return np.iinfo(self._np).max
        raise TypeError(f"Cannot find maximum value of {self._name}.")

    @property
    def limits(self):
        return (self.min, self.max)

    def is_compatible_with(self, other):
        return self is as_dtype(other)

    def __eq__(self, other):
        if other is None:
            return False
        if isinstance(other, DType):
            return self is other
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return f"tf.{self._name}"

    def __str__(self):
        return f"<dtype: '{self._name}'>"

    def __reduce__(self):
        return (as_dtype, (self._name,))


def _finfo(np_dtype):
    if np_dtype == ml_dtypes.bfloat16:
        return ml_dtypes.finfo(ml_dtypes.bfloat16)
    return np.finfo(np_dtype)


float16 = DType("float16", np.float16, 19)
bfloat16 = DType("bfloat16", ml_dtypes.bfloat16, 14)
float32 = DType("float32", np.float32, 1)
float64 = DType("float64", np.float64, 2)
int8 = DType("int8", np.int8, 6)
int16 = DType("int16", np.int16, 5)
int32 = DType("int32", np.int32, 3)
int64 = DType("int64", np.int64, 9)
uint8 = DType("uint8", np.uint8, 4)
uint16 = DType("uint16", np.uint16, 17)
uint32 = DType("uint32", np.uint32, 22)
uint64 = DType("uint64", np.uint64, 23)
bool = DType("bool", np.bool_, 10)  # noqa: A001 - TF's public name
complex64 = DType("complex64", np.complex64, 8)
complex128 = DType("complex128", np.complex128, 18)
string = DType("string", np.object_, 7)
resource = DType("resource", np.object_, 20)
variant = DType("variant", np.object_, 21)

half = float16
double = float64

_FLOATING = frozenset([float16, bfloat16, float32, float64])
_UNSIGNED = frozenset([uint8, uint16, uint32, uint64])
_INTEGER = frozenset([int8, int16, int32, int64]) | _UNSIGNED
_COMPLEX = frozenset([complex64, complex128])

ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32,
       uint64, bool, complex64, complex128, string)
FLOATS = _FLOATING
FLOATS_COMPLEX = _FLOATING | _COMPLEX
INTEGERS = _INTEGER
SIGNED_INTEGERS = frozenset([int8, int16, int32, int64])
NUMERIC = _FLOATING | _INTEGER | _COMPLEX
REAL = _FLOATING | _INTEGER
NUMERIC_BOOL = NUMERIC | {bool}
ANY = frozenset(ALL)

# NumPy dtype -> DType. String tensors hold NumPy object arrays of bytes.
_FROM_NUMPY = {d._np: d for d in ALL if d is not string}
_FROM_NUMPY[np.dtype(np.object_)] = string
_FROM_NUMPY[np.dtype("S")] = string
_FROM_NUMPY[np.dtype("U")] = string
_FROM_NAME = {d.name: d for d in ALL}
_FROM_NAME.update(half=float16, double=float64, float=float32, int=int32, long=int64,
                  resource=resource, variant=variant)
_FROM_ENUM = {d.as_datatype_enum: d for d in ALL}
_FROM_PYTHON = {float: float32, int: int32, builtins.bool: bool, complex: complex128, str: string,
                bytes: string}


def from_numpy(np_dtype):
    """DType for a NumPy dtype; raises TypeError if TF has no such type."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype.kind in "SUO":
        return string
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(f"Cannot convert NumPy dtype {np_dtype} to a TensorFlow DType.") from None


def as_dtype(type_value):
    """Converts a DType, name, NumPy dtype/type or Python type to a `tf.DType`.

    >>> as_dtype("float32")
    tf.float32
    """
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        try:
            return _FROM_NAME[type_value]
        except KeyError:
            pass
    if isinstance(type_value, int) and not isinstance(type_value, builtins.bool):
        if type_value in _FROM_ENUM:
            return _FROM_ENUM[type_value]
    if isinstance(type_value, type) and type_value in _FROM_PYTHON:
        return _FROM_PYTHON[type_value]
    dtype_attr = getattr(type_value, "dtype", None)
    if isinstance(dtype_attr, DType):
        return dtype_attr
    try:
        return from_numpy(np.dtype(type_value))
    except TypeError:
        pass
    raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow DType.")
