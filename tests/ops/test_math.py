"""Tests for ndflow/ops/math.py and ndflow/ops/_special.py: element-wise math against NumPy and
SciPy, gradients against finite differences, dtype rules, Python operators and errors."""

import warnings

import numpy as np
import pytest
import scipy.special as sp

import ndflow as tf
from ndflow.framework import errors
from ndflow.ops import _special
from tests.helpers import assert_close, check_grad, check_op

FLOATS = ["float16", "bfloat16", "float32", "float64"]
RNG = np.random.default_rng(0)


def _f64(function):
    """A reference computed in float64."""
    return lambda *arrays: function(*[np.asarray(a, dtype=np.float64) for a in arrays])


# (name, ndflow function, float64 reference, input range (low, high), gradient order or None)
UNARY = [
    ("negative", tf.negative, np.negative, (-3, 3), 2),
    ("abs", tf.abs, np.abs, (-3, 3), 1),
    ("square", tf.square, np.square, (-3, 3), 2),
    ("sqrt", tf.sqrt, np.sqrt, (0.1, 4), 2),
    ("rsqrt", tf.math.rsqrt, lambda a: 1 / np.sqrt(a), (0.2, 4), 2),
    ("exp", tf.exp, np.exp, (-3, 3), 2),
    ("expm1", tf.math.expm1, np.expm1, (-3, 3), 2),
    ("log", tf.math.log, np.log, (0.1, 4), 2),
    ("log1p", tf.math.log1p, np.log1p, (-0.5, 3), 2),
    ("sin", tf.sin, np.sin, (-3, 3), 2),
    ("cos", tf.cos, np.cos, (-3, 3), 2),
    ("tan", tf.tan, np.tan, (-1.2, 1.2), 2),
    ("asin", tf.asin, np.arcsin, (-0.9, 0.9), 2),
    ("acos", tf.acos, np.arccos, (-0.9, 0.9), 2),
    ("atan", tf.atan, np.arctan, (-3, 3), 2),
    ("sinh", tf.sinh, np.sinh, (-3, 3), 2),
    ("cosh", tf.cosh, np.cosh, (-3, 3), 2),
    ("tanh", tf.tanh, np.tanh, (-3, 3), 2),
    ("asinh", tf.asinh, np.arcsinh, (-3, 3), 2),
    ("acosh", tf.acosh, np.arccosh, (1.2, 4), 2),
    ("atanh", tf.atanh, np.arctanh, (-0.9, 0.9), 2),
    ("sigmoid", tf.sigmoid, lambda a: 1 / (1 + np.exp(-a)), (-6, 6), 2),
    ("softplus", tf.math.softplus, lambda a: np.logaddexp(a, 0), (-6, 6), 2),
    ("log_sigmoid", tf.math.log_sigmoid, lambda a: -np.logaddexp(-a, 0), (-6, 6), 2),
    ("reciprocal", tf.math.reciprocal, lambda a: 1 / a, (0.5, 3), 2),
    ("reciprocal_no_nan", tf.math.reciprocal_no_nan, lambda a: 1 / a, (0.5, 3), 2),
    ("erf", tf.math.erf, sp.erf, (-3, 3), 2),
    ("erfc", tf.math.erfc, sp.erfc, (-3, 3), 2),
    ("lgamma", tf.math.lgamma, sp.gammaln, (0.3, 6), 2),
    ("digamma", tf.math.digamma, sp.digamma, (0.3, 6), 2),
    ("sign", tf.sign, np.sign, (-3, 3), None),
    ("floor", tf.floor, np.floor, (-3, 3), None),
    ("ceil", tf.math.ceil, np.ceil, (-3, 3), None),
    ("round", tf.round, np.round, (-3, 3), None),
    ("rint", tf.math.rint, np.rint, (-3, 3), None),
]
UNARY_IDS = [row[0] for row in UNARY]


def _sample(low, high, shape=(2, 3), seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, fn, ref, domain, order", UNARY, ids=UNARY_IDS)
def test_unary_values(name, fn, ref, domain, order, dtype):
    values = _sample(*domain)
    rtol = 2e-2 if dtype in ("float16", "bfloat16") else None
    check_op(fn, _f64(ref), values, dtype=dtype, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name, fn, ref, domain, order", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)], ids=["scalar", "empty", "empty3d"])
def test_unary_shapes(name, fn, ref, domain, order, shape):
    check_op(fn, _f64(ref), _sample(*domain, shape=shape), dtype="float32")


GRADS = [row for row in UNARY if row[4] is not None]


@pytest.mark.parametrize("name, fn, ref, domain, order", GRADS, ids=[r[0] for r in GRADS])
def test_unary_gradients(name, fn, ref, domain, order):
    check_grad(fn, _sample(*domain, shape=(5,), seed=1), order=order)


@pytest.mark.parametrize("fn", [tf.floor, tf.math.ceil, tf.round, tf.math.rint],
                         ids=["floor", "ceil", "round", "rint"])
def test_piecewise_constant_gradients_are_none(fn):
    x = tf.constant([0.3, 1.7])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    assert tape.gradient(y, x) is None


def test_sign_gradient_is_zero():
    x = tf.constant([-2.0, 0.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.sign(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0, 0])


def test_abs_gradient_hand_value():
    x = tf.constant([-2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.abs(x) * tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [-1.0, 2.0])


@pytest.mark.parametrize("value, expected", [
    (np.inf, [np.inf, np.inf, 0.0]), (-np.inf, [0.0, np.nan, np.nan]),
    (np.nan, [np.nan, np.nan, np.nan]), (0.0, [1.0, -np.inf, np.inf]),
], ids=["inf", "-inf", "nan", "zero"])
def test_exp_log_rsqrt_special_values(value, expected):
    x = tf.constant(value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [tf.exp(x).numpy(), tf.math.log(x).numpy(), tf.math.rsqrt(x).numpy()]
    np.testing.assert_array_equal(got, np.array(expected, dtype=np.float32))


def test_sigmoid_softplus_stable_for_large_inputs():
    x = tf.constant([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = tf.sigmoid(x).numpy()
        p = tf.math.softplus(x).numpy()
        ls = tf.math.log_sigmoid(x).numpy()
    np.testing.assert_allclose(s, [0, 1.9287499e-22, 0.5, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(p, [0, 1.9287499e-22, np.log(2), 50, 1000], rtol=1e-6)
    np.testing.assert_allclose(ls, [-1000, -50, -np.log(2), -1.9287499e-22, 0], rtol=1e-6)


def test_round_is_half_to_even():
    x = tf.constant([0.5, 1.5, 2.5, -0.5, -2.5, 2.6])
    np.testing.assert_array_equal(tf.round(x).numpy(), [0, 2, 2, -0, -2, 3])
    np.testing.assert_array_equal(tf.round(tf.constant([3, -4])).numpy(), [3, -4])


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_abs_sign_square_on_integers_and_floats(dtype):
    values = np.array([-3, 0, 4])
    check_op(tf.abs, np.abs, values, dtype=dtype)
    check_op(tf.sign, np.sign, values, dtype=dtype)
    check_op(tf.square, np.square, values, dtype=dtype)


def test_complex_abs_real_imag_and_gradients():
    z = tf.constant(np.array([3 + 4j, -1 - 1j], dtype=np.complex64))
    result = tf.abs(z)
    assert result.dtype == tf.float32
    np.testing.assert_allclose(result.numpy(), [5.0, np.sqrt(2)], rtol=1e-6)
    assert tf.math.real(z).dtype == tf.float32
    np.testing.assert_array_equal(tf.math.real(z).numpy(), [3, -1])
    np.testing.assert_array_equal(tf.math.imag(z).numpy(), [4, -1])
    np.testing.assert_array_equal(tf.math.imag(tf.constant([1.0])).numpy(), [0.0])
    x = tf.constant([1.0, 2.0])
    assert tf.math.real(x) is x
    built = tf.complex(tf.constant([1.0]), tf.constant([2.0]))
    assert built.dtype == tf.complex64 and built.numpy()[0] == 1 + 2j
    re, im = tf.constant([3.0, -1.0], tf.float64), tf.constant([4.0, 2.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([re, im])
        y = tf.reduce_sum(tf.abs(tf.complex(re, im)))
    g_re, g_im = tape.gradient(y, [re, im])
    np.testing.assert_allclose(g_re.numpy(), [0.6, -1 / np.sqrt(5)])
    np.testing.assert_allclose(g_im.numpy(), [0.8, 2 / np.sqrt(5)])


def test_sqrt_of_complex_gradient_uses_conjugate():
    z = tf.constant(np.array([1 + 1j], dtype=np.complex128))
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = tf.sqrt(z)
    np.testing.assert_allclose(tape.gradient(y, z).numpy(), np.conj(0.5 / np.sqrt(1 + 1j)))


# --- special functions -----------------------------------------------------------------------

SPECIAL_RANGES = {
    "erf": (sp.erf, [np.linspace(-7, 7, 2001), -np.logspace(-300, 1.5, 200),
                     np.logspace(-300, 1.5, 200)]),
    "erfc": (sp.erfc, [np.linspace(-7, 27, 2001), np.logspace(-300, 1.4, 200),
                       -np.logspace(-300, 1.5, 200)]),
    "lgamma": (sp.gammaln, [np.linspace(0.01, 30, 2001), np.logspace(-300, 300, 300),
                            np.linspace(-30.3, -0.7, 997)]),
    "digamma": (sp.digamma, [np.linspace(0.01, 30, 2001), np.logspace(-300, 300, 300),
                             np.linspace(-30.3, -0.7, 997)]),
}


@pytest.mark.parametrize("name", list(SPECIAL_RANGES))
def test_special_functions_float64_accuracy(name):
    reference, pieces = SPECIAL_RANGES[name]
    x = np.concatenate(pieces)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = getattr(_special, name)(np, x)
    expected = reference(x)
    same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    # Relative accuracy ~1e-14 away from zeros; absolute ~1e-14 near them (lgamma at 1 and 2).
    with np.errstate(invalid="ignore"):
        close = np.abs(got - expected) <= 2e-13 * np.abs(expected) + 2e-14
    bad = ~(same | close)
    assert not bad.any(), f"{name} at {x[bad][:5]}: got {got[bad][:5]}, want {expected[bad][:5]}"


@pytest.mark.parametrize("name", list(SPECIAL_RANGES))
@pytest.mark.parametrize("dtype", FLOATS)
def test_special_functions_low_precision(name, dtype):
    reference, pieces = SPECIAL_RANGES[name]
    values = np.concatenate([p[::37] for p in pieces])
    values = values[np.abs(values) < 60]
    np_dtype = tf.as_dtype(dtype).as_numpy_dtype
    result = getattr(tf.math, name)(tf.constant(values.astype(np_dtype)))
    assert result.dtype == tf.as_dtype(dtype)
    rounded = values.astype(np_dtype).astype(np.float64)
    expected = reference(rounded).astype(np_dtype).astype(np.float64)
    finite = np.isfinite(expected)
    assert_close(result.numpy().astype(np.float64)[finite], expected[finite], tf.as_dtype(dtype))


@pytest.mark.parametrize("x, expected", [
    (0.0, [0.0, 1.0, np.inf, np.nan]), (-2.0, [-0.9953222650189527, 1.9953222650189528, np.inf,
                                               np.nan]),
    (np.inf, [1.0, 0.0, np.inf, np.inf]), (-np.inf, [-1.0, 2.0, np.inf, np.nan]),
    (np.nan, [np.nan, np.nan, np.nan, np.nan]), (1.0, [0.8427007929497149, 0.15729920705028513,
                                                       0.0, -0.5772156649015329]),
    (2.0, [0.9953222650189527, 0.004677734981047266, 0.0, 0.42278433509846713]),
], ids=["zero", "neg_int", "inf", "-inf", "nan", "one", "two"])
def test_special_functions_edge_values(x, expected):
    t = tf.constant(x, tf.float64)
    got = [tf.math.erf(t), tf.math.erfc(t), tf.math.lgamma(t), tf.math.digamma(t)]
    np.testing.assert_allclose([g.numpy() for g in got], expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_polygamma_against_scipy(n):
    x = np.concatenate([np.linspace(0.05, 25, 301), np.linspace(-4.3, -0.2, 41)])
    result = tf.math.polygamma(tf.constant(np.full_like(x, n)), tf.constant(x))
    np.testing.assert_allclose(result.numpy(), sp.polygamma(n, x), rtol=1e-13)
    zero = tf.math.polygamma(tf.constant([0.0, 0.5]), tf.constant([2.0, 2.0])).numpy()
    np.testing.assert_allclose(zero[0], sp.digamma(2.0), rtol=1e-7)
    assert np.isnan(zero[1])  # non-integer order


def test_polygamma_gradient():
    check_grad(lambda x: tf.math.polygamma(tf.constant(2.0, tf.float64) + 0 * x, x),
               np.array([0.7, 2.5, 4.0]), order=2)


# --- binary arithmetic -----------------------------------------------------------------------

BINARY = [
    ("add", tf.add, np.add, (-3, 3), (-3, 3), 2),
    ("subtract", tf.subtract, np.subtract, (-3, 3), (-3, 3), 2),
    ("multiply", tf.multiply, np.multiply, (-3, 3), (-3, 3), 2),
    ("divide", tf.divide, np.divide, (-3, 3), (0.5, 3), 2),
    ("pow", tf.pow, np.power, (0.5, 3), (-2, 2), 2),
    ("maximum", tf.maximum, np.maximum, (-3, 3), (-3, 3), 1),
    ("minimum", tf.minimum, np.minimum, (-3, 3), (-3, 3), 1),
    ("squared_difference", tf.math.squared_difference, lambda a, b: (a - b) ** 2, (-3, 3),
     (-3, 3), 2),
    ("atan2", tf.atan2, np.arctan2, (-3, 3), (-3, 3), 2),
    ("floormod", tf.math.floormod, np.mod, (-5, 5), (0.5, 3), 1),
    ("divide_no_nan", tf.math.divide_no_nan, np.divide, (-3, 3), (0.5, 3), 2),
    ("multiply_no_nan", tf.math.multiply_no_nan, np.multiply, (-3, 3), (-3, 3), 2),
    ("xlogy", tf.math.xlogy, lambda a, b: a * np.log(b), (-3, 3), (0.5, 3), 2),
    ("xdivy", tf.math.xdivy, np.divide, (-3, 3), (0.5, 3), 2),
    ("floordiv", tf.math.floordiv, np.floor_divide, (-5, 5), (0.5, 3), None),
]
BINARY_IDS = [row[0] for row in BINARY]
PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), (2,)), ((0, 3), (1, 3))]
PAIR_IDS = ["same", "row", "outer", "scalar", "empty"]


@pytest.mark.parametrize("shapes", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("name, fn, ref, dx, dy, order", BINARY, ids=BINARY_IDS)
def test_binary_values_broadcasting(name, fn, ref, dx, dy, order, shapes):
    x, y = _sample(*dx, shape=shapes[0]), _sample(*dy, shape=shapes[1], seed=3)
    check_op(fn, _f64(ref), x, y, dtype="float32")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, fn, ref, dx, dy, order", BINARY, ids=BINARY_IDS)
def test_binary_dtypes(name, fn, ref, dx, dy, order, dtype):
    x, y = _sample(*dx), _sample(*dy, seed=3)
    np_dtype = tf.as_dtype(dtype).as_numpy_dtype
    x, y = x.astype(np_dtype), y.astype(np_dtype)
    result = fn(tf.constant(x), tf.constant(y))
    assert result.dtype == tf.as_dtype(dtype)
    expected = ref(x.astype(np.float64), y.astype(np.float64))
    if name in ("floordiv", "floormod"):  # exact for the rounded inputs
        assert_close(result.numpy(), expected, tf.as_dtype(dtype), rtol=2e-2, atol=2e-2)
    else:
        tol = 3e-2 if dtype in ("float16", "bfloat16") else None
        assert_close(result.numpy(), expected, tf.as_dtype(dtype), rtol=tol, atol=tol)


BINARY_GRADS = [row for row in BINARY if row[5] is not None]


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 2))],
                         ids=["same", "row", "outer"])
@pytest.mark.parametrize("name, fn, ref, dx, dy, order", BINARY_GRADS,
                         ids=[r[0] for r in BINARY_GRADS])
def test_binary_gradients(name, fn, ref, dx, dy, order, shapes):
    x = _sample(*dx, shape=shapes[0], seed=5)
    y = _sample(*dy, shape=shapes[1], seed=6)
    if name in ("maximum", "minimum"):
        x = x + 0.05 * np.sign(x - np.broadcast_to(y, np.broadcast_shapes(x.shape, y.shape))
                               .mean())  # stay away from ties
    check_grad(fn, x, y, order=order)


def test_maximum_minimum_gradient_ties_go_to_x():
    x, y = tf.constant([1.0, 2.0, 3.0]), tf.constant([1.0, 1.0, 5.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        high, low = tf.maximum(x, y), tf.minimum(x, y)
    np.testing.assert_array_equal(tape.gradient(high, x).numpy(), [1, 1, 0])
    np.testing.assert_array_equal(tape.gradient(high, y).numpy(), [0, 0, 1])
    np.testing.assert_array_equal(tape.gradient(low, x).numpy(), [1, 0, 1])
    np.testing.assert_array_equal(tape.gradient(low, y).numpy(), [0, 1, 0])


def test_pow_gradient_at_zero_base_is_finite():
    x, y = tf.constant([0.0, 2.0]), tf.constant([2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.pow(x, y)
    gx, gy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(gx.numpy(), [0.0, 12.0])
    np.testing.assert_allclose(gy.numpy(), [0.0, 8 * np.log(2)], rtol=1e-6)


def test_no_nan_ops_and_xlogy_zero_cases():
    x, y = tf.constant([0.0, 1.0, 0.0]), tf.constant([0.0, 0.0, np.inf])
    np.testing.assert_array_equal(tf.math.divide_no_nan(tf.constant([1.0, 2.0, 3.0]), y).numpy(),
                                  [0, 0, 0])
    np.testing.assert_array_equal(tf.math.multiply_no_nan(tf.constant([np.inf, np.nan, 1.0]),
                                                          tf.constant([0.0, 0.0, 2.0])).numpy(),
                                  [0, 0, 2])
    np.testing.assert_array_equal(tf.math.xlogy(x, y).numpy(), [0, -np.inf, 0])
    np.testing.assert_array_equal(tf.math.xdivy(x, y).numpy(), [0, np.inf, 0])


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_floordiv_floormod_follow_python_signs(dtype):
    x = np.array([7, -7, 7, -7, 6])
    y = np.array([2, 2, -2, -2, 3])
    check_op(tf.math.floordiv, np.floor_divide, x, y, dtype=dtype)
    check_op(tf.math.floormod, np.mod, x, y, dtype=dtype)
    check_op(lambda a, b: a // b, np.floor_divide, x, y, dtype=dtype)
    check_op(lambda a, b: a % b, np.mod, x, y, dtype=dtype)


def test_floormod_gradient_hand_value():
    x, y = tf.constant([7.0, -7.0]), tf.constant([2.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.math.floormod(x, y)
    gx, gy = tape.gradient(z, [x, y])
    np.testing.assert_array_equal(gx.numpy(), [1, 1])
    np.testing.assert_array_equal(gy.numpy(), [-3, 4])


@pytest.mark.parametrize("dtype, expected", [
    ("int8", "float32"), ("uint8", "float32"), ("int16", "float32"), ("int32", "float64"),
    ("int64", "float64"), ("float16", "float16"), ("float32", "float32"),
], ids=lambda v: str(v))
def test_truediv_casts_integers_like_tf(dtype, expected):
    x = tf.constant(np.array([1, 7], dtype=tf.as_dtype(dtype).as_numpy_dtype))
    y = tf.constant(np.array([3, 2], dtype=tf.as_dtype(dtype).as_numpy_dtype))
    for result in [tf.divide(x, y), tf.truediv(x, y), x / y, x / 2]:
        assert result.dtype == tf.as_dtype(expected)
    assert_close((x / y).numpy(), [1 / 3, 3.5], tf.as_dtype(expected))


def test_integer_arithmetic_stays_integer():
    x, y = tf.constant([5, -3]), tf.constant([2, 2])
    for result, expected in [(x + y, [7, -1]), (x - y, [3, -5]), (x * y, [10, -6]),
                             (x ** y, [25, 9]), (tf.maximum(x, y), [5, 2]), (-x, [-5, 3])]:
        assert result.dtype == tf.int32
        np.testing.assert_array_equal(result.numpy(), expected)


# --- Python operators ------------------------------------------------------------------------

def test_operators_and_reflected_operators():
    x = tf.constant([1.0, -2.0, 4.0])
    a = np.array([1.0, -2.0, 4.0], dtype=np.float32)
    cases = [(x + 1, a + 1), (1 + x, 1 + a), (x - 1, a - 1), (1 - x, 1 - a), (x * 2, a * 2),
             (2 * x, 2 * a), (x / 2, a / 2), (2 / x, 2 / a), (x // 3, a // 3), (7 // x, 7 // a),
             (x % 3, a % 3), (7 % x, 7 % a), (x ** 2, a ** 2), (2 ** x, 2 ** a), (-x, -a),
             (abs(x), np.abs(a))]
    for result, expected in cases:
        assert result.dtype == tf.float32
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
    for result, expected in [(x < 1, a < 1), (x <= 1, a <= 1), (x > 1, a > 1),
                             (x >= 1, a >= 1), (1 < x, 1 < a)]:
        assert result.dtype == tf.bool
        np.testing.assert_array_equal(result.numpy(), expected)


def test_python_scalar_adopts_tensor_dtype():
    half = tf.constant([1.0, 2.0], tf.float16)
    assert (half + 1.0).dtype == tf.float16
    assert (half * 2).dtype == tf.float16
    assert (2.0 - half).dtype == tf.float16
    assert (tf.constant([1, 2], tf.int64) + 1).dtype == tf.int64


def test_logical_and_bitwise_operators():
    p, q = tf.constant([True, True, False, False]), tf.constant([True, False, True, False])
    np.testing.assert_array_equal((p & q).numpy(), [True, False, False, False])
    np.testing.assert_array_equal((p | q).numpy(), [True, True, True, False])
    np.testing.assert_array_equal((p ^ q).numpy(), [False, True, True, False])
    np.testing.assert_array_equal((~p).numpy(), [False, False, True, True])
    np.testing.assert_array_equal((True & q).numpy(), [True, False, True, False])
    m, n = tf.constant([12, 10]), tf.constant([10, 6])
    np.testing.assert_array_equal((m & n).numpy(), [8, 2])
    np.testing.assert_array_equal((m | n).numpy(), [14, 14])
    np.testing.assert_array_equal((m ^ n).numpy(), [6, 12])
    np.testing.assert_array_equal((~m).numpy(), [-13, -11])
    np.testing.assert_array_equal(tf.bitwise.left_shift(m, 1).numpy(), [24, 20])
    np.testing.assert_array_equal(tf.bitwise.right_shift(m, 2).numpy(), [3, 2])
    np.testing.assert_array_equal(tf.math.logical_xor(p, q).numpy(), [False, True, True, False])


def test_matmul_operator_calls_linalg():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose((a @ a).numpy(), np.array([[7, 10], [15, 22]]))
    np.testing.assert_allclose((np.eye(2, dtype=np.float32) @ a).numpy(), a.numpy())


@pytest.mark.parametrize("fn, ref", [
    (tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
    (tf.less_equal, np.less_equal), (tf.greater, np.greater), (tf.greater_equal, np.greater_equal),
], ids=["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int32", "int64"])
def test_comparisons(fn, ref, dtype):
    x = np.array([[1, 2, 3], [3, 2, 1]])
    check_op(fn, ref, x, np.array([2, 2, 2]), dtype=dtype, expect_dtype="bool")


def test_comparisons_with_nan_and_inf():
    x = tf.constant([np.nan, np.inf, -np.inf, 1.0])
    np.testing.assert_array_equal(tf.math.is_nan(x).numpy(), [True, False, False, False])
    np.testing.assert_array_equal(tf.math.is_inf(x).numpy(), [False, True, True, False])
    np.testing.assert_array_equal(tf.math.is_finite(x).numpy(), [False, False, False, True])
    np.testing.assert_array_equal((x < 2.0).numpy(), [False, False, True, True])
    np.testing.assert_array_equal(tf.equal(x, x).numpy(), [False, True, True, True])


# --- clipping, polyval, scalar_mul, add_n ----------------------------------------------------

def test_clip_by_value_values_and_gradient():
    x = tf.constant([-2.0, 0.5, 1.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.clip_by_value(x, 0.0, 1.0)
    np.testing.assert_array_equal(y.numpy(), [0, 0.5, 1, 1])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 0])
    ints = tf.clip_by_value(tf.constant([-5, 5, 50]), 0, 10)
    assert ints.dtype == tf.int32
    np.testing.assert_array_equal(ints.numpy(), [0, 5, 10])


def test_clip_by_value_rejects_broadcasting_the_input():
    with pytest.raises(errors.InvalidArgumentError, match=r"clip_by_value.*\[2\].*\[3, 2\]"):
        tf.clip_by_value(tf.constant([1.0, 2.0]), tf.zeros([3, 2]), 1.0)


def test_clip_by_norm():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(tf.clip_by_norm(tf.constant(x), 1.0).numpy(), x / 5, rtol=1e-6)
    np.testing.assert_allclose(tf.clip_by_norm(tf.constant(x), 10.0).numpy(), x)
    per_row = tf.clip_by_norm(tf.constant(x), 1.0, axes=[1]).numpy()
    np.testing.assert_allclose(per_row, [[0.6, 0.8], [0, 0]], rtol=1e-6)
    check_grad(lambda t: tf.clip_by_norm(t, 2.0), np.array([1.0, 2.0, 2.0]), order=2)


def test_clip_by_global_norm_with_none_and_indexed_slices():
    a = tf.constant([3.0, 0.0])
    sparse = tf.IndexedSlices(tf.constant([[4.0, 0.0]]), tf.constant([1]), tf.constant([3, 2]))
    clipped, norm = tf.clip_by_global_norm([a, None, sparse], 1.0)
    np.testing.assert_allclose(norm.numpy(), 5.0)
    assert clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), [0.6, 0.0], rtol=1e-6)
    assert isinstance(clipped[2], tf.IndexedSlices)
    np.testing.assert_allclose(clipped[2].values.numpy(), [[0.8, 0.0]], rtol=1e-6)
    unchanged, _ = tf.clip_by_global_norm([a], 10.0)
    np.testing.assert_allclose(unchanged[0].numpy(), [3.0, 0.0])
    infinite, _ = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
    assert np.all(np.isnan(infinite[0].numpy()))
    np.testing.assert_allclose(tf.linalg.global_norm([a, None, sparse]).numpy(), 5.0)
    with pytest.raises(TypeError, match="clip_by_global_norm"):
        tf.clip_by_global_norm(a, 1.0)


def test_polyval_scalar_mul_add_n():
    x = tf.constant([1.0, 2.0])
    np.testing.assert_allclose(tf.math.polyval([2.0, 0.0, 1.0], x).numpy(), [3.0, 9.0])
    np.testing.assert_array_equal(tf.math.polyval([], x).numpy(), [0.0, 0.0])
    check_grad(lambda t: tf.math.polyval([1.0, -2.0, 0.5], t), np.array([0.3, 1.5]), order=2)
    np.testing.assert_array_equal(tf.math.scalar_mul(3.0, x).numpy(), [3.0, 6.0])
    sparse = tf.math.scalar_mul(2.0, tf.IndexedSlices(x, tf.constant([0, 1])))
    np.testing.assert_array_equal(sparse.values.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(tf.add_n([x, x, x]).numpy(), [3.0, 6.0])
    check_grad(lambda a, b: tf.add_n([a, b, a]), np.array([1.0, 2.0]), np.array([3.0, 4.0]),
               order=2)
    with pytest.raises(ValueError, match="scalar_mul"):
        tf.math.scalar_mul(tf.constant([1.0, 2.0]), x)


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fn, op_name", [
    (tf.add, "AddV2"), (tf.maximum, "Maximum"), (tf.pow, "Pow"), (tf.less, "Less"),
    (tf.math.floordiv, "FloorDiv"), (tf.math.squared_difference, "SquaredDifference"),
], ids=["add", "maximum", "pow", "less", "floordiv", "squared_difference"])
def test_mixing_dtypes_names_op_and_both_dtypes(fn, op_name):
    with pytest.raises(errors.InvalidArgumentError, match=rf"{op_name}.*float32.*int32"):
        fn(tf.constant([1.0]), tf.constant([1]))


def test_incompatible_shapes_name_op_and_shapes():
    with pytest.raises(errors.InvalidArgumentError, match=r"Mul.*\[2, 3\] vs. \[4\]"):
        tf.multiply(tf.zeros([2, 3]), tf.zeros([4]))


@pytest.mark.parametrize("fn, dtype", [
    (tf.sqrt, "int32"), (tf.math.erf, "int32"), (tf.math.log, "int64"), (tf.floor, "int32"),
    (tf.math.logical_not, "float32"),
], ids=["sqrt", "erf", "log", "floor", "logical_not"])
def test_unsupported_dtype_names_op(fn, dtype):
    with pytest.raises(errors.InvalidArgumentError, match=rf"{dtype}"):
        fn(tf.constant([1], dtype=dtype))


def test_integer_division_by_zero_and_negative_power():
    with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
        tf.math.floordiv(tf.constant([1]), tf.constant([0]))
    with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
        tf.constant([1]) % 0
    with pytest.raises(errors.InvalidArgumentError, match="Pow: integers to negative"):
        tf.pow(tf.constant([2]), tf.constant([-1]))


def test_float_division_by_zero_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = tf.constant([1.0, 0.0, -1.0]) / 0.0
        floored = tf.constant([1.0]) // 0.0
    np.testing.assert_array_equal(result.numpy(), [np.inf, np.nan, -np.inf])
    assert np.isinf(floored.numpy()[0])


def test_public_namespaces():
    assert tf.math.erf is tf.math.erf and not hasattr(tf, "erf")
    assert tf.abs is tf.math.abs
    assert tf.realdiv is not None and tf.math.mod is tf.math.floormod
    assert tf.nn.sigmoid is tf.sigmoid
    assert tf.bitwise.bitwise_and is not None
