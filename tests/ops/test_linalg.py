"""Tests for ndflow/ops/linalg.py: matmul, einsum, tensordot, matvec, norms, band parts,
diagonals, trace and matrix transposes, against NumPy; gradients to second order."""

import ml_dtypes
import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from ndflow.framework.op_registry import Spec, get
from tests.helpers import assert_close, check_grad, check_op

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float64):
    return RNG.uniform(-1, 1, size=shape).astype(dtype)


# --- matmul ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "complex64"])
def test_matmul_values(dtype):
    a = (rand(2, 3) * 5).astype(dtype)
    b = (rand(3, 4) * 5).astype(dtype)
    check_op(tf.matmul, np.matmul, a, b)


@pytest.mark.parametrize("shape_a,shape_b", [
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((0, 3, 4), (4, 2)),
    ((2, 3, 0), (2, 0, 4)),
], ids=["batch", "broadcast-batch", "matrix-times-batch", "batch-times-matrix", "empty-batch",
        "empty-inner"])
def test_matmul_batched_broadcasting(shape_a, shape_b):
    check_op(tf.matmul, np.matmul, rand(*shape_a), rand(*shape_b))


def _flagged(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False):
    swap = np.swapaxes
    a = swap(a, -1, -2) if transpose_a else np.conj(swap(a, -1, -2)) if adjoint_a else a
    b = swap(b, -1, -2) if transpose_b else np.conj(swap(b, -1, -2)) if adjoint_b else b
    return np.matmul(a, b)


FLAGS = [dict(transpose_a=True), dict(transpose_b=True), dict(transpose_a=True, transpose_b=True),
         dict(adjoint_a=True), dict(adjoint_b=True), dict(adjoint_a=True, transpose_b=True)]
FLAG_IDS = ["ta", "tb", "ta-tb", "adj-a", "adj-b", "adj-a-tb"]


def _operands(flags, batch, dtype=np.float64):
    a_shape = (3, 2) if flags.get("transpose_a") or flags.get("adjoint_a") else (2, 3)
    b_shape = (4, 3) if flags.get("transpose_b") or flags.get("adjoint_b") else (3, 4)
    a, b = rand(*batch, *a_shape), rand(*b_shape)
    if np.dtype(dtype).kind == "c":
        a = (a + 1j * rand(*a.shape)).astype(dtype)
        b = (b + 1j * rand(*b.shape)).astype(dtype)
    return a, b


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("batch", [(), (2,)], ids=["matrix", "batched"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
def test_matmul_transpose_and_adjoint(flags, batch, dtype):
    a, b = _operands(flags, batch, dtype)
    check_op(tf.matmul, _flagged, a, b, **flags)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matmul_half_precision_computes_in_float32(dtype):
    np_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.float16
    a, b = rand(4, 8).astype(np_dtype), rand(8, 3).astype(np_dtype)
    result = tf.matmul(a, b)
    assert result.dtype == tf.as_dtype(dtype)
    expected = (a.astype(np.float32) @ b.astype(np.float32)).astype(np_dtype)
    np.testing.assert_array_equal(result.numpy().astype(np.float32), expected.astype(np.float32))
    batched = tf.matmul(np.stack([a, a]), b)
    assert batched.dtype == tf.as_dtype(dtype) and batched.shape == (2, 4, 3)


def test_matmul_operator_variables_and_python_lists():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert_close((a @ a).numpy(), [[7.0, 10.0], [15.0, 22.0]])
    assert_close(tf.matmul([[1.0, 0.0]], a).numpy(), [[1.0, 2.0]])
    v = tf.Variable([[1.0], [1.0]])
    assert_close(tf.matmul(a, v).numpy(), [[3.0], [7.0]])
    assert_close(tf.linalg.matmul(v, a, transpose_a=True).numpy(), [[4.0, 6.0]])


def test_matmul_output_type_int8_to_int32():
    a = np.full((2, 3), 100, dtype=np.int8)
    result = tf.matmul(a, a.T, output_type=tf.int32)
    assert result.dtype == tf.int32
    np.testing.assert_array_equal(result.numpy(), np.full((2, 2), 30000))


@pytest.mark.parametrize("fn,shapes,message", [
    (tf.matmul, ((2, 3), (4, 5)), "MatMul: inner dimensions must match, got shapes (2, 3) and "
                                  "(4, 5)"),
    (tf.matmul, ((3,), (3, 4)), "BatchMatMulV2: inputs must have rank >= 2"),
    (tf.matmul, ((2, 2, 3), (3, 3, 4)), "batch dimensions must broadcast, got shapes "
                                        "(2, 2, 3) and (3, 3, 4)"),
    (tf.matmul, ((2, 2, 3), (2, 4, 4)), "BatchMatMulV2: inner dimensions must match, got shapes "
                                        "(2, 2, 3) and (2, 4, 4)"),
], ids=["inner", "vector", "batch", "batched-inner"])
def test_matmul_shape_errors(fn, shapes, message):
    with pytest.raises(errors.InvalidArgumentError) as info:
        fn(*[tf.ones(s) for s in shapes])
    assert message in str(info.value)
    assert str(shapes[0]) in str(info.value)


def test_matmul_dtype_errors():
    with pytest.raises(errors.InvalidArgumentError, match="MatMul: cannot mix dtypes float32 "
                                                          "and float64"):
        tf.matmul(tf.ones([2, 2]), tf.ones([2, 2], tf.float64))
    with pytest.raises(errors.InvalidArgumentError, match="MatMul: dtype int8 is not supported"):
        tf.matmul(tf.ones([2, 2], tf.int8), tf.ones([2, 2], tf.int8))
    with pytest.raises(errors.InvalidArgumentError, match="MatMul: output_type float64"):
        tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]), output_type=tf.float64)
    with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
        tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]), transpose_a=True, adjoint_a=True)


def test_matmul_infer_with_unknown_dims():
    spec = get("MatMul").infer(Spec((None, 3), tf.float32), Spec((3, None), tf.float32),
                               transpose_a=False, transpose_b=False)
    assert spec.shape == (None, None)
    spec = get("BatchMatMulV2").infer(Spec((None, 1, 2, 3), tf.float32),
                                      Spec((5, 3, 4), tf.float32), adj_x=False, adj_y=False)
    assert spec.shape == (None, 5, 2, 4)
    assert get("BatchMatMulV2").infer(Spec(None, tf.float32), Spec((3, 4), tf.float32),
                                      adj_x=False, adj_y=False).shape is None


@pytest.mark.parametrize("flags", [{}] + FLAGS, ids=["plain"] + FLAG_IDS)
def test_matmul_grad(flags):
    a, b = _operands(flags, ())
    check_grad(lambda x, y: tf.matmul(x, y, **flags), a, b, order=2)


@pytest.mark.parametrize("shape_a,shape_b", [((2, 3, 4), (2, 4, 2)), ((2, 1, 3, 4), (3, 4, 2)),
                                             ((3, 4), (2, 4, 2))],
                         ids=["batch", "broadcast-batch", "matrix-times-batch"])
@pytest.mark.parametrize("flags", [{}, dict(adjoint_a=True, adjoint_b=True)],
                         ids=["plain", "adjoints"])
def test_batch_matmul_grad_reduces_broadcast_batch(shape_a, shape_b, flags):
    if flags:
        shape_a = shape_a[:-2] + shape_a[-2:][::-1]
        shape_b = shape_b[:-2] + shape_b[-2:][::-1]
    grads = check_grad(lambda x, y: tf.matmul(x, y, **flags), rand(*shape_a), rand(*shape_b),
                       order=2)
    assert grads[0].shape == shape_a and grads[1].shape == shape_b


def test_matmul_complex_grad_matches_tf_convention():
    a = tf.constant([[1 + 2j]], tf.complex128)
    b = tf.constant([[3 - 1j]], tf.complex128)
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = tf.matmul(a, b)
    # TF's convention: the gradient is dy * conj(dy/da).
    assert_close(tape.gradient(y, a).numpy(), [[3 + 1j]])


def test_matmul_hand_computed_gradient():
    a = tf.constant([[1.0, 2.0]])
    b = tf.constant([[3.0], [4.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = tf.matmul(a, b)
    assert_close(tape.gradient(y, a).numpy(), [[3.0, 4.0]])
    assert_close(tape.gradient(y, b).numpy(), [[1.0], [2.0]])


# --- einsum ----------------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
    ("i...j,j->i...", [(2, 3, 4), (4,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(4,)] * 2),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bA,a", [(2, 3), (3,)]),
    ("ij,ij->ij", [(0, 3), (0, 3)]),
]
EINSUM_IDS = ["matmul", "implicit", "batch", "ellipsis-broadcast", "ellipsis-middle",
              "transpose", "sum", "diagonal", "trace", "outer", "dot", "chain", "mixed-case",
              "empty"]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=EINSUM_IDS)
def test_einsum_values(equation, shapes):
    arrays = [rand(*s) for s in shapes]
    check_op(lambda *t: tf.einsum(equation, *t), lambda *a: np.einsum(equation, *a), *arrays)


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_einsum_dtypes(dtype):
    a = (rand(2, 3) * 4).astype(dtype)
    b = (rand(3, 2) * 4).astype(dtype)
    check_op(lambda x, y: tf.linalg.einsum("ij,jk->ik", x, y),
             lambda x, y: np.einsum("ij,jk->ik", x, y), a, b)


@pytest.mark.parametrize("equation,shapes", [e for e in EINSUMS if 0 not in e[1][0]],
                         ids=[i for i, e in zip(EINSUM_IDS, EINSUMS) if 0 not in e[1][0]])
def test_einsum_grad(equation, shapes):
    check_grad(lambda *t: tf.einsum(equation, *t), *[rand(*s) for s in shapes], order=2)


def test_einsum_grad_of_summed_label_is_broadcast():
    x = tf.constant(np.ones((2, 3)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.einsum("ij->i", x)
    assert_close(tape.gradient(y, x).numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("call,error,message", [
    (lambda: tf.einsum("ij,jk->ik", tf.ones([3, 3])), ValueError,
     'Got 1 inputs for equation "ij,jk->ik", expecting 2'),
    (lambda: tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([4, 5])), errors.InvalidArgumentError,
     "Einsum: subscript 'j' of 'ij,jk->ik' has dimensions 3 and 4, got shapes (2, 3), (4, 5)"),
    (lambda: tf.einsum("ijk->i", tf.ones([2, 3])), errors.InvalidArgumentError,
     "Einsum: subscripts 'ijk' of 'ijk->i' do not fit an operand of shape (2, 3)"),
    (lambda: tf.einsum("ij->k", tf.ones([2, 3])), ValueError,
     "output subscript 'k' does not appear"),
    (lambda: tf.einsum("i1->i", tf.ones([2, 3])), ValueError, "invalid subscripts"),
], ids=["operand-count", "dimension-mismatch", "rank-mismatch", "unknown-output", "bad-char"])
def test_einsum_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_einsum_infer_with_unknown_dims():
    infer = get("Einsum").infer
    spec = infer(Spec((None, 3), tf.float32), Spec((3, None), tf.float32),
                 equation="ij,jk->ik")
    assert spec.shape == (None, None)
    spec = infer(Spec((None, 2, 3), tf.float32), Spec((3, 4), tf.float32),
                 equation="...ij,jk->...ik")
    assert spec.shape == (None, 2, 4)
    assert infer(Spec(None, tf.float32), equation="...i->...").shape is None


# --- tensordot and matvec --------------------------------------------------------------------

@pytest.mark.parametrize("shapes,axes", [
    (((2, 3), (3, 4)), 1),
    (((2, 3, 4), (3, 4, 5)), 2),
    (((2, 3), (4,)), 0),
    (((2, 3, 4), (4, 2, 3)), [[1, 2], [2, 0]]),
    (((3, 2), (3, 4)), [0, 0]),
    (((2, 3, 4), (5, 4)), [[-1], [1]]),
], ids=["one", "two", "outer", "pairs", "scalar-pair", "negative"])
def test_tensordot(shapes, axes):
    arrays = [rand(*s) for s in shapes]
    check_op(lambda a, b: tf.tensordot(a, b, axes), lambda a, b: np.tensordot(a, b, axes),
             *arrays)
    check_grad(lambda a, b: tf.tensordot(a, b, axes), *arrays, order=2)


def test_tensordot_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Tensordot: contracted dimensions "
                                                          r"must match, got shapes \(2, 3\)"):
        tf.tensordot(tf.ones([2, 3]), tf.ones([4, 5]), 1)
    with pytest.raises(ValueError, match="Tensordot: 'axes' must be in"):
        tf.tensordot(tf.ones([2, 3]), tf.ones([3, 5]), 3)
    with pytest.raises(ValueError, match="equal length"):
        tf.tensordot(tf.ones([2, 3]), tf.ones([3, 5]), [[0, 1], [0]])


@pytest.mark.parametrize("flags", [{}, dict(transpose_a=True), dict(adjoint_a=True)],
                         ids=["plain", "transpose", "adjoint"])
def test_matvec(flags):
    a, b = rand(2, 3, 3), rand(3)
    expected = np.einsum("...ij,...j->...i", np.swapaxes(a, -1, -2) if flags else a, b)
    assert_close(tf.linalg.matvec(a, b, **flags).numpy(), expected)
    check_grad(lambda x, y: tf.linalg.matvec(x, y, **flags), a, b, order=2)


# --- transposes, bands and diagonals ---------------------------------------------------------

def test_matrix_transpose_and_adjoint():
    x = rand(2, 3, 4) + 1j * rand(2, 3, 4)
    assert_close(tf.linalg.matrix_transpose(x).numpy(), np.swapaxes(x, -1, -2))
    assert_close(tf.linalg.adjoint(x).numpy(), np.conj(np.swapaxes(x, -1, -2)))
    check_grad(tf.linalg.matrix_transpose, rand(2, 3, 4), order=2)
    with pytest.raises(ValueError, match=r"matrix_transpose: input must have rank >= 2, got "
                                         r"shape \(3,\)"):
        tf.linalg.matrix_transpose(tf.ones([3]))


def _band(x, lower, upper):
    rows, cols = np.indices(x.shape[-2:])
    keep = ((lower < 0) | (rows - cols <= lower)) & ((upper < 0) | (cols - rows <= upper))
    return np.where(keep, x, 0)


@pytest.mark.parametrize("lower,upper", [(0, 0), (1, 0), (0, -1), (-1, 1), (-1, -1), (2, 5)])
def test_band_part(lower, upper):
    x = rand(2, 4, 5)
    check_op(lambda t: tf.linalg.band_part(t, lower, upper), lambda a: _band(a, lower, upper), x)
    check_grad(lambda t: tf.linalg.band_part(t, lower, upper), x, order=2)


def test_band_part_integer_and_error():
    x = np.arange(9, dtype=np.int32).reshape(3, 3)
    np.testing.assert_array_equal(tf.linalg.band_part(x, 0, -1).numpy(), np.triu(x))
    with pytest.raises(errors.InvalidArgumentError, match=r"MatrixBandPart: input must have "
                                                          r"rank >= 2, got shape \(3,\)"):
        tf.linalg.band_part(tf.ones([3]), 0, 0)


@pytest.mark.parametrize("shape", [(3,), (2, 4), (0,)], ids=["vector", "batch", "empty"])
def test_diag(shape):
    d = rand(*shape)
    expected = d[..., :, None] * np.eye(shape[-1])
    check_op(tf.linalg.diag, lambda a: expected, d)
    if 0 not in shape:
        check_grad(tf.linalg.diag, d, order=2)


def test_diag_offsets_and_sizes():
    d = np.array([1.0, 2.0], np.float32)
    assert_close(tf.linalg.diag(d, k=1).numpy(), np.diag(d, k=1))
    assert_close(tf.linalg.diag(d, k=-1).numpy(), np.diag(d, k=-1))
    assert_close(tf.linalg.diag(d, k=1, num_cols=4).numpy(),
                 [[0, 1, 0, 0], [0, 0, 2, 0]])
    assert_close(tf.linalg.diag(d, padding_value=9).numpy(), [[1, 9], [9, 2]])
    with pytest.raises(errors.InvalidArgumentError, match="MatrixDiagV3: a diagonal of length 2"):
        tf.linalg.diag(d, num_rows=5, num_cols=5)
    with pytest.raises(errors.InvalidArgumentError, match="single diagonal k"):
        tf.linalg.diag(d, k=(0, 1))


@pytest.mark.parametrize("shape,k", [((3, 3), 0), ((2, 3, 4), 0), ((3, 4), 1), ((4, 3), -2)],
                         ids=["square", "batch-wide", "upper", "lower"])
def test_diag_part_and_set_diag(shape, k):
    x = rand(*shape)
    check_op(lambda t: tf.linalg.diag_part(t, k=k),
             lambda a: np.diagonal(a, offset=k, axis1=-2, axis2=-1), x)
    check_grad(lambda t: tf.linalg.diag_part(t, k=k), x, order=2)
    d = rand(*np.diagonal(x, offset=k, axis1=-2, axis2=-1).shape)

    def reference(a, b):
        out = a.copy()
        rows, cols = np.nonzero(np.eye(*a.shape[-2:], k=k))
        out[..., rows, cols] = b
        return out

    check_op(lambda a, b: tf.linalg.set_diag(a, b, k=k), reference, x, d)
    check_grad(lambda a, b: tf.linalg.set_diag(a, b, k=k), x, d, order=2)


def test_set_diag_shape_error():
    with pytest.raises(errors.InvalidArgumentError, match=r"MatrixSetDiagV3: diagonal must have "
                                                          r"shape \(3,\) for input shape \(3, 3\)"):
        tf.linalg.set_diag(tf.ones([3, 3]), tf.ones([2]))
    with pytest.raises(errors.InvalidArgumentError, match=r"MatrixDiagPartV3: input must have "
                                                          r"rank >= 2, got shape \(3,\)"):
        tf.linalg.diag_part(tf.ones([3]))


def test_trace():
    x = rand(2, 3, 3)
    check_op(tf.linalg.trace, lambda a: np.trace(a, axis1=-2, axis2=-1), x)
    check_grad(tf.linalg.trace, x, order=2)
    assert int(tf.linalg.trace(np.eye(4, dtype=np.int32))) == 4


# --- norms -----------------------------------------------------------------------------------

VECTOR_NORMS = [("euclidean", None), (2, 0), (1, -1), (np.inf, 1), (3, None), (0.5, 1)]


@pytest.mark.parametrize("ord_,axis", VECTOR_NORMS,
                         ids=["euclidean", "two", "one", "inf", "three", "half"])
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
def test_vector_norm(ord_, axis, keepdims):
    x = rand(3, 4) + np.sign(rand(3, 4)) * 0.1  # away from 0, where |x| has a kink
    reference = np.linalg.norm(x.reshape(-1) if axis is None else x,
                               ord=2 if ord_ == "euclidean" else ord_,
                               axis=None if axis is None else axis,
                               keepdims=keepdims and axis is not None)
    if axis is None and keepdims:
        reference = np.reshape(reference, (1, 1))
    result = tf.norm(x, ord=ord_, axis=axis, keepdims=keepdims)
    assert_close(result.numpy(), reference)
    check_grad(lambda t: tf.norm(t, ord=ord_, axis=axis, keepdims=keepdims), x,
               order=1 if ord_ == np.inf else 2)


@pytest.mark.parametrize("ord_", ["fro", "euclidean", 1, np.inf], ids=["fro", "euclid", "one",
                                                                        "inf"])
@pytest.mark.parametrize("axis", [(-2, -1), (2, 0)], ids=["last", "outer"])
def test_matrix_norm(ord_, axis):
    x = rand(2, 3, 4) + np.sign(rand(2, 3, 4)) * 0.1
    reference = np.linalg.norm(x, ord="fro" if ord_ == "euclidean" else ord_, axis=axis)
    assert_close(tf.linalg.norm(x, ord=ord_, axis=axis).numpy(), reference)
    kept = tf.norm(x, ord=ord_, axis=axis, keepdims=True)
    assert kept.shape == np.linalg.norm(x, ord="fro" if ord_ == "euclidean" else ord_,
                                        axis=axis, keepdims=True).shape
    check_grad(lambda t: tf.norm(t, ord=ord_, axis=axis), x, order=1 if ord_ in (1, np.inf)
               else 2)


def test_norm_complex_euclidean_is_complex_like_tf():
    result = tf.norm(tf.constant([3 + 4j, 0j], tf.complex64))
    assert result.dtype == tf.complex64
    assert_close(result.numpy(), 5.0 + 0j)
    assert tf.norm(tf.constant([3 + 4j], tf.complex64), ord=1).dtype == tf.float32


@pytest.mark.parametrize("kwargs,message", [
    (dict(ord="fro"), "'ord' must be a supported vector norm, got fro"),
    (dict(ord=-1), "'ord' must be a supported vector norm, got -1"),
    (dict(ord=3, axis=[0, 1]), "'ord' must be a supported matrix norm"),
    (dict(axis=[0, 1, 1]), "'axis' must be None, an integer, or a tuple of 2 unique integers"),
    (dict(axis=[1, -1]), "'axis' must be None, an integer, or a tuple of 2 unique integers"),
], ids=["fro-vector", "negative", "matrix-ord", "three-axes", "same-axis"])
def test_norm_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        tf.norm(tf.ones([2, 2]), **kwargs)
    assert message in str(info.value)


def test_public_names():
    for name in ["matmul", "einsum", "tensordot", "norm"]:
        assert getattr(tf, name) is getattr(tf.linalg, name)
    for name in ["matvec", "matrix_transpose", "adjoint", "band_part", "diag", "diag_part",
                 "set_diag", "trace"]:
        assert callable(getattr(tf.linalg, name))


def test_matrix_two_norm_is_the_largest_singular_value():
    from ndflow.ops import linalg_ext

    if not hasattr(linalg_ext, "svd"):
        pytest.skip("the matrix 2-norm needs tf.linalg.svd (issue #3), not available")
    x = rand(2, 3, 4)
    for axis in [(-2, -1), (2, 0)]:
        assert_close(tf.norm(x, ord=2, axis=axis).numpy(), np.linalg.norm(x, 2, axis=axis))
        assert tf.norm(x, ord=2, axis=axis, keepdims=True).shape == np.linalg.norm(
            x, 2, axis=axis, keepdims=True).shape
    check_grad(lambda t: tf.norm(t, ord=2, axis=[-2, -1]), x, order=2)


def test_products_and_gradients_inside_tf_function_with_unknown_batch():
    w = tf.Variable(np.ones((3, 2), np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def step(x):
        with tf.GradientTape() as tape:
            y = (tf.reduce_sum(tf.matmul(x, w)) + tf.reduce_sum(tf.einsum("ij,jk->ik", x, w))
                 + tf.reduce_sum(tf.tensordot(x, w, 1))
                 + tf.reduce_sum(tf.tensordot(x, x, [[1], [1]])))
        return y, tape.gradient(y, w)

    value, grad = step(tf.ones([4, 3]))
    assert float(value) == 3 * 24.0 + 48.0
    assert_close(grad.numpy(), np.full((3, 2), 12.0))
