"""Tests for ndflow/ops/linalg_decomp.py: cholesky, qr, svd, eigh and lu against NumPy/SciPy,
and their gradients against finite differences.

Decompositions are checked through what is unique about them (reconstruction, orthonormality,
triangularity, gauge-invariant functions), not through the signs a LAPACK build happens to pick.
"""

import numpy as np
import pytest
import scipy.linalg

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad
from tests.ops.linalg_inputs import (
    BATCHES,
    DTYPES,
    adjoint,
    close,
    distinct_singular_values,
    hermitian,
    positive_definite,
    rand,
    symmetrized,
    well_conditioned,
)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cholesky_and_cholesky_solve(dtype):
    a = positive_definite(2, 4, 4, dtype=dtype)
    chol = tf.linalg.cholesky(a)
    close(chol, np.linalg.cholesky(a), dtype)
    b = rand(2, 4, 3, dtype=dtype)
    close(tf.linalg.cholesky_solve(chol, b), np.linalg.solve(a, b), dtype, scale=10)


def test_cholesky_reads_only_the_lower_triangle():
    a = positive_definite(3, 3)
    junk = a + np.triu(np.full((3, 3), 7.0), 1)
    close(tf.linalg.cholesky(junk), np.linalg.cholesky(a), "float64")


def test_cholesky_not_positive_definite_gives_nan_like_tf():
    a = np.stack([np.array([[1.0, 2.0], [2.0, 1.0]]), positive_definite(2, 2)])
    result = tf.linalg.cholesky(a).numpy()
    assert np.isnan(result[0]).any()
    close(result[1], np.linalg.cholesky(a[1]), "float64")


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 5, 3), (2, 3, 3, 5)],
                         ids=["square", "tall", "wide", "tall-batch", "wide-batch2"])
@pytest.mark.parametrize("full_matrices", [False, True], ids=["reduced", "full"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_qr_reconstructs(shape, full_matrices, dtype):
    a = rand(*shape, dtype=dtype)
    q, r = tf.linalg.qr(a, full_matrices=full_matrices)
    rows, cols = shape[-2:]
    inner = rows if full_matrices else min(rows, cols)
    assert q.shape == shape[:-2] + (rows, inner) and r.shape == shape[:-2] + (inner, cols)
    q, r = q.numpy(), r.numpy()
    close(q @ r, a, dtype)
    close(adjoint(q) @ q, np.broadcast_to(np.eye(inner), q.shape[:-2] + (inner, inner)), dtype)
    close(np.tril(r, -1), np.zeros_like(r), dtype)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 5, 3), (2, 3, 3, 5)],
                         ids=["square", "tall", "wide", "tall-batch", "wide-batch2"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_svd_values(shape, dtype):
    a = rand(*shape, dtype=dtype)
    s, u, v = tf.linalg.svd(a)
    assert s.dtype == tf.as_dtype(dtype).real_dtype and u.dtype == tf.as_dtype(dtype)
    close(s, np.linalg.svd(a, compute_uv=False), dtype)
    close((u.numpy() * s.numpy()[..., None, :]) @ adjoint(v.numpy()), a, dtype)
    close(tf.linalg.svd(a, compute_uv=False), np.linalg.svd(a, compute_uv=False), dtype)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)], ids=["tall", "wide"])
def test_svd_full_matrices_shapes_and_orthogonality(shape):
    a = rand(*shape)
    s, u, v = tf.linalg.svd(a, full_matrices=True)
    assert u.shape == (shape[0], shape[0]) and v.shape == (shape[1], shape[1])
    close(u.numpy().T @ u.numpy(), np.eye(shape[0]), "float64")
    close(v.numpy().T @ v.numpy(), np.eye(shape[1]), "float64")
    sigma = np.zeros(shape)
    sigma[range(3), range(3)] = s.numpy()
    close(u.numpy() @ sigma @ v.numpy().T, a, "float64")


@pytest.mark.parametrize("batch", BATCHES, ids=["matrix", "batch", "batch2"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_eigh_values(batch, dtype):
    a = hermitian(*batch, 4, 4, dtype=dtype)
    e, v = tf.linalg.eigh(a)
    assert e.dtype == v.dtype == tf.as_dtype(dtype)  # TF: complex input, complex eigenvalues
    close(e, np.linalg.eigvalsh(a), dtype)
    close(a @ v.numpy(), v.numpy() * e.numpy()[..., None, :], dtype)
    close(tf.linalg.eigvalsh(a), np.linalg.eigvalsh(a), dtype)


def test_eigh_reads_only_the_lower_triangle():
    a = hermitian(4, 4)
    junk = a + np.triu(np.full((4, 4), 5.0), 1)
    close(tf.linalg.eigvalsh(junk), np.linalg.eigvalsh(a), "float64")


@pytest.mark.parametrize("batch", BATCHES, ids=["matrix", "batch", "batch2"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_lu_matches_scipy(batch, dtype):
    a = rand(*batch, 4, 4, dtype=dtype)
    packed, perm = tf.linalg.lu(a)
    assert perm.dtype == tf.int32 and perm.shape == batch + (4,)
    # LAPACK pivots complex columns on |re| + |im|, TF (Eigen) on |z|: compare real ones only
    for index in np.ndindex(*batch) if np.dtype(dtype).kind == "f" else ():
        lu_scipy, pivots = scipy.linalg.lu_factor(a[index])
        close(packed.numpy()[index], lu_scipy, dtype)
        order = np.arange(4)
        for row, pivot in enumerate(pivots):  # LAPACK swaps -> TF's permutation vector
            order[[row, pivot]] = order[[pivot, row]]
        np.testing.assert_array_equal(perm.numpy()[index], order)
    close(tf.linalg.lu_reconstruct(packed, perm), a, dtype)


def test_lu_output_idx_type_and_solvers():
    a = well_conditioned(2, 3, 3)
    b = rand(2, 3, 2)
    packed, perm = tf.linalg.lu(a, output_idx_type=tf.int64)
    assert perm.dtype == tf.int64
    close(tf.linalg.lu_solve(packed, perm, b), np.linalg.solve(a, b), "float64")
    close(tf.linalg.lu_matrix_inverse(packed, perm), np.linalg.inv(a), "float64")


def test_cholesky_grad():
    check_grad(symmetrized(tf.linalg.cholesky), positive_definite(2, 3, 3), order=2)


def test_cholesky_solve_grad():
    check_grad(lambda a, b: tf.linalg.cholesky_solve(tf.linalg.cholesky(a), b),
               positive_definite(3, 3), rand(3, 2), wrt=[1])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3), (3, 5), (2, 2, 4)],
                         ids=["square", "tall", "wide", "wide-batch"])
def test_qr_grad(shape):
    a = rand(*shape) + np.eye(*shape[-2:])
    check_grad(lambda x: tf.linalg.qr(x)[0], a)
    check_grad(lambda x: tf.linalg.qr(x)[1], a)
    check_grad(lambda x: tf.linalg.qr(x).q * 2.0 + tf.linalg.qr(x).r[..., :1, :1], a)


def test_qr_grad_full_matrices_square_and_wide():
    check_grad(lambda x: tf.linalg.qr(x, full_matrices=True)[0], rand(3, 3) + np.eye(3))
    check_grad(lambda x: tf.linalg.qr(x, full_matrices=True)[1], rand(2, 4) + np.eye(2, 4))


SVD_SHAPES = [(3, 3), (4, 3), (3, 4), (2, 4, 2)]
SVD_IDS = ["square", "tall", "wide", "tall-batch"]


@pytest.mark.parametrize("shape", SVD_SHAPES, ids=SVD_IDS)
def test_svd_grad_of_singular_values(shape):
    a = distinct_singular_values(*shape)
    check_grad(lambda x: tf.linalg.svd(x, compute_uv=False), a, order=2)
    check_grad(lambda x: tf.linalg.svd(x)[0], a)


@pytest.mark.parametrize("shape", SVD_SHAPES, ids=SVD_IDS)
def test_svd_grad_of_gauge_invariant_functions(shape):
    a = distinct_singular_values(*shape)

    def projectors(x):  # u u^T and v v^T (sign-free), weighted by s
        s, u, v = tf.linalg.svd(x)
        left = tf.linalg.matmul(u, u * s[..., None, :], transpose_b=True)
        right = tf.linalg.matmul(v * s[..., None, :] ** 2, v, transpose_b=True)
        return tf.concat([tf.reshape(left, [-1]), tf.reshape(right, [-1])], 0)

    def column_products(x):  # u_i v_i^T per singular pair (invariant to the joint sign)
        _, u, v = tf.linalg.svd(x)
        return u[..., :, None, :] * v[..., None, :, :]

    check_grad(projectors, a)
    check_grad(column_products, a)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3)], ids=["tall", "wide"])
def test_svd_grad_full_matrices_off_by_one(shape):
    a = distinct_singular_values(*shape)

    def products(x):
        _, u, v = tf.linalg.svd(x, full_matrices=True)
        return tf.concat([tf.reshape(u[..., :, None, :2] * u[..., None, :, :2], [-1]),
                          tf.reshape(v[..., :, None, :] * v[..., None, :, :], [-1])], 0)

    check_grad(products, a)


def _distinct_eigenvalues(*shape):
    q = np.linalg.qr(rand(*shape))[0]
    e = np.arange(shape[-1]) * 1.5 - 2.0
    return (q * e[..., None, :]) @ np.swapaxes(q, -1, -2)


def test_eigh_grad():
    a = _distinct_eigenvalues(2, 3, 3)
    check_grad(lambda x: tf.linalg.eigh(x)[0], a, order=2)
    check_grad(tf.linalg.eigvalsh, a, order=2)
    check_grad(lambda x: tf.linalg.eigh(x)[1] ** 2, a)  # squared: free of the sign gauge


def test_eigh_grad_is_lower_triangular_like_tf():
    a = tf.constant(_distinct_eigenvalues(3, 3))
    with tf.GradientTape() as tape:
        tape.watch(a)
        total = tf.reduce_sum(tf.linalg.eigh(a)[1] ** 2 * np.arange(9.0).reshape(3, 3))
    grad = tape.gradient(total, a).numpy()
    np.testing.assert_array_equal(np.triu(grad, 1), 0)


def test_lu_grad():
    a = well_conditioned(2, 3, 3)
    check_grad(lambda x: tf.linalg.lu(x).lu, a)
    check_grad(lambda x: tf.linalg.lu_solve(*tf.linalg.lu(x), tf.constant(np.ones((3, 1)))), a)


def test_gradients_that_are_not_unique_are_refused():
    a = tf.constant(rand(4, 2))
    with tf.GradientTape() as tape:
        tape.watch(a)
        q = tf.linalg.qr(a, full_matrices=True).q
    with pytest.raises(errors.UnimplementedError, match=r"Qr: .*full_matrices.*\(4, 2\)"):
        tape.gradient(q, a)
    with tf.GradientTape() as tape:
        tape.watch(a)
        u = tf.linalg.svd(a, full_matrices=True)[1]
    with pytest.raises(errors.UnimplementedError, match=r"Svd: .*full_matrices.*\(4, 2\)"):
        tape.gradient(u, a)
