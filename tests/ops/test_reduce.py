"""Tests for ndflow/ops/reduce.py: reductions, arg reductions, top_k, scans, bincount and
segment ops against NumPy, with gradients checked against finite differences."""

import warnings

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from ndflow.ops import reduce as reduce_ops
from tests.helpers import assert_close, check_grad

X = np.random.default_rng(0).uniform(-2, 2, size=(2, 3, 4))
AXES = [None, 0, 1, -1, [0, 2], [-1, 0, 1], []]
AXIS_IDS = ["all", "0", "1", "-1", "0_2", "all_list", "none"]


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


REDUCTIONS = [
    ("sum", tf.reduce_sum, np.sum, 2),
    ("mean", tf.reduce_mean, np.mean, 2),
    ("max", tf.reduce_max, np.max, 1),
    ("min", tf.reduce_min, np.min, 1),
    ("prod", tf.reduce_prod, np.prod, 2),
    ("logsumexp", tf.reduce_logsumexp,
     lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)), 2),
    ("variance", tf.math.reduce_variance, np.var, 2),
    ("std", tf.math.reduce_std, np.std, 2),
    ("euclidean_norm", tf.math.reduce_euclidean_norm,
     lambda a, axis, keepdims: np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims)), 2),
]
RED_IDS = [r[0] for r in REDUCTIONS]


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("axis", AXES, ids=AXIS_IDS)
@pytest.mark.parametrize("name, fn, ref, order", REDUCTIONS, ids=RED_IDS)
def test_reduction_values(name, fn, ref, order, axis, keepdims):
    result = fn(tf.constant(X.astype(np.float32)), axis=axis, keepdims=keepdims)
    expected = ref(X, axis=_np_axis(axis), keepdims=keepdims)
    assert result.shape == expected.shape and result.dtype == tf.float32
    assert_close(result.numpy(), expected, tf.float32, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("name, fn, ref, order", REDUCTIONS, ids=RED_IDS)
def test_reduction_dtypes(name, fn, ref, order, dtype):
    np_dtype = tf.as_dtype(dtype).as_numpy_dtype
    values = X.astype(np_dtype)
    result = fn(tf.constant(values), axis=1)
    assert result.dtype == tf.as_dtype(dtype)
    assert_close(result.numpy(), ref(values.astype(np.float64), axis=1, keepdims=False),
                 tf.as_dtype(dtype))


@pytest.mark.parametrize("axis", [None, 1, [0, 2]], ids=["all", "1", "0_2"])
@pytest.mark.parametrize("name, fn, ref, order", REDUCTIONS, ids=RED_IDS)
def test_reduction_gradients(name, fn, ref, order, axis):
    values = X[:, :2, :3] + 0.01 * np.arange(12).reshape(2, 2, 3)  # no ties
    check_grad(lambda t: fn(t, axis=axis), values, order=order)
    check_grad(lambda t: fn(t, axis=axis, keepdims=True), values, order=1)


@pytest.mark.parametrize("fn, expected", [
    (tf.reduce_sum, 0.0), (tf.reduce_mean, np.nan), (tf.reduce_max, -np.inf),
    (tf.reduce_min, np.inf), (tf.reduce_prod, 1.0), (tf.reduce_logsumexp, -np.inf),
], ids=["sum", "mean", "max", "min", "prod", "logsumexp"])
def test_reductions_of_empty_tensors(fn, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fn(tf.zeros([0, 3]), axis=0)
    assert result.shape == (3,)
    np.testing.assert_array_equal(result.numpy(), np.full(3, expected, np.float32))


def test_integer_reductions():
    x = tf.constant([[1, 2, -4], [5, 7, 0]])
    result = tf.reduce_mean(x, axis=1)
    assert result.dtype == tf.int32
    np.testing.assert_array_equal(result.numpy(), [0, 4])  # -1/3 truncates to 0, 12/3 = 4
    np.testing.assert_array_equal(tf.reduce_mean(tf.constant([1, 2])).numpy(), 1)
    np.testing.assert_array_equal(tf.reduce_sum(x).numpy(), 11)
    np.testing.assert_array_equal(tf.reduce_max(x, 0).numpy(), [5, 7, 0])
    np.testing.assert_array_equal(tf.reduce_prod(x, 1).numpy(), [-8, 0])
    assert tf.reduce_max(tf.zeros([0], tf.int32)).numpy() == np.iinfo(np.int32).min


def test_reduce_any_all_and_tensor_axis():
    b = tf.constant([[True, False], [True, True]])
    np.testing.assert_array_equal(tf.reduce_any(b, 0).numpy(), [True, True])
    np.testing.assert_array_equal(tf.reduce_all(b, tf.constant(1)).numpy(), [False, True])
    np.testing.assert_array_equal(tf.reduce_all(b, keepdims=True).numpy(), [[False]])
    np.testing.assert_allclose(tf.reduce_sum(tf.constant(X), tf.constant([0, 2])).numpy(),
                               X.sum(axis=(0, 2)))


def test_max_gradient_is_split_among_ties():
    x = tf.constant([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_max(x, axis=1)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [[0, 0.5, 0.5], [1 / 3] * 3])


@pytest.mark.parametrize("values, axis", [
    ([[0.0, 2.0, 3.0], [4.0, 5.0, 6.0]], None), ([[0.0, 2.0, 0.0], [4.0, 5.0, 6.0]], 1),
    ([[0.0, 2.0, 3.0], [4.0, 0.0, 6.0]], [0, 1]),
], ids=["one_zero", "two_zeros_row", "zeros_all"])
def test_prod_gradient_with_zeros(values, axis):
    values = np.array(values)
    x = tf.constant(values)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_prod(x, axis=axis)
    expected = np.zeros_like(values)
    for index in np.ndindex(values.shape):
        bumped = values.copy()
        bumped[index] = 1.0
        others = np.prod(bumped, axis=_np_axis(axis), keepdims=True)
        expected[index] = np.broadcast_to(others, values.shape)[index]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected)


def test_logsumexp_is_stable():
    x = tf.constant([[1000.0, 1000.0], [-1000.0, -np.inf], [-np.inf, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = tf.reduce_logsumexp(x, axis=1).numpy()
    np.testing.assert_allclose(result, [1000 + np.log(2), -1000, -np.inf])


def test_count_nonzero():
    x = tf.constant([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    result = tf.math.count_nonzero(x, axis=1)
    assert result.dtype == tf.int64
    np.testing.assert_array_equal(result.numpy(), [2, 1])
    assert tf.math.count_nonzero(tf.constant([True, False]), dtype=tf.int32).numpy() == 1


@pytest.mark.parametrize("name, fn, op_name", [
    ("sum", tf.reduce_sum, "Sum"), ("max", tf.reduce_max, "Max"), ("mean", tf.reduce_mean, "Mean"),
], ids=["sum", "max", "mean"])
def test_bad_axis_names_op_and_shape(name, fn, op_name):
    with pytest.raises(errors.InvalidArgumentError, match=rf"{op_name}.*3.*\[2, 3\]"):
        fn(tf.zeros([2, 3]), axis=3)


def test_reduction_dtype_errors():
    with pytest.raises(errors.InvalidArgumentError, match="Any.*float32"):
        tf.reduce_any(tf.constant([1.0]))
    with pytest.raises(TypeError, match="reduce_variance.*int32"):
        tf.math.reduce_variance(tf.constant([1, 2]))


def test_restore_reduced_and_unbroadcast_with_unknown_shapes():
    """The gradient helpers take the shape-tensor path when static shapes are not known."""

    class _Op:
        def __init__(self, x, axis, keepdims):
            self.inputs, self._attrs = [x], {"axis": axis, "keepdims": keepdims}

        def get_attr(self, name):
            return self._attrs[name]

    class _Unknown:  # a tensor whose static shape is partly or fully unknown
        def __init__(self, tensor, shape):
            self.tensor, self.shape = tensor, tf.TensorShape(shape)

    x = tf.constant(X)
    dy = tf.reduce_sum(x, axis=[0, 2])
    partial = _Unknown(x, [None, 3, None])
    unknown_rank = _Unknown(x, None)
    for fake in (partial, unknown_rank):
        kept = reduce_ops._kept_shape(_Fake(fake), (0, -1))
        np.testing.assert_array_equal(np.asarray(kept), [1, 3, 1])
    restored = reduce_ops._restore_reduced(dy, _Op(_Fake(partial), (0, 2), False))
    assert restored.shape == (1, 3, 1)
    big = tf.constant(np.ones((2, 3, 4)))
    summed = reduce_ops.unbroadcast_dynamic(big, _Fake(_Unknown(tf.constant(np.ones((3, 1))),
                                                                [None, None])))
    np.testing.assert_array_equal(summed.numpy(), np.full((3, 1), 8.0))


class _Fake:
    """Looks like a tensor with an unknown static shape; ops see the real tensor."""

    def __init__(self, unknown):
        self._unknown = unknown

    @property
    def shape(self):
        return self._unknown.shape

    def __tf_tensor__(self, dtype=None, name=None):
        return self._unknown.tensor

    @property
    def dtype(self):
        return self._unknown.tensor.dtype


# --- arg reductions and top_k ----------------------------------------------------------------

@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=["default", "0", "1", "-1"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bfloat16"])
def test_argmax_argmin(axis, dtype):
    values = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 0]]).astype(
        tf.as_dtype(dtype).as_numpy_dtype)
    x = tf.constant(values)
    np_axis = 0 if axis is None else axis
    result = tf.argmax(x, axis=axis)
    assert result.dtype == tf.int64
    np.testing.assert_array_equal(result.numpy(), np.argmax(values, axis=np_axis))
    np.testing.assert_array_equal(tf.argmin(x, axis, output_type=tf.int32).numpy(),
                                  np.argmin(values, axis=np_axis))
    assert tf.argmin(x, axis, output_type=tf.int32).dtype == tf.int32


def test_argmax_skips_nan_like_tf_and_errors():
    assert tf.argmax(tf.constant([1.0, np.nan, 3.0])).numpy() == 2
    with pytest.raises(errors.InvalidArgumentError, match=r"ArgMax.*2.*\[2, 3\]"):
        tf.argmax(tf.zeros([2, 3]), axis=2)
    with pytest.raises(errors.InvalidArgumentError, match=r"ArgMin.*empty.*\[0, 3\]"):
        tf.argmin(tf.zeros([0, 3]), axis=0)


def test_top_k_values_indices_and_ties():
    values, indices = tf.math.top_k(tf.constant([1, 3, 3, 2, 3]), 3)
    np.testing.assert_array_equal(values.numpy(), [3, 3, 3])
    np.testing.assert_array_equal(indices.numpy(), [1, 2, 4])
    assert indices.dtype == tf.int32
    x = np.random.default_rng(1).permutation(24).reshape(2, 3, 4).astype(np.float32)
    result = tf.math.top_k(tf.constant(x), k=2)
    np.testing.assert_array_equal(result.values.numpy(), -np.sort(-x, axis=-1)[..., :2])
    np.testing.assert_array_equal(result.indices.numpy(), np.argsort(-x, axis=-1)[..., :2])
    nan = tf.math.top_k(tf.constant([1.0, np.nan, 3.0]), 2)
    np.testing.assert_array_equal(nan.indices.numpy(), [1, 2])  # NaN counts as largest
    assert tf.nn.top_k is tf.math.top_k


def test_top_k_gradient_scatters_to_indices():
    x = np.random.default_rng(2).permutation(12).reshape(3, 4).astype(np.float64)
    check_grad(lambda t: tf.math.top_k(t, k=2).values, x, order=2)
    t = tf.constant([[1.0, 5.0, 3.0]])
    with tf.GradientTape() as tape:
        tape.watch(t)
        top = tf.math.top_k(t, 2).values * tf.constant([[10.0, 1.0]])
    np.testing.assert_array_equal(tape.gradient(top, t).numpy(), [[0, 10, 1]])


def test_top_k_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"TopKV2.*k=5.*\[2, 3\]"):
        tf.math.top_k(tf.zeros([2, 3]), 5)
    with pytest.raises(errors.InvalidArgumentError, match=r"TopKV2.*\[\]"):
        tf.math.top_k(tf.constant(1.0), 1)


# --- scans -----------------------------------------------------------------------------------

def _np_scan(function, identity, a, axis, exclusive, reverse):
    a = np.flip(a, axis) if reverse else a
    result = function(a, axis=axis)
    if exclusive:
        result = np.concatenate([np.full_like(np.take(result, [0], axis), identity),
                                 np.delete(result, -1, axis)], axis)
    return np.flip(result, axis) if reverse else result


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("exclusive", [False, True], ids=["inclusive", "exclusive"])
@pytest.mark.parametrize("axis", [0, 1, -1], ids=["0", "1", "-1"])
def test_cumsum_cumprod(axis, exclusive, reverse):
    x = tf.constant(X)
    result = tf.math.cumsum(x, axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(result.numpy(),
                               _np_scan(np.cumsum, 0, X, axis, exclusive, reverse))
    result = tf.math.cumprod(x, axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(result.numpy(),
                               _np_scan(np.cumprod, 1, X, axis, exclusive, reverse))
    small = X[:, :2, :2]
    check_grad(lambda t: tf.math.cumsum(t, axis, exclusive=exclusive, reverse=reverse), small,
               order=2)
    check_grad(lambda t: tf.math.cumprod(t, axis, exclusive=exclusive, reverse=reverse), small,
               order=2)


def test_cumsum_integer_empty_and_error():
    result = tf.cumsum(tf.constant([1, 2, 3]))
    assert result.dtype == tf.int32
    np.testing.assert_array_equal(result.numpy(), [1, 3, 6])
    assert tf.cumsum(tf.zeros([0, 2]), axis=0, exclusive=True).shape == (0, 2)
    with pytest.raises(errors.InvalidArgumentError, match=r"Cumsum.*axis 2.*\[3\]"):
        tf.cumsum(tf.constant([1, 2, 3]), axis=2)


# --- bincount and segments -------------------------------------------------------------------

def test_bincount():
    arr = tf.constant([1, 1, 3, 0, 5])
    np.testing.assert_array_equal(tf.math.bincount(arr).numpy(), [1, 2, 0, 1, 0, 1])
    np.testing.assert_array_equal(tf.math.bincount(arr, minlength=8).numpy(),
                                  [1, 2, 0, 1, 0, 1, 0, 0])
    np.testing.assert_array_equal(tf.math.bincount(arr, maxlength=2).numpy(), [1, 2])
    weighted = tf.math.bincount(arr, weights=tf.constant([0.5, 1.0, 2.0, 1.0, 1.0]))
    assert weighted.dtype == tf.float32
    np.testing.assert_allclose(weighted.numpy(), [1, 1.5, 0, 2, 0, 1])
    binary = tf.math.bincount(arr, binary_output=True)
    np.testing.assert_array_equal(binary.numpy(), [1, 1, 0, 1, 0, 1])
    rows = tf.math.bincount(tf.constant([[1, 1], [0, 2]]), axis=-1)
    np.testing.assert_array_equal(rows.numpy(), [[0, 2, 0], [1, 0, 1]])
    assert tf.math.bincount(tf.constant([], tf.int32)).shape == (0,)
    assert tf.math.bincount(arr, dtype=tf.int64).dtype == tf.int64
    with pytest.raises(errors.InvalidArgumentError, match="Bincount.*non-negative"):
        tf.math.bincount(tf.constant([1, -1]))


SEGMENTS = [
    ("sum", tf.math.segment_sum, np.add, 0.0),
    ("mean", tf.math.segment_mean, None, 0.0),
    ("max", tf.math.segment_max, np.maximum, 0.0),
    ("min", tf.math.segment_min, np.minimum, 0.0),
]


def _np_segment(kind, data, ids):
    count = ids[-1] + 1
    out = np.zeros((count,) + data.shape[1:])
    for s in range(count):
        rows = data[ids == s]
        if len(rows):
            out[s] = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[kind](
                rows, axis=0)
    return out


@pytest.mark.parametrize("kind, fn, ufunc, empty", SEGMENTS, ids=[s[0] for s in SEGMENTS])
def test_segment_ops(kind, fn, ufunc, empty):
    data = np.random.default_rng(3).uniform(-2, 2, size=(6, 2))
    ids = np.array([0, 0, 1, 3, 3, 3])
    result = fn(tf.constant(data), tf.constant(ids))
    np.testing.assert_allclose(result.numpy(), _np_segment(kind, data, ids))
    assert result.numpy()[2].tolist() == [empty, empty]  # segment 2 is empty
    check_grad(lambda t: fn(t, tf.constant(ids)), data, order=2 if kind in ("sum", "mean")
               else 1)


def test_segment_max_gradient_splits_ties():
    data = tf.constant([1.0, 3.0, 3.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(data)
        y = tf.math.segment_max(data, tf.constant([0, 0, 0, 1]))
    np.testing.assert_allclose(tape.gradient(y, data).numpy(), [0, 0.5, 0.5, 1])


def test_segment_errors():
    with pytest.raises(errors.InvalidArgumentError, match="SegmentSum.*sorted"):
        tf.math.segment_sum(tf.constant([1.0, 2.0]), tf.constant([1, 0]))
    with pytest.raises(errors.InvalidArgumentError, match=r"SegmentSum.*\[3\].*\[2\]"):
        tf.math.segment_sum(tf.constant([1.0, 2.0]), tf.constant([0, 0, 1]))


def test_unsorted_segment_sum():
    data = np.arange(12.0).reshape(4, 3)
    ids = np.array([2, -1, 0, 2])
    result = tf.math.unsorted_segment_sum(tf.constant(data), tf.constant(ids), 4)
    expected = np.zeros((4, 3))
    for row, s in zip(data, ids):
        if s >= 0:
            expected[s] += row
    np.testing.assert_array_equal(result.numpy(), expected)
    check_grad(lambda t: tf.math.unsorted_segment_sum(t, tf.constant(ids), 3), data, order=2)
    two_d = tf.math.unsorted_segment_sum(tf.constant(data), tf.constant([[0, 1, 0]] * 4), 2)
    np.testing.assert_array_equal(two_d.numpy(), [data[:, [0, 2]].sum(), data[:, 1].sum()])
    with pytest.raises(errors.InvalidArgumentError, match=r"UnsortedSegmentSum.*5.*\[0, 4\)"):
        tf.math.unsorted_segment_sum(tf.constant(data), tf.constant([0, 5, 1, 1]), 4)
    with pytest.raises(errors.InvalidArgumentError, match=r"UnsortedSegmentSum.*\[3\].*\[4, 3\]"):
        tf.math.unsorted_segment_sum(tf.constant(data), tf.constant([0, 1, 1]), 4)


def test_indexed_slices_densify_through_unsorted_segment_sum():
    sparse = tf.IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([2, 2]),
                              tf.constant([3, 2]))
    np.testing.assert_array_equal(tf.convert_to_tensor(sparse).numpy(),
                                  [[0, 0], [0, 0], [4, 6]])


@pytest.mark.parametrize("ids_shape, segments", [((16, 25), 1000), ((400,), 3), ((7,), 7)])
def test_unsorted_segment_sum_of_rows_matches_add_at(ids_shape, segments):
    rng = np.random.default_rng(9)
    data = rng.standard_normal(ids_shape + (8,)).astype(np.float32)
    ids = rng.integers(-1, segments, size=ids_shape).astype(np.int32)  # -1 rows are dropped
    result = tf.math.unsorted_segment_sum(data, ids, segments).numpy()
    expected = np.zeros((segments, 8), np.float64)
    keep = ids.reshape(-1) >= 0
    np.add.at(expected, ids.reshape(-1)[keep], data.reshape(-1, 8)[keep].astype(np.float64))
    assert result.dtype == np.float32 and result.shape == (segments, 8)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
