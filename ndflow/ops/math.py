"""Element-wise math: arithmetic, comparisons, logic, bitwise ops and the unary functions of
`tf.math`, plus the clipping helpers built from them.

Each op is one row of the unary/binary factories (kernel over `xp`, gradient in ndflow ops);
ops with attributes or unusual gradients are written out. Special functions NumPy lacks (erf,
lgamma, ...) are computed in `_special.py`. Reductions live in `reduce.py`; matrix products in
`linalg.py`. This module also installs the Python operators (`+`, `//`, `<`, `&`, `@` ...) on
`Tensor`.
"""

import math as _pymath

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import IndexedSlices, Tensor, convert_to_tensor, is_tensor
from ndflow.ops import _special
from ndflow.ops import array as array_ops
from ndflow.ops._factory import binary_op, broadcast_shape, to_bool, unary_op
from ndflow.ops.array import unbroadcast

F = dtypes.FLOATS
FC = dtypes.FLOATS_COMPLEX
NUM = dtypes.NUMERIC
REAL = dtypes.REAL
INT = dtypes.INTEGERS
BOOL = frozenset([dtypes.bool])


def _c(x):
    """conj(x) for complex tensors, x itself otherwise (gradients of holomorphic functions)."""
    return conj(x) if x.dtype.is_complex else x


def _quiet(func):
    """Marks a kernel that yields inf/nan where NumPy would warn, as TF does silently: the
    dispatcher runs it under np.errstate (and the graph executor runs whole plans so)."""
    func.quiet = True
    return func


def _mask(condition, like):
    """A boolean tensor as 0/1 of `like`'s dtype (no gradient flows through it)."""
    return array_ops.cast(condition, like.dtype)


def _check_int_divisor(xp, y):
    if y.dtype.kind in "iu" and not xp.all(y):
        raise errors.InvalidArgumentError("Integer division by zero")


# --- arithmetic ------------------------------------------------------------------------------

def _add_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(dy, y)]


def _sub_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(negative(dy), y)]


def _mul_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(multiply(dy, _c(y)), x), unbroadcast(multiply(_c(x), dy), y)]


def _div_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(realdiv(dy, _c(y)), x),
            unbroadcast(negative(multiply(dy, _c(realdiv(op.outputs[0], y)))), y)]


def _floordiv_kernel(xp, x, y):
    _check_int_divisor(xp, y)
    with xp.errstate(all="ignore"):
        if x.dtype.kind in "iu":
            return xp.floor_divide(x, y)
        return xp.floor(x / y)


@_quiet
def _floormod_kernel(xp, x, y):
    _check_int_divisor(xp, y)
    return xp.remainder(x, y)


def _floormod_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(dy, x), unbroadcast(multiply(dy, negative(floordiv(x, y))), y)]


@_quiet
def _pow_kernel(xp, x, y):
    if y.dtype.kind in "iu" and xp.any(y < 0):
        raise errors.InvalidArgumentError(
            "Pow: integers to negative integer powers are not allowed")
    return xp.power(x, y)


def _pow_grad(op, dy):
    x, y = op.inputs
    z = op.outputs[0]
    dx = multiply(dy, _c(multiply(y, pow(x, subtract(y, 1)))))
    # log(x) only where x > 0 (x != 0 for complex): no false singularity at x = 0.
    keep = _mask(not_equal(x, 0) if x.dtype.is_complex else greater(x, 0), x)
    safe_x = add(multiply(x, keep), subtract(1, keep))
    log_x = multiply_no_nan(log(safe_x), keep)
    return [unbroadcast(dx, x), unbroadcast(multiply(dy, _c(multiply(z, log_x))), y)]


def _minmax_grad(select_x):
    def grad(op, dy):
        x, y = op.inputs
        to_x = _mask(select_x(x, y), dy)
        return [unbroadcast(multiply_no_nan(dy, to_x), x),
                unbroadcast(multiply_no_nan(dy, subtract(1, to_x)), y)]

    return grad


def _squared_difference_grad(op, dy):
    x, y = op.inputs
    scaled = multiply(dy, multiply(2, _c(subtract(x, y))))
    return [unbroadcast(scaled, x), unbroadcast(negative(scaled), y)]


def _atan2_grad(op, dy):
    y, x = op.inputs
    scale = realdiv(dy, add(square(x), square(y)))
    return [unbroadcast(multiply(x, scale), y), unbroadcast(multiply(negative(y), scale), x)]


def _where_zero(xp, condition, value):
    return xp.where(condition, xp.zeros((), value.dtype), value)


@_quiet
def _div_no_nan_kernel(xp, x, y):
    return _where_zero(xp, y == 0, x / y)


@_quiet
def _mul_no_nan_kernel(xp, x, y):
    return _where_zero(xp, y == 0, x * y)


@_quiet
def _xlogy_kernel(xp, x, y):
    return _where_zero(xp, x == 0, x * xp.log(y))


@_quiet
def _xdivy_kernel(xp, x, y):
    return _where_zero(xp, x == 0, x / y)


def _div_no_nan_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(divide_no_nan(dy, y), x),
            unbroadcast(multiply(dy, divide_no_nan(divide_no_nan(negative(x), y), y)), y)]


def _mul_no_nan_grad(op, dy):
    x, y = op.inputs
    return [unbroadcast(multiply_no_nan(dy, y), x), unbroadcast(multiply_no_nan(x, dy), y)]


def _xlogy_grad(op, dy):
    x, y = op.inputs
    nonzero_x = _mask(not_equal(x, 0), x)
    return [unbroadcast(multiply(dy, xlogy(nonzero_x, y)), x),
            unbroadcast(multiply(dy, xdivy(x, y)), y)]


def _xdivy_grad(op, dy):
    x, y = op.inputs
    nonzero_x = _mask(not_equal(x, 0), x)
    return [unbroadcast(multiply(dy, xdivy(nonzero_x, y)), x),
            unbroadcast(multiply(dy, xdivy(negative(x), square(y))), y)]


add = binary_op("AddV2", lambda xp, x, y: xp.add(x, y), _add_grad, NUM | {dtypes.string},
                ufunc="add")
subtract = binary_op("Sub", lambda xp, x, y: xp.subtract(x, y), _sub_grad, ufunc="subtract")
multiply = binary_op("Mul", lambda xp, x, y: xp.multiply(x, y), _mul_grad, ufunc="multiply")
realdiv = binary_op("RealDiv", _quiet(lambda xp, x, y: xp.true_divide(x, y)), _div_grad, FC,
                    ufunc="true_divide")
floordiv = binary_op("FloorDiv", _floordiv_kernel, None, REAL)
floormod = binary_op("FloorMod", _floormod_kernel, _floormod_grad, REAL, ufunc="remainder")
pow = binary_op("Pow", _pow_kernel, _pow_grad, ufunc="power")  # noqa: A001 - TF's public name
maximum = binary_op("Maximum", lambda xp, x, y: xp.maximum(x, y),
                    _minmax_grad(lambda x, y: greater_equal(x, y)), REAL, ufunc="maximum")
minimum = binary_op("Minimum", lambda xp, x, y: xp.minimum(x, y),
                    _minmax_grad(lambda x, y: less_equal(x, y)), REAL, ufunc="minimum")
squared_difference = binary_op("SquaredDifference",
                               _quiet(lambda xp, x, y: xp.square(x - y)),
                               _squared_difference_grad, NUM)
atan2 = binary_op("Atan2", lambda xp, y, x: xp.arctan2(y, x), _atan2_grad, F, ufunc="arctan2")
divide_no_nan = binary_op("DivNoNan", _div_no_nan_kernel, _div_no_nan_grad, FC)
multiply_no_nan = binary_op("MulNoNan", _mul_no_nan_kernel, _mul_no_nan_grad, FC)
xlogy = binary_op("Xlogy", _xlogy_kernel, _xlogy_grad, FC)
xdivy = binary_op("Xdivy", _xdivy_kernel, _xdivy_grad, FC)
mod = floormod

# Integer true division: TF casts 8/16-bit integers to float32 and wider ones to float64.
_TRUEDIV_TYPES = {
    dtypes.int8: dtypes.float32, dtypes.uint8: dtypes.float32, dtypes.int16: dtypes.float32,
    dtypes.uint16: dtypes.float32, dtypes.int32: dtypes.float64, dtypes.uint32: dtypes.float64,
    dtypes.int64: dtypes.float64, dtypes.uint64: dtypes.float64,
}


def _tensor_pair(x, y):
    """Converts x and y to tensors; a Python value adopts the other side's dtype."""
    if is_tensor(x):
        x = convert_to_tensor(x)
        return x, convert_to_tensor(y, dtype_hint=x.dtype)
    y = convert_to_tensor(y)
    return convert_to_tensor(x, dtype_hint=y.dtype), y


def truediv(x, y, name=None):
    """Divides x by y element-wise; integer inputs are first cast to float (`tf.truediv`).

    int8/int16/uint8/uint16 divide in float32, int32/int64 in float64, as TF does.
    """
    x, y = _tensor_pair(x, y)
    target = _TRUEDIV_TYPES.get(x.dtype)
    if target is not None and x.dtype is y.dtype:
        x = array_ops.cast(x, target)
        y = array_ops.cast(y, target)
    return execute("RealDiv", x, y, name=name)


def divide(x, y, name=None):
    """Computes Python-style true division `x / y` (`tf.math.divide`)."""
    return truediv(x, y, name=name)


def scalar_mul(scalar, x, name=None):
    """Multiplies a tensor or IndexedSlices by a scalar (`tf.math.scalar_mul`)."""
    scalar = convert_to_tensor(scalar, dtype_hint=x.dtype)
    if scalar.shape.rank not in (None, 0):
        raise ValueError(f"scalar_mul: scalar must be a 0-D tensor, got shape {scalar.shape}")
    if isinstance(x, IndexedSlices):
        return IndexedSlices(multiply(scalar, x.values), x.indices, x.dense_shape)
    return multiply(scalar, x, name=name)


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


# --- unary functions -------------------------------------------------------------------------

def _sigmoid_kernel(xp, x):
    if x.dtype.kind == "c":
        with xp.errstate(all="ignore"):
            return 1 / (1 + xp.exp(-x))
    # exp(-|x|) never overflows: 1/(1+e) for x >= 0 and e/(1+e) for x < 0.
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


def _softplus_kernel(xp, x):
    return xp.logaddexp(x, xp.zeros((), x.dtype))


def _special_kernel(function):
    return lambda xp, x: function(xp, x)


_SQRT_PI_2 = 2 / _pymath.sqrt(_pymath.pi)


def _g(expression):
    """A unary gradient `dy * conj(f'(x))` from an expression of (x, y=f(x))."""
    return lambda op, dy: [multiply(dy, _c(expression(op.inputs[0], op.outputs[0])))]


negative = unary_op("Neg", lambda xp, x: xp.negative(x), lambda op, dy: [negative(dy)],
                    ufunc="negative")
conj = unary_op("Conj", lambda xp, x: xp.conj(x), lambda op, dy: [conj(dy)])
_abs = unary_op("Abs", lambda xp, x: xp.abs(x), _g(lambda x, y: sign(x)), REAL, ufunc="absolute")
sign = unary_op("Sign", lambda xp, x: xp.sign(x),
                lambda op, dy: [array_ops.zeros_like(op.inputs[0])], ufunc="sign")
square = unary_op("Square", _quiet(lambda xp, x: xp.square(x)), _g(lambda x, y: multiply(2, x)),
                  ufunc="square")
sqrt = unary_op("Sqrt", _quiet(lambda xp, x: xp.sqrt(x)),
                lambda op, dy: [realdiv(multiply(dy, 0.5), _c(op.outputs[0]))], FC, ufunc="sqrt")
rsqrt = unary_op("Rsqrt", _quiet(lambda xp, x: 1 / xp.sqrt(x)),
                 _g(lambda x, y: multiply(-0.5, multiply(y, square(y)))), FC)
exp = unary_op("Exp", _quiet(lambda xp, x: xp.exp(x)), _g(lambda x, y: y), FC, ufunc="exp")
expm1 = unary_op("Expm1", _quiet(lambda xp, x: xp.expm1(x)), _g(lambda x, y: add(y, 1)), FC,
                 ufunc="expm1")
log = unary_op("Log", _quiet(lambda xp, x: xp.log(x)),
               lambda op, dy: [realdiv(dy, _c(op.inputs[0]))], FC, ufunc="log")
log1p = unary_op("Log1p", _quiet(lambda xp, x: xp.log1p(x)),
                 lambda op, dy: [realdiv(dy, _c(add(op.inputs[0], 1)))], FC, ufunc="log1p")
sin = unary_op("Sin", lambda xp, x: xp.sin(x), _g(lambda x, y: cos(x)), FC, ufunc="sin")
cos = unary_op("Cos", lambda xp, x: xp.cos(x), _g(lambda x, y: negative(sin(x))), FC, ufunc="cos")
tan = unary_op("Tan", _quiet(lambda xp, x: xp.tan(x)), _g(lambda x, y: add(square(y), 1)), FC,
               ufunc="tan")
asin = unary_op("Asin", _quiet(lambda xp, x: xp.arcsin(x)),
                _g(lambda x, y: rsqrt(subtract(1, square(x)))), FC, ufunc="arcsin")
acos = unary_op("Acos", _quiet(lambda xp, x: xp.arccos(x)),
                _g(lambda x, y: negative(rsqrt(subtract(1, square(x))))), FC, ufunc="arccos")
atan = unary_op("Atan", lambda xp, x: xp.arctan(x),
                _g(lambda x, y: reciprocal(add(square(x), 1))), FC, ufunc="arctan")
sinh = unary_op("Sinh", _quiet(lambda xp, x: xp.sinh(x)), _g(lambda x, y: cosh(x)), FC,
                ufunc="sinh")
cosh = unary_op("Cosh", _quiet(lambda xp, x: xp.cosh(x)), _g(lambda x, y: sinh(x)), FC,
                ufunc="cosh")
tanh = unary_op("Tanh", lambda xp, x: xp.tanh(x), _g(lambda x, y: subtract(1, square(y))), FC,
                ufunc="tanh")
asinh = unary_op("Asinh", lambda xp, x: xp.arcsinh(x),
                 _g(lambda x, y: reciprocal(cosh(y))), FC, ufunc="arcsinh")
acosh = unary_op("Acosh", _quiet(lambda xp, x: xp.arccosh(x)),
                 _g(lambda x, y: reciprocal(sinh(y))), FC, ufunc="arccosh")
atanh = unary_op("Atanh", _quiet(lambda xp, x: xp.arctanh(x)),
                 _g(lambda x, y: reciprocal(subtract(1, square(x)))), FC, ufunc="arctanh")
sigmoid = unary_op("Sigmoid", _sigmoid_kernel,
                   _g(lambda x, y: multiply(y, subtract(1, y))), FC)
softplus = unary_op("Softplus", _softplus_kernel, _g(lambda x, y: sigmoid(x)), F)
reciprocal = unary_op("Reciprocal", _quiet(lambda xp, x: 1 / x),
                      _g(lambda x, y: negative(square(y))), FC, ufunc="reciprocal")
erf = unary_op("Erf", _special_kernel(_special.erf),
               _g(lambda x, y: multiply(_SQRT_PI_2, exp(negative(square(x))))), F)
erfc = unary_op("Erfc", _special_kernel(_special.erfc),
                _g(lambda x, y: multiply(-_SQRT_PI_2, exp(negative(square(x))))), F)
lgamma = unary_op("Lgamma", _special_kernel(_special.lgamma), _g(lambda x, y: digamma(x)), F)
digamma = unary_op("Digamma", _special_kernel(_special.digamma),
                   _g(lambda x, y: polygamma(array_ops.ones_like(x), x)), F)
# Piecewise-constant functions: TF registers no gradient (None) for these.
floor = unary_op("Floor", lambda xp, x: xp.floor(x), None, F, ufunc="floor")
ceil = unary_op("Ceil", lambda xp, x: xp.ceil(x), None, F, ufunc="ceil")
rint = unary_op("Rint", lambda xp, x: xp.rint(x), None, F, ufunc="rint")
_round = unary_op("Round", lambda xp, x: xp.round(x), None, NUM)  # half to even, as TF
is_nan = unary_op("IsNan", lambda xp, x: xp.isnan(x), None, F, to_bool)
is_inf = unary_op("IsInf", lambda xp, x: xp.isinf(x), None, F, to_bool)
is_finite = unary_op("IsFinite", lambda xp, x: xp.isfinite(x), None, F, to_bool)


def _real_dtype(dtype):
    return dtype.real_dtype


def _complex_abs_grad(op, dy):
    x, y = op.inputs[0], op.outputs[0]
    return [divide_no_nan(multiply(complex(dy, array_ops.zeros_like(dy)), x),
                          complex(y, array_ops.zeros_like(y)))]


_complex_abs = unary_op("ComplexAbs", lambda xp, x: xp.abs(x), _complex_abs_grad,
                        dtypes.FLOATS_COMPLEX - F, _real_dtype)
_real = unary_op("Real", lambda xp, x: xp.real(x),
                 lambda op, dy: [complex(dy, array_ops.zeros_like(dy))], FC - F, _real_dtype)
_imag = unary_op("Imag", lambda xp, x: xp.imag(x),
                 lambda op, dy: [complex(array_ops.zeros_like(dy), dy)], FC - F, _real_dtype)


def abs(x, name=None):  # noqa: A001 - TF's public name
    """Absolute value element-wise; the magnitude (a real tensor) for complex `x` (`tf.abs`)."""
    x = convert_to_tensor(x)
    if x.dtype.is_complex:
        return _complex_abs(x, name=name)
    return _abs(x, name=name)


def round(x, name=None):  # noqa: A001 - TF's public name
    """Rounds to the nearest integer, halves to even (`tf.round`): round(2.5) is 2."""
    return _round(x, name=name)


def real(input, name=None):  # noqa: A002 - TF's argument name
    """The real part of a complex tensor; a real tensor is returned unchanged."""
    input = convert_to_tensor(input)
    return _real(input, name=name) if input.dtype.is_complex else input


def imag(input, name=None):  # noqa: A002
    """The imaginary part of a complex tensor; zeros for a real tensor (`tf.math.imag`)."""
    input = convert_to_tensor(input)
    if input.dtype.is_complex:
        return _imag(input, name=name)
    return array_ops.zeros_like(input)


_COMPLEX_OF = {dtypes.float32: dtypes.complex64, dtypes.float64: dtypes.complex128}


@primitive("Complex", dtypes=frozenset(_COMPLEX_OF))
class Complex:
    def infer(real, imag):
        if real.dtype is not imag.dtype:
            raise TypeError(f"Complex: cannot mix dtypes {real.dtype.name} and "
                            f"{imag.dtype.name}")
        return Spec(broadcast_shape("Complex", real.shape, imag.shape), _COMPLEX_OF[real.dtype])

    def kernel(xp, real, imag):
        return real + 1j * imag.astype(_COMPLEX_OF[dtypes.from_numpy(imag.dtype)]._np)

    def grad(op, dy):
        x, y = op.inputs
        return [unbroadcast(_real(dy), x), unbroadcast(_imag(dy), y)]


def complex(real, imag, name=None):  # noqa: A001 - TF's public name
    """Builds a complex tensor from float real and imaginary parts (`tf.complex`)."""
    return execute("Complex", real, imag, name=name)


@primitive("Polygamma", dtypes=F)
class Polygamma:
    def infer(a, x):
        if a.dtype is not x.dtype:
            raise TypeError(f"Polygamma: cannot mix dtypes {a.dtype.name} and {x.dtype.name}")
        return Spec(broadcast_shape("Polygamma", a.shape, x.shape), x.dtype)

    def kernel(xp, a, x):
        return _special.polygamma(xp, a, x)

    def grad(op, dy):
        a, x = op.inputs
        return [None, unbroadcast(multiply(dy, polygamma(add(a, 1), x)), x)]


def polygamma(a, x, name=None):
    """The a-th derivative of digamma, for integer-valued `a` >= 0 (`tf.math.polygamma`)."""
    return execute("Polygamma", a, x, name=name)


def log_sigmoid(x, name=None):
    """log(sigmoid(x)) computed as -softplus(-x), finite for large |x|."""
    return negative(softplus(negative(x)), name=name)


def reciprocal_no_nan(x, name=None):
    """1 / x, with 0 where x is 0 (`tf.math.reciprocal_no_nan`)."""
    x = convert_to_tensor(x)
    return divide_no_nan(array_ops.ones_like(x), x, name=name)


def polyval(coeffs, x, name=None):
    """Evaluates the polynomial sum coeffs[i] * x^(n-1-i) by Horner's rule."""
    x = convert_to_tensor(x)
    if not coeffs:
        return array_ops.zeros_like(x)
    result = convert_to_tensor(coeffs[0], dtype_hint=x.dtype)
    for coefficient in coeffs[1:]:
        result = add(coefficient, multiply(result, x))
    return result


# --- comparisons, logic and bits -------------------------------------------------------------

equal = binary_op("Equal", lambda xp, x, y: xp.equal(x, y), None, dtypes.ANY, to_bool)
not_equal = binary_op("NotEqual", lambda xp, x, y: xp.not_equal(x, y), None, dtypes.ANY,
                      to_bool)
less = binary_op("Less", lambda xp, x, y: xp.less(x, y), None, REAL, to_bool)
less_equal = binary_op("LessEqual", lambda xp, x, y: xp.less_equal(x, y), None, REAL, to_bool)
greater = binary_op("Greater", lambda xp, x, y: xp.greater(x, y), None, REAL, to_bool)
greater_equal = binary_op("GreaterEqual", lambda xp, x, y: xp.greater_equal(x, y), None, REAL,
                          to_bool)
logical_and = binary_op("LogicalAnd", lambda xp, x, y: xp.logical_and(x, y), None, BOOL)
logical_or = binary_op("LogicalOr", lambda xp, x, y: xp.logical_or(x, y), None, BOOL)
logical_not = unary_op("LogicalNot", lambda xp, x: xp.logical_not(x), None, BOOL)
bitwise_and = binary_op("BitwiseAnd", lambda xp, x, y: xp.bitwise_and(x, y), None, INT)
bitwise_or = binary_op("BitwiseOr", lambda xp, x, y: xp.bitwise_or(x, y), None, INT)
bitwise_xor = binary_op("BitwiseXor", lambda xp, x, y: xp.bitwise_xor(x, y), None, INT)
invert = unary_op("Invert", lambda xp, x: xp.invert(x), None, INT)
left_shift = binary_op("LeftShift", lambda xp, x, y: xp.left_shift(x, y), None, INT)
right_shift = binary_op("RightShift", lambda xp, x, y: xp.right_shift(x, y), None, INT)


def logical_xor(x, y, name="LogicalXor"):
    """x XOR y element-wise for bool tensors (`tf.math.logical_xor`)."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


# --- clipping --------------------------------------------------------------------------------

def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips values to [clip_value_min, clip_value_max] (`tf.clip_by_value`).

    The gradient passes where t is inside the range (bounds included), like TF.
    """
    values = t.values if isinstance(t, IndexedSlices) else convert_to_tensor(t)
    clipped = maximum(minimum(values, clip_value_max), clip_value_min)
    if values.shape.is_fully_defined() and clipped.shape != values.shape:
        raise errors.InvalidArgumentError(
            f"clip_by_value: clip values must not broadcast the input shape, got shape "
            f"{values.shape.as_list()} clipped to {clipped.shape.as_list()}")
    if isinstance(t, IndexedSlices):
        return IndexedSlices(clipped, t.indices, t.dense_shape)
    return clipped


def _l2_sum(t, axes=None):
    from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415 - reduce imports math

    return reduce_ops.reduce_sum(multiply(t, _c(t)), axes, keepdims=True)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Rescales t so that its L2 norm (over `axes`) is at most clip_norm (`tf.clip_by_norm`)."""
    values = t.values if isinstance(t, IndexedSlices) else convert_to_tensor(t)
    l2sum = _l2_sum(values, axes)
    positive = _mask(greater(l2sum, 0), l2sum)
    # sqrt of 1 where the sum is 0: the gradient of the norm stays finite there.
    l2norm = multiply(sqrt(add(l2sum, subtract(1, positive))), positive)
    clip_norm = convert_to_tensor(clip_norm, dtype_hint=values.dtype)
    clipped = realdiv(multiply(values, clip_norm), maximum(l2norm, clip_norm))
    if isinstance(t, IndexedSlices):
        return IndexedSlices(clipped, t.indices, t.dense_shape)
    return clipped


def global_norm(t_list, name=None):
    """sqrt(sum of squared L2 norms) over a list of tensors; None entries are skipped."""
    from ndflow.ops import reduce as reduce_ops  # noqa: PLC0415

    parts = []
    for t in t_list:
        if t is None:
            continue
        values = t.values if isinstance(t, IndexedSlices) else convert_to_tensor(t)
        parts.append(reduce_ops.reduce_sum(multiply(values, _c(values))))
    if not parts:
        return convert_to_tensor(0.0)
    return sqrt(add_n(parts))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor by clip_norm / max(global_norm, clip_norm).

    Returns:
      (list_clipped, global_norm): None entries stay None, IndexedSlices stay sparse; when
      the norm is inf or nan every entry becomes nan, as in TF.
    """
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise TypeError(f"clip_by_global_norm: t_list should be a sequence, got {t_list!r}")
    t_list = list(t_list)
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    clip_norm = convert_to_tensor(clip_norm, dtype_hint=norm.dtype)
    scale = multiply(clip_norm, minimum(reciprocal(norm), reciprocal(clip_norm)))
    finite = _mask(is_finite(norm), norm)
    scale = realdiv(multiply(scale, finite), finite)  # 0/0: nan when the norm is not finite
    clipped = []
    for t in t_list:
        if t is None:
            clipped.append(None)
        elif isinstance(t, IndexedSlices):
            values = multiply(t.values, array_ops.cast(scale, t.values.dtype))
            clipped.append(IndexedSlices(values, t.indices, t.dense_shape))
        else:
            t = convert_to_tensor(t)
            clipped.append(multiply(t, array_ops.cast(scale, t.dtype)))
    return clipped, norm


# --- Python operators on Tensor --------------------------------------------------------------

def _r(func):
    """Reflected operator: `2 - t` calls `t.__rsub__(2)`."""
    return lambda self, other: func(other, self)


def _by_dtype(logical, bitwise):
    """`&`, `|`, `^`: logical for bool tensors, bitwise for integer tensors."""

    def operator(x, y):
        dtype = x.dtype if isinstance(x, Tensor) else convert_to_tensor(y).dtype
        return logical(x, y) if dtype is dtypes.bool else bitwise(x, y)

    return operator


def _invert(x):
    return logical_not(x) if x.dtype is dtypes.bool else invert(x)


def _matmul(x, y):
    from ndflow.ops import linalg  # noqa: PLC0415 - linalg sits beside math, imported lazily

    return linalg.matmul(x, y)


def _truediv_operator(x, y):
    if isinstance(x, Tensor) and x.dtype in FC and isinstance(y, Tensor):
        return execute("RealDiv", x, y)
    return truediv(x, y)


def _install_operators():
    pairs = [("add", add), ("sub", subtract), ("mul", multiply), ("truediv", _truediv_operator),
             ("floordiv", floordiv), ("mod", floormod), ("pow", pow), ("matmul", _matmul),
             ("and", _by_dtype(logical_and, bitwise_and)),
             ("or", _by_dtype(logical_or, bitwise_or)),
             ("xor", _by_dtype(logical_xor, bitwise_xor))]
    for name, func in pairs:
        Tensor._override_operator(f"__{name}__", func)
        Tensor._override_operator(f"__r{name}__", _r(func))
    for name, func in [("neg", negative), ("abs", abs), ("invert", _invert), ("lt", less),
                       ("le", less_equal), ("gt", greater), ("ge", greater_equal),
                       ("eq", _tensor_equals), ("ne", _tensor_not_equals)]:
        Tensor._override_operator(f"__{name}__", func)


def _tensor_equals(self, other):
    """TF2 `==`: element-wise when the other side converts to a compatible tensor, else False."""
    if other is None:
        return False
    try:
        return equal(self, other)
    except (TypeError, ValueError, errors.InvalidArgumentError):
        return False


def _tensor_not_equals(self, other):
    if other is None:
        return True
    try:
        return not_equal(self, other)
    except (TypeError, ValueError, errors.InvalidArgumentError):
        return True


_install_operators()

# Public names: "" is the top-level `tf` namespace, other keys are sub-namespaces (`tf.math`).
_BOTH = ["add", "subtract", "multiply", "divide", "truediv", "negative", "add_n", "equal",
         "not_equal", "less", "less_equal", "greater", "greater_equal", "abs", "sign", "square",
         "sqrt", "exp", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh",
         "tanh", "asinh", "acosh", "atanh", "sigmoid", "maximum", "minimum", "floor", "round",
         "logical_and", "logical_or", "logical_not", "pow", "scalar_mul"]
API = {
    "": _BOTH + ["realdiv", "clip_by_value", "clip_by_norm", "clip_by_global_norm", "complex"],
    "math": _BOTH + ["floordiv", "floormod", "mod", "rsqrt", "expm1", "log", "log1p", "erf",
                     "erfc", "lgamma", "digamma", "polygamma", "ceil", "rint", "reciprocal",
                     "squared_difference", "logical_xor", "is_nan", "is_inf", "is_finite",
                     "divide_no_nan", "multiply_no_nan", "xlogy", "xdivy", "conj", "real",
                     "imag", "polyval", "log_sigmoid", "softplus", "reciprocal_no_nan"],
    "nn": ["sigmoid", "tanh", "softplus"],
    "linalg": ["global_norm"],
    "bitwise": ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift",
                "right_shift"],
    "dtypes": ["complex"],
}
