"""Helpers shared by the `tf.linalg` decomposition and solver modules (`linalg_ext.py`,
`linalg_decomp.py`): shape validation for infer, LAPACK-facing kernel pieces, and small
gradient building blocks written in ndflow ops. No op is registered here."""

from ndflow.framework import dtypes, errors
from ndflow.ops import array as array_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import manip as manip_ops
from ndflow.ops import math as math_ops

LINALG = frozenset([dtypes.float16, dtypes.float32, dtypes.float64, dtypes.complex64,
                    dtypes.complex128])


# --- validation shared by the ops ------------------------------------------------------------

def _text(shape):
    return "<unknown>" if shape is None else str(tuple(shape))


def _known_equal(a, b):
    return a is None or b is None or a == b


def _matrix(op_name, spec, square=False):
    """Checks rank >= 2 (and squareness); returns the shape, or None for an unknown rank."""
    shape = spec.shape
    if shape is None:
        return None
    if len(shape) < 2:
        raise errors.InvalidArgumentError(
            f"{op_name}: input must have rank >= 2, got shape {_text(shape)}")
    if square and not _known_equal(shape[-2], shape[-1]):
        raise errors.InvalidArgumentError(
            f"{op_name}: input matrix must be square, got shape {_text(shape)}")
    return shape


def _solve_shape(op_name, matrix, rhs, square=True):
    """Output shape of `matrix \\ rhs` where both share their batch dimensions exactly."""
    a = _matrix(op_name, matrix, square)
    b = _matrix(op_name, rhs)
    if a is None or b is None:
        return None
    if len(a) != len(b) or not all(_known_equal(x, y) for x, y in zip(a[:-2], b[:-2])):
        raise errors.InvalidArgumentError(
            f"{op_name}: matrix and rhs must have the same batch dimensions, got shapes "
            f"{_text(a)} and {_text(b)}")
    if not _known_equal(a[-2], b[-2]):
        raise errors.InvalidArgumentError(
            f"{op_name}: matrix and rhs must have the same number of rows, got shapes "
            f"{_text(a)} and {_text(b)}")
    batch = tuple(x if x is not None else y for x, y in zip(a[:-2], b[:-2]))
    return batch + (a[-1], b[-1])


def _broadcast_batch(op_name, a, b):
    """NumPy broadcasting of the batch dimensions of two matrix shapes."""
    result = []
    for index in range(1, max(len(a), len(b)) - 1):
        x = a[-2 - index] if index <= len(a) - 2 else 1
        y = b[-2 - index] if index <= len(b) - 2 else 1
        if x == 1 or x is None and y not in (None, 1):
            result.append(y)
        elif y == 1 or y is None or x == y:
            result.append(x)
        else:
            raise errors.InvalidArgumentError(
                f"{op_name}: matrix and rhs must have broadcastable batch dimensions, got "
                f"shapes {_text(a)} and {_text(b)}")
    return tuple(reversed(result))


# --- kernel helpers --------------------------------------------------------------------------

def _check(valid):
    """Kernels refuse bad shapes with a bare error; `execute` then asks infer for the message
    (eager mode runs infer only when a kernel fails)."""
    if not valid:
        raise ValueError("invalid input shapes")


def _square(x):
    return x.ndim >= 2 and x.shape[-1] == x.shape[-2]


def _lapack(xp, x):
    """LAPACK has no float16: such inputs run in float32 (the caller casts back)."""
    return x.astype(xp.float32) if x.dtype == xp.float16 else x


def _adjoint_array(xp, x):
    swapped = xp.swapaxes(x, -1, -2)
    return xp.conj(swapped) if x.dtype.kind == "c" else swapped


def _cholesky_array(xp, x):
    """Cholesky factors; like TF, a matrix that is not positive definite gives NaN."""
    _check(_square(x))
    try:
        return xp.linalg.cholesky(x)
    except xp.linalg.LinAlgError:
        pass
    flat = x.reshape((-1,) + x.shape[-2:])
    result = xp.zeros_like(flat)
    for index in range(flat.shape[0]):  # only after a failure: find the failing matrices
        try:
            result[index] = xp.linalg.cholesky(flat[index])
        except xp.linalg.LinAlgError:
            result[index] = xp.tril(xp.full(flat.shape[-2:], xp.nan, dtype=x.dtype))
    return result.reshape(x.shape)


def _triangular_solve_array(xp, a, b, lower, adjoint):
    """Solves with the `lower` (or upper) triangle of `a`; a zero pivot gives inf/nan as in TF."""
    _check(_square(a) and b.ndim >= 2 and a.shape[-1] == b.shape[-2])
    a = xp.tril(a) if lower else xp.triu(a)
    if adjoint:
        a = _adjoint_array(xp, a)
        lower = not lower
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    try:
        return xp.linalg.solve(a, b)
    except xp.linalg.LinAlgError:
        pass
    # Singular: substitution row by row, which produces TF's inf/nan instead of an error.
    n = a.shape[-1]
    x = xp.zeros(b.shape, dtype=xp.result_type(a, b))
    rows = range(n) if lower else range(n - 1, -1, -1)
    with xp.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            known = a[..., i:i + 1, :] @ x
            x[..., i, :] = (b[..., i, :] - known[..., 0, :]) / a[..., i, i:i + 1]
    return x


def _identity_plus(xp, gram, l2):
    return gram + l2 * xp.eye(gram.shape[-1], dtype=gram.dtype) if l2 else gram


def _cholesky_solve_array(xp, chol, rhs):
    y = _triangular_solve_array(xp, chol, rhs, lower=True, adjoint=False)
    return _triangular_solve_array(xp, chol, y, lower=True, adjoint=True)


# --- gradient helpers (ndflow ops only) ------------------------------------------------------

def _matmul(a, b, **kwargs):
    return linalg_ops.matmul(a, b, **kwargs)


def _adjoint(x):
    return linalg_ops.adjoint(x)


def _static_dims(x, op_name):
    dims = x.shape.as_list() if x.shape.rank is not None else None
    if dims is None or dims[-1] is None or dims[-2] is None:
        raise errors.UnimplementedError(
            f"{op_name}: the gradient needs static matrix dimensions, got shape {x.shape}")
    return dims[-2], dims[-1]


def _columns(x, start, stop):
    """x[..., :, start:stop] for static bounds, through split."""
    total = x.shape.as_list()[-1]
    if start == 0 and stop == total:
        return x
    sizes = [size for size in (start, stop - start, total - stop) if size > 0]
    return manip_ops.split(x, sizes, axis=-1)[1 if start > 0 else 0]


def _safe_reciprocal(x, epsilon=1e-20):
    """1/x that stays finite (TF's choice) when eigen- or singular values coincide."""
    return x * math_ops.reciprocal(x * x + epsilon)


def _zero_diagonal(x, diagonal_like):
    return linalg_ops.set_diag(x, array_ops.zeros_like(diagonal_like))


def _pairwise_reciprocal(values):
    """f[..., i, j] = 1 / (values_j - values_i) off the diagonal, 0 on it."""
    difference = manip_ops.expand_dims(values, -2) - manip_ops.expand_dims(values, -1)
    return _zero_diagonal(_safe_reciprocal(difference), values)


def _scale_columns(x, values):
    """x @ diag(values), by broadcasting."""
    return x * manip_ops.expand_dims(values, -2)
