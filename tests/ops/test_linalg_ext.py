"""Tests for ndflow/ops/linalg_ext.py: inverse, determinants, solvers, expm, cross, pinv and
matrix_rank against NumPy/SciPy (values, batches, dtypes), gradients against finite differences,
error paths, tracing, and differential tests against TF (all of tf.linalg's decompositions too)
when it is installed. The decompositions themselves are tested in test_linalg_decomp.py."""

import numpy as np
import pytest
import scipy.linalg

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import assert_close, check_grad, check_op
from tests.ops.linalg_inputs import (
    BATCHES,
    DTYPES,
    TOL,
    adjoint,
    close,
    distinct_singular_values,
    hermitian,
    positive_definite,
    rand,
    symmetrized,
    well_conditioned,
)

# --- inverse and determinants ----------------------------------------------------------------

@pytest.mark.parametrize("batch", BATCHES, ids=["matrix", "batch", "batch2"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_adjoint", [False, True], ids=["plain", "adjoint"])
def test_inv_values(batch, dtype, use_adjoint):
    a = well_conditioned(*batch, 3, 3, dtype=dtype)
    expected = np.linalg.inv(adjoint(a) if use_adjoint else a)
    close(tf.linalg.inv(a, adjoint=use_adjoint), expected, dtype)


@pytest.mark.parametrize("shape", [(0, 0), (0, 2, 2), (2, 0, 0)], ids=["0x0", "empty-batch",
                                                                      "batch-of-0x0"])
def test_inv_det_empty(shape):
    a = np.ones(shape, np.float32)
    check_op(tf.linalg.inv, np.linalg.inv, a)
    check_op(tf.linalg.det, np.linalg.det, a)


def test_inv_float16_runs_in_float32():
    a = well_conditioned(3, 3).astype(np.float16)
    result = tf.linalg.inv(a)
    assert result.dtype == tf.float16
    close(result, np.linalg.inv(a.astype(np.float32)), "float16")


@pytest.mark.parametrize("batch", BATCHES, ids=["matrix", "batch", "batch2"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_det_and_slogdet_values(batch, dtype):
    a = rand(*batch, 4, 4, dtype=dtype)
    close(tf.linalg.det(a), np.linalg.det(a), dtype)
    sign, log_abs = tf.linalg.slogdet(a)
    want_sign, want_log = np.linalg.slogdet(a)
    assert sign.dtype == log_abs.dtype == tf.as_dtype(dtype)
    close(sign, want_sign, dtype)
    close(log_abs, want_log, dtype)


def test_slogdet_singular_gives_zero_sign_and_minus_inf():
    sign, log_abs = tf.linalg.slogdet(np.zeros((2, 2), np.float32))
    assert sign.numpy() == 0 and log_abs.numpy() == -np.inf


def test_slogdet_named_tuple():
    result = tf.linalg.slogdet(well_conditioned(2, 2))
    assert result.sign.shape == () and result.log_abs_determinant.shape == ()


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_logdet_values(dtype):
    a = positive_definite(2, 4, 4, dtype=dtype)
    result = tf.linalg.logdet(a)
    assert result.dtype == tf.as_dtype(dtype).real_dtype
    close(result, np.linalg.slogdet(a)[1], dtype)


# --- solvers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("batch", BATCHES, ids=["matrix", "batch", "batch2"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_adjoint", [False, True], ids=["plain", "adjoint"])
def test_solve_values(batch, dtype, use_adjoint):
    a = well_conditioned(*batch, 3, 3, dtype=dtype)
    b = rand(*batch, 3, 2, dtype=dtype)
    expected = np.linalg.solve(adjoint(a) if use_adjoint else a, b)
    close(tf.linalg.solve(a, b, adjoint=use_adjoint), expected, dtype)


@pytest.mark.parametrize("lower", [True, False], ids=["lower", "upper"])
@pytest.mark.parametrize("use_adjoint", [False, True], ids=["plain", "adjoint"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_triangular_solve_values(lower, use_adjoint, dtype):
    a = well_conditioned(2, 4, 4, dtype=dtype)  # the other triangle must be ignored
    b = rand(2, 4, 3, dtype=dtype)
    triangle = np.tril(a) if lower else np.triu(a)
    expected = np.linalg.solve(adjoint(triangle) if use_adjoint else triangle, b)
    result = tf.linalg.triangular_solve(a, b, lower=lower, adjoint=use_adjoint)
    close(result, expected, dtype)


@pytest.mark.parametrize("shape_a,shape_b", [((3, 3), (2, 3, 2)), ((2, 1, 3, 3), (4, 3, 1)),
                                             ((2, 3, 3), (3, 2))],
                         ids=["matrix-vs-batch", "broadcast-both", "batch-vs-matrix"])
def test_triangular_solve_broadcasts_batch(shape_a, shape_b):
    a = well_conditioned(*shape_a)
    b = rand(*shape_b)
    expected = np.linalg.solve(np.broadcast_to(np.tril(a), np.broadcast_shapes(
        shape_a[:-2], shape_b[:-2]) + shape_a[-2:]), b)
    close(tf.linalg.triangular_solve(a, b), expected, "float64")


def test_triangular_solve_zero_pivot_gives_inf_like_tf():
    result = tf.linalg.triangular_solve(np.zeros((2, 2), np.float32), np.ones((2, 1),
                                                                             np.float32))
    assert np.isinf(result.numpy()[0, 0]) and np.isnan(result.numpy()[1, 0])


@pytest.mark.parametrize("shape", [(5, 3), (2, 5, 3), (3, 5), (2, 3, 5), (4, 4)],
                         ids=["tall", "tall-batch", "wide", "wide-batch", "square"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "robust"])
def test_lstsq_matches_numpy(shape, fast):
    a = rand(*shape)
    b = rand(*shape[:-1], 2)
    # both paths give the least-squares solution of minimum norm for full-rank input
    expected = np.linalg.pinv(a) @ b
    close(tf.linalg.lstsq(a, b, fast=fast), expected, "float64", scale=1e3)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)], ids=["tall", "wide"])
def test_lstsq_l2_regularizer(shape):
    a = rand(*shape)
    b = rand(shape[0], 2)
    l2 = 0.5
    expected = np.linalg.solve(a.T @ a + l2 * np.eye(shape[1]), a.T @ b)
    close(tf.linalg.lstsq(a, b, l2_regularizer=l2), expected, "float64", scale=1e3)
    # TF's robust path ignores the regularizer
    close(tf.linalg.lstsq(a, b, l2_regularizer=l2, fast=False), np.linalg.pinv(a) @ b,
          "float64", scale=1e3)


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_lstsq_dtypes(dtype):
    a = rand(5, 3, dtype=dtype)
    b = rand(5, 1, dtype=dtype)
    result = tf.linalg.lstsq(a, b)
    assert result.dtype == tf.as_dtype(dtype)
    close(result, np.linalg.lstsq(a, b, rcond=None)[0], dtype, scale=10)


# --- QR, SVD, eigh ---------------------------------------------------------------------------


# --- expm, cross, LU -------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [0.01, 1.0, 30.0], ids=["small", "unit", "squarings"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_expm_matches_scipy(scale, dtype):
    a = rand(3, 4, 4, dtype=dtype) * scale
    expected = np.stack([scipy.linalg.expm(m) for m in a])
    result = tf.linalg.expm(a)
    assert result.dtype == tf.as_dtype(dtype)
    tol = TOL[dtype] * (100 if scale > 1 else 1)
    assert_close(result.numpy(), expected, rtol=tol, atol=tol * np.abs(expected).max())


def test_expm_mixed_norms_in_one_batch_and_empty():
    a = np.stack([np.zeros((2, 2)), rand(2, 2) * 50, rand(2, 2) * 0.1])
    close(tf.linalg.expm(a), np.stack([scipy.linalg.expm(m) for m in a]), "float64", 1e3)
    assert tf.linalg.expm(np.zeros((0, 3, 3))).shape == (0, 3, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_cross_values(dtype):
    a = (rand(2, 4, 3) * 10).astype(dtype)
    b = (rand(2, 4, 3) * 10).astype(dtype)
    check_op(tf.linalg.cross, np.cross, a, b)


# --- SVD composites --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (4, 4)], ids=["tall", "wide-batch",
                                                                  "square"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pinv_values(shape, dtype):
    a = rand(*shape, dtype=dtype)
    close(tf.linalg.pinv(a), np.linalg.pinv(a), dtype, scale=10)


def test_pinv_drops_small_singular_values():
    a = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])  # rank 1
    close(tf.linalg.pinv(a), np.linalg.pinv(a), "float64", scale=1e3)
    close(tf.linalg.pinv(a, rcond=0.1), np.linalg.pinv(a, rcond=0.1), "float64", scale=1e3)


def test_matrix_rank_values():
    a = np.stack([np.eye(3), np.outer([1.0, 2, 3], [1.0, 1, 1]), np.zeros((3, 3))])
    result = tf.linalg.matrix_rank(a)
    assert result.dtype == tf.int32
    np.testing.assert_array_equal(result.numpy(), [3, 1, 0])
    np.testing.assert_array_equal(tf.linalg.matrix_rank(np.diag([1.0, 1e-3]), tol=1e-2), 1)


# --- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("use_adjoint", [False, True], ids=["plain", "adjoint"])
def test_inv_grad_second_order(use_adjoint):
    check_grad(lambda x: tf.linalg.inv(x, adjoint=use_adjoint), well_conditioned(2, 3, 3),
               order=2)


def test_det_grad_second_order():
    check_grad(tf.linalg.det, well_conditioned(2, 3, 3), order=2)


def test_det_grad_complex_convention():
    """TF's convention (as for Mul): the gradient of a holomorphic f is dy * conj(f'(z)).
    For det that is conj(det) * inv(A)^H, the same as differentiating a*d - b*c by hand."""
    a = tf.constant(np.array([[1 + 2j, 0.5 - 1j], [0.3 + 0.2j, 2 - 1j]]))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        upstream = tf.constant(0.3 + 0.7j, tf.complex128)
        by_op = tf.math.real(tf.linalg.det(a) * upstream)
        flat = tf.reshape(a, [-1])
        by_hand = tf.math.real((flat[0] * flat[3] - flat[1] * flat[2]) * upstream)
    assert_close(tape.gradient(by_op, a).numpy(), tape.gradient(by_hand, a).numpy())


def test_slogdet_grad():
    a = rand(2, 3, 3)  # mixed signs of the determinant
    check_grad(lambda x: tf.linalg.slogdet(x)[1], a, order=2)


def test_logdet_grad():
    check_grad(symmetrized(tf.linalg.logdet), positive_definite(2, 3, 3), order=1)


@pytest.mark.parametrize("use_adjoint", [False, True], ids=["plain", "adjoint"])
def test_solve_grad_second_order(use_adjoint):
    check_grad(lambda a, b: tf.linalg.solve(a, b, adjoint=use_adjoint),
               well_conditioned(2, 3, 3), rand(2, 3, 2), order=2)


@pytest.mark.parametrize("lower", [True, False], ids=["lower", "upper"])
@pytest.mark.parametrize("use_adjoint", [False, True], ids=["plain", "adjoint"])
def test_triangular_solve_grad(lower, use_adjoint):
    check_grad(lambda a, b: tf.linalg.triangular_solve(a, b, lower=lower, adjoint=use_adjoint),
               well_conditioned(2, 3, 3), rand(2, 3, 2), order=2)


def test_triangular_solve_grad_sums_broadcast_batch():
    check_grad(tf.linalg.triangular_solve, well_conditioned(3, 3), rand(2, 3, 2), order=1)
    check_grad(tf.linalg.triangular_solve, well_conditioned(2, 1, 3, 3), rand(4, 3, 1))


@pytest.mark.parametrize("scale", [0.3, 4.0], ids=["no-squaring", "squarings"])
def test_expm_grad(scale):
    check_grad(tf.linalg.expm, rand(2, 3, 3) * scale, order=1, rtol=1e-6 * scale)


def test_expm_grad_second_order():
    check_grad(tf.linalg.expm, rand(2, 2) * 0.5, order=2)


def test_cross_grad_second_order():
    check_grad(tf.linalg.cross, rand(2, 3), rand(2, 3), order=2)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (3, 3)], ids=["tall", "wide", "square"])
@pytest.mark.parametrize("l2", [0.0, 0.5], ids=["plain", "l2"])
def test_lstsq_grad(shape, l2):
    check_grad(lambda a, b: tf.linalg.lstsq(a, b, l2_regularizer=l2),
               rand(*shape) + np.eye(*shape), rand(shape[0], 2))


def test_lstsq_grad_robust_path_full_rank():
    check_grad(lambda a, b: tf.linalg.lstsq(a, b, fast=False), rand(4, 3) + np.eye(4, 3),
               rand(4, 1))


def test_pinv_grad():
    check_grad(tf.linalg.pinv, distinct_singular_values(3, 2))


# --- errors ----------------------------------------------------------------------------------

SQUARE_OPS = [
    ("MatrixInverse", tf.linalg.inv), ("MatrixDeterminant", tf.linalg.det),
    ("LogMatrixDeterminant", tf.linalg.slogdet), ("Cholesky", tf.linalg.cholesky),
    ("SelfAdjointEigV2", tf.linalg.eigh), ("MatrixExponential", tf.linalg.expm),
    ("Lu", tf.linalg.lu),
]


@pytest.mark.parametrize("op_name,fn", SQUARE_OPS, ids=[name for name, _ in SQUARE_OPS])
def test_non_square_input_is_rejected(op_name, fn):
    with pytest.raises(errors.InvalidArgumentError, match=rf"{op_name}: .*square.*\(2, 2, 3\)"):
        fn(np.ones((2, 2, 3), np.float32))


@pytest.mark.parametrize("op_name,fn", SQUARE_OPS + [("Qr", tf.linalg.qr), ("Svd", tf.linalg.svd)],
                         ids=[name for name, _ in SQUARE_OPS] + ["Qr", "Svd"])
def test_vector_input_is_rejected(op_name, fn):
    with pytest.raises(errors.InvalidArgumentError, match=rf"{op_name}: .*rank >= 2.*\(3,\)"):
        fn(np.ones(3, np.float32))


def test_integer_input_is_rejected():
    with pytest.raises(errors.InvalidArgumentError, match="MatrixInverse: dtype int32"):
        tf.linalg.inv(np.eye(2, dtype=np.int32))


@pytest.mark.parametrize("op_name,fn", [("MatrixInverse", tf.linalg.inv),
                                        ("Lu", tf.linalg.lu)], ids=["inv", "lu"])
def test_singular_matrix_is_rejected(op_name, fn):
    with pytest.raises(errors.InvalidArgumentError,
                       match=rf"{op_name}: input is not invertible.*\(2, 2\)"):
        fn(np.zeros((2, 2), np.float32))


def test_solve_errors():
    eye = np.eye(2, dtype=np.float32)
    with pytest.raises(errors.InvalidArgumentError, match=r"MatrixSolve: .*square.*\(2, 3\)"):
        tf.linalg.solve(np.ones((2, 3), np.float32), np.ones((2, 1), np.float32))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"MatrixSolve: .*rows.*\(2, 2\) and \(3, 1\)"):
        tf.linalg.solve(eye, np.ones((3, 1), np.float32))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"MatrixSolve: .*batch dimensions.*\(3, 2, 2\) and \(1, 2, 1\)"):
        tf.linalg.solve(np.stack([eye] * 3), np.ones((1, 2, 1), np.float32))
    with pytest.raises(errors.InvalidArgumentError, match=r"MatrixSolve: .*not invertible"):
        tf.linalg.solve(np.zeros((2, 2), np.float32), np.ones((2, 1), np.float32))


def test_triangular_solve_errors():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"MatrixTriangularSolve: .*rows.*\(2, 2\) and \(3, 1\)"):
        tf.linalg.triangular_solve(np.eye(2), np.ones((3, 1)))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"MatrixTriangularSolve: .*broadcastable.*\(2, 2, 2\) and "
                             r"\(3, 2, 1\)"):
        tf.linalg.triangular_solve(np.ones((2, 2, 2)), np.ones((3, 2, 1)))


def test_lstsq_errors():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"MatrixSolveLs: .*rows.*\(3, 2\) and \(2, 1\)"):
        tf.linalg.lstsq(np.ones((3, 2)), np.ones((2, 1)))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"MatrixSolveLs: .*batch dimensions.*\(2, 2, 3\) and \(3, 2, 1\)"):
        tf.linalg.lstsq(np.ones((2, 2, 3)), np.ones((3, 2, 1)))


def test_cross_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Cross: .*same shape.*\(2, 3\) and "
                                                          r"\(3,\)"):
        tf.linalg.cross(np.ones((2, 3)), np.ones(3))
    with pytest.raises(errors.FailedPreconditionError, match=r"Cross: .*3-element.*\(2, 4\)"):
        tf.linalg.cross(np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(errors.InvalidArgumentError, match="Cross: cannot mix dtypes"):
        tf.linalg.cross(tf.constant(np.ones(3, np.float32)), tf.constant(np.ones(3)))


# --- graph mode ------------------------------------------------------------------------------

GRAPH_CASES = [
    ("inv", tf.linalg.inv, (2, 3, 3)), ("det", tf.linalg.det, (2,)),
    ("cholesky", tf.linalg.cholesky, (2, 3, 3)), ("eigvalsh", tf.linalg.eigvalsh, (2, 3)),
    ("svd-s", lambda x: tf.linalg.svd(x, compute_uv=False), (2, 3)),
    ("qr-r", lambda x: tf.linalg.qr(x).r, (2, 3, 3)), ("expm", tf.linalg.expm, (2, 3, 3)),
    ("lu", lambda x: tf.linalg.lu(x).p, (2, 3)), ("pinv", tf.linalg.pinv, (2, 3, 3)),
    ("matrix_rank", tf.linalg.matrix_rank, (2,)),
]


@pytest.mark.parametrize("fn,shape", [case[1:] for case in GRAPH_CASES],
                         ids=[case[0] for case in GRAPH_CASES])
def test_traced_with_unknown_dimensions(fn, shape):
    a = positive_definite(2, 3, 3)
    traced = tf.function(fn, input_signature=[tf.TensorSpec([None, None, None], tf.float64)])
    result = traced(a)
    assert result.shape == shape
    assert_close(result.numpy(), fn(tf.constant(a)).numpy())


def test_traced_gradient():
    def grad_of_logdet(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = tf.linalg.logdet(x)
        return tape.gradient(value, x)

    a = positive_definite(3, 3)
    close(tf.function(grad_of_logdet)(a), np.linalg.inv(a), "float64")


# --- against TensorFlow, when it is installed ------------------------------------------------

def _run_both(fn, *arrays, grad=True):
    """fn(module, *tensors) under ndflow and under TF: the values, and the gradients of a
    weighted real loss (complex weights for complex outputs)."""
    real_tf = pytest.importorskip("tensorflow")
    results = []
    for module in (tf, real_tf):
        tensors = [module.constant(a) for a in arrays]
        with module.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            out = fn(module, *tensors)
            weights = _weights_like(np.asarray(out.numpy()))
            loss = module.reduce_sum(module.math.real(out * module.constant(weights)))
        grads = tape.gradient(loss, tensors) if grad else []
        results.append((out.numpy(), [g.numpy() for g in grads]))
    return results


def _weights_like(value):
    weights = np.random.default_rng(7).uniform(0.5, 1.5, size=value.shape)
    if value.dtype.kind == "c":
        weights = weights + 1j * np.random.default_rng(8).uniform(-1, 1, size=value.shape)
    return weights.astype(value.dtype)


def _compare_with_tf(fn, *arrays, tol=1e-8):
    (ours, our_grads), (theirs, their_grads) = _run_both(fn, *arrays)
    assert_close(ours, theirs, rtol=tol, atol=tol)
    for index, (mine, reference) in enumerate(zip(our_grads, their_grads)):
        assert_close(mine, reference, rtol=tol * 10, atol=tol * 10)


def _pairs(module, x, y):
    """Columns x_j times rows/columns y_j: invariant to the phase of each decomposition pair."""
    return module.einsum("...mj,...nj->...mnj", x, y)


TF_CASES = {
    "inv": (lambda m, a: m.linalg.inv(a), "square"),
    "inv-adjoint": (lambda m, a: m.linalg.inv(a, adjoint=True), "square"),
    "det": (lambda m, a: m.linalg.det(a), "square"),
    "slogdet": (lambda m, a: m.linalg.slogdet(a)[1], "square"),
    "logdet": (lambda m, a: m.linalg.logdet(a), "pd"),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), "pd"),
    "expm": (lambda m, a: m.linalg.expm(a), "square"),
    "qr-tall": (lambda m, a: _pairs(m, m.linalg.qr(a).q, m.linalg.matrix_transpose(
        m.linalg.qr(a).r)), "tall"),
    "qr-wide": (lambda m, a: _pairs(m, m.linalg.qr(a).q, m.linalg.matrix_transpose(
        m.linalg.qr(a).r)), "wide"),
    "svd-s": (lambda m, a: m.linalg.svd(a, compute_uv=False), "tall"),
    "svd-uv-tall": (lambda m, a: _pairs(m, m.linalg.svd(a)[1], m.math.conj(m.linalg.svd(a)[2])),
                    "tall"),
    "svd-uv-wide": (lambda m, a: _pairs(m, m.linalg.svd(a)[1], m.math.conj(m.linalg.svd(a)[2])),
                    "wide"),
    "eigh-e": (lambda m, a: m.linalg.eigvalsh(a), "hermitian"),
    "eigh-v": (lambda m, a: _pairs(m, m.linalg.eigh(a)[1], m.math.conj(m.linalg.eigh(a)[1])),
               "hermitian"),
    "pinv": (lambda m, a: m.linalg.pinv(a), "tall"),
}
_INPUTS = {
    "square": lambda dtype: well_conditioned(2, 3, 3, dtype=dtype),
    "pd": lambda dtype: positive_definite(2, 3, 3, dtype=dtype),
    "hermitian": lambda dtype: hermitian(2, 3, 3, dtype=dtype),
    "tall": lambda dtype: rand(2, 4, 3, dtype=dtype) + np.eye(4, 3),
    "wide": lambda dtype: rand(2, 3, 4, dtype=dtype) + np.eye(3, 4),
}


@pytest.mark.parametrize("case", list(TF_CASES))
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_matches_tensorflow_values_and_gradients(case, dtype):
    fn, kind = TF_CASES[case]
    if case == "pinv" and dtype == "complex128":
        pytest.skip("TF's pinv divides complex v by real s and fails on complex input")
    if case == "det" and dtype == "complex128":
        pytest.skip("TF's complex det gradient lacks a conj (test_det_grad_complex_convention)")
    _compare_with_tf(fn, _INPUTS[kind](dtype))


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_matches_tensorflow_solvers(dtype):
    a = well_conditioned(2, 3, 3, dtype=dtype)
    b = rand(2, 3, 2, dtype=dtype)
    _compare_with_tf(lambda m, x, y: m.linalg.solve(x, y), a, b)
    _compare_with_tf(lambda m, x, y: m.linalg.solve(x, y, adjoint=True), a, b)
    _compare_with_tf(lambda m, x, y: m.linalg.triangular_solve(x, y, lower=False), a, b)
    _compare_with_tf(lambda m, x, y: m.linalg.triangular_solve(x, y, adjoint=True), a, b)
    _compare_with_tf(lambda m, x, y: m.linalg.triangular_solve(x, y), a[0], b)
    tall = rand(2, 5, 3, dtype=dtype) + np.eye(5, 3)
    _compare_with_tf(lambda m, x, y: m.linalg.lstsq(x, y), tall, rand(2, 5, 2, dtype=dtype))
    wide = rand(2, 3, 5, dtype=dtype) + np.eye(3, 5)
    l2 = 0.3 if dtype == "float64" else 0.0  # TF refuses complex128 with a regularizer
    _compare_with_tf(lambda m, x, y: m.linalg.lstsq(x, y, l2_regularizer=l2), wide, b)


def test_matches_tensorflow_misc():
    a = rand(4, 3)
    _compare_with_tf(lambda m, x, y: m.linalg.cross(x, y), a, rand(4, 3))
    for dtype in ["float64", "complex128"]:  # TF has no Lu gradient: values only
        square = rand(2, 4, 4, dtype=dtype)
        (ours, _), (theirs, _) = _run_both(lambda m, x: m.linalg.lu(x).p, square, grad=False)
        np.testing.assert_array_equal(ours, theirs)
        (ours, _), (theirs, _) = _run_both(lambda m, x: m.linalg.lu(x).lu, square, grad=False)
        assert_close(ours, theirs, rtol=1e-10, atol=1e-10)
    (ours, _), (theirs, _) = _run_both(lambda m, x: m.linalg.matrix_rank(x),
                                       np.stack([np.eye(3), np.ones((3, 3))]), grad=False)
    np.testing.assert_array_equal(ours, theirs)


# --- tridiagonal_solve -----------------------------------------------------------------------

def _tridiagonal_matrix(diagonals):
    upper, main, lower = np.moveaxis(diagonals, -2, 0)
    return (np.apply_along_axis(np.diag, -1, main) +
            np.apply_along_axis(lambda d: np.diag(d[:-1], 1), -1, upper) +
            np.apply_along_axis(lambda d: np.diag(d[1:], -1), -1, lower))


@pytest.mark.parametrize("batch", [(), (2,)], ids=["single", "batch"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_tridiagonal_solve_values(batch, dtype):
    diagonals = rand(*batch, 3, 5, dtype=dtype)
    diagonals[..., 1, :] += 4
    rhs = rand(*batch, 5, 2, dtype=dtype)
    expected = np.linalg.solve(_tridiagonal_matrix(diagonals), rhs)
    close(tf.linalg.tridiagonal_solve(diagonals, rhs), expected, dtype)
    sequence = tuple(np.moveaxis(diagonals, -2, 0))
    close(tf.linalg.tridiagonal_solve(sequence, rhs, diagonals_format="sequence"), expected,
          dtype)
    matrix = _tridiagonal_matrix(diagonals) + np.triu(np.ones((5, 5)), 2)  # ignored entries
    close(tf.linalg.tridiagonal_solve(matrix.astype(dtype), rhs, diagonals_format="matrix"),
          expected, dtype)
    close(tf.linalg.tridiagonal_solve(diagonals, np.swapaxes(rhs, -1, -2), transpose_rhs=True),
          expected, dtype)
    close(tf.linalg.tridiagonal_solve(diagonals, rhs[..., 0]), expected[..., 0], dtype)


def test_tridiagonal_solve_singular_gives_nan_like_tf():
    diagonals = np.stack([np.zeros((3, 4)), rand(3, 4) + np.array([[0], [4], [0]])])
    result = tf.linalg.tridiagonal_solve(diagonals, np.ones((2, 4, 1))).numpy()
    assert np.isnan(result[0]).all() and np.isfinite(result[1]).all()


def test_tridiagonal_solve_grad():
    diagonals = rand(2, 3, 4) + np.array([[0], [4], [0]])
    check_grad(tf.linalg.tridiagonal_solve, diagonals, rand(2, 4, 2), order=2)


def test_tridiagonal_solve_errors():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"TridiagonalSolve: .*\[\.\.\., 3, M\].*\(2, 4\)"):
        tf.linalg.tridiagonal_solve(np.ones((2, 4)), np.ones((4, 1)))
    with pytest.raises(errors.InvalidArgumentError, match=r"TridiagonalSolve: .*rows"):
        tf.linalg.tridiagonal_solve(np.ones((3, 4)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="diagonals_format"):
        tf.linalg.tridiagonal_solve(np.ones((3, 4)), np.ones((4, 1)), diagonals_format="band")


def test_tridiagonal_solve_matches_tensorflow():
    diagonals = rand(2, 3, 4)
    diagonals[..., 1, :] += 4
    diagonals[..., 0, -1] = 0  # padding entries: TF's gradient writes zeros there
    diagonals[..., 2, 0] = 0
    _compare_with_tf(lambda m, d, b: m.linalg.tridiagonal_solve(d, b), diagonals, rand(2, 4, 2))


def test_tridiagonal_solve_complex_grad_agrees_with_dense_solve():
    """TF's own complex TridiagonalSolve gradient disagrees with its dense solve; ours agrees."""
    diagonals = tf.constant(rand(3, 4, dtype="complex128") + np.array([[0], [4], [0]]))
    rhs = tf.constant(rand(4, 2, dtype="complex128"))
    weights = tf.constant(rand(4, 2, dtype="complex128"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(diagonals)
        upper, main, lower = tf.unstack(diagonals)
        dense = (tf.linalg.diag(upper[:-1], k=1) + tf.linalg.diag(main) +
                 tf.linalg.diag(lower[1:], k=-1))
        by_op = tf.math.real(tf.reduce_sum(tf.linalg.tridiagonal_solve(diagonals, rhs) * weights))
        by_dense = tf.math.real(tf.reduce_sum(tf.linalg.solve(dense, rhs) * weights))
    expected = tape.gradient(by_dense, diagonals).numpy()
    expected[0, -1] = expected[2, 0] = 0
    close(tape.gradient(by_op, diagonals), expected, "complex128")
