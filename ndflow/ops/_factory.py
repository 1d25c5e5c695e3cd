"""Factories for the boring ops: element-wise unary and binary primitives, one table row each.

Shape inference for element-wise ops lives here too (`broadcast_shape`), so every op family
shares one broadcasting rule.
"""

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import OpDef, Spec, execute, register


def broadcast_shape(op_name, shape_a, shape_b):
    """NumPy broadcasting of two static shapes (None dims allowed; None shape = unknown rank)."""
    if shape_a is None or shape_b is None:
        return None
    result = []
    for index in range(1, max(len(shape_a), len(shape_b)) + 1):
        a = shape_a[-index] if index <= len(shape_a) else 1
        b = shape_b[-index] if index <= len(shape_b) else 1
        if a == 1:
            result.append(b)
        elif b == 1 or b == a:
            result.append(a)
        elif a is None:
            result.append(b)
        elif b is None:
            result.append(a)
        else:
            raise errors.InvalidArgumentError(
                f"{op_name}: Incompatible shapes: {list(shape_a)} vs. {list(shape_b)}"
            )
    return tuple(reversed(result))


def unary_op(name, kernel, grad=None, allowed=dtypes.NUMERIC, out_dtype=None, ufunc=None):
    """Registers an element-wise unary op; `out_dtype` maps the input dtype when it changes."""

    def infer(x):
        return Spec(x.shape, out_dtype(x.dtype) if out_dtype else x.dtype)

    register(OpDef(name, kernel, infer, grad, allowed, ufunc=ufunc))

    def function(x, name=None):
        return execute(name_, x, name=name)

    name_ = name
    return function


def binary_op(name, kernel, grad=None, allowed=dtypes.NUMERIC, out_dtype=None, ufunc=None):
    """Registers an element-wise broadcasting binary op whose inputs share one dtype."""

    def infer(x, y):
        if x.dtype is not y.dtype:
            raise TypeError(f"{name}: cannot mix dtypes {x.dtype.name} and {y.dtype.name}")
        shape = broadcast_shape(name, x.shape, y.shape)
        return Spec(shape, out_dtype(x.dtype) if out_dtype else x.dtype)

    register(OpDef(name, kernel, infer, grad, allowed, ufunc=ufunc))

    def function(x, y, name=None):
        return execute(op_name, x, y, name=name)

    op_name = name
    return function


def to_bool(_dtype):
    return dtypes.bool
