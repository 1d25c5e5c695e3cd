"""tf.debugging: asserts raise TF's messages eagerly and when a traced graph runs (naming the
user's line); static checks raise while tracing; check_numerics passes gradients through."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad

X = tf.constant([1, 2, 3])
Y = tf.constant([1, 3, 3])


@pytest.mark.parametrize("assertion,args,passing", [
    (tf.debugging.assert_equal, (X, X), True),
    (tf.debugging.assert_equal, (X, Y), False),
    (tf.debugging.assert_none_equal, (X, X + 10), True),
    (tf.debugging.assert_none_equal, (X, Y), False),
    (tf.debugging.assert_less, (X, X + 1), True),
    (tf.debugging.assert_less, (X, Y), False),
    (tf.debugging.assert_less_equal, (X, Y), True),
    (tf.debugging.assert_less_equal, (Y, X), False),
    (tf.debugging.assert_greater, (X + 1, X), True),
    (tf.debugging.assert_greater, (Y, X), False),
    (tf.debugging.assert_greater_equal, (Y, X), True),
    (tf.debugging.assert_greater_equal, (X, Y), False),
    (tf.debugging.assert_positive, (X,), True),
    (tf.debugging.assert_positive, (X - 2,), False),
    (tf.debugging.assert_negative, (-X,), True),
    (tf.debugging.assert_negative, (X - 2,), False),
    (tf.debugging.assert_non_negative, (X - 1,), True),
    (tf.debugging.assert_non_negative, (X - 2,), False),
    (tf.debugging.assert_non_positive, (1 - X,), True),
    (tf.debugging.assert_non_positive, (X - 2,), False),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_element_wise_asserts_eagerly_and_in_graphs(assertion, args, passing):
    @tf.function
    def traced(*tensors):
        assertion(*tensors, message="custom message")
        return tensors[0]

    if passing:
        assert assertion(*args) is None
        traced(*args)
        return
    with pytest.raises(errors.InvalidArgumentError, match="custom message\nCondition x"):
        assertion(*args, message="custom message")
    with pytest.raises(errors.InvalidArgumentError, match="test_check.py:"):
        traced(*args)


def test_assert_equal_message_matches_tensorflow():
    with pytest.raises(errors.InvalidArgumentError) as info:
        tf.debugging.assert_equal(X, Y, message="msg")
    assert str(info.value) == ("msg\nCondition x == y did not hold.\n"
                               "Indices of first 1 different values:\n[[1]]\n"
                               "Corresponding x values:\n[2]\nCorresponding y values:\n[3]\n"
                               "First 3 elements of x:\n[1 2 3]\nFirst 3 elements of y:\n"
                               "[1 3 3]")


def test_scalar_assert_and_python_operands():
    with pytest.raises(errors.InvalidArgumentError, match=r"First 1 elements of x:\n\[1\]"):
        tf.debugging.assert_equal(tf.constant(1), 2)
    tf.assert_less(tf.constant([1.0]), 2.0)


def test_assert_near_uses_ten_eps():
    tf.debugging.assert_near(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.000001]))
    with pytest.raises(errors.InvalidArgumentError, match=r"\|x - y\| <= atol \+ rtol"):
        tf.debugging.assert_near(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.1]))
    tf.debugging.assert_near(tf.constant([1.0]), tf.constant([1.05]), atol=0.1)


def test_assert_in_graph_fails_only_when_run():
    @tf.function
    def f(x):
        tf.debugging.assert_positive(x, message="needs positive")
        return x * 2

    assert f(tf.constant([1.0])).numpy().tolist() == [2.0]
    with pytest.raises(errors.InvalidArgumentError, match="needs positive") as info:
        f(tf.constant([-1.0]))
    assert "in op 'Assert'" in str(info.value)


def test_Assert_shows_data():
    tf.debugging.Assert(True, ["unused"])
    with pytest.raises(errors.InvalidArgumentError, match=r"hello\nassertion failed: \[\[1 2\]\]"):
        tf.Assert(tf.constant(False), ["hello", tf.constant([1, 2])])
    with pytest.raises(errors.InvalidArgumentError, match="Assert: condition must be a bool"):
        tf.debugging.Assert(tf.constant(1.0), [])


def test_rank_asserts_static_and_dynamic():
    tf.debugging.assert_rank(X, 1)
    tf.debugging.assert_rank_at_least(X, 1)
    with pytest.raises(ValueError, match=r"msg.  Tensor .*must have rank 2.  Received rank 1, "
                                         r"shape \(3,\)"):
        tf.debugging.assert_rank(X, 2, message="msg")
    with pytest.raises(ValueError, match="must have rank at least 3"):
        tf.debugging.assert_rank_at_least(X, 3)

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int32)])
    def f(x):
        tf.debugging.assert_rank(x, 1)
        return x

    f(X)
    with pytest.raises(errors.InvalidArgumentError, match=r"rank\(x\) == 1"):
        f(tf.constant([[1]]))


def test_assert_type_and_shapes():
    tf.debugging.assert_type(X, tf.int32)
    with pytest.raises(TypeError, match="must be of type tf.float32; got tf.int32"):
        tf.debugging.assert_type(X, tf.float32)
    x, y = tf.ones([2, 3]), tf.ones([3])
    tf.debugging.assert_shapes([(x, ("N", "Q")), (y, ("Q",))])
    with pytest.raises(ValueError, match=r"dimension 0 must have size 2.  Received size 3"):
        tf.debugging.assert_shapes([(x, ("N", "Q")), (y, ("N",))])
    with pytest.raises(ValueError, match="Specified explicitly.*dimension 1 must have size 4"):
        tf.debugging.assert_shapes([(x, (2, 4))])
    with pytest.raises(ValueError, match="must have rank 1"):
        tf.debugging.assert_shapes([(x, ("N",))])


@pytest.mark.parametrize("values,found", [
    ([1.0, float("nan")], "NaN"), ([1.0, float("inf")], "Inf"),
    ([float("nan"), float("-inf")], "Inf and NaN"),
], ids=["nan", "inf", "both"])
def test_check_numerics_names_what_it_found(values, found):
    with pytest.raises(errors.InvalidArgumentError, match=f"^bad : Tensor had {found} values$"):
        tf.debugging.check_numerics(tf.constant(values), "bad")
    with pytest.raises(errors.InvalidArgumentError, match=f"bad : Tensor had {found} values"):
        tf.function(lambda t: tf.debugging.assert_all_finite(t, "bad"))(tf.constant(values))


def test_check_numerics_returns_input_and_gradient_passes_through():
    x = tf.constant([1.0, 2.0])
    assert tf.debugging.check_numerics(x, "ok") is not None
    np.testing.assert_array_equal(tf.debugging.check_numerics(x, "ok").numpy(), [1.0, 2.0])
    check_grad(lambda t: tf.debugging.check_numerics(t * t, "m"), np.array([0.5, -2.0]),
               order=2)
    with pytest.raises(errors.InvalidArgumentError, match="Integer|not supported"):
        tf.debugging.check_numerics(tf.constant([1]), "m")


def test_top_level_aliases():
    for name in ["Assert", "assert_equal", "assert_less", "assert_greater", "assert_rank"]:
        assert getattr(tf, name) is getattr(tf.debugging, name)
