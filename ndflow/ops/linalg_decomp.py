"""Matrix decompositions (`tf.linalg`): cholesky, qr, svd, eigh/eigvalsh and lu with
lu_solve, lu_reconstruct and lu_matrix_inverse.

Kernels call `xp.linalg` (float16 runs in float32); gradients are the matrix-calculus results TF
uses, written in ndflow ops so that they work to any order. The public functions are published
through `linalg_ext.py`'s API table; triangular solves come from there too.
"""

import collections

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import linalg_ext as solvers  # cycle: used at call time only
from ndflow.ops import manip as manip_ops
from ndflow.ops import math as math_ops
from ndflow.ops._linalg_common import (
    LINALG,
    _adjoint,
    _adjoint_array,
    _cholesky_array,
    _columns,
    _lapack,
    _matmul,
    _matrix,
    _pairwise_reciprocal,
    _safe_reciprocal,
    _scale_columns,
    _static_dims,
)

Qr = collections.namedtuple("Qr", ["q", "r"])
Lu = collections.namedtuple("Lu", ["lu", "p"])


# --- Cholesky, QR, SVD, eigh ----------------------------------------------------------------------

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
        left = solvers.triangular_solve(chol, middle, lower=True, adjoint=True)
        grad = _adjoint(solvers.triangular_solve(chol, _adjoint(left), lower=True, adjoint=True))
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
    return _adjoint(solvers.triangular_solve(r, _adjoint(x), lower=False))


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
        grad = _times_inverse_r_adjoint(solvers.triangular_solve(lower, phi, adjoint=True), upper)
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
    solved = solvers.triangular_solve(lower, permuted, lower=True)
    return solvers.triangular_solve(upper, solved, lower=False)


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None):
    """The inverse of A given `lu(A) = (lower_upper, perm)` (`tf.linalg.lu_matrix_inverse`)."""
    lower_upper = convert_to_tensor(lower_upper)
    size = lower_upper.shape.as_list()[-1]
    identity = array_ops.eye(size, dtype=lower_upper.dtype)
    return lu_solve(lower_upper, perm, identity)
