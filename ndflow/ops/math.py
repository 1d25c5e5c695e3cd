"""Element-wise math: arithmetic, comparisons, logic, and the unary functions of `tf.math`.

Each op is one row of the unary/binary factories (kernel over `xp`, gradient in ndflow ops).
Reductions live in `reduce.py`; matrix products in `linalg.py`. This module also installs the
Python operators (`+`, `*`, `<`, ...) on `Tensor`.
"""

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops._factory import binary_op, to_bool, unary_op
from ndflow.ops.array import unbroadcast

F = dtypes.FLOATS
FC = dtypes.FLOATS_COMPLEX
NUM = dtypes.NUMERIC
REAL = dtypes.REAL


# --- arithmetic ------------------------------------------------------------------------------

def _add_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(dy, y)]


def _sub_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(negative(dy), y)]


def _mul_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(multiply(dy, conj(y)), x), unbroadcast(multiply(conj(x), dy), y)]


def _div_grad(op, dy):
    x, y = op.inputs
    return [
        unbroadcast(divide_raw(dy, conj(y)), x),
        unbroadcast(negative(multiply(dy, conj(divide_raw(op.outputs[0], y)))), y),
    ]


def _divide_kernel(xp, x, y):
    with xp.errstate(divide="ignore", invalid="ignore"):
        return xp.true_divide(x, y)


def _neg_grad(op, dy):
    return [negative(dy)]


add = binary_op("AddV2", lambda xp, x, y: xp.add(x, y), _add_grad,
                NUM | {dtypes.string})
subtract = binary_op("Sub", lambda xp, x, y: xp.subtract(x, y), _sub_grad)
multiply = binary_op("Mul", lambda xp, x, y: xp.multiply(x, y), _mul_grad)
divide_raw = binary_op("RealDiv", _divide_kernel, _div_grad)
negative = unary_op("Neg", lambda xp, x: xp.negative(x), _neg_grad)
conj = unary_op("Conj", lambda xp, x: xp.conj(x), lambda op, dy: [conj(dy)])


@primitive("AddN", dtypes=NUM | {dtypes.variant})
class AddN:
    def infer(*inputs):
        shape = inputs[0].shape
        for spec in inputs[1:]:
            if spec.shape is not None and shape is not None and len(spec.shape) != len(shape):
                raise errors.InvalidArgumentError(
                    f"AddN: all inputs must have the same shape, got {[s.shape for s in inputs]}")
        return Spec(shape, inputs[0].dtype)

    def kernel(xp, *inputs):
        total = inputs[0] + inputs[1] if len(inputs) > 1 else xp.array(inputs[0], copy=True)
        for value in inputs[2:]:
            total += value
        return total

    def grad(op, dy):
        return [dy] * len(op.inputs)


def add_n(inputs, name=None):
    """Adds a list of tensors of one shape and dtype element-wise (`tf.math.add_n`)."""
    if not inputs:
        raise ValueError("AddN: inputs must be a non-empty list of tensors")
    if len(inputs) == 1:
        return convert_to_tensor(inputs[0])
    return execute("AddN", *inputs, name=name)


def equal_kernel(xp, x, y):
    return xp.equal(x, y)


equal = binary_op("Equal", equal_kernel, None, dtypes.ANY, to_bool)
not_equal = binary_op("NotEqual", lambda xp, x, y: xp.not_equal(x, y), None, dtypes.ANY,
                      to_bool)


def _r(func):
    """Reflected operator: `2 - t` calls `t.__rsub__(2)`."""
    return lambda self, other: func(other, self)


def _install_operators():
    for operator, func in [("__add__", add), ("__sub__", subtract), ("__mul__", multiply)]:
        Tensor._override_operator(operator, func)
        Tensor._override_operator("__r" + operator[2:], _r(func))
    Tensor._override_operator("__truediv__", divide_raw)
    Tensor._override_operator("__rtruediv__", _r(divide_raw))
    Tensor._override_operator("__neg__", negative)
    Tensor._override_operator("__eq__", _tensor_equals)
    Tensor._override_operator("__ne__", _tensor_not_equals)


def _tensor_equals(self, other):
    """TF2 `==`: element-wise when the other side converts to a compatible tensor, else False."""
    if other is None:
        return False
    try:
        return equal(self, other)
    except (TypeError, ValueError):
        return False


def _tensor_not_equals(self, other):
    if other is None:
        return True
    try:
        return not_equal(self, other)
    except (TypeError, ValueError):
        return True


_install_operators()

# Public names: "" is the top-level `tf` namespace, other keys are sub-namespaces (`tf.math`).
API = {
    "": ["add", "subtract", "multiply", "negative", "add_n", "equal", "not_equal"],
    "math": ["add", "subtract", "multiply", "negative", "add_n", "equal", "not_equal", "conj"],
}
