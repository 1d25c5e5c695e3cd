import pytest

import ndflow as tf


def test_known_and_unknown_dims():
    shape = tf.TensorShape([None, 3])
    assert shape.rank == 2
    assert shape.as_list() == [None, 3]
    assert shape[1] == 3 and shape[0] is None
    assert not shape.is_fully_defined()
    assert str(shape) == "(None, 3)"
    assert repr(shape) == "TensorShape([None, 3])"
    assert shape.num_elements() is None
    assert tf.TensorShape([2, 3]).num_elements() == 6


def test_unknown_rank():
    shape = tf.TensorShape(None)
    assert shape.rank is None
    assert str(shape) == "<unknown>"
    with pytest.raises(ValueError):
        shape.as_list()
    assert shape.is_compatible_with([1, 2, 3])


def test_compatibility_and_merge():
    assert tf.TensorShape([1, None]).is_compatible_with([1, 5])
    assert not tf.TensorShape([1, 2]).is_compatible_with([1, 5])
    assert not tf.TensorShape([1]).is_compatible_with([1, 1])
    assert tf.TensorShape([1, None]).merge_with([None, 2]).as_list() == [1, 2]
    with pytest.raises(ValueError, match="not compatible"):
        tf.TensorShape([1]).merge_with([2])
    assert tf.TensorShape([1, 2]).most_specific_compatible_shape([1, 3]).as_list() == [1, None]


def test_equality_slicing_concat():
    assert tf.TensorShape([1, 2]) == [1, 2]
    assert tf.TensorShape([1, 2]) == (1, 2)
    assert tf.TensorShape([1, 2, 3])[1:] == tf.TensorShape([2, 3])
    assert (tf.TensorShape([1]) + [2]).as_list() == [1, 2]
    assert tf.TensorShape([1, 2]).concatenate([3]).as_list() == [1, 2, 3]
    assert len(tf.TensorShape([4, 5])) == 2
    assert list(tf.TensorShape([4, 5])) == [4, 5]
    assert str(tf.TensorShape([2])) == "(2,)"


def test_rank_checks():
    with pytest.raises(ValueError, match="rank 3"):
        tf.TensorShape([1, 2]).with_rank(3)
    assert tf.TensorShape(None).with_rank(2).as_list() == [None, None]
    with pytest.raises(ValueError):
        tf.TensorShape([1]).with_rank_at_least(2)


def test_dimension():
    assert tf.Dimension(3).value == 3
    assert tf.Dimension(None).value is None
    assert tf.Dimension(3).is_compatible_with(None)
    with pytest.raises(ValueError):
        tf.TensorShape([-3])
