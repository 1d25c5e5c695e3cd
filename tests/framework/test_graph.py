import numpy as np
import pytest

import ndflow as tf
from ndflow.framework.graph import SymbolicTensor, placeholder


def test_ops_added_to_default_graph_have_static_shapes():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [None, 3], name="x")
        y = x * 2.0 + x
    assert isinstance(y, SymbolicTensor)
    assert y.shape.as_list() == [None, 3]
    assert y.dtype is tf.float32
    assert [op.type for op in graph.get_operations()] == ["Placeholder", "Const", "Mul", "AddV2"]
    assert graph.get_tensor_by_name("x:0") is x
    assert graph.get_operation_by_name("AddV2") is y.op
    assert y.name == "AddV2:0"


def test_unique_names_and_name_scopes():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [2])
        a = x + x
        b = x + x
        with graph.name_scope("block"):
            c = x + x
    assert (a.op.name, b.op.name, c.op.name) == ("AddV2", "AddV2_1", "block/AddV2")


def test_control_dependencies_recorded():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [2])
        first = x + 1.0
        with graph.control_dependencies([first]):
            second = x * 2.0
    assert first.op in second.op.control_inputs


def test_listing_shows_ops_inputs_and_shapes():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [None, 2], name="x")
        x * x  # noqa: B018
    text = graph.to_text()
    assert "Mul = Mul(x:0, x:0) -> (None, 2):float32" in text


def test_symbolic_tensor_errors_are_helpful():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [None], name="x")
        with pytest.raises(TypeError, match="tf.cond"):
            bool(x > 0.0)
        with pytest.raises(TypeError, match="first dimension is unknown"):
            iter(x)
        with pytest.raises(TypeError, match="NumPy"):
            np.asarray(x)


def test_dtype_mix_while_building_is_a_type_error():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [2])
        with pytest.raises(TypeError, match="AddV2.*float32.*int32"):
            x + placeholder(graph, tf.int32, [2])


def test_shape_errors_raise_at_build_time():
    graph = tf.Graph()
    with graph.as_default():
        x = placeholder(graph, tf.float32, [2, 3])
        with pytest.raises(ValueError, match=r"AddV2.*\[2, 3\] vs. \[4\]"):
            x + placeholder(graph, tf.float32, [4])


def test_lists_with_graph_tensors_are_packed_and_keep_known_dims():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def f(x):
        zeros = tf.zeros([tf.shape(x)[0], 4])
        assert zeros.shape.as_list() == [None, 4]
        reshaped = tf.reshape(x, tf.stack([tf.shape(x)[0], 3, 1]))
        assert reshaped.shape.as_list() == [None, 3, 1]
        return zeros, reshaped

    zeros, reshaped = f(tf.ones([2, 3]))
    assert zeros.shape.as_list() == [2, 4]
    assert reshaped.shape.as_list() == [2, 3, 1]
