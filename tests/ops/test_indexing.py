"""Tests for ndflow/ops/indexing.py: slicing, __getitem__, gather/scatter, where, boolean_mask."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import assert_close, check_grad, check_op

RNG = np.random.default_rng(0)
ARRAY = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)


# --- __getitem__ against NumPy ---------------------------------------------------------------

KEYS = {
    "int": 1,
    "negative_int": -1,
    "pair": (1, 2),
    "triple": (1, -2, 3),
    "slice": slice(0, 1),
    "open_slice": slice(None),
    "step": (slice(None), slice(None, None, 2)),
    "negative_step": (slice(None), slice(None, None, -1)),
    "negative_step_bounds": (Ellipsis, slice(3, 0, -2)),
    "clamped": (slice(-10, 10), slice(1, 100)),
    "empty": (slice(2, 1),),
    "ellipsis_last": (Ellipsis, 0),
    "ellipsis_middle": (0, Ellipsis, 1),
    "ellipsis_alone": Ellipsis,
    "newaxis": (None, 1),
    "newaxis_middle": (slice(None), None, 0, None),
    "newaxis_after_ellipsis": (Ellipsis, None),
    "mixed": (slice(1, None), None, Ellipsis, slice(None, None, -3)),
    "list_as_tuple": [0, 1],
}


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_getitem_matches_numpy(key):
    numpy_key = tuple(key) if isinstance(key, list) else key
    check_op(lambda t: t[key], lambda a: a[numpy_key], ARRAY)


def test_getitem_scalar_tensor_index():
    t = tf.constant(ARRAY)
    assert_close(t[tf.constant(1)], ARRAY[1])
    assert_close(t[:, tf.constant(2, tf.int64)], ARRAY[:, 2])
    assert_close(t[tf.constant(-1):], ARRAY[-1:])
    assert_close(t[np.int64(1), np.array(2)], ARRAY[1, 2])


def test_getitem_boolean_mask():
    t = tf.constant(ARRAY)
    mask = ARRAY[:, :, 0] > 10
    assert_close(t[tf.constant(mask)], ARRAY[mask])
    assert_close(t[mask], ARRAY[mask])


def test_getitem_rank0_result_is_tensor():
    result = tf.constant(ARRAY)[1, 2, 3]
    assert result.shape == () and float(result) == ARRAY[1, 2, 3]


def test_getitem_out_of_range_int():
    with pytest.raises(errors.InvalidArgumentError, match=r"StridedSlice.*index 5 of dimension 0"
                                                          r".*\[2, 3, 4\]"):
        tf.constant(ARRAY)[5]
    with pytest.raises(errors.InvalidArgumentError, match=r"index -4 of dimension 1"):
        tf.constant(ARRAY)[:, -4]


def test_getitem_too_many_indices():
    with pytest.raises(errors.InvalidArgumentError, match=r"StridedSlice.*only 3 dims"):
        tf.constant(ARRAY)[0, 0, 0, 0]


@pytest.mark.parametrize("key", [1.5, "a", [[0, 1]], (slice(0.5, 2),)],
                         ids=["float", "string", "nested_list", "float_slice"])
def test_getitem_invalid_index_type(key):
    with pytest.raises(TypeError, match="Only integers, slices"):
        tf.constant(ARRAY)[key]


def test_getitem_gradient_scatters_into_zeros():
    check_grad(lambda t: t[1:, ::-2, None, 1], ARRAY.astype(np.float64), order=2)
    check_grad(lambda t: t[..., 0], ARRAY.astype(np.float64), order=1)


def test_getitem_on_variable():
    v = tf.Variable(ARRAY)
    assert_close(v[0, 1:], ARRAY[0, 1:])


# --- strided_slice and slice -----------------------------------------------------------------

MASK_CASES = {
    "plain": dict(begin=[0, 1], end=[2, 3], strides=[1, 1]),
    "begin_mask": dict(begin=[1, 2], end=[2, 3], strides=[1, 1], begin_mask=0b11),
    "end_mask": dict(begin=[1, 0], end=[0, 1], strides=[1, 1], end_mask=0b01),
    "negative_stride_masks": dict(begin=[0, 0], end=[0, 0], strides=[-1, -2], begin_mask=3,
                                  end_mask=3),
    "ellipsis": dict(begin=[0, 1], end=[0, 2], strides=[1, 1], ellipsis_mask=0b01),
    "new_axis": dict(begin=[0, 0], end=[1, 2], strides=[1, 1], new_axis_mask=0b01),
    "shrink": dict(begin=[1, -1], end=[2, 0], strides=[1, 1], shrink_axis_mask=0b10),
    "all": dict(begin=[1, 0, 1, 0], end=[0, 0, 2, 0], strides=[1, 1, 1, 1], ellipsis_mask=0b10,
                new_axis_mask=0b1000, shrink_axis_mask=0b100, end_mask=0b1),
}
MASK_EXPECTED = {
    "plain": lambda a: a[0:2, 1:3],
    "begin_mask": lambda a: a[:2, :3],
    "end_mask": lambda a: a[1:, 0:1],
    "negative_stride_masks": lambda a: a[::-1, ::-2],
    "ellipsis": lambda a: a[..., 1:2],
    "new_axis": lambda a: a[None, 0:2],
    "shrink": lambda a: a[1:2, -1],
    "all": lambda a: a[1:, ..., 1, None],
}


@pytest.mark.parametrize("name", MASK_CASES, ids=MASK_CASES.keys())
def test_strided_slice_masks(name):
    kwargs = MASK_CASES[name]
    check_op(lambda t: tf.strided_slice(t, **kwargs), MASK_EXPECTED[name], ARRAY)


def test_strided_slice_errors():
    t = tf.constant(ARRAY)
    with pytest.raises(errors.InvalidArgumentError, match=r"StridedSlice: strides\[1\] must be "
                                                          r"non-zero"):
        tf.strided_slice(t, [0, 0], [1, 1], [1, 0])
    with pytest.raises(errors.InvalidArgumentError, match="Multiple ellipses"):
        tf.strided_slice(t, [0, 0], [0, 0], [1, 1], ellipsis_mask=3)
    with pytest.raises(errors.InvalidArgumentError, match="equal size"):
        tf.strided_slice(t, [0, 0], [1], [1, 1])


def test_strided_slice_gradient_second_order_through_grad_op():
    def square_of_slice(t):
        sliced = tf.strided_slice(t, [0, 1], [2, 4], [1, 2])
        return sliced * sliced

    check_grad(square_of_slice, ARRAY.astype(np.float64), order=2)


@pytest.mark.parametrize("begin,size", [([0, 1, 0], [2, -1, 3]), ([1, 0, 2], [1, 3, 2]),
                                        ([0, 0, 0], [0, 3, 4])], ids=["minus_one", "box", "empty"])
def test_slice(begin, size):
    def reference(a):
        stops = [a.shape[i] if s == -1 else b + s for i, (b, s) in enumerate(zip(begin, size))]
        return a[tuple(slice(b, e) for b, e in zip(begin, stops))]

    check_op(lambda t: tf.slice(t, begin, size), reference, ARRAY)
    check_grad(lambda t: tf.slice(t, begin, size), ARRAY.astype(np.float64), order=2)


def test_slice_errors():
    t = tf.constant(ARRAY)
    with pytest.raises(errors.InvalidArgumentError, match=r"Slice: Expected size\[0\] in "
                                                          r"\[0, 2\], but got 3"):
        tf.slice(t, [0, 0, 0], [3, 1, 1])
    with pytest.raises(errors.InvalidArgumentError, match=r"Slice: Expected begin\[1\]"):
        tf.slice(t, [0, 4, 0], [1, 1, 1])
    with pytest.raises(errors.InvalidArgumentError, match=r"Slice: .*size 3.*\[2, 3, 4\]"):
        tf.slice(t, [0, 0], [1, 1])


# --- gather ----------------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, 2, -1], ids=["axis0", "axis1", "axis2", "axis_neg"])
def test_gather_axis(axis):
    indices = np.array([[1, 0], [0, 1]], dtype=np.int32)
    check_op(lambda t: tf.gather(t, indices, axis=axis),
             lambda a: np.take(a, indices, axis=axis), ARRAY)


def test_gather_batch_dims():
    params = RNG.standard_normal((2, 3, 4))
    indices = np.array([[0, 2, 2], [1, 0, 1]], dtype=np.int32)
    expected = np.stack([params[b][:, indices[b]] for b in range(2)])
    check_op(lambda t: tf.gather(t, indices, axis=2, batch_dims=1), lambda a: expected, params)
    check_grad(lambda t: tf.gather(t, indices, axis=2, batch_dims=1), params, order=2)
    check_grad(lambda t: tf.gather(t, indices[:, :2], axis=1, batch_dims=-1), params, order=1)


def test_gather_gradient_axis0_is_indexed_slices():
    params = tf.constant(RNG.standard_normal((4, 2)))
    with tf.GradientTape() as tape:
        tape.watch(params)
        out = tf.gather(params, [3, 1, 3])
    grad = tape.gradient(out, params)
    assert isinstance(grad, tf.IndexedSlices)
    assert_close(grad.indices, [3, 1, 3])
    assert_close(grad.values, np.ones((3, 2)))
    assert tuple(np.asarray(grad.dense_shape)) == (4, 2)


def test_gather_gradient_other_axis_is_dense_and_sums_repeats():
    params = RNG.standard_normal((2, 3))
    grads = check_grad(lambda t: tf.gather(t, [2, 0, 2], axis=1), params, order=2)
    assert isinstance(grads[0], tf.Tensor)
    assert_close(grads[0].numpy() != 0, [[True, False, True]] * 2)


def test_gather_size_zero():
    check_op(lambda t: tf.gather(t, np.zeros((0,), np.int32), axis=1),
             lambda a: a[:, :0], ARRAY)


@pytest.mark.parametrize("index", [3, -1], ids=["too_big", "negative"])
def test_gather_out_of_range(index):
    with pytest.raises(errors.InvalidArgumentError,
                       match=rf"GatherV2: indices\[1\] = {index} is not in \[0, 2\)"):
        tf.gather(tf.constant(ARRAY), [0, index])


def test_gather_bad_axis():
    with pytest.raises(errors.InvalidArgumentError, match=r"GatherV2: Expected axis in the range"
                                                          r" \[-3, 3\), but got 3"):
        tf.gather(tf.constant(ARRAY), [0], axis=3)


# --- gather_nd and scatter -------------------------------------------------------------------

@pytest.mark.parametrize("indices", [[[1, 2]], [[0], [1]], [[[1, 0, 3]]], [[1, 2], [0, 0]]],
                         ids=["pair", "rows", "full_depth_nested", "two_pairs"])
def test_gather_nd(indices):
    indices = np.array(indices, dtype=np.int32)
    check_op(lambda t: tf.gather_nd(t, indices),
             lambda a: a[tuple(np.moveaxis(indices, -1, 0))], ARRAY)
    check_grad(lambda t: tf.gather_nd(t, indices), ARRAY.astype(np.float64), order=2)


def test_gather_nd_batch_dims():
    indices = np.array([[[1], [0]], [[2], [2]]], dtype=np.int32)  # per batch: rows of a[b]
    expected = np.stack([ARRAY[b][indices[b, :, 0]] for b in range(2)])
    check_op(lambda t: tf.gather_nd(t, indices, batch_dims=1), lambda a: expected, ARRAY)
    check_grad(lambda t: tf.gather_nd(t, indices, batch_dims=1), ARRAY.astype(np.float64))


def test_gather_nd_out_of_range():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"GatherNd: indices\[1\] = \[3, 0\] does not index into param "
                             r"shape \[2, 3, 4\]"):
        tf.gather_nd(tf.constant(ARRAY), [[0, 0], [3, 0]])
    with pytest.raises(errors.InvalidArgumentError, match="innermost dimension length"):
        tf.gather_nd(tf.constant(ARRAY[0]), [[0, 0, 0]])


def test_scatter_nd_adds_repeated_indices():
    indices = np.array([[1], [3], [1]], dtype=np.int32)
    updates = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    result = tf.scatter_nd(indices, updates, [5])
    assert_close(result, [0, 4, 0, 2, 0])
    check_grad(lambda u: tf.scatter_nd(indices, u, [5]), updates.astype(np.float64), order=2)


def test_scatter_nd_slices_and_errors():
    indices = np.array([[0], [2]], dtype=np.int64)
    updates = RNG.standard_normal((2, 4))
    expected = np.zeros((3, 4))
    expected[[0, 2]] = updates
    assert_close(tf.scatter_nd(indices, updates, [3, 4]), expected)
    with pytest.raises(errors.InvalidArgumentError, match=r"ScatterNd: indices\[0\] = \[5\] does "
                                                          r"not index into shape \[4\]"):
        tf.scatter_nd([[5]], [1.0], [4])
    with pytest.raises(errors.InvalidArgumentError, match=r"ScatterNd: updates must have shape"):
        tf.scatter_nd([[1]], [1.0, 2.0], [4])


TENSOR_SCATTER = {
    "update": (tf.tensor_scatter_nd_update, lambda r, i, u: r.__setitem__(i, u)),
    "add": (tf.tensor_scatter_nd_add, lambda r, i, u: np.add.at(r, i, u)),
    "sub": (tf.tensor_scatter_nd_sub, lambda r, i, u: np.subtract.at(r, i, u)),
    "max": (tf.tensor_scatter_nd_max, lambda r, i, u: np.maximum.at(r, i, u)),
    "min": (tf.tensor_scatter_nd_min, lambda r, i, u: np.minimum.at(r, i, u)),
}


@pytest.mark.parametrize("name", TENSOR_SCATTER, ids=TENSOR_SCATTER.keys())
def test_tensor_scatter(name):
    fn, apply = TENSOR_SCATTER[name]
    tensor = RNG.standard_normal((4, 3))
    indices = np.array([[0], [2]], dtype=np.int32)
    updates = RNG.standard_normal((2, 3))
    expected = tensor.copy()
    apply(expected, (np.array([0, 2]),), updates)
    assert_close(fn(tensor, indices, updates), expected)
    check_grad(lambda t, u: fn(t, indices, u), tensor, updates, order=2)


def test_tensor_scatter_max_ties_share_gradient():
    tensor = tf.constant([1.0, 2.0])
    updates = tf.constant([1.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([tensor, updates])
        out = tf.tensor_scatter_nd_max(tensor, [[0]], updates)
    assert_close(tape.gradient(out, tensor), [0.5, 1.0])
    assert_close(tape.gradient(out, updates), [0.5])


def test_tensor_scatter_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"TensorScatterUpdate: indices\[0\] = "
                                                          r"\[5\] does not index into shape \[4\]"):
        tf.tensor_scatter_nd_update(tf.zeros([4]), [[5]], [1.0])
    with pytest.raises(errors.InvalidArgumentError, match=r"TensorScatterAdd: cannot mix dtypes"):
        tf.tensor_scatter_nd_add(tf.zeros([4]), [[1]], tf.constant([1], tf.int32))


# --- where and boolean_mask ------------------------------------------------------------------

def test_where_coordinates():
    condition = ARRAY > 17
    result = tf.where(tf.constant(condition))
    assert result.dtype == tf.int64
    assert_close(result, np.argwhere(condition))
    assert tf.where(tf.constant(np.zeros((2, 0), bool))).shape == (0, 2)


def test_where_select_broadcasts():
    condition = np.array([True, False, True])
    x = RNG.standard_normal((2, 3))
    y = RNG.standard_normal((1, 3))
    check_op(lambda c, a, b: tf.where(c, a, b), np.where, condition, x, y,
             expect_dtype=tf.float64)
    check_grad(lambda a, b: tf.where(condition, a, b), x, y, order=2)


def test_where_errors():
    with pytest.raises(ValueError, match="both be non-None"):
        tf.where([True], [1.0])
    with pytest.raises(errors.InvalidArgumentError, match="SelectV2: cannot mix dtypes"):
        tf.where([True], tf.constant([1.0]), tf.constant([1]))
    with pytest.raises(errors.InvalidArgumentError, match=r"SelectV2: Incompatible shapes"):
        tf.where([True, False], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("axis,mask_shape", [(None, (2,)), (1, (3,)), (1, (3, 4)), (0, (2, 3))],
                         ids=["axis0", "axis1", "two_dims", "leading_two"])
def test_boolean_mask(axis, mask_shape):
    mask = RNG.random(mask_shape) > 0.4
    start = axis or 0

    def reference(a):
        index = (slice(None),) * start + (mask,)
        return a[index]

    check_op(lambda t: tf.boolean_mask(t, mask, axis=axis), reference, ARRAY)
    check_grad(lambda t: tf.boolean_mask(t, mask, axis=axis), ARRAY.astype(np.float64))


def test_boolean_mask_errors():
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(tf.constant(ARRAY), True)
    with pytest.raises(ValueError, match=r"boolean_mask: Shapes \(2,\) and \(1,\) are "
                                         r"incompatible"):
        tf.boolean_mask(tf.constant(ARRAY), [True])


# --- graph mode with unknown dimensions ------------------------------------------------------

GRAPH_CASES = {
    "getitem": lambda t: t[1:, ::-1, None, 0],
    "gather_axis1": lambda t: tf.gather(t, [1, 0, 1], axis=1),
    "slice": lambda t: tf.slice(t, [0, 1, 0], [-1, 1, 2]),
    "boolean_mask": lambda t: tf.boolean_mask(t, [True, False]),
    "where": lambda t: tf.where(t > 3.0, t, t * t),
}


@pytest.mark.parametrize("name", GRAPH_CASES, ids=GRAPH_CASES.keys())
def test_traced_with_unknown_dims_matches_eager(name):
    fn = GRAPH_CASES[name]

    def value_and_grad(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            out = fn(t)
            total = tf.reduce_sum(out * out)
        return out, tf.convert_to_tensor(tape.gradient(total, t))

    traced = tf.function(value_and_grad,
                         input_signature=[tf.TensorSpec([None, None, 4], tf.float32)])
    x = tf.constant(ARRAY)
    for got, want in zip(traced(x), value_and_grad(x)):
        assert_close(got, want)
