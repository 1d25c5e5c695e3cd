"""Each optimisation pass on its own: the graph before and after, and the same results."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops import compiled
from ndflow.function import passes
from ndflow.function.executor import Plan


def _trace(fn, *specs):
    concrete = tf.function(fn, autograph=False).get_concrete_function(*specs)
    return concrete.graph, concrete.inputs, concrete._tensor_outputs


def _run(graph, inputs, outputs, *arrays):
    return Plan(graph, inputs, outputs).run(list(arrays))


def _types(graph):
    return [op.type for op in graph.get_operations()]


SPEC = tf.TensorSpec([3], tf.float32)
X = np.array([1.0, -2.0, 3.0], np.float32)


def _apply(pass_fn, fn):
    graph, inputs, outputs = _trace(fn, SPEC)
    before = _run(graph, inputs, outputs, X)
    graph, inputs, outputs = passes.clone(graph, inputs, outputs)
    outputs = pass_fn(graph, outputs)
    after = _run(graph, inputs, outputs, X)
    for b, a in zip(before, after):
        np.testing.assert_allclose(a, b)
    return graph, outputs


def test_clone_leaves_the_traced_graph_untouched():
    graph, inputs, outputs = _trace(lambda x: x * 1.0 + 0.0, SPEC)
    before = _types(graph)
    passes.optimize(graph, inputs, outputs)
    assert _types(graph) == before


def test_constant_folding_precomputes_constant_subgraphs():
    def fn(x):
        scale = tf.constant(2.0) * tf.constant(3.0) + tf.constant(1.0)
        return x * scale

    graph, outputs = _apply(passes.fold_constants, fn)
    graph, outputs = graph, passes.eliminate_dead_code(graph, outputs)
    assert _types(graph).count("Mul") == 1
    assert "AddV2" not in _types(graph)
    folded = outputs[0].op.inputs[1].op
    assert folded.type == "Const" and float(folded.attrs["value"]) == 7.0


def test_common_subexpressions_run_once():
    def fn(x):
        return (x * x) + (x * x)

    graph, outputs = _apply(passes.eliminate_common_subexpressions, fn)
    graph_outputs = passes.eliminate_dead_code(graph, outputs)
    assert _types(graph).count("Mul") == 1
    add = graph_outputs[0].op
    assert add.inputs[0] is add.inputs[1]


@pytest.mark.parametrize("fn, removed", [
    (lambda x: x * 1.0, "Mul"),
    (lambda x: 1.0 * x, "Mul"),
    (lambda x: x + 0.0, "AddV2"),
    (lambda x: x - 0.0, "Sub"),
    (lambda x: x / 1.0, "RealDiv"),
    (lambda x: tf.identity(x) * 2.0, "Identity"),
    (lambda x: tf.cast(x, tf.float32) * 2.0, "Cast"),
    (lambda x: tf.reshape(tf.reshape(x, [1, 3]), [3, 1]), "Reshape"),
], ids=["x*1", "1*x", "x+0", "x-0", "x/1", "identity", "cast-same", "reshape-reshape"])
def test_arithmetic_simplification(fn, removed):
    graph, outputs = _apply(passes.simplify, fn)
    passes.eliminate_dead_code(graph, outputs)
    expected = 1 if removed == "Reshape" else 0
    assert _types(graph).count(removed) == expected


def test_simplification_keeps_broadcasting_multiplies():
    graph, outputs = _apply(passes.simplify, lambda x: x * tf.ones([2, 3]))
    passes.eliminate_dead_code(graph, outputs)
    assert "Mul" in _types(graph)
    assert outputs[0].shape.as_list() == [2, 3]


def test_dead_code_is_removed_but_side_effects_stay():
    variable = tf.Variable(0.0)

    def fn(x):
        unused = x * 5.0  # noqa: F841 - dead on purpose
        variable.assign_add(1.0)
        return x + 1.0

    graph, inputs, outputs = _trace(fn, SPEC)
    graph, inputs, outputs = passes.clone(graph, inputs, outputs)
    passes.eliminate_dead_code(graph, outputs)
    assert "Mul" not in _types(graph)
    assert "AssignAddVariableOp" in _types(graph)


def test_elementwise_chains_fuse_into_one_kernel():
    def fn(x):
        return tf.exp((x * 2.0 + 1.0) - x) * 0.5

    graph, outputs = _apply(passes.fuse_elementwise, fn)
    passes.eliminate_dead_code(graph, outputs)
    types = _types(graph)
    assert "FusedElementwise" in types
    assert not {"Mul", "AddV2", "Sub", "Exp"} & set(types)


def test_jit_compile_function_matches_plain_function():
    def fn(x):
        return tf.tanh(x * 3.0 + 1.0) * x - 2.0

    fused = tf.function(fn, jit_compile=True)
    plain = tf.function(fn)
    x = tf.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    np.testing.assert_allclose(fused(x).numpy(), plain(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(plain(x).numpy(), fn(x).numpy(), rtol=1e-6)


def test_a_fused_optimizer_update_ends_only_its_own_variables_reads():
    step = tf.Variable(3, dtype=tf.int64)
    weights = tf.Variable([1.0, 2.0])
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.1)
    optimizer.build([weights])

    def fn(x):
        before = step.read_value()
        first = weights.read_value()
        optimizer.apply_gradients([(x, weights)])  # ResourceApplyKerasAdam on weights only
        return before + step.read_value(), first, weights.read_value()

    spec = tf.TensorSpec([2], tf.float32)
    graph, inputs, outputs = _trace(fn, spec)
    graph, inputs, outputs = passes.clone(graph, inputs, outputs)
    outputs = passes.forward_variable_reads(graph, outputs)
    passes.eliminate_dead_code(graph, outputs)
    reads = [op for op in graph._operations if op.type == "ReadVariableOp"]
    read_handles = [op.inputs[0].op.name for op in reads]
    assert len(read_handles) == len(set(read_handles)) + 1  # weights read again, step not
    concrete = tf.function(fn).get_concrete_function(spec)
    total, first, after = concrete(tf.constant([1.0, -1.0]))
    assert total.numpy() == 6
    np.testing.assert_array_equal(first.numpy(), [1.0, 2.0])
    assert after.numpy()[0] < 1.0 and after.numpy()[1] > 2.0  # the update is seen


def test_repeated_variable_reads_are_forwarded_until_a_write():
    variable = tf.Variable([1.0, 2.0, 3.0])

    def fn(x):
        a = x * variable
        b = x + variable  # same value: reuses the first read
        variable.assign_add(x)
        c = x - variable  # after a write: a new read
        return a + b + c

    graph, inputs, outputs = _trace(fn, SPEC)
    expected_graph = passes.clone(graph, inputs, outputs)
    graph, inputs, outputs = passes.clone(graph, inputs, outputs)
    outputs = passes.forward_variable_reads(graph, outputs)
    passes.eliminate_dead_code(graph, outputs)
    assert _types(graph).count("ReadVariableOp") == 2
    variable.assign([1.0, 2.0, 3.0])
    result = _run(graph, inputs, outputs, X)[0]
    variable.assign([1.0, 2.0, 3.0])
    reference = _run(*expected_graph, X)[0]
    np.testing.assert_allclose(result, reference)


def _pool_relu_step(x, filters, data_format="NHWC"):
    with tf.GradientTape() as tape:
        tape.watch([x, filters])
        hidden = tf.nn.relu(tf.nn.conv2d(x, filters, 1, "SAME", data_format=data_format))
        pooled = tf.nn.max_pool2d(hidden, 2, 2, "VALID", data_format=data_format)
        loss = tf.reduce_sum(pooled * pooled)
    return [pooled] + tape.gradient(loss, [x, filters])


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_max_pool_moves_before_relu_with_the_same_numbers(data_format):
    rng = np.random.default_rng(8)
    shape = (4, 10, 10, 3) if data_format == "NHWC" else (4, 3, 10, 10)
    # small integers: many ties and exact zeros, where gradient routing is easiest to get wrong
    x = tf.constant(rng.integers(-2, 3, size=shape).astype(np.float32))
    filters = tf.constant(rng.integers(-1, 2, size=(3, 3, 3, 8)).astype(np.float32))
    eager = _pool_relu_step(x, filters, data_format)
    concrete = tf.function(_pool_relu_step).get_concrete_function(x, filters, data_format)
    traced = concrete(x, filters)
    for a, b in zip(traced, eager):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    types = [s.op.type for s in concrete._plan.steps]
    assert types.index("MaxPool") < types.index("Relu")  # pooled first, then the ReLU
    assert types.index("ReluGrad") < types.index("MaxPoolGrad")


def test_relu_feeding_something_else_stays_before_the_pool():
    def fn(x):
        hidden = tf.nn.relu(x)
        return tf.nn.max_pool2d(hidden, 2, 2, "VALID"), tf.reduce_sum(hidden)

    x = tf.constant(np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 8, 8, 1))
    concrete = tf.function(fn).get_concrete_function(x)
    pooled, total = concrete(x)
    np.testing.assert_array_equal(pooled.numpy(), fn(x)[0].numpy())
    types = [s.op.type for s in concrete._plan.steps]
    assert types.index("Relu") < types.index("MaxPool")


# --- convolution blocks ----------------------------------------------------------------------

def _conv_block(relu, pool, padding="VALID", pool_padding="VALID"):
    rng = np.random.default_rng(12)
    filters = tf.constant(rng.standard_normal((3, 3, 3, 8)).astype(np.float32))
    bias = tf.constant(rng.standard_normal(8).astype(np.float32))

    def block(x):
        y = tf.nn.bias_add(tf.nn.conv2d(x, filters, 1, padding), bias)
        if relu:
            y = tf.nn.relu(y)
        if pool:
            y = tf.nn.max_pool2d(y, 2, 2, pool_padding)
        return y

    return block


@pytest.mark.parametrize("relu, pool, padding, pool_padding", [
    (True, True, "VALID", "VALID"), (True, True, "SAME", "SAME"), (False, True, "VALID", "SAME"),
    (True, False, "SAME", "VALID"), (False, False, "VALID", "VALID")])
@pytest.mark.parametrize("chunk_bytes", [None, 4096])  # default, and one image per chunk
def test_conv_blocks_fuse_with_the_same_numbers(monkeypatch, relu, pool, padding, pool_padding,
                                                chunk_bytes):
    from ndflow.ops import conv_kernels

    if chunk_bytes is not None:
        monkeypatch.setattr(conv_kernels, "_CHUNK_BYTES", chunk_bytes)
    block = _conv_block(relu, pool, padding, pool_padding)
    x = tf.constant(np.random.default_rng(13).standard_normal((5, 11, 9, 3)).astype(np.float32))
    concrete = tf.function(block).get_concrete_function(x)
    np.testing.assert_allclose(concrete(x).numpy(), block(x).numpy(), rtol=1e-5, atol=1e-5)
    fused = [s.op for s in concrete._plan.steps if s.op.type == "_FusedConv2D"]
    assert len(fused) == 1
    assert fused[0].attrs["relu"] == relu and bool(fused[0].attrs["pool"]) == pool
    assert not {"BiasAdd", "MaxPool", "Conv2D"} & {s.op.type for s in concrete._plan.steps}


def test_fused_conv_blocks_split_chunks_across_threads(monkeypatch):
    from ndflow.framework import parallel
    from ndflow.ops import conv_kernels

    monkeypatch.setattr(conv_kernels, "_CHUNK_BYTES", 4096)
    block = _conv_block(True, True)
    x = tf.constant(np.random.default_rng(14).standard_normal((9, 12, 12, 3)).astype(np.float32))
    concrete = tf.function(block).get_concrete_function(x)
    expected = block(x).numpy()
    with parallel.blas_owned():
        monkeypatch.setattr(parallel._local, "threads", 2)
        result = concrete(x).numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


def _training_block_step(filters, bias, padding="SAME", pool=(2, 2, "VALID")):
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, filters, 1, padding), bias))
            y = tf.nn.max_pool2d(y, *pool)
            loss = tf.reduce_sum(y * y)
        return [loss] + tape.gradient(loss, [x, filters, bias])

    return step


@pytest.mark.parametrize("numba", ["1", "0"])  # compiled pooling kernels, and NumPy's
@pytest.mark.parametrize("pool", [(2, 2, "VALID"), (2, 2, "SAME"), (3, 3, "VALID")])
def test_training_graph_pools_by_choice_with_the_same_numbers(monkeypatch, numba, pool):
    monkeypatch.setitem(compiled._state, "enabled", numba == "1")
    rng = np.random.default_rng(15)
    # small integers: exact sums, many tied maxima (TF's first-maximum routing must hold)
    filters = tf.Variable(rng.integers(-1, 2, size=(3, 3, 3, 8)).astype(np.float32))
    bias = tf.Variable(rng.integers(-1, 2, size=8).astype(np.float32))
    x = tf.constant(rng.integers(-2, 3, size=(4, 10, 10, 3)).astype(np.float32))
    step = _training_block_step(filters, bias, pool=pool)
    concrete = tf.function(step).get_concrete_function(x)
    for a, b in zip(concrete(x), step(x)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    types = [s.op.type for s in concrete._plan.steps]
    assert "_FusedConv2DWithChoice" in types and "_MaxPoolGradByChoice" in types
    assert not {"MaxPool", "MaxPoolGrad", "Relu", "_FusedConv2D"} & set(types)
    fused = next(s.op for s in concrete._plan.steps if s.op.type == "_FusedConv2DWithChoice")
    assert fused.attrs["relu"] and fused.attrs["pool"][0] == (1, pool[0], pool[0], 1)
    # the bias gradient sums the pooled gradient, not the routed one
    bias_grad = next(s.op for s in concrete._plan.steps if s.op.type == "BiasAddGrad")
    assert bias_grad.inputs[0].shape.as_list()[1:3] == fused.outputs[0].shape.as_list()[1:3]


@pytest.mark.parametrize("pool", [(3, 2, "VALID"), (2, 2, "SAME")])
def test_training_graph_with_overlapping_or_padded_windows_keeps_the_pool_ops(pool):
    rng = np.random.default_rng(16)
    filters = tf.Variable(rng.standard_normal((3, 3, 3, 8)).astype(np.float32))
    bias = tf.Variable(rng.standard_normal(8).astype(np.float32))
    x = tf.constant(rng.standard_normal((2, 11, 11, 3)).astype(np.float32))  # 9x9: SAME pads
    step = _training_block_step(filters, bias, padding="VALID", pool=pool)
    concrete = tf.function(step).get_concrete_function(x)
    for a, b in zip(concrete(x), step(x)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-4)
    fused = [s.op for s in concrete._plan.steps if s.op.type == "_FusedConv2D"]
    assert len(fused) == 1 and fused[0].attrs["pool"] == () and not fused[0].attrs["relu"]
    types = {s.op.type for s in concrete._plan.steps}
    assert {"MaxPool", "MaxPoolGrad"} <= types and "_FusedConv2DWithChoice" not in types


def test_bias_gradient_of_a_pooled_gradient_sums_the_pooled_gradient():
    rng = np.random.default_rng(17)
    x = tf.constant(rng.standard_normal((3, 8, 8, 4)).astype(np.float32))
    bias = tf.constant(rng.standard_normal(4).astype(np.float32))

    def step(x, bias):
        with tf.GradientTape() as tape:
            tape.watch(bias)
            pooled = tf.nn.max_pool2d(tf.nn.bias_add(x, bias), 3, 2, "SAME")  # overlapping
            weights = tf.reshape(tf.range(16.0, dtype=tf.float32), [1, 4, 4, 1])
            loss = tf.reduce_sum(pooled * weights)  # d(loss)/d(bias) = 3 images * sum(0..15)
        return tape.gradient(loss, bias)

    concrete = tf.function(step).get_concrete_function(x, bias)
    np.testing.assert_allclose(concrete(x, bias).numpy(), step(x, bias).numpy(), rtol=1e-5)
    np.testing.assert_allclose(concrete(x, bias).numpy(), np.full(4, 3 * 120.0), rtol=1e-6)
    grads = [s.op for s in concrete._plan.steps if s.op.type == "BiasAddGrad"]
    assert len(grads) == 1 and grads[0].inputs[0].op.type != "MaxPoolGrad"
