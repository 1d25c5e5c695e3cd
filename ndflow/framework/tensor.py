"""Tensors: the `Tensor` base class, eager tensors over backend arrays, and conversion.

`Tensor` carries what every tensor shares (Python operators, hashing rules). `EagerTensor` holds
a concrete array. Operators are installed by the op modules (`Tensor._override_operator`), so this
file does not import any op. Symbolic graph tensors subclass `Tensor` in the graph module.
"""

import numbers

import numpy as np

from ndflow.framework import dtypes
from ndflow.framework.device import CPU_NAME
from ndflow.framework.tensor_shape import TensorShape

_new = object.__new__

_FROM_NUMPY = dtypes._FROM_NUMPY


class Tensor:
    """A multi-dimensional array with a dtype and a shape (`tf.Tensor`)."""

    __slots__ = ()
    # NumPy defers binary operators to us when a Tensor is on the right (`array + tensor` gives
    # a Tensor, as in TF); NumPy functions (`np.exp(t)`) convert through `__array__`.
    __array_priority__ = 100

    OVERLOADABLE_OPERATORS = frozenset(
        "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
        "__floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ "
        "__neg__ __abs__ __invert__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__ "
        "__lt__ __le__ __gt__ __ge__ __eq__ __ne__ __getitem__".split()
    )

    @classmethod
    def _override_operator(cls, operator, func):
        if operator not in cls.OVERLOADABLE_OPERATORS:
            raise ValueError(f"Overriding {operator} is not allowed.")
        setattr(cls, operator, func)

    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def ref(self):
        """A hashable reference to this tensor (`tensor.ref()`)."""
        return _TensorRef(self)

    def experimental_ref(self):
        return self.ref()

    def __bool__(self):
        raise TypeError("Using a symbolic `tf.Tensor` as a Python `bool` is not allowed.")


class _TensorRef:
    """Hashable wrapper around a tensor, compared by identity."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor):
        self._tensor = tensor

    def deref(self):
        return self._tensor

    def __hash__(self):
        return id(self._tensor)

    def __eq__(self, other):
        return isinstance(other, _TensorRef) and other._tensor is self._tensor


class EagerTensor(Tensor):
    """A tensor whose value has been computed: wraps a backend array and its DType."""

    __slots__ = ("_value", "_dtype", "_keras_mask", "__weakref__")

    def __init__(self, value, dtype):
        self._value = value
        self._dtype = dtype

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        shape = _new(TensorShape)
        shape._dims = self._value.shape  # an array's shape: a tuple of ints, nothing to check
        return shape

    def get_shape(self):
        return self.shape

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def device(self):
        return CPU_NAME

    @property
    def backing_device(self):
        return CPU_NAME

    @property
    def name(self):
        raise AttributeError("Tensor.name is undefined when eager execution is enabled.")

    @property
    def op(self):
        raise AttributeError("Tensor.op is undefined when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")

    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for rank 0), like TF's `.numpy()`."""
        value = self._value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value[()]
        return value

    def _numpy(self):
        return self.numpy()

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self._value)
        if dtype is not None and value.dtype != dtype:
            return value.astype(dtype)
        return value

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len is not well defined for a rank-0 tensor")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(self._value.shape[0]))

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        if self._dtype not in dtypes.INTEGERS or self._value.ndim != 0:
            raise TypeError(f"Only integer scalar tensors can be used as an index, got {self}")
        return int(self._value)

    def __complex__(self):
        return complex(self._value)

    def __format__(self, spec):
        if self._value.ndim == 0:
            return format(self._value[()] if isinstance(self._value, np.ndarray) else self._value,
                          spec)
        return format(str(self), spec)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return EagerTensor(np.array(self._value, copy=True), self._dtype)

    def __reduce__(self):
        return (_rebuild, (np.asarray(self._value), self._dtype.name))

    def __repr__(self):
        value = _numpy_text(self._value, self._dtype, is_repr=True)
        return f"<tf.Tensor: shape={self.shape}, dtype={self._dtype.name}, numpy={value}>"

    def __str__(self):
        value = _numpy_text(self._value, self._dtype)
        return f"tf.Tensor({value}, shape={self.shape}, dtype={self._dtype.name})"


def _rebuild(array, dtype_name):
    return EagerTensor(array, dtypes.as_dtype(dtype_name))


def _numpy_text(value, dtype, is_repr=False):
    array = np.asarray(value)
    if is_repr:
        text = repr(array) if array.ndim else str(array[()])
        if array.ndim > 0:
            text = "\n" + text if "\n" in text else text
        return text
    text = str(array) if array.ndim else str(array[()])
    return "\n" + text if "\n" in text else text


class IndexedSlices:
    """A sparse slice of rows of a dense tensor: the gradient of `gather` (`tf.IndexedSlices`).

    `values[i]` is the row at `indices[i]` of a tensor of `dense_shape`; repeated indices add.
    """

    def __init__(self, values, indices, dense_shape=None):
        self.values = values
        self.indices = indices
        self.dense_shape = dense_shape

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def shape(self):
        if self.dense_shape is None:
            return TensorShape(None)
        return TensorShape([int(d) for d in np.asarray(self.dense_shape)])

    def __neg__(self):
        return IndexedSlices(-self.values, self.indices, self.dense_shape)

    def __tf_tensor__(self, dtype=None, name=None):
        from ndflow.framework import op_registry  # noqa: PLC0415 - avoid an import cycle

        return op_registry.execute(
            "UnsortedSegmentSum", self.values, self.indices, self.dense_shape[0]
            if isinstance(self.dense_shape, Tensor) else int(np.asarray(self.dense_shape)[0]),
        )

    def __repr__(self):
        return (f"IndexedSlices(indices={self.indices}, values={self.values}, "
                f"dense_shape={self.dense_shape})")


# ---------------------------------------------------------------------------------------------
# Conversion of Python and NumPy values to tensors.

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _python_default_dtype(array):
    """TF's dtype for a value built from Python scalars/lists (float32, int32, ...)."""
    kind = array.dtype.kind
    if kind == "f":
        return dtypes.float32
    if kind in "iu":
        if array.size and (array.min() < _INT32_MIN or array.max() > _INT32_MAX):
            return dtypes.int64
        return dtypes.int32
    if kind == "b":
        return dtypes.bool
    if kind == "c":
        return dtypes.complex128
    if kind in "SUO":
        return dtypes.string
    raise TypeError(f"Cannot convert a value of NumPy dtype {array.dtype} to a Tensor")


def _to_string_array(array):
    """String tensors hold object arrays of bytes, as TF's `.numpy()` returns them."""
    flat = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in array.reshape(-1)]
    result = np.empty(len(flat), dtype=object)
    result[:] = flat
    return result.reshape(array.shape)


def _is_text(value):
    """A str/bytes value, or a (nested) list whose first leaf is one."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return isinstance(value, (str, bytes))


def _nested_object(value):
    """A nested list of strings as an object array of that shape (ragged lists raise)."""
    leaves = list(_leaves(value))
    try:
        shape = np.shape(np.asarray(value, dtype=object))
    except ValueError:
        shape = None
    if shape is None or int(np.prod(shape)) != len(leaves):
        raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor: {value!r}")
    result = np.empty(shape, dtype=object)
    result.reshape(-1)[:] = leaves
    return result


def _leaves(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _is_python_value(value):
    if isinstance(value, (numbers.Number, str, bytes)) and not isinstance(value, np.generic):
        return True
    return isinstance(value, (list, tuple))


def _cast_checked(array, dtype, value):
    """Casts a Python-built array to dtype, refusing lossy float->int like TF does."""
    target = dtype._np
    if dtype is dtypes.string:
        return _to_string_array(array)
    if array.dtype.kind == "f" and target.kind in "iub":
        if not np.all(np.equal(np.mod(array, 1), 0)):
            raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    if array.dtype.kind == "c" and target.kind != "c":
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    if target.kind in "iu" and array.dtype.kind in "iu" and array.size:
        info = np.iinfo(target)
        if array.min() < info.min or array.max() > info.max:
            raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    return array.astype(target)


def _flatten_tensor_list(value):
    """Lists that contain tensors become arrays (`tf.constant([t1, t2])`)."""
    if isinstance(value, (list, tuple)):
        return [_flatten_tensor_list(v) for v in value]
    if isinstance(value, EagerTensor):
        return np.asarray(value._value)
    if hasattr(value, "__tf_tensor__"):
        return np.asarray(value.__tf_tensor__()._value)
    return value


def constant_array(value, dtype=None):
    """(array, DType) for a Python/NumPy value, following TF's conversion rules."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        if dtype is None:
            dtype = dtypes.from_numpy(array.dtype)
            if dtype is dtypes.string:
                return _to_string_array(array), dtype
            return array, dtype
        if dtype is dtypes.string:
            return _to_string_array(array), dtype
        return array.astype(dtype._np, copy=False), dtype
    if isinstance(value, (list, tuple)):
        value = _flatten_tensor_list(value)
    if _is_text(value):
        # Object arrays, not NumPy's fixed-width bytes, which drop trailing NUL bytes.
        if isinstance(value, (list, tuple)):
            array = _nested_object(value)
        else:
            array = np.empty((), dtype=object)
            array[()] = value
        if dtype is not None and dtype is not dtypes.string:
            raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
        return _to_string_array(array), dtypes.string
    try:
        array = np.asarray(value)
    except ValueError:
        raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor: "
                         f"{value!r}") from None
    if array.dtype == object and dtype is not dtypes.string:
        kinds = {type(x) for x in array.reshape(-1)}
        if kinds <= {str, bytes}:
            array = array.astype(bytes)
        else:
            raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor: {value!r}")
    if dtype is None:
        if array.dtype.kind in "fc" and array.dtype.itemsize < (8 if array.dtype.kind == "f" else 16):
            return array, dtypes.from_numpy(array.dtype)  # nested NumPy float32 scalars
        dtype = _python_default_dtype(array)
        if dtype is dtypes.string:
            return _to_string_array(array), dtype
        return array.astype(dtype._np, copy=False), dtype
    return _cast_checked(array, dtype, value), dtype


def convert_to_tensor(value, dtype=None, name=None, dtype_hint=None, preferred_dtype=None):
    """Converts a Tensor, Variable, NumPy array or Python value to a Tensor (`tf.convert_to_tensor`).

    Args:
      value: the object to convert.
      dtype: required element type; a tensor of another dtype raises ValueError.
      name: ignored in eager mode.
      dtype_hint: used when `dtype` is None and the value has no type of its own (a Python
        number or list); falls back to TF's defaults when the value does not fit it.
      preferred_dtype: TF1 spelling of `dtype_hint`.
    """
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                f"{value.dtype.name}: {value!r}"
            )
        return value
    convert = getattr(type(value), "__tf_tensor__", None)
    if convert is not None:
        result = convert(value, dtype=dtype, name=name)
        if dtype is not None and result.dtype is not dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                f"{result.dtype.name}"
            )
        return result
    if isinstance(value, (list, tuple)) and _has_symbolic(value):
        return _pack_symbolic(value, dtype or dtype_hint or preferred_dtype)
    hint = dtype_hint if dtype_hint is not None else preferred_dtype
    if dtype is None and hint is not None and _is_python_value(value):
        try:
            array, out_dtype = constant_array(value, hint)
            return EagerTensor(array, out_dtype)
        except (TypeError, ValueError):
            pass
    try:
        array, out_dtype = constant_array(value, dtype)
    except TypeError:
        raise
    except ValueError as error:
        raise ValueError(f"Attempt to convert a value ({value!r}) to a Tensor: {error}") from None
    return EagerTensor(array, out_dtype)


def _has_symbolic(value):
    for item in value:
        if isinstance(item, (list, tuple)):
            if _has_symbolic(item):
                return True
        elif isinstance(item, Tensor) and not isinstance(item, EagerTensor):
            return True
    return False


def _pack_symbolic(value, dtype):
    """A list holding graph tensors is packed with the Pack op, as TF's auto-packing does
    (`tf.zeros([tf.shape(x)[0], 4])` inside tf.function)."""
    from ndflow.framework import op_registry  # noqa: PLC0415 - the registry imports this module

    items = [_pack_symbolic(v, dtype) if isinstance(v, (list, tuple)) else v for v in value]
    tensors = [v for v in items if isinstance(v, Tensor)]
    item_dtype = dtypes.as_dtype(dtype) if dtype is not None else tensors[0].dtype
    converted = [v if isinstance(v, Tensor) else convert_to_tensor(v, dtype=item_dtype)
                 for v in items]
    return op_registry.execute("Pack", *converted, axis=0)


def is_variable(value):
    """True for tf.Variable (duck-typed: the framework sits below variables.py)."""
    return getattr(value, "_is_ndflow_variable", False)


def is_tensor(value):
    """True for tf.Tensor, tf.Variable and other tensor-like objects (`tf.is_tensor`)."""
    return isinstance(value, Tensor) or hasattr(type(value), "__tf_tensor__")
