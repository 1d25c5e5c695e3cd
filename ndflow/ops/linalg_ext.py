"""Matrix decompositions and solvers (`tf.linalg`): inv, det, slogdet, logdet, solve, lstsq,
cholesky, cholesky_solve, qr, svd, eigh, eigvalsh, triangular_solve, pinv, expm, cross, lu,
lu_solve, lu_reconstruct, lu_matrix_inverse, matrix_rank and tridiagonal_solve.

Every input is a batch of matrices `[..., M, N]`. Kernels call `xp.linalg` (float16 runs in
float32: LAPACK has no half precision); gradients are the matrix-calculus results TF uses,
written in ndflow ops so that they work to any order. Products, transposes, band parts and
diagonals come from `linalg.py`.
"""

import collections

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import indexing as indexing_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import manip as manip_ops
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops

LINALG = frozenset([dtypes.float16, dtypes.float32, dtypes.float64, dtypes.complex64,
                    dtypes.complex128])
CROSS = dtypes.REAL

Qr = collections.namedtuple("Qr", ["q", "r"])
LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant",
                                              ["sign", "log_abs_determinant"])
Lu = collections.namedtuple("Lu", ["lu", "p"])


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


# --- inverse and determinants ----------------------------------------------------------------

@primitive("MatrixInverse", dtypes=LINALG)
class MatrixInverse:
    def infer(x, adjoint):
        return Spec(_matrix("MatrixInverse", x, square=True), x.dtype)

    def kernel(xp, x, adjoint):
        _check(_square(x))
        a = _adjoint_array(xp, x) if adjoint else x
        try:
            return xp.linalg.inv(_lapack(xp, a)).astype(x.dtype, copy=False)
        except xp.linalg.LinAlgError:
            raise errors.InvalidArgumentError(
                f"MatrixInverse: input is not invertible, got a singular matrix in the batch of "
                f"shape {x.shape}") from None

    def grad(op, dy):
        inverse = op.outputs[0]
        if op.get_attr("adjoint"):
            return [-_matmul(inverse, _matmul(dy, inverse, adjoint_a=True))]
        return [-_matmul(inverse, _matmul(dy, inverse, adjoint_b=True), adjoint_a=True)]


def inv(input, adjoint=False, name=None):  # noqa: A002 - TF's argument name
    """Inverse of each square matrix, or of its adjoint when `adjoint` (`tf.linalg.inv`).

    Raises:
      InvalidArgumentError: for a non-square or singular matrix.
    """
    return execute("MatrixInverse", input, adjoint=bool(adjoint), name=name)


@primitive("MatrixDeterminant", dtypes=LINALG)
class MatrixDeterminant:
    def infer(x):
        shape = _matrix("MatrixDeterminant", x, square=True)
        return Spec(None if shape is None else shape[:-2], x.dtype)

    def kernel(xp, x):
        return xp.asarray(xp.linalg.det(_lapack(xp, x))).astype(x.dtype, copy=False)

    def grad(op, dy):
        # d det(A) = det(A) tr(A^-1 dA): the gradient is conj(dy det) A^-H.
        scale = dy * math_ops.conj(op.outputs[0])
        scale = manip_ops.expand_dims(manip_ops.expand_dims(scale, -1), -1)
        return [scale * inv(op.inputs[0], adjoint=True)]


def det(input, name=None):  # noqa: A002
    """Determinant of each square matrix (`tf.linalg.det`)."""
    return execute("MatrixDeterminant", input, name=name)


@primitive("LogMatrixDeterminant", dtypes=LINALG, num_outputs=2)
class LogMatrixDeterminant_:  # noqa: N801 - the namedtuple above has the TF name
    def infer(x):
        shape = _matrix("LogMatrixDeterminant", x, square=True)
        batch = None if shape is None else shape[:-2]
        return Spec(batch, x.dtype), Spec(batch, x.dtype)

    def kernel(xp, x):
        sign, log_abs = xp.linalg.slogdet(_lapack(xp, x))
        return (xp.asarray(sign).astype(x.dtype, copy=False),
                xp.asarray(log_abs).astype(x.dtype, copy=False))

    def grad(op, dsign, dlog):
        # d log|det A| = Re tr(A^-1 dA); the sign is piecewise constant.
        scale = manip_ops.expand_dims(manip_ops.expand_dims(dlog, -1), -1)
        return [scale * inv(op.inputs[0], adjoint=True)]


def slogdet(input, name=None):  # noqa: A002
    """Sign and log of the absolute determinant of each square matrix (`tf.linalg.slogdet`).

    Returns:
      A `(sign, log_abs_determinant)` named tuple, both of the input's dtype. A singular
      matrix gives sign 0 and -inf.
    """
    sign, log_abs = execute("LogMatrixDeterminant", input, name=name)
    return LogMatrixDeterminant(sign, log_abs)


def logdet(matrix, name=None):
    """Log-determinant of Hermitian positive definite matrices, through Cholesky
    (`tf.linalg.logdet`): `2 * sum(log(real(diag(cholesky(matrix)))))`."""
    diagonal = linalg_ops.diag_part(cholesky(matrix))
    if diagonal.dtype.is_complex:
        diagonal = math_ops.real(diagonal)
    return 2.0 * reduce_ops.reduce_sum(math_ops.log(diagonal), axis=-1)


# --- linear systems --------------------------------------------------------------------------

@primitive("MatrixSolve", dtypes=LINALG)
class MatrixSolve:
    def infer(matrix, rhs, adjoint):
        return Spec(_solve_shape("MatrixSolve", matrix, rhs), matrix.dtype)

    def kernel(xp, matrix, rhs, adjoint):
        _check(_square(matrix) and rhs.ndim == matrix.ndim and
               rhs.shape[:-2] == matrix.shape[:-2] and rhs.shape[-2] == matrix.shape[-1])
        a = _adjoint_array(xp, matrix) if adjoint else matrix
        try:
            return xp.linalg.solve(_lapack(xp, a), _lapack(xp, rhs)).astype(rhs.dtype,
                                                                            copy=False)
        except xp.linalg.LinAlgError:
            raise errors.InvalidArgumentError(
                f"MatrixSolve: input matrix is not invertible, got a singular matrix in the "
                f"batch of shape {matrix.shape}") from None

    def grad(op, dy):
        matrix = op.inputs[0]
        adjoint = op.get_attr("adjoint")
        x = op.outputs[0]
        d_rhs = solve(matrix, dy, adjoint=not adjoint)
        if adjoint:
            return [-_matmul(x, d_rhs, adjoint_b=True), d_rhs]
        return [-_matmul(d_rhs, x, adjoint_b=True), d_rhs]


def solve(matrix, rhs, adjoint=False, name=None):
    """Solves `matrix @ x = rhs` (or `adjoint(matrix) @ x = rhs`) for x (`tf.linalg.solve`).

    `matrix` is `[..., M, M]` and `rhs` `[..., M, K]` with the same batch dimensions.

    Raises:
      InvalidArgumentError: for mismatched shapes or a singular matrix.
    """
    return execute("MatrixSolve", matrix, rhs, adjoint=bool(adjoint), name=name)


@primitive("MatrixTriangularSolve", dtypes=LINALG | {dtypes.bfloat16})
class MatrixTriangularSolve:
    def infer(matrix, rhs, lower, adjoint):
        a = _matrix("MatrixTriangularSolve", matrix, square=True)
        b = _matrix("MatrixTriangularSolve", rhs)
        if a is None or b is None:
            return Spec(None, matrix.dtype)
        if not _known_equal(a[-1], b[-2]):
            raise errors.InvalidArgumentError(
                f"MatrixTriangularSolve: matrix and rhs must have the same number of rows, got "
                f"shapes {_text(a)} and {_text(b)}")
        batch = _broadcast_batch("MatrixTriangularSolve", a, b)
        return Spec(batch + (a[-1] if a[-1] is not None else b[-2], b[-1]), matrix.dtype)

    def kernel(xp, matrix, rhs, lower, adjoint):
        x = _triangular_solve_array(xp, _lapack(xp, matrix), _lapack(xp, rhs), lower, adjoint)
        return x.astype(rhs.dtype, copy=False)

    def grad(op, dy):
        matrix, rhs = op.inputs
        lower = op.get_attr("lower")
        adjoint = op.get_attr("adjoint")
        x = op.outputs[0]
        d_rhs = triangular_solve(matrix, dy, lower=lower, adjoint=not adjoint)
        if adjoint:
            d_matrix = -_matmul(x, d_rhs, adjoint_b=True)
        else:
            d_matrix = -_matmul(d_rhs, x, adjoint_b=True)
        d_matrix = linalg_ops.band_part(d_matrix, -1, 0) if lower else \
            linalg_ops.band_part(d_matrix, 0, -1)
        return [array_ops.unbroadcast(d_matrix, matrix), array_ops.unbroadcast(d_rhs, rhs)]


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solves `matrix @ x = rhs` for a triangular `matrix` (`tf.linalg.triangular_solve`).

    Only the `lower` (or upper) triangle of `matrix` is read; batch dimensions broadcast. A
    zero on the diagonal gives inf/nan, as in TF.
    """
    return execute("MatrixTriangularSolve", matrix, rhs, lower=bool(lower),
                   adjoint=bool(adjoint), name=name)


def cholesky_solve(chol, rhs, name=None):
    """Solves `A x = rhs` given `chol = cholesky(A)` (`tf.linalg.cholesky_solve`)."""
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


@primitive("MatrixSolveLs", dtypes=LINALG)
class MatrixSolveLs:
    def infer(matrix, rhs, l2_regularizer, fast):
        return Spec(_solve_shape("MatrixSolveLs", matrix, rhs, square=False), matrix.dtype)

    def kernel(xp, matrix, rhs, l2_regularizer, fast):
        _check(matrix.ndim >= 2 and rhs.ndim == matrix.ndim and
               rhs.shape[:-1] == matrix.shape[:-1])
        a = _lapack(xp, matrix)
        b = _lapack(xp, rhs)
        a_h = _adjoint_array(xp, a)
        if not fast:  # TF's robust path ignores l2_regularizer: the minimum-norm solution
            x = xp.linalg.pinv(a) @ b
        elif a.shape[-2] >= a.shape[-1]:
            chol = _cholesky_array(xp, _identity_plus(xp, a_h @ a, l2_regularizer))
            x = _cholesky_solve_array(xp, chol, a_h @ b)
        else:
            chol = _cholesky_array(xp, _identity_plus(xp, a @ a_h, l2_regularizer))
            x = a_h @ _cholesky_solve_array(xp, chol, b)
        return x.astype(matrix.dtype, copy=False)

    def grad(op, dy):
        a, b = op.inputs
        x = op.outputs[0]
        l2 = op.get_attr("l2_regularizer") if op.get_attr("fast") else 0.0
        rows, cols = _static_dims(a, "MatrixSolveLs")
        if rows >= cols:  # x = G^-1 A^H b with G = A^H A + l2 I
            z = _regularized_solve(_matmul(a, a, adjoint_a=True), l2, dy)
            d_a = _matmul(b - _matmul(a, x), z, adjoint_b=True) - \
                _matmul(_matmul(a, z), x, adjoint_b=True)
            return [d_a, _matmul(a, z)]
        # x = A^H w with w = G^-1 b, G = A A^H + l2 I
        w = _regularized_solve(_matmul(a, a, adjoint_b=True), l2, b)
        z = _regularized_solve(_matmul(a, a, adjoint_b=True), l2, _matmul(a, dy))
        d_a = _matmul(w, dy - _matmul(a, z, adjoint_a=True), adjoint_b=True) - \
            _matmul(z, x, adjoint_b=True)
        return [d_a, z]


def _regularized_solve(gram, l2, rhs):
    if l2:
        gram = linalg_ops.set_diag(gram, linalg_ops.diag_part(gram) + l2)
    return cholesky_solve(cholesky(gram), rhs)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions of `matrix @ x = rhs` (`tf.linalg.lstsq`).

    With `fast` (the default) solves the regularized normal equations by Cholesky:
    `(A^H A + l2 I) x = A^H b` when M >= N, `x = A^H (A A^H + l2 I)^-1 b` otherwise; the
    matrix must then have full rank (else NaN). With `fast=False` returns the minimum-norm
    solution (SVD based) and, as in TF, ignores `l2_regularizer`.
    """
    return execute("MatrixSolveLs", matrix, rhs, l2_regularizer=float(l2_regularizer),
                   fast=bool(fast), name=name)


# --- decompositions --------------------------------------------------------------------------

@primitive("Cholesky", dtypes=LINALG)
class Cholesky:
    def infer(x):
        return Spec(_matrix("Cholesky", x, square=True), x.dtype)

    def kernel(xp, x):
        return _cholesky_array(xp, _lapack(xp, x)).astype(x.dtype, copy=False)

    def grad(op, dy):
        # A = L L^H: dA-bar = L^-H Phi(L^H dL-bar) L^-1, symmetrized (Phi: lower, half diagonal).
        chol = op.outputs[0]
        middle = _matmul(chol, dy, adjoint_a=True)
        middle = linalg_ops.band_part(middle, -1, 0) - 0.5 * linalg_ops.band_part(middle, 0, 0)
        left = triangular_solve(chol, middle, lower=True, adjoint=True)
        grad = _adjoint(triangular_solve(chol, _adjoint(left), lower=True, adjoint=True))
        return [0.5 * (grad + _adjoint(grad))]


def cholesky(input, name=None):  # noqa: A002
    """Lower-triangular Cholesky factor L of each Hermitian positive definite matrix,
    `input = L @ adjoint(L)` (`tf.linalg.cholesky`).

    Only the lower triangle of `input` is read. As in TF, a matrix that is not positive
    definite gives NaN rather than an error.
    """
    return execute("Cholesky", input, name=name)


@primitive("Qr", dtypes=LINALG, num_outputs=2)
class Qr_:  # noqa: N801 - the namedtuple above has the TF name
    def infer(x, full_matrices):
        shape = _matrix("Qr", x)
        if shape is None:
            return Spec(None, x.dtype), Spec(None, x.dtype)
        rows, cols = shape[-2:]
        inner = rows if full_matrices else (None if None in (rows, cols) else min(rows, cols))
        return Spec(shape[:-2] + (rows, inner), x.dtype), Spec(shape[:-2] + (inner, cols),
                                                               x.dtype)

    def kernel(xp, x, full_matrices):
        q, r = xp.linalg.qr(_lapack(xp, x), mode="complete" if full_matrices else "reduced")
        return q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)

    def grad(op, dq, dr):
        a = op.inputs[0]
        q, r = op.outputs
        rows, cols = _static_dims(a, "Qr")
        if rows > cols and op.get_attr("full_matrices"):
            raise errors.UnimplementedError(
                f"Qr: no gradient for full_matrices=True when rows > columns (the extra columns "
                f"of q are not unique), got shape {a.shape}")
        if rows >= cols:
            return [_qr_grad_deep(q, r, dq, dr)]
        # Wide: a = [x, y], r = [u, v] with x = q u square; y only feeds v = q^H y.
        y = _columns(a, rows, cols)
        dv = _columns(dr, rows, cols)
        dx = _qr_grad_deep(q, _columns(r, 0, rows), dq + _matmul(y, dv, adjoint_b=True),
                           _columns(dr, 0, rows))
        return [manip_ops.concat([dx, _matmul(q, dv)], axis=-1)]


def _times_inverse_r_adjoint(x, r):
    """x @ r^-H for upper-triangular r."""
    return _adjoint(triangular_solve(r, _adjoint(x), lower=False))


def _qr_grad_deep(q, r, dq, dr):
    """QR gradient for a square or tall input (q: M x N with orthonormal columns)."""
    q_dq = _matmul(q, dq, adjoint_a=True)
    r_dr = _matmul(r, dr, adjoint_b=True)
    lower = linalg_ops.band_part(q_dq - _adjoint(q_dq) + r_dr - _adjoint(r_dr), -1, 0)
    grad = _matmul(q, dr + _times_inverse_r_adjoint(lower, r)) + \
        _times_inverse_r_adjoint(dq - _matmul(q, q_dq), r)
    if q.dtype.is_complex:  # the imaginary diagonal part that the real formula drops
        diagonal = linalg_ops.diag_part(r_dr - _adjoint(q_dq))
        imaginary = diagonal - array_ops.cast(math_ops.real(diagonal), q.dtype)
        grad = grad + _times_inverse_r_adjoint(_scale_columns(q, math_ops.conj(imaginary)), r)
    return grad


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """QR decomposition of each matrix: `input = q @ r` (`tf.linalg.qr`).

    Returns:
      A `(q, r)` named tuple: q `[..., M, P]` with orthonormal columns and r `[..., P, N]`
      upper triangular, P = min(M, N) (M with `full_matrices`).
    """
    q, r = execute("Qr", input, full_matrices=bool(full_matrices), name=name)
    return Qr(q, r)


@primitive("Svd", dtypes=LINALG, num_outputs=3)
class Svd:
    def infer(x, compute_uv, full_matrices):
        real = x.dtype.real_dtype
        shape = _matrix("Svd", x)
        if shape is None:
            empty = Spec(None if compute_uv else (), x.dtype)
            return Spec(None, real), empty, empty
        rows, cols = shape[-2:]
        inner = None if None in (rows, cols) else min(rows, cols)
        s = Spec(shape[:-2] + (inner,), real)
        if not compute_uv:
            return s, Spec((), x.dtype), Spec((), x.dtype)
        return (s, Spec(shape[:-2] + (rows, rows if full_matrices else inner), x.dtype),
                Spec(shape[:-2] + (cols, cols if full_matrices else inner), x.dtype))

    def kernel(xp, x, compute_uv, full_matrices):
        a = _lapack(xp, x)
        real = xp.zeros((), dtype=x.dtype).real.dtype
        if not compute_uv:  # TF leaves u and v as unused scalars
            s = xp.linalg.svd(a, compute_uv=False)
            return s.astype(real, copy=False), xp.zeros((), x.dtype), xp.zeros((), x.dtype)
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        return (s.astype(real, copy=False), u.astype(x.dtype, copy=False),
                _adjoint_array(xp, vh).astype(x.dtype, copy=False))

    def grad(op, ds, du, dv):
        a = op.inputs[0]
        ds = array_ops.cast(ds, a.dtype)
        if not op.get_attr("compute_uv"):
            _, u, v = svd(a, full_matrices=False)
            return [_matmul(_scale_columns(u, ds), v, adjoint_b=True)]
        rows, cols = _static_dims(a, "Svd")
        s, u, v = op.outputs
        transposed = rows > cols
        if transposed:  # differentiate A^H = V S U^H, which is wide
            rows, cols, u, v, du, dv = cols, rows, v, u, dv, du
        return [_svd_grad_wide(a, array_ops.cast(s, a.dtype), ds, u, v, du, dv, rows, cols,
                               op.get_attr("full_matrices"), transposed)]


def _svd_grad_wide(a, s, ds, u, v, du, dv, rows, cols, full_matrices, transposed):
    """SVD gradient for rows <= cols: u square, v1 = v[..., :, :rows] (Townsend's formula)."""
    if full_matrices and cols - rows > 1:
        raise errors.UnimplementedError(
            f"Svd: no gradient for full_matrices=True when the dimensions differ by more than "
            f"1 (the extra singular vectors are not unique), got shape {a.shape}")
    v1 = _columns(v, 0, rows)
    dv1 = _columns(dv, 0, rows)
    f = _pairwise_reciprocal(math_ops.square(s))
    f_u = f * _matmul(u, du, adjoint_a=True)
    v_dv = _matmul(v1, dv1, adjoint_a=True)
    f_v = f * v_dv
    inner = linalg_ops.diag(ds) + _scale_columns(f_u + _adjoint(f_u), s) + \
        (f_v + _adjoint(f_v)) * manip_ops.expand_dims(s, -1)
    grad = _matmul(_matmul(u, inner), v1, adjoint_b=True)
    s_inverse = _safe_reciprocal(s)
    if rows < cols:  # the part of dv1 outside the span of v1
        dv1_h = _adjoint(dv1)
        outside = dv1_h - _matmul(_matmul(dv1_h, v1), v1, adjoint_b=True)
        if full_matrices:
            v2 = _columns(v, rows, cols)
            outside = outside - _matmul(_matmul(v1, _columns(dv, rows, cols), adjoint_a=True),
                                        v2, adjoint_b=True)
        grad = grad + _matmul(_scale_columns(u, s_inverse), outside)
    if a.dtype.is_complex:  # the phase freedom of each singular vector pair
        phase = linalg_ops.diag_part(v_dv)
        phase = s_inverse * (math_ops.conj(phase) - phase)
        grad = grad + 0.5 * _matmul(_scale_columns(u, phase), v1, adjoint_b=True)
    return _adjoint(grad) if transposed else grad


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular value decomposition `tensor = u @ diag(s) @ adjoint(v)` (`tf.linalg.svd`).

    Note TF's order and convention: returns `(s, u, v)` with v itself, not its adjoint; only s
    (descending, real) when `compute_uv` is False.
    """
    s, u, v = execute("Svd", tensor, compute_uv=bool(compute_uv),
                      full_matrices=bool(full_matrices), name=name)
    return (s, u, v) if compute_uv else s


@primitive("SelfAdjointEigV2", dtypes=LINALG, num_outputs=2)
class SelfAdjointEigV2:
    def infer(x, compute_v):
        shape = _matrix("SelfAdjointEigV2", x, square=True)
        if shape is None:
            return Spec(None, x.dtype), Spec(None if compute_v else (), x.dtype)
        size = shape[-1] if shape[-1] is not None else shape[-2]
        vectors = Spec(shape[:-2] + (size, size) if compute_v else (), x.dtype)
        return Spec(shape[:-2] + (size,), x.dtype), vectors

    def kernel(xp, x, compute_v):
        a = _lapack(xp, x)
        if not compute_v:
            return xp.linalg.eigvalsh(a).astype(x.dtype), xp.zeros((), x.dtype)
        e, v = xp.linalg.eigh(a)
        return e.astype(x.dtype), v.astype(x.dtype, copy=False)

    def grad(op, de, dv):
        a = op.inputs[0]
        if op.get_attr("compute_v"):
            e, v = op.outputs
            inner = linalg_ops.diag(de) + _pairwise_reciprocal(e) * _matmul(v, dv, adjoint_a=True)
            grad = _matmul(_matmul(v, inner), v, adjoint_b=True)
        else:
            _, v = eigh(a)
            grad = _matmul(_scale_columns(v, de), v, adjoint_b=True)
        # The op reads only the lower triangle: each entry below the diagonal stands for two.
        grad = linalg_ops.band_part(grad + _adjoint(grad), -1, 0)
        return [linalg_ops.set_diag(grad, 0.5 * linalg_ops.diag_part(grad))]


def eigh(tensor, name=None):
    """Eigenvalues (ascending) and eigenvectors of self-adjoint matrices (`tf.linalg.eigh`).

    Only the lower triangle is read. Returns `(e, v)` with `tensor @ v = v @ diag(e)`; for
    complex input e has the complex dtype, as in TF.
    """
    return execute("SelfAdjointEigV2", tensor, compute_v=True, name=name)


def eigvalsh(tensor, name=None):
    """Eigenvalues (ascending) of self-adjoint matrices (`tf.linalg.eigvalsh`)."""
    return execute("SelfAdjointEigV2", tensor, compute_v=False, name=name)[0]


# --- matrix exponential ----------------------------------------------------------------------

# Pade [13/13] coefficients and the 1-norm bound up to which it is accurate in float64
# (Higham, "The scaling and squaring method for the matrix exponential revisited", 2005).
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm_array(xp, a):
    """exp(a) by scaling and squaring with the [13/13] Pade approximant, per matrix."""
    if a.size == 0:
        return a.copy()
    norm = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)
    with xp.errstate(divide="ignore", invalid="ignore"):
        squarings = xp.ceil(xp.log2(norm / _THETA13))
    squarings = xp.where(xp.isfinite(squarings) & (squarings > 0), squarings, 0).astype(xp.int64)
    x = a * (0.5 ** squarings).astype(a.real.dtype)[..., None, None]
    b = _PADE13
    identity = xp.eye(a.shape[-1], dtype=a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 +
             b[1] * identity)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + \
        b[0] * identity
    result = xp.linalg.solve(v - u, v + u)
    for step in range(int(squarings.max())):
        result = xp.where((squarings > step)[..., None, None], result @ result, result)
    return result


@primitive("MatrixExponential", dtypes=LINALG)
class MatrixExponential:
    def infer(x):
        return Spec(_matrix("MatrixExponential", x, square=True), x.dtype)

    def kernel(xp, x):
        _check(_square(x))
        return _expm_array(xp, _lapack(xp, x)).astype(x.dtype, copy=False)

    def grad(op, dy):
        # The Frechet derivative L(A^H, dy) is the top-right block of exp([[A^H, dy], [0, A^H]]).
        a = op.inputs[0]
        size, _ = _static_dims(a, "MatrixExponential")
        a_h = _adjoint(a)
        top = manip_ops.concat([a_h, dy], axis=-1)
        bottom = manip_ops.concat([array_ops.zeros_like(a), a_h], axis=-1)
        block = expm(manip_ops.concat([top, bottom], axis=-2))
        upper = manip_ops.split(block, [size, size], axis=-2)[0]
        return [_columns(upper, size, 2 * size)]


def expm(input, name=None):  # noqa: A002
    """Matrix exponential of each square matrix (`tf.linalg.expm`), by scaling and squaring
    with a [13/13] Pade approximant."""
    return execute("MatrixExponential", input, name=name)


# --- cross product ---------------------------------------------------------------------------

@primitive("Cross", dtypes=CROSS)
class Cross:
    def infer(a, b):
        if a.shape is not None and b.shape is not None and (
                len(a.shape) != len(b.shape) or
                not all(_known_equal(x, y) for x, y in zip(a.shape, b.shape))):
            raise errors.InvalidArgumentError(
                f"Cross: both inputs must have the same shape, got shapes {_text(a.shape)} and "
                f"{_text(b.shape)}")
        if a.shape is None or b.shape is None:
            return Spec(a.shape if b.shape is None else b.shape, a.dtype)
        shape = tuple(x if x is not None else y for x, y in zip(a.shape, b.shape))
        if not shape or shape[-1] not in (None, 3):
            raise errors.FailedPreconditionError(
                f"Cross: cross products are only defined for 3-element vectors (last "
                f"dimension 3), got shape {_text(shape)}")
        return Spec(shape, a.dtype)

    def kernel(xp, a, b):
        _check(a.shape == b.shape and a.ndim >= 1 and a.shape[-1] == 3)
        a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
        b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
        return xp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)

    def grad(op, dy):
        a, b = op.inputs
        return [cross(b, dy), cross(dy, a)]


def cross(a, b, name=None):
    """Pairwise cross products of 3-element vectors along the last axis (`tf.linalg.cross`)."""
    return execute("Cross", a, b, name=name)


# --- LU --------------------------------------------------------------------------------------

def _lu_array(xp, x):
    """Doolittle LU with partial pivoting, one column at a time across the whole batch."""
    size = x.shape[-1]
    count = 1
    for dim in x.shape[:-2]:
        count *= dim
    lu = x.reshape((count, size, size)).copy()
    perm = xp.broadcast_to(xp.arange(size), (count, size)).copy()
    batch = xp.arange(count)
    singular = xp.zeros(count, dtype=bool)
    for k in range(size):
        pivot = k + xp.argmax(xp.abs(lu[:, k:, k]), axis=1)
        for rows in (lu, perm):
            row_k = rows[batch, k].copy()
            rows[batch, k] = rows[batch, pivot]
            rows[batch, pivot] = row_k
        diagonal = lu[:, k, k]
        singular |= diagonal == 0
        with xp.errstate(divide="ignore", invalid="ignore"):
            lu[:, k + 1:, k] /= diagonal[:, None]
        lu[:, k + 1:, k + 1:] -= lu[:, k + 1:, k:k + 1] * lu[:, k:k + 1, k + 1:]
    return lu.reshape(x.shape), perm.reshape(x.shape[:-1]), bool(singular.any())


@primitive("Lu", dtypes=LINALG, num_outputs=2)
class Lu_:  # noqa: N801 - the namedtuple above has the TF name
    def infer(x, output_idx_type):
        shape = _matrix("Lu", x, square=True)
        return Spec(shape, x.dtype), Spec(None if shape is None else shape[:-1],
                                          output_idx_type)

    def kernel(xp, x, output_idx_type):
        lu, perm, singular = _lu_array(xp, _lapack(xp, x))
        if singular:
            raise errors.InvalidArgumentError(
                f"Lu: input is not invertible, got a singular matrix in the batch of shape "
                f"{x.shape}")
        return lu.astype(x.dtype, copy=False), perm.astype(output_idx_type.as_numpy_dtype)

    def grad(op, dlu, dperm):
        # P A = L U: dA-bar = P^T L^-H (tril_-1(L^H dLU-bar) + triu(dLU-bar U^H)) U^-H.
        lu, perm = op.outputs
        lower, upper = _lu_factors(lu)
        phi = linalg_ops.band_part(_matmul(lower, dlu, adjoint_a=True), -1, 0)
        phi = phi - linalg_ops.band_part(phi, 0, 0)
        phi = phi + linalg_ops.band_part(_matmul(dlu, upper, adjoint_b=True), 0, -1)
        grad = _times_inverse_r_adjoint(triangular_solve(lower, phi, adjoint=True), upper)
        return [_matmul(_permutation_matrix(perm, lu), grad, adjoint_a=True)]


def _lu_factors(lower_upper):
    """Unit-lower L and upper U from the packed LU matrix."""
    diagonal = linalg_ops.diag_part(lower_upper)
    lower = linalg_ops.set_diag(linalg_ops.band_part(lower_upper, -1, 0),
                                array_ops.ones_like(diagonal))
    return lower, linalg_ops.band_part(lower_upper, 0, -1)


def _permutation_matrix(perm, lower_upper):
    """P with P[..., i, j] = (perm[..., i] == j), so that P @ x = gather(x, perm) by rows."""
    perm = convert_to_tensor(perm)
    size = lower_upper.shape.as_list()[-1]
    columns = array_ops.range(size, dtype=perm.dtype)
    return array_ops.cast(math_ops.equal(manip_ops.expand_dims(perm, -1), columns),
                          lower_upper.dtype)


def lu(input, output_idx_type=dtypes.int32, name=None):  # noqa: A002
    """LU decomposition with partial pivoting (`tf.linalg.lu`).

    Returns:
      A `(lu, p)` named tuple: lu packs the unit-lower L (below the diagonal) and U; p is the
      row permutation with `gather(input, p) = L @ U`.

    Raises:
      InvalidArgumentError: for a non-square or singular matrix.
    """
    packed, perm = execute("Lu", input, output_idx_type=dtypes.as_dtype(output_idx_type),
                           name=name)
    return Lu(packed, perm)


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None):
    """The matrix whose `lu` is `(lower_upper, perm)` (`tf.linalg.lu_reconstruct`)."""
    lower_upper = convert_to_tensor(lower_upper)
    lower, upper = _lu_factors(lower_upper)
    return _matmul(_permutation_matrix(perm, lower_upper), _matmul(lower, upper),
                   adjoint_a=True)


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None):
    """Solves `A x = rhs` given `lu(A) = (lower_upper, perm)` (`tf.linalg.lu_solve`)."""
    lower_upper = convert_to_tensor(lower_upper)
    lower, upper = _lu_factors(lower_upper)
    permuted = _matmul(_permutation_matrix(perm, lower_upper), rhs)
    return triangular_solve(upper, triangular_solve(lower, permuted, lower=True), lower=False)


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None):
    """The inverse of A given `lu(A) = (lower_upper, perm)` (`tf.linalg.lu_matrix_inverse`)."""
    lower_upper = convert_to_tensor(lower_upper)
    size = lower_upper.shape.as_list()[-1]
    identity = array_ops.eye(size, dtype=lower_upper.dtype)
    return lu_solve(lower_upper, perm, identity)


# --- composites on the SVD -------------------------------------------------------------------

def _default_tolerance_scale(a):
    """max(M, N) * eps of a's real dtype; a tensor when the dimensions are known only at run
    time."""
    eps = float(np.finfo(a.dtype.real_dtype.as_numpy_dtype).eps)
    dims = a.shape.as_list()[-2:] if a.shape.rank is not None else [None, None]
    if None not in dims:
        return max(dims) * eps
    shape = array_ops.shape(a)
    largest = math_ops.maximum(shape[-2], shape[-1])
    return array_ops.cast(largest, a.dtype.real_dtype) * eps


def pinv(a, rcond=None, validate_args=False, name=None):
    """Moore-Penrose pseudo-inverse through the SVD (`tf.linalg.pinv`).

    Singular values at or below `rcond * max(s)` count as zero; `rcond` defaults to
    `10 * max(M, N) * eps`, as in TF.
    """
    a = convert_to_tensor(a)
    if rcond is None:
        rcond = 10.0 * _default_tolerance_scale(a)
    s, u, v = svd(a, full_matrices=False)
    cutoff = rcond * reduce_ops.reduce_max(s, axis=-1, keepdims=True)
    # inf rather than 0 keeps 1/s (and its gradient) finite for the dropped values (TF's way).
    s = indexing_ops.where(math_ops.greater(s, cutoff), s, np.inf)
    return _matmul(v / manip_ops.expand_dims(array_ops.cast(s, a.dtype), -2), u, adjoint_b=True)


def matrix_rank(a, tol=None, validate_args=False, name=None):
    """Number of singular values above `tol` (default `eps * max(M, N) * max(s)`), as int32
    (`tf.linalg.matrix_rank`)."""
    a = convert_to_tensor(a)
    s = svd(a, compute_uv=False)
    if tol is None:
        tol = _default_tolerance_scale(a) * reduce_ops.reduce_max(s, axis=-1, keepdims=True)
    above = array_ops.cast(math_ops.greater(s, tol), dtypes.int32)
    return reduce_ops.reduce_sum(above, axis=-1)


API = {
    "linalg": ["inv", "det", "slogdet", "logdet", "solve", "triangular_solve", "cholesky_solve",
               "lstsq", "cholesky", "qr", "svd", "eigh", "eigvalsh", "expm", "cross", "lu",
               "lu_reconstruct", "lu_solve", "lu_matrix_inverse", "pinv", "matrix_rank"],
}
