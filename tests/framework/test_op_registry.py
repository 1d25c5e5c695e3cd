import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import op_registry
from ndflow.framework.op_registry import Spec, execute


def test_every_op_has_a_kernel_and_inference():
    ops = op_registry.registered_ops()
    assert "AddV2" in ops and "Reshape" in ops
    for name, opdef in ops.items():
        assert callable(opdef.kernel), name
        assert opdef.infer is not None, f"{name} has no inference rule"


def test_unknown_op_raises_not_found():
    with pytest.raises(tf.errors.NotFoundError, match="NoSuchOp"):
        execute("NoSuchOp", tf.constant(1))


def test_dtype_outside_the_declared_set_names_the_op():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Sub: dtype string"):
        execute("Sub", tf.constant("a"), tf.constant("b"))


def test_kernel_failure_reports_inference_message():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"AddV2.*\[2\] vs. \[3\]"):
        tf.constant([1.0, 2.0]) + tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Reshape.*6 elements"):
        tf.reshape(tf.zeros([2, 3]), [4, 2])


def test_inference_handles_unknown_dims():
    infer = op_registry.get("AddV2").infer
    result = infer(Spec((None, 3), tf.float32), Spec((1, 3), tf.float32))
    assert result.shape == (None, 3) and result.dtype is tf.float32
    assert infer(Spec(None, tf.float32), Spec((2,), tf.float32)).shape is None
    reshape = op_registry.get("Reshape").infer
    out = reshape(Spec((None, 4), tf.float32), Spec((2,), tf.int32, np.array([-1, 2])))
    assert out.shape == (None, 2)
    out = reshape(Spec((3, 4), tf.float32), Spec((2,), tf.int32, np.array([-1, 2])))
    assert out.shape == (6, 2)


def test_tape_records_only_watched_inputs():
    a = tf.constant(2.0)
    b = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        unwatched = b * b
        watched = a * b
    assert len(tape._operations) == 1
    assert tape.gradient(unwatched, b) is None
    assert float(tape.gradient(watched, a)) == 3.0


def test_symbolic_tensor_outside_graph_is_a_clear_error():
    class Symbolic(tf.Tensor):
        dtype = tf.float32
        shape = tf.TensorShape([1])

    with pytest.raises(TypeError, match="AddV2.*symbolic"):
        execute("AddV2", Symbolic(), tf.constant([1.0]))


def test_variable_inputs_are_read_like_tensors():
    x = tf.constant([[1.0, 2.0]])
    kernel = tf.Variable([[3.0], [4.0]])
    assert execute("MatMul", x, kernel, transpose_a=False, transpose_b=False).numpy() == 11.0
    assert (kernel * 2.0).numpy().tolist() == [[6.0], [8.0]]  # with a Python value
    with tf.GradientTape() as tape:
        y = tf.matmul(x, kernel)
    assert tape.gradient(y, kernel).numpy().tolist() == [[1.0], [2.0]]


def test_variable_of_another_dtype_is_still_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul: cannot mix dtypes"):
        tf.matmul(tf.constant([[1.0]]), tf.Variable([[1]]))
