"""Special functions NumPy lacks: erf, erfc, lgamma and digamma, vectorised over `xp` arrays.

The core depends only on numpy and ml_dtypes, so these are written here instead of using
scipy. Each function computes in float64 (about 1e-15 relative accuracy, away from the zeros of
lgamma and digamma where only the absolute error is that small) and casts back to the input
dtype, so float16/bfloat16/float32 inputs get correctly rounded results.

References: W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp.
23 (1969) -- the coefficients of netlib's CALERF; Stirling's series for lgamma and the
asymptotic series of digamma, after upward recurrence to x >= 10.
"""

import math

# erf(x) = x * A(x^2) / B(x^2) for |x| <= 0.46875.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
# erfc(x) = exp(-x^2) * C(x) / D(x) for 0.46875 < |x| <= 4.
_ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
           2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
           2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
# erfc(x) = exp(-x^2) / x * (1/sqrt(pi) - P(1/x^2) / (x^2 Q(1/x^2))) for |x| > 4.
_ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
           1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 0.56418958354775628695
_ERF_SMALL = 0.46875


def _as_float64(xp, x):
    return x.astype(xp.float64, copy=False)


def _erf_small(xp, y):
    """x * A(x^2) / B(x^2), accurate for |x| <= 0.46875."""
    ysq = y * y
    num = _ERF_A[4] * ysq
    den = ysq
    for a, b in zip(_ERF_A[:3], _ERF_B[:3]):
        num = (num + a) * ysq
        den = (den + b) * ysq
    return y * (num + _ERF_A[3]) / (den + _ERF_B[3])


def _erfc_large(xp, y):
    """erfc(y) for y > 0.46875 (y >= 0, NaN-free for y = inf)."""
    middle = y <= 4.0
    near = xp.minimum(y, 4.0)
    num = _ERFC_C[8] * near
    den = near
    for c, d in zip(_ERFC_C[:7], _ERFC_D[:7]):
        num = (num + c) * near
        den = (den + d) * near
    mid_ratio = (num + _ERFC_C[7]) / (den + _ERFC_D[7])
    with xp.errstate(over="ignore", under="ignore"):
        ysq = 1.0 / (y * y)
        num = _ERFC_P[5] * ysq
        den = ysq
        for p, q in zip(_ERFC_P[:4], _ERFC_Q[:4]):
            num = (num + p) * ysq
            den = (den + q) * ysq
        tail_ratio = (_INV_SQRT_PI - ysq * (num + _ERFC_P[4]) / (den + _ERFC_Q[4])) / y
    ratio = xp.where(middle, mid_ratio, tail_ratio)
    # exp(-y^2) split as exp(-r^2) * exp(-(y-r)(y+r)) with r = y rounded down to 1/16: keeps the
    # rounding error of y*y out of the exponent (Cody).
    rounded = xp.trunc(y * 16.0) / 16.0
    with xp.errstate(invalid="ignore", under="ignore", over="ignore"):
        scale = xp.exp(-rounded * rounded) * xp.exp(-(y - rounded) * (y + rounded))
        return xp.where(xp.isinf(y), 0.0, scale * ratio)


def erf(xp, x):
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""
    z = _as_float64(xp, x)
    y = xp.abs(z)
    small = y <= _ERF_SMALL
    safe = xp.where(small, _ERF_SMALL + 1.0, y)
    large = 1.0 - _erfc_large(xp, safe)
    result = xp.where(small, _erf_small(xp, xp.where(small, z, 0.0)), xp.copysign(large, z))
    return result.astype(x.dtype, copy=False)


def erfc(xp, x):
    """The complementary error function 1 - erf(x), accurate in the right tail."""
    z = _as_float64(xp, x)
    y = xp.abs(z)
    small = y <= _ERF_SMALL
    tail = _erfc_large(xp, xp.where(small, _ERF_SMALL + 1.0, y))
    tail = xp.where(z < 0, 2.0 - tail, tail)
    result = xp.where(small, 1.0 - _erf_small(xp, xp.where(small, z, 0.0)), tail)
    return result.astype(x.dtype, copy=False)


# Bernoulli numbers B_2 ... B_18 for the Euler-Maclaurin tail of the Hurwitz zeta function.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798)


# Stirling's series: lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + sum B_2k / (2k(2k-1) x^(2k-1)).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_SHIFT = 10.0  # below this, recurrence moves x up before the asymptotic series


def _series(xp, inverse, coefficients):
    """sum c_k * inverse^(2k) by Horner's rule, as a polynomial in inverse^2."""
    square = inverse * inverse
    total = xp.zeros_like(inverse)
    for c in reversed(coefficients):
        total = total * square + c
    return total


def _lgamma_positive(xp, x):
    """lgamma for x > 0 (x is float64 and finite positive or inf)."""
    shifted = x
    product = xp.ones_like(x)
    log_product = xp.zeros_like(x)
    for _ in range(int(_SHIFT)):
        below = shifted < _SHIFT
        product = xp.where(below, product * shifted, product)
        shifted = xp.where(below, shifted + 1.0, shifted)
    log_product = xp.log(product)
    with xp.errstate(invalid="ignore", over="ignore"):
        inverse = 1.0 / shifted
        stirling = ((shifted - 0.5) * xp.log(shifted) - shifted + _HALF_LOG_2PI
                    + inverse * _series(xp, inverse, _STIRLING))
    general = xp.where(xp.isinf(x), xp.inf, stirling - log_product)
    # 0 < x < 2.5 (where lgamma has its zeros): the series around 2, after one step down or up.
    near = x < 2.5
    z = xp.where(near, x, 2.0)
    low = z < 1.5
    series = _lgamma_near_two(xp, xp.where(low, z - 1.0, z - 2.0))  # both differences exact
    with xp.errstate(divide="ignore"):
        series = xp.where(low, series - xp.log(z), series)  # lgamma(x) = lgamma(x + 1) - log x
    series = xp.where(z < 0.5, general, series)
    return xp.where(near, series, general)


def _zeta_minus_one(k, terms=20):
    """zeta(k) - 1 in pure Python (k >= 2): a direct sum plus the Euler-Maclaurin tail."""
    head = math.fsum(n ** -k for n in range(2, terms))
    tail = terms ** (1 - k) / (k - 1) + 0.5 * terms ** -k
    factor = k * terms ** (-k - 1)
    for j, bernoulli in enumerate(_BERNOULLI, start=1):
        tail += bernoulli / math.factorial(2 * j) * factor
        factor *= (k + 2 * j - 1) * (k + 2 * j) / terms**2
    return head + tail


# lgamma(2 + z) = (1 - euler_gamma) z + sum_k (-1)^k (zeta(k) - 1) / k z^k, for |z| <= 1/2:
# exact zeros at x = 1 and x = 2, where the recurrence would leave a 1e-15 residue.
_EULER_GAMMA = 0.57721566490153286061


def _lgamma_near_two(xp, z):
    total = xp.zeros_like(z)
    for k in range(_LGAMMA_TERMS, 1, -1):
        total = (total + (-1) ** k * _ZETA_MINUS_ONE[k] / k) * z
    return (total + (1.0 - _EULER_GAMMA)) * z


_LGAMMA_TERMS = 40
_ZETA_MINUS_ONE = [0.0, 0.0] + [_zeta_minus_one(k) for k in range(2, _LGAMMA_TERMS + 1)]


def _log_abs_sin_pi(xp, x):
    """log|sin(pi x)|, with the argument reduced exactly so large |x| stay accurate."""
    fraction = x - xp.round(x)
    with xp.errstate(divide="ignore"):
        return xp.log(xp.abs(xp.sin(math.pi * fraction)))


def lgamma(xp, x):
    """log|Gamma(x)|; +inf at the poles (0, -1, -2, ...) and at -inf, as TF."""
    z = _as_float64(xp, x)
    positive = z > 0
    reflected = 1.0 - z  # lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x) for x <= 0
    argument = xp.where(positive, z, xp.where(xp.isfinite(reflected), reflected, 1.0))
    value = _lgamma_positive(xp, argument)
    with xp.errstate(invalid="ignore"):
        negative = math.log(math.pi) - _log_abs_sin_pi(xp, z) - value
        pole = (z == xp.floor(z)) | xp.isinf(z)
        result = xp.where(positive, value, xp.where(pole, xp.inf, negative))
    return xp.where(xp.isnan(z), xp.nan, result).astype(x.dtype, copy=False)


# psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^(2k)).
_DIGAMMA = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_positive(xp, x):
    shifted = x
    correction = xp.zeros_like(x)
    with xp.errstate(over="ignore"):  # 1/x overflows for subnormal x: psi is -inf there
        for _ in range(int(_SHIFT)):
            below = shifted < _SHIFT
            correction = xp.where(below, correction + 1.0 / shifted, correction)
            shifted = xp.where(below, shifted + 1.0, shifted)
    with xp.errstate(invalid="ignore", divide="ignore"):
        inverse = 1.0 / shifted
        square = inverse * inverse
        series = square * _series(xp, inverse, _DIGAMMA)
        return xp.log(shifted) - 0.5 * inverse - series - correction


def digamma(xp, x):
    """psi(x) = d/dx lgamma(x); NaN at the poles (0, -1, -2, ...) and at -inf, as TF."""
    z = _as_float64(xp, x)
    positive = z > 0
    argument = xp.where(positive, z, xp.where(xp.isfinite(z), 1.0 - z, 1.0))
    value = _digamma_positive(xp, argument)
    with xp.errstate(invalid="ignore", divide="ignore", over="ignore"):
        fraction = z - xp.round(z)
        # psi(x) = psi(1 - x) - pi / tan(pi x) for x <= 0
        negative = value - math.pi / xp.tan(math.pi * fraction)
        pole = (z == xp.floor(z)) | xp.isinf(z)
        result = xp.where(positive, value, xp.where(pole, xp.nan, negative))
    return result.astype(x.dtype, copy=False)




def _hurwitz_zeta(xp, s, q):
    """zeta(s, q) = sum_k (q + k)^-s for s > 1, by direct summation until q + k >= 10 + s and
    the Euler-Maclaurin formula for the rest. The number of summation steps depends on the
    most negative q (a loop over steps, not over elements)."""
    target = 10.0 + s
    steps = int(max(float(xp.max(xp.ceil(target - q), initial=0.0)), 0.0)) if q.size else 0
    total = xp.zeros_like(q)
    w = q
    with xp.errstate(all="ignore"):
        for _ in range(steps):
            below = w < target
            total = xp.where(below, total + w ** -s, total)
            w = xp.where(below, w + 1.0, w)
        tail = w ** (1.0 - s) / (s - 1.0) + 0.5 * w ** -s
        factor = s * w ** (-s - 1.0)  # s (s+1) ... (s+2j-2) w^(-s-2j+1), built up term by term
        term_sum = xp.zeros_like(q)
        for j, bernoulli in enumerate(_BERNOULLI, start=1):
            term_sum = term_sum + bernoulli / math.factorial(2 * j) * factor
            factor = factor * (s + 2 * j - 1) * (s + 2 * j) / (w * w)
    return total + tail + term_sum


def polygamma(xp, n, x):
    """The n-th derivative of digamma: (-1)^(n+1) n! zeta(n+1, x); NaN for non-integer n."""
    order = xp.broadcast_to(_as_float64(xp, n), xp.broadcast_shapes(n.shape, x.shape))
    z = xp.broadcast_to(_as_float64(xp, x), order.shape)
    valid = (order >= 0) & (order == xp.floor(order))
    safe_order = xp.where(valid, order, 1.0)
    zeta = _hurwitz_zeta(xp, safe_order + 1.0, z)
    with xp.errstate(all="ignore"):
        scale = xp.exp(_lgamma_positive(xp, safe_order + 1.0))
        sign = xp.where(safe_order % 2 == 0, -1.0, 1.0)
        result = sign * xp.rint(scale) * zeta
    result = xp.where(order == 0, digamma(xp, z), result)
    return xp.where(valid, result, xp.nan).astype(x.dtype, copy=False)
