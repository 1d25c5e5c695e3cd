"""Tests for ndflow/variables.py: tf.Variable against TF 2's eager behaviour."""

import copy

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import assert_close


# --- creation --------------------------------------------------------------------------------

def test_defaults_name_shape_dtype_and_repr():
    v = tf.Variable([1.0, 2.0])
    assert v.name == "Variable:0"
    assert v.shape == (2,) and v.dtype == tf.float32 and v.trainable
    assert repr(v) == ("<tf.Variable 'Variable:0' shape=(2,) dtype=float32, "
                       "numpy=array([1., 2.], dtype=float32)>")
    assert str(v) == repr(v)
    assert repr(tf.Variable(3)) == "<tf.Variable 'Variable:0' shape=() dtype=int32, numpy=3>"


@pytest.mark.parametrize("value,dtype,expected", [
    (3, None, tf.int32),
    (3.0, None, tf.float32),
    (np.float64(1.0), None, tf.float64),
    ([1, 2], tf.float32, tf.float32),
    (np.array([1, 2], np.int64), None, tf.int64),
    (True, None, tf.bool),
], ids=["int", "float", "numpy-float64", "list-with-dtype", "int64-array", "bool"])
def test_initial_value_dtypes(value, dtype, expected):
    assert tf.Variable(value, dtype=dtype).dtype == expected


def test_dtype_conversion_rules_follow_tf():
    with pytest.raises(ValueError, match="requested dtype float32 for Tensor with dtype int32"):
        tf.Variable(tf.constant([1, 2]), dtype=tf.float32)
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype int32"):
        tf.Variable(1.5, dtype=tf.int32)
    with pytest.raises(ValueError, match="initial_value"):
        tf.Variable()


def test_names_and_name_scopes():
    assert tf.Variable(1.0, name="x").name == "x:0"
    assert tf.Variable(1.0, name="x:0").name == "x:0:0"  # TF keeps what it is given
    with tf.Module(name="outer").name_scope:
        assert tf.Variable(1.0, name="w").name == "outer/w:0"


def test_callable_initial_value_and_initial_value_property():
    v = tf.Variable(lambda: tf.ones([2, 3]))
    assert v.shape == (2, 3)
    v.assign(tf.zeros([2, 3]))
    assert_close(v.initial_value.numpy(), np.ones((2, 3)))


def test_trainable_constraint_and_synchronization():
    def clip(x):
        return x

    v = tf.Variable(1.0, trainable=False, constraint=clip)
    assert not v.trainable and v.constraint is clip
    with pytest.raises(ValueError, match="Argument `constraint` must be None or a callable"):
        tf.Variable(1.0, constraint=3)
    on_read = tf.Variable(1.0, synchronization=tf.VariableSynchronization.ON_READ)
    assert not on_read.trainable
    with pytest.raises(ValueError, match="ON_READ only for non-trainable"):
        tf.Variable(1.0, trainable=True, synchronization=tf.VariableSynchronization.ON_READ)


def test_shape_argument_allows_changing_shape():
    v = tf.Variable([1.0], shape=tf.TensorShape(None))
    assert v.shape.rank is None
    v.assign([1.0, 2.0, 3.0])
    assert_close(v.numpy(), [1.0, 2.0, 3.0])
    partial = tf.Variable(np.zeros((2, 3), np.float32), shape=[None, 3])
    partial.assign(np.ones((4, 3), np.float32))
    assert partial.shape.as_list() == [None, 3]
    with pytest.raises(ValueError, match="not compatible with shape"):
        tf.Variable([1.0, 2.0], shape=[3])


def test_validate_shape_false_keeps_the_eager_shape_like_tf():
    v = tf.Variable([1.0], validate_shape=False)
    assert v.shape == (1,)
    with pytest.raises(ValueError, match="Shape mismatch"):
        v.assign([1.0, 2.0])


# --- assignment ------------------------------------------------------------------------------

def test_assign_family_returns_the_variable():
    v = tf.Variable([1.0, 2.0])
    assert v.assign([3.0, 4.0]) is v
    assert v.assign_add([1.0, 1.0]) is v
    assert v.assign_sub([0.5, 0.5]) is v
    assert_close(v.numpy(), [3.5, 4.5])
    assert v.assign([0.0, 0.0], read_value=False) is None
    assert v.assign_add([1.0, 1.0], read_value=False) is None
    assert_close(v.assign_sub([1.0, 2.0]).numpy(), [0.0, -1.0])


def test_assign_converts_python_values_but_not_tensors():
    v = tf.Variable([1.0, 2.0])
    v.assign([1, 2])
    assert v.dtype == tf.float32
    with pytest.raises(ValueError, match="requested dtype float32 for Tensor with dtype int32"):
        v.assign(tf.constant([1, 2]))
    v.assign(tf.Variable([5.0, 6.0]))
    assert_close(v.numpy(), [5.0, 6.0])


def test_assign_shape_errors():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Cannot assign value to variable 'Variable:0': Shape "
                                         r"mismatch. The variable shape \(2,\), and the assigned "
                                         r"value shape \(3,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(errors.InvalidArgumentError, match=r"assign_add: Cannot update variable "
                                                          r"'Variable:0' with shape \[2\] using "
                                                          r"a Tensor with shape \[3\]"):
        v.assign_add([1.0, 1.0, 1.0])
    with pytest.raises(errors.InvalidArgumentError, match="assign_sub"):
        v.assign_sub(1.0)


def test_assign_keeps_the_dtype_for_integer_variables():
    v = tf.Variable([1, 2], dtype=tf.int64)
    v.assign_add([1, 1])
    assert v.numpy().dtype == np.int64


def test_sliced_assign():
    if not hasattr(tf.Tensor, "__getitem__"):
        pytest.skip("tensor __getitem__ (StridedSlice, the array/indexing work) is missing")
    v = tf.Variable([1.0, 2.0, 3.0])
    assert v[0].assign(5.0) is v
    v[1:].assign([7.0, 8.0])
    assert_close(v.numpy(), [5.0, 7.0, 8.0])
    assert float(v[2]) == 8.0
    m = tf.Variable(np.zeros((2, 3), np.float32))
    m[:, 1].assign([1.0, 2.0])
    assert_close(m.numpy(), [[0, 1, 0], [0, 2, 0]])


def test_scatter_nd_update():
    v = tf.Variable([1.0, 2.0, 3.0, 4.0])
    v.scatter_nd_update([[0], [3]], [10.0, 40.0])
    assert_close(v.numpy(), [10.0, 2.0, 3.0, 40.0])


# --- reading and value semantics -------------------------------------------------------------

def test_tensor_read_before_an_assign_keeps_its_value():
    v = tf.Variable([1.0, 2.0])
    read = v.read_value()
    converted = tf.convert_to_tensor(v)
    value = v.value()
    v.assign([9.0, 9.0])
    v.assign_add([1.0, 1.0])
    for tensor in (read, converted, value):
        assert_close(tensor.numpy(), [1.0, 2.0])
    assert_close(v.numpy(), [10.0, 10.0])


def test_numpy_returns_a_copy():
    v = tf.Variable([1.0, 2.0])
    array = v.numpy()
    array[0] = 100.0
    assert_close(v.numpy(), [1.0, 2.0])
    assert float(tf.Variable(2.5).numpy()) == 2.5
    assert np.asarray(v).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("expression,expected", [
    (lambda v: v + 1.0, [2.0, 3.0]),
    (lambda v: 1.0 + v, [2.0, 3.0]),
    (lambda v: 2.0 - v, [1.0, 0.0]),
    (lambda v: v - 1.0, [0.0, 1.0]),
    (lambda v: v * 3.0, [3.0, 6.0]),
    (lambda v: 3.0 * v, [3.0, 6.0]),
    (lambda v: 1.0 / v, [1.0, 0.5]),
    (lambda v: v / 2.0, [0.5, 1.0]),
    (lambda v: -v, [-1.0, -2.0]),
    (lambda v: v + v, [2.0, 4.0]),
    (lambda v: v * tf.constant([2.0, 2.0]), [2.0, 4.0]),
    (lambda v: np.float32(2.0) * v, [2.0, 4.0]),
], ids=["add", "radd", "rsub", "sub", "mul", "rmul", "rtruediv", "truediv", "neg", "var-var",
        "var-tensor", "numpy-scalar"])
def test_operators(expression, expected):
    result = expression(tf.Variable([1.0, 2.0]))
    assert isinstance(result, tf.Tensor)
    assert_close(result.numpy(), expected)


def test_more_operators_when_math_defines_them():
    v = tf.Variable([1.0, 2.0])
    if not hasattr(tf.Tensor, "__pow__"):
        pytest.skip("Tensor.__pow__ comes with the math work")
    assert_close((v ** 2).numpy(), [1.0, 4.0])
    assert_close((2.0 ** v).numpy(), [2.0, 4.0])
    assert (v < 1.5).numpy().tolist() == [True, False]
    assert_close(abs(tf.Variable([-1.0])).numpy(), [1.0])


def test_comparisons_are_element_wise():
    v = tf.Variable([1.0, 2.0])
    assert (v == v).numpy().tolist() == [True, True]
    assert (v != 2.0).numpy().tolist() == [True, False]


def test_python_protocols():
    v = tf.Variable([1.0, 2.0, 3.0])
    assert len(v) == 3
    assert [float(x) for x in v] == [1.0, 2.0, 3.0]
    assert float(tf.Variable(2.5)) == 2.5 and int(tf.Variable(7)) == 7
    assert bool(tf.Variable(True))
    assert copy.copy(v) is v
    duplicate = copy.deepcopy(v)
    duplicate.assign([0.0, 0.0, 0.0])
    assert_close(v.numpy(), [1.0, 2.0, 3.0])
    assert duplicate.name == v.name


def test_hashing_raises_and_ref_works():
    v = tf.Variable(1.0)
    with pytest.raises(TypeError, match=r"Variable is unhashable. Instead, use variable.ref\(\)"):
        hash(v)
    table = {v.ref(): "v"}
    assert table[v.ref()] == "v"
    assert v.ref().deref() is v
    assert v.ref() != tf.Variable(1.0).ref()


def test_variable_in_gradient_tape():
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = v * v + v
    assert_close(tape.gradient(y, v).numpy(), [3.0, 5.0])


def test_variable_works_as_op_input_and_in_constant():
    v = tf.Variable([[1.0, 2.0]])
    assert_close(tf.reshape(v, [2]).numpy(), [1.0, 2.0])
    assert_close(tf.constant(v).numpy(), [[1.0, 2.0]])
    assert tf.is_tensor(v)


def test_eager_only_attributes_raise():
    v = tf.Variable(1.0)
    with pytest.raises(AttributeError):
        v.op  # noqa: B018
    assert v.device.endswith("CPU:0")
    assert v.handle is v


def test_variable_reads_and_assigns_inside_tf_function():
    v = tf.Variable(1.0)

    @tf.function
    def step(x):
        v.assign_add(x)
        v.assign_sub(0.5)
        return v.read_value() * 2.0

    assert float(step(tf.constant(2.0))) == 5.0
    assert float(v.numpy()) == 2.5
    assert float(step(tf.constant(1.0))) == 6.0
    assert float(v.numpy()) == 3.0

    @tf.function
    def reset():
        v.assign(0.0)
        return v + 1.0

    assert float(reset()) == 1.0 and float(v.numpy()) == 0.0
