"""Matrix inverse, determinants and solvers (`tf.linalg`): inv, det, slogdet, logdet, solve,
triangular_solve, cholesky_solve, lstsq, expm, cross, pinv, matrix_rank and tridiagonal_solve.
This module also publishes the decompositions of `linalg_decomp.py` (cholesky, qr, svd, eigh,
eigvalsh, lu and its solvers) in its API table.

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
from ndflow.ops._linalg_common import (
    LINALG,
    _adjoint,
    _adjoint_array,
    _broadcast_batch,
    _check,
    _cholesky_array,
    _cholesky_solve_array,
    _columns,
    _identity_plus,
    _known_equal,
    _lapack,
    _matmul,
    _matrix,
    _solve_shape,
    _square,
    _static_dims,
    _text,
    _triangular_solve_array,
)
from ndflow.ops.linalg_decomp import (  # noqa: F401 - published in API below
    cholesky,
    eigh,
    eigvalsh,
    lu,
    lu_matrix_inverse,
    lu_reconstruct,
    lu_solve,
    qr,
    svd,
)

CROSS = dtypes.REAL

LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant",
                                              ["sign", "log_abs_determinant"])


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



# --- tridiagonal systems ---------------------------------------------------------------------

def _tridiagonal_dense(xp, diagonals):
    """[..., 3, M] compact diagonals (super, main, sub) -> dense [..., M, M] matrices."""
    size = diagonals.shape[-1]
    dense = xp.zeros(diagonals.shape[:-2] + (size, size), dtype=diagonals.dtype)
    index = xp.arange(size)
    dense[..., index[:-1], index[1:]] = diagonals[..., 0, :-1]
    dense[..., index, index] = diagonals[..., 1, :]
    dense[..., index[1:], index[:-1]] = diagonals[..., 2, 1:]
    return dense


@primitive("TridiagonalSolve", dtypes=LINALG - {dtypes.float16})
class TridiagonalSolve:
    def infer(diagonals, rhs, partial_pivoting, perturb_singular):
        shape = _matrix("TridiagonalSolve", diagonals)
        if shape is not None and not _known_equal(shape[-2], 3):
            raise errors.InvalidArgumentError(
                f"TridiagonalSolve: diagonals must have shape [..., 3, M], got "
                f"{_text(shape)}")
        result = _solve_shape("TridiagonalSolve", Spec(
            None if shape is None else shape[:-2] + (shape[-1], shape[-1]), diagonals.dtype),
            rhs)
        return Spec(result, diagonals.dtype)

    def kernel(xp, diagonals, rhs, partial_pivoting, perturb_singular):
        _check(diagonals.ndim >= 2 and diagonals.shape[-2] == 3 and rhs.ndim == diagonals.ndim
               and rhs.shape[:-2] == diagonals.shape[:-2] and
               rhs.shape[-2] == diagonals.shape[-1])
        dense = _tridiagonal_dense(xp, diagonals)
        try:
            return xp.linalg.solve(dense, rhs)
        except xp.linalg.LinAlgError:
            pass
        flat_dense = dense.reshape((-1,) + dense.shape[-2:])
        flat_rhs = rhs.reshape((-1,) + rhs.shape[-2:])
        result = xp.full(flat_rhs.shape, xp.nan, dtype=rhs.dtype)
        for index in range(flat_dense.shape[0]):  # only after a failure: NaN where singular
            try:
                result[index] = xp.linalg.solve(flat_dense[index], flat_rhs[index])
            except xp.linalg.LinAlgError:
                pass
        return result.reshape(rhs.shape)

    def grad(op, dy):
        # x = A^-1 b: db-bar = A^-H dy; dA-bar = -db-bar x^H, kept on the three diagonals.
        diagonals = op.inputs[0]
        x = op.outputs[0]
        d_rhs = execute("TridiagonalSolve", _tridiagonal_adjoint(diagonals), dy,
                        partial_pivoting=op.get_attr("partial_pivoting"),
                        perturb_singular=op.get_attr("perturb_singular"))
        x_conj = math_ops.conj(x) if x.dtype.is_complex else x
        zero_row = array_ops.zeros_like(x_conj[..., :1, :])
        below = manip_ops.concat([x_conj[..., 1:, :], zero_row], axis=-2)
        above = manip_ops.concat([zero_row, x_conj[..., :-1, :]], axis=-2)
        parts = [reduce_ops.reduce_sum(d_rhs * part, axis=-1) for part in (below, x_conj, above)]
        return [-manip_ops.stack(parts, axis=-2), d_rhs]


def _tridiagonal_adjoint(diagonals):
    """Compact diagonals of the conjugate transpose: super and sub swap, shifted by one."""
    upper, main, lower = manip_ops.unstack(diagonals, axis=-2)
    zero = array_ops.zeros_like(main[..., :1])
    new_upper = manip_ops.concat([lower[..., 1:], zero], axis=-1)
    new_lower = manip_ops.concat([zero, upper[..., :-1]], axis=-1)
    stacked = manip_ops.stack([new_upper, main, new_lower], axis=-2)
    return math_ops.conj(stacked) if stacked.dtype.is_complex else stacked


def tridiagonal_solve(diagonals, rhs, diagonals_format="compact", transpose_rhs=False,
                      conjugate_rhs=False, name=None, partial_pivoting=True,
                      perturb_singular=False):
    """Solves tridiagonal systems `A x = rhs` (`tf.linalg.tridiagonal_solve`).

    Args:
      diagonals: 'compact': `[..., 3, M]` (superdiagonal, padded at the end; main; subdiagonal,
        padded at the start); 'sequence': a tuple of those three `[..., M]` tensors; 'matrix':
        the `[..., M, M]` matrix, of which only the three diagonals are read.
      rhs: `[..., M, K]`, or `[..., M]` for a single right-hand side.
      transpose_rhs, conjugate_rhs: transpose / conjugate `rhs` first (the result stays
        `[..., M, K]`, as in TF).

    Returns:
      The solution, shaped like `rhs` (after the transpose). A singular system gives NaN.
      ndflow solves with LU and partial pivoting on the dense matrix (O(M^3), not TF's O(M)).
    """
    if diagonals_format == "sequence":
        diagonals = manip_ops.stack(list(diagonals), axis=-2)
    elif diagonals_format == "matrix":
        matrix = convert_to_tensor(diagonals)
        main = linalg_ops.diag_part(matrix)
        zero = array_ops.zeros_like(main[..., :1])
        upper = manip_ops.concat([linalg_ops.diag_part(matrix, k=1), zero], axis=-1)
        lower = manip_ops.concat([zero, linalg_ops.diag_part(matrix, k=-1)], axis=-1)
        diagonals = manip_ops.stack([upper, main, lower], axis=-2)
    elif diagonals_format != "compact":
        raise ValueError(f"tridiagonal_solve: unrecognized diagonals_format "
                         f"{diagonals_format!r}; expected 'compact', 'sequence' or 'matrix'")
    diagonals = convert_to_tensor(diagonals)
    rhs = convert_to_tensor(rhs, dtype=diagonals.dtype)
    if transpose_rhs:
        rhs = linalg_ops.matrix_transpose(rhs, conjugate=conjugate_rhs)
    elif conjugate_rhs and rhs.dtype.is_complex:
        rhs = math_ops.conj(rhs)
    vector = rhs.shape.rank is not None and rhs.shape.rank == diagonals.shape.rank - 1
    if vector:
        rhs = manip_ops.expand_dims(rhs, -1)
    result = execute("TridiagonalSolve", diagonals, rhs, partial_pivoting=bool(partial_pivoting),
                     perturb_singular=bool(perturb_singular), name=name)
    return manip_ops.squeeze(result, axis=[-1]) if vector else result

API = {
    "linalg": ["inv", "det", "slogdet", "logdet", "solve", "triangular_solve", "cholesky_solve",
               "lstsq", "cholesky", "qr", "svd", "eigh", "eigvalsh", "expm", "cross", "lu",
               "lu_reconstruct", "lu_solve", "lu_matrix_inverse", "pinv", "matrix_rank",
               "tridiagonal_solve"],
}
