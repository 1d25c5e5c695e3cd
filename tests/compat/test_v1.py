"""TF1-style programs: graphs, placeholders, Sessions, variable scopes, v1 optimizers."""

import collections

import numpy as np
import pytest

import ndflow as tf

v1 = tf.compat.v1


def test_placeholder_feed_and_fetch_structures():
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, shape=[None, 2], name="x")
        doubled = x * 2.0
        total = tf.reduce_sum(x)
    Pair = collections.namedtuple("Pair", "a b")
    with v1.Session(graph=graph) as sess:
        feed = {x: [[1.0, 2.0], [3.0, 4.0]]}
        np.testing.assert_allclose(sess.run(doubled, feed), [[2, 4], [6, 8]])
        out = sess.run({"d": doubled, "pair": Pair(total, [total])}, feed_dict=feed)
        assert out["pair"].a == 10.0 and out["pair"].b == [10.0]
        assert sess.run("x:0", {"x:0": [[5.0, 6.0]]}).tolist() == [[5.0, 6.0]]


def test_feed_shape_and_missing_feed_errors():
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, shape=[None, 2], name="x")
        y = x + 1.0
    with v1.Session(graph=graph) as sess:
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\) for Tensor "
                                             r"'x:0', which has shape '\(\?, 2\)'"):
            sess.run(y, {x: [1.0, 2.0, 3.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value.*'x'"):
            sess.run(y)


def test_placeholder_is_refused_eagerly():
    with pytest.raises(RuntimeError, match="eager"):
        v1.placeholder(tf.float32)


def test_variables_need_initialization_and_run_in_order():
    graph = tf.Graph()
    with graph.as_default():
        counter = tf.Variable(1.0, name="counter")
        increment = counter.assign_add(2.0)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="counter"):
            sess.run(counter.value())
        sess.run(init)
        assert sess.run(increment) == 3.0
        assert sess.run(increment) == 5.0
        assert sess.run(counter) == 5.0


def test_get_variable_and_variable_scope_reuse():
    graph = tf.Graph()
    with graph.as_default():
        with v1.variable_scope("layer"):
            w = v1.get_variable("w", shape=[2, 3], initializer=v1.zeros_initializer())
        with v1.variable_scope("layer", reuse=True):
            w_again = v1.get_variable("w")
        with pytest.raises(ValueError, match="already exists"):
            with v1.variable_scope("layer"):
                v1.get_variable("w", shape=[2, 3])
        with pytest.raises(ValueError, match="does not exist"):
            with v1.variable_scope("other", reuse=True):
                v1.get_variable("w")
        assert w is w_again
        assert w.name == "layer/w:0"
        assert w in v1.trainable_variables()


def test_linear_regression_trains_with_a_session_loop():
    rng = np.random.default_rng(0)
    x_data = rng.uniform(-1, 1, size=(200, 1)).astype(np.float32)
    y_data = 3.0 * x_data + 2.0 + rng.normal(0, 0.01, size=(200, 1)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 1])
        y = v1.placeholder(tf.float32, [None, 1])
        w = tf.Variable(tf.zeros([1, 1]))
        b = tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        train_op = v1.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(200):
            sess.run(train_op, {x: x_data, y: y_data})
        w_value, b_value, final = sess.run([w, b, loss], {x: x_data, y: y_data})
    assert abs(float(w_value[0, 0]) - 3.0) < 0.05
    assert abs(float(b_value[0]) - 2.0) < 0.05
    assert final < 1e-3


@pytest.mark.parametrize("make", [
    lambda: v1.train.AdamOptimizer(0.1),
    lambda: v1.train.MomentumOptimizer(0.1, 0.9),
    lambda: v1.train.RMSPropOptimizer(0.05),
    lambda: v1.train.AdagradOptimizer(0.5),
], ids=["adam", "momentum", "rmsprop", "adagrad"])
def test_v1_optimizers_converge_on_a_quadratic(make):
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable([3.0, -2.0])
        loss = tf.reduce_sum(tf.square(w - [1.0, 1.0]))
        step = make().minimize(loss)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(300):
            sess.run(step)
        np.testing.assert_allclose(sess.run(w), [1.0, 1.0], atol=0.05)


def test_adam_matches_tf1_update_formula():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable([1.0, 2.0])
        loss = tf.reduce_sum(w * w)
        step = v1.train.AdamOptimizer(0.1).minimize(loss)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(step)
        sess.run(step)
        result = sess.run(w)
    weights = np.array([1.0, 2.0])
    m = np.zeros(2)
    v = np.zeros(2)
    for t in (1, 2):
        g = 2 * weights
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        lr = 0.1 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        weights = weights - lr * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(result, weights, rtol=1e-5)


def test_global_step_and_collections():
    graph = tf.Graph()
    with graph.as_default():
        step = v1.train.get_or_create_global_step()
        w = tf.Variable(1.0)
        train = v1.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=step)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(train)
        sess.run(train)
        assert sess.run(step) == 2


def test_v1_keep_dims_and_argmax_dimension():
    x = tf.constant([[1.0, 5.0], [7.0, 2.0]])
    assert v1.reduce_sum(x, reduction_indices=[1], keep_dims=True).shape.as_list() == [2, 1]
    assert v1.argmax(x, dimension=1).numpy().tolist() == [1, 0]


def test_disable_eager_execution_builds_graphs_by_default():
    v1.disable_eager_execution()
    try:
        assert not tf.executing_eagerly()
        a = tf.constant(2.0) * 3.0
        with v1.Session() as sess:
            assert sess.run(a) == 6.0
    finally:
        v1.enable_eager_execution()
    assert tf.executing_eagerly()
