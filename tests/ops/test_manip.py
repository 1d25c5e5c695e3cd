"""Tests for ndflow/ops/manip.py: concat/split/stack, transpose, squeeze/expand_dims, tile, pad,
reverse, roll, sort/argsort, unique and repeat."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import assert_close, check_grad, check_op

RNG = np.random.default_rng(1)
X = RNG.standard_normal((2, 3, 4))
X32 = X.astype(np.float32)


# --- concat / split / stack / unstack --------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, -1], ids=["axis0", "axis1", "axis_neg"])
def test_concat(axis):
    other = RNG.standard_normal((2, 3, 4))
    check_op(lambda a, b: tf.concat([a, b], axis), lambda a, b: np.concatenate([a, b], axis),
             X, other)
    check_grad(lambda a, b: tf.concat([a, b], axis), X, other, order=2)


def test_concat_size_zero_and_errors():
    empty = np.zeros((2, 0, 4))
    check_op(lambda a, b: tf.concat([a, b], 1), lambda a, b: np.concatenate([a, b], 1), X, empty)
    with pytest.raises(errors.InvalidArgumentError, match=r"ConcatV2: .*\[2, 3, 4\].*\[1, 2, 4\]"):
        tf.concat([tf.constant(X), tf.constant(X[:1, :2])], 0)
    with pytest.raises(errors.InvalidArgumentError, match=r"ConcatV2: axis 3 is out of range"):
        tf.concat([tf.constant(X), tf.constant(X)], 3)


@pytest.mark.parametrize("splits,axis", [(2, 2), ([1, 3], -1), ([2, -1], 1), (np.int64(3), 1)],
                         ids=["equal", "sizes_neg_axis", "minus_one", "numpy_count"])
def test_split(splits, axis):
    parts = tf.split(tf.constant(X), splits, axis=axis)
    if np.ndim(splits) == 0:
        expected = np.split(X, int(splits), axis=axis)
    else:
        sizes = [s if s != -1 else X.shape[axis] - sum(splits) - 1 for s in splits]
        expected = np.split(X, np.cumsum(sizes)[:-1], axis=axis)
    assert len(parts) == len(expected)
    for part, want in zip(parts, expected):
        assert_close(part, want)
    check_grad(lambda t: tf.concat(tf.split(t, splits, axis=axis)[::-1], axis), X, order=2)


def test_split_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Split: .*shape \[2, 3, 4\] and "
                                                          r"num_split 2"):
        tf.split(tf.constant(X), 2, axis=1)
    with pytest.raises(errors.InvalidArgumentError, match=r"SplitV: sizes \[1, 1\] must sum"):
        tf.split(tf.constant(X), [1, 1], axis=2)


@pytest.mark.parametrize("axis", [0, 2, -1], ids=["axis0", "axis2", "axis_neg"])
def test_stack_unstack(axis):
    check_op(lambda a, b: tf.stack([a, b], axis), lambda a, b: np.stack([a, b], axis), X, X)
    parts = tf.unstack(tf.constant(X), axis=axis)
    for part, want in zip(parts, np.moveaxis(X, axis, 0)):
        assert_close(part, want)
    check_grad(lambda a, b: tf.stack([a, b], axis), X, X, order=2)
    check_grad(lambda t: tf.stack(tf.unstack(t, axis=axis)[::-1], axis), X, order=2)


def test_stack_shape_mismatch():
    with pytest.raises(errors.InvalidArgumentError, match=r"Pack: shapes of all inputs must match"
                                                          r".*\(2, 3, 4\).*\(1, 3, 4\)"):
        tf.stack([tf.constant(X), tf.constant(X[:1])])


# --- transpose -------------------------------------------------------------------------------

@pytest.mark.parametrize("perm", [None, [0, 2, 1], [2, 0, 1]], ids=["default", "swap", "cycle"])
def test_transpose(perm):
    check_op(lambda t: tf.transpose(t, perm), lambda a: np.transpose(a, perm), X32)
    check_grad(lambda t: tf.transpose(t, perm), X, order=2)


def test_transpose_conjugate_and_scalar():
    z = (X + 1j * X[::-1]).astype(np.complex64)
    assert_close(tf.transpose(z, [1, 0, 2], conjugate=True), np.conj(np.transpose(z, [1, 0, 2])))
    assert_close(tf.transpose(X32, [1, 0, 2], conjugate=True), np.transpose(X32, [1, 0, 2]))
    check_op(lambda t: tf.transpose(t), np.transpose, np.float32(3.0))


def test_transpose_gradient_inverse_perm_and_conjugate():
    z = tf.constant((X + 2j * X).astype(np.complex128))
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = tf.transpose(z, [2, 0, 1], conjugate=True)
        total = tf.reduce_sum(out * tf.constant(np.full((4, 2, 3), 1 + 1j)))
    grad = tape.gradient(total, z)
    assert grad.shape == (2, 3, 4)
    assert_close(grad, np.full((2, 3, 4), 1 + 1j))


def test_transpose_bad_perm():
    with pytest.raises(errors.InvalidArgumentError, match=r"Transpose: perm must be a permutation"
                                                          r".*\[0, 0, 1\].*\[2, 3, 4\]"):
        tf.transpose(tf.constant(X), [0, 0, 1])


def test_invert_permutation():
    assert_close(tf.math.invert_permutation([2, 0, 1]), [1, 2, 0])
    with pytest.raises(errors.InvalidArgumentError, match="InvertPermutation"):
        tf.math.invert_permutation([0, 0, 1])


# --- squeeze / expand_dims -------------------------------------------------------------------

SQUEEZE_INPUT = X[:1, :, None, :1]  # shape (1, 3, 1, 1)


@pytest.mark.parametrize("axis,numpy_axis", [(None, None), ([2], (2,)), ([-1, 0], (3, 0)),
                                             (2, (2,))],
                         ids=["all", "one", "negative", "int"])
def test_squeeze(axis, numpy_axis):
    check_op(lambda t: tf.squeeze(t, axis), lambda a: np.squeeze(a, numpy_axis), SQUEEZE_INPUT)
    check_grad(lambda t: tf.squeeze(t, axis), SQUEEZE_INPUT, order=2)


def test_squeeze_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Squeeze: Can not squeeze dim\[1\], "
                                                          r"expected a dimension of 1, got 3"):
        tf.squeeze(tf.constant(X), [1])
    with pytest.raises(errors.InvalidArgumentError, match=r"Squeeze: .*dim index 5.*3 dim"):
        tf.squeeze(tf.constant(X), [5])


@pytest.mark.parametrize("axis", [0, 3, -1, -4], ids=["front", "end", "neg_end", "neg_front"])
def test_expand_dims(axis):
    check_op(lambda t: tf.expand_dims(t, axis), lambda a: np.expand_dims(a, axis), X32)
    check_grad(lambda t: tf.expand_dims(t, axis), X, order=2)


def test_expand_dims_error():
    with pytest.raises(errors.InvalidArgumentError, match=r"ExpandDims: Tried to expand dim index"
                                                          r" 4 for tensor with 2 dimensions"):
        tf.expand_dims(tf.constant(X[0]), 4)


# --- tile / pad ------------------------------------------------------------------------------

@pytest.mark.parametrize("multiples", [[1, 2, 3], [2, 1, 1], [1, 0, 2]],
                         ids=["mixed", "leading", "zero"])
def test_tile(multiples):
    check_op(lambda t: tf.tile(t, multiples), lambda a: np.tile(a, multiples), X32)
    check_grad(lambda t: tf.tile(t, multiples), X, order=2)


def test_tile_gradient_sums_tiles():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.tile(x, [3]) * tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert_close(tape.gradient(out, x), [9.0, 12.0])


def test_tile_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Tile: Expected multiples argument to"
                                                          r" be a vector of length 3 but got "
                                                          r"length 1"):
        tf.tile(tf.constant(X), [2])


PADDINGS = [[1, 0], [0, 2], [2, 1]]


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"],
                         ids=["constant", "reflect", "symmetric", "lowercase"])
def test_pad_modes(mode):
    check_op(lambda t: tf.pad(t, PADDINGS, mode), lambda a: np.pad(a, PADDINGS, mode.lower()),
             X32)
    check_grad(lambda t: tf.pad(t, PADDINGS, mode), X, order=2)


def test_pad_constant_values_and_int():
    check_op(lambda t: tf.pad(t, [[1, 2]], constant_values=7),
             lambda a: np.pad(a, [[1, 2]], constant_values=7), np.array([1, 2], np.int32))
    check_op(lambda t: tf.pad(t, PADDINGS, constant_values=-1.5),
             lambda a: np.pad(a, PADDINGS, constant_values=-1.5), X32)


def test_pad_errors():
    t = tf.constant(X[0, :2])
    with pytest.raises(errors.InvalidArgumentError, match=r"MirrorPad: paddings must be less than"
                                                          r" the dimension size: 2, 2 not less "
                                                          r"than 2"):
        tf.pad(t, [[2, 2], [0, 0]], "REFLECT")
    with pytest.raises(errors.InvalidArgumentError, match=r"MirrorPad: paddings must be no "
                                                          r"greater"):
        tf.pad(t, [[3, 0], [0, 0]], "SYMMETRIC")
    tf.pad(t, [[2, 2], [0, 0]], "SYMMETRIC")  # equal to the dimension is allowed
    with pytest.raises(errors.InvalidArgumentError, match=r"PadV2: The first dimension of "
                                                          r"paddings must be the rank"):
        tf.pad(t, [[1, 1]])
    with pytest.raises(ValueError, match="mode must be one of"):
        tf.pad(t, PADDINGS[:2], "WRAP")


# --- reverse / roll --------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [[0], [1, -1], []], ids=["one", "two_negative", "none"])
def test_reverse(axis):
    check_op(lambda t: tf.reverse(t, axis), lambda a: np.flip(a, tuple(axis)), X32)
    check_grad(lambda t: tf.reverse(t, axis), X, order=2)


def test_reverse_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"ReverseV2: axis 3 is out of valid "
                                                          r"range.*\[2, 3, 4\]"):
        tf.reverse(tf.constant(X), [3])
    with pytest.raises(errors.InvalidArgumentError, match="specified more than once"):
        tf.reverse(tf.constant(X), [1, -2])


@pytest.mark.parametrize("shift,axis", [(1, 0), ([2, -1], [1, 2]), ([1, 1], [2, 2])],
                         ids=["scalar", "lists", "repeated_axis"])
def test_roll(shift, axis):
    check_op(lambda t: tf.roll(t, shift, axis), lambda a: np.roll(a, shift, axis), X32)
    check_grad(lambda t: tf.roll(t, shift, axis), X, order=2)


def test_roll_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"Roll: axis 5 is out of range.*"
                                                          r"\[2, 3, 4\]"):
        tf.roll(tf.constant(X), [1], [5])
    with pytest.raises(errors.InvalidArgumentError, match="Roll: shift and axis must have the "
                                                          "same size"):
        tf.roll(tf.constant(X), [1, 2], [0])


# --- sort / argsort / unique -----------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 0, 1], ids=["last", "first", "middle"])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort(axis, direction):
    def reference(a):
        ordered = np.sort(a, axis=axis)
        return ordered if direction == "ASCENDING" else np.flip(ordered, axis)

    check_op(lambda t: tf.sort(t, axis, direction), reference, X32)
    check_grad(lambda t: tf.sort(t, axis, direction), X, order=1)


def test_argsort_is_stable_int32():
    values = np.array([3, 1, 3, 2, 1], dtype=np.int32)
    ascending = tf.argsort(values)
    assert ascending.dtype == tf.int32
    assert_close(ascending, [1, 4, 3, 0, 2])
    assert_close(tf.argsort(values, direction="DESCENDING"), [0, 2, 3, 1, 4])
    assert_close(tf.sort(tf.constant([2, 0, 1], tf.uint8), direction="DESCENDING"), [2, 1, 0])


def test_sort_errors():
    with pytest.raises(ValueError, match="direction should be one of"):
        tf.sort([1.0], direction="UP")
    with pytest.raises(errors.InvalidArgumentError, match=r"ArgSort: axis 2 is out of range"):
        tf.argsort(tf.constant(X[0]), axis=2)


def test_unique_first_occurrence_order():
    y, idx = tf.unique(tf.constant([3, 1, 3, 2, 1]))
    assert_close(y, [3, 1, 2])
    assert idx.dtype == tf.int32
    assert_close(idx, [0, 1, 0, 2, 1])
    y, idx = tf.unique([b"b", b"a", b"b"], out_idx=tf.int64)
    assert list(y.numpy()) == [b"b", b"a"] and idx.dtype == tf.int64
    assert tf.unique(tf.zeros([0])).y.shape == (0,)


def test_unique_error():
    with pytest.raises(errors.InvalidArgumentError, match=r"Unique: unique expects a 1D vector, "
                                                          r"got shape \[2, 3, 4\]"):
        tf.unique(tf.constant(X))


# --- repeat ----------------------------------------------------------------------------------

@pytest.mark.parametrize("repeats,axis", [(2, None), (3, 1), ([1, 0, 2], 1), ([2], 0),
                                          ([0, 2], -3)],
                         ids=["flat", "scalar_axis", "per_element", "broadcast_one", "neg_axis"])
def test_repeat(repeats, axis):
    counts = repeats * X.shape[axis] if isinstance(repeats, list) and len(repeats) == 1 else \
        repeats
    check_op(lambda t: tf.repeat(t, repeats, axis=axis), lambda a: np.repeat(a, counts, axis),
             X32)
    check_grad(lambda t: tf.repeat(t, repeats, axis=axis), X, order=1)
