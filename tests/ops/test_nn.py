"""Tests for ndflow/ops/nn.py: TF's numbers (stored fixtures from
fixtures/make_nn_fixtures.py, shared with test_nn_norm.py), activation gradients at their
corners, numerical stability at large logits, gradients to second order, graph mode and TF's
errors."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad, check_op

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "nn.npz"))
CASES = json.loads(str(FIXTURES["cases"]))
RNG = np.random.default_rng(0)


def _normal(*shape, scale=1.0):
    return scale * RNG.standard_normal(shape)


def run_fixture_case(case):
    """Runs one stored TF case through ndflow; returns (outputs, gradients) as NumPy."""
    name = case["name"]
    inputs = [tf.constant(FIXTURES[f"{name}/in{i}"])
              for i in range(len([k for k in FIXTURES.files if k.startswith(f"{name}/in")]))]
    if case["seed"] is not None:
        tf.random.set_seed(case["seed"])
    with tf.GradientTape(persistent=True) as tape:
        for i in case["grads"]:
            tape.watch(inputs[i])
        outputs = getattr(tf.nn, case["fn"])(*inputs, **case["kwargs"])
        outputs = tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)
    floats = [o for o in outputs if o.dtype.is_floating]
    targets = floats[:1] if case["fn"] == "fused_batch_norm" else floats
    dys = [tf.constant(FIXTURES[f"{name}/dy{k}"]) for k in range(len(targets))]
    grads = []
    if case["grads"]:
        grads = tape.gradient(targets, [inputs[i] for i in case["grads"]], output_gradients=dys)
    return outputs, grads


def check_fixture_case(case, rtol=2e-5, atol=2e-6):
    name = case["name"]
    outputs, grads = run_fixture_case(case)
    assert len(outputs) == case["outputs"]
    for k, output in enumerate(outputs):
        expected = FIXTURES[f"{name}/out{k}"]
        assert output.dtype.as_numpy_dtype == expected.dtype, (name, k, output.dtype)
        np.testing.assert_allclose(output.numpy(), expected, rtol=rtol, atol=atol,
                                   err_msg=f"{name} output {k}")
    for i, grad in zip(case["grads"], grads):
        np.testing.assert_allclose(tf.convert_to_tensor(grad).numpy(),
                                   FIXTURES[f"{name}/grad{i}"], rtol=rtol, atol=atol,
                                   err_msg=f"{name} gradient {i}")


NN_CASES = [c for c in CASES if c["fn"] not in {
    "moments", "batch_normalization", "fused_batch_norm", "l2_normalize",
    "local_response_normalization", "dropout"}]


@pytest.mark.parametrize("case", NN_CASES, ids=[c["name"] for c in NN_CASES])
def test_matches_tensorflow_fixture(case):
    check_fixture_case(case)


# --- activations -----------------------------------------------------------------------------

def _erf(x):
    from scipy.special import erf  # noqa: PLC0415 - test extra

    return erf(x)


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
ACTIVATIONS = [
    ("relu", tf.nn.relu, lambda x: np.maximum(x, 0)),
    ("relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6)),
    ("leaky_relu", tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    ("elu", tf.nn.elu, lambda x: np.where(x < 0, np.expm1(np.minimum(x, 0)), x)),
    ("selu", tf.nn.selu,
     lambda x: SELU_SCALE * np.where(x < 0, SELU_ALPHA * np.expm1(np.minimum(x, 0)), x)),
    ("softsign", tf.nn.softsign, lambda x: x / (1 + np.abs(x))),
    ("gelu", tf.nn.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    ("gelu_tanh", lambda x: tf.nn.gelu(x, approximate=True),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("silu", tf.nn.silu, lambda x: x / (1 + np.exp(-x))),
    ("swish_beta", lambda x: tf.nn.swish(x, beta=1.5), lambda x: x / (1 + np.exp(-1.5 * x))),
    ("crelu", tf.nn.crelu,
     lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], -1)),
]
SHAPES = [(), (0,), (3, 4), (2, 0, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, fn, reference", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values(name, fn, reference, dtype, shape):
    if name == "crelu" and shape == ():
        pytest.skip("crelu concatenates along an axis")
    x = _normal(*shape, scale=4.0)
    check_op(fn, reference, x, dtype=dtype, rtol=1e-5 if dtype == "float32" else 1e-10)


def test_activations_keep_nan_and_large_values_finite():
    x = tf.constant([np.nan, -1e30, 1e30], tf.float32)
    for fn in [tf.nn.relu, tf.nn.relu6, tf.nn.elu, tf.nn.selu, tf.nn.leaky_relu]:
        values = fn(x).numpy()
        assert np.isnan(values[0]), fn
        assert np.all(np.isfinite(values[1:])), fn


@pytest.mark.parametrize("fn, x, expected", [
    (tf.nn.relu, [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    (tf.nn.relu6, [-1.0, 0.0, 3.0, 6.0, 7.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    (tf.nn.leaky_relu, [-1.0, 0.0, 2.0], [0.2, 0.2, 1.0]),
    (lambda x: tf.nn.leaky_relu(x, alpha=0.01), [-1.0, 0.0], [0.01, 0.01]),
    (tf.nn.elu, [-1.0, 0.0, 2.0], [np.exp(-1.0), 1.0, 1.0]),
    (tf.nn.selu, [0.0, 2.0], [SELU_SCALE, SELU_SCALE]),
], ids=["relu", "relu6", "leaky_relu", "leaky_relu_alpha", "elu", "selu"])
def test_gradient_at_the_corners_is_tensorflows(fn, x, expected):
    x = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected, rtol=1e-12)


AWAY_FROM_KINKS = np.array([[-2.5, -0.7, 0.4], [1.3, 4.2, 7.1]])


@pytest.mark.parametrize("fn", [tf.nn.relu, tf.nn.relu6, tf.nn.leaky_relu, tf.nn.crelu,
                                lambda x: tf.nn.leaky_relu(x, alpha=1.7)],
                         ids=["relu", "relu6", "leaky_relu", "crelu", "leaky_relu_alpha_gt_1"])
def test_piecewise_linear_gradients(fn):
    # Second derivatives are zero almost everywhere: order 1, plus the tape-in-tape run below.
    check_grad(fn, AWAY_FROM_KINKS, order=1)
    x = tf.constant(AWAY_FROM_KINKS)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(fn(x))
        g = inner.gradient(y, x)
    second = outer.gradient(g, x)
    assert second is None or not np.any(tf.convert_to_tensor(second).numpy())


@pytest.mark.parametrize("fn", [
    tf.nn.elu, tf.nn.selu, tf.nn.softsign, tf.nn.gelu, lambda x: tf.nn.gelu(x, approximate=True),
    tf.nn.silu, lambda x: tf.nn.swish(x, beta=0.7), tf.nn.softplus, tf.nn.sigmoid,
], ids=["elu", "selu", "softsign", "gelu", "gelu_tanh", "silu", "swish", "softplus", "sigmoid"])
def test_smooth_activation_gradients(fn):
    check_grad(fn, AWAY_FROM_KINKS, order=2)


def test_leaky_relu_casts_integers_to_float32():
    result = tf.nn.leaky_relu(tf.constant([-5, 2]))
    assert result.dtype == tf.float32
    np.testing.assert_allclose(result.numpy(), [-1.0, 2.0])


def test_relu_keeps_integer_dtype():
    result = tf.nn.relu(tf.constant([-5, 2], tf.int64))
    assert result.dtype == tf.int64
    np.testing.assert_array_equal(result.numpy(), [0, 2])


def test_gelu_rejects_integers():
    with pytest.raises(ValueError, match="gelu"):
        tf.nn.gelu(tf.constant([1, 2]))


def test_nn_namespace_reexports_math_functions():
    assert tf.nn.sigmoid is tf.math.sigmoid
    assert tf.nn.top_k is tf.math.top_k
    assert tf.nn.silu is tf.nn.swish
    assert tf.math.softmax is tf.nn.softmax
    assert tf.nn.lrn is tf.nn.local_response_normalization


# --- softmax ---------------------------------------------------------------------------------

def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, 1], ids=lambda a: f"axis{a}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_and_log_softmax_values(axis, dtype):
    x = _normal(3, 4, 5, scale=5)
    check_op(lambda t: tf.nn.softmax(t, axis=axis), lambda a: _np_softmax(a, axis), x,
             dtype=dtype)
    check_op(lambda t: tf.nn.log_softmax(t, axis=axis), lambda a: np.log(_np_softmax(a, axis)),
             x, dtype=dtype, atol=1e-5 if dtype == "float32" else 1e-12)


def test_softmax_is_stable_for_large_logits():
    x = tf.constant([[1000.0, 0.0], [-1000.0, 1000.0]])
    np.testing.assert_array_equal(tf.nn.softmax(x).numpy(), [[1, 0], [0, 1]])
    np.testing.assert_allclose(tf.nn.log_softmax(x).numpy(), [[0, -1000], [-2000, 0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.nn.log_softmax(x) * tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


def test_softmax_float16_and_edge_shapes():
    half = tf.nn.softmax(tf.constant([1.0, 2.0, 3.0], tf.float16))
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half.numpy(), _np_softmax(np.array([1.0, 2.0, 3.0])), rtol=1e-3)
    assert tf.nn.softmax(tf.zeros([2, 0])).shape == (2, 0)
    assert tf.nn.log_softmax(tf.zeros([0, 3])).shape == (0, 3)
    np.testing.assert_array_equal(tf.nn.softmax([-np.inf, 0.0]).numpy(), [0.0, 1.0])


@pytest.mark.parametrize("fn", [tf.nn.softmax, tf.nn.log_softmax,
                                lambda x: tf.nn.softmax(x, axis=0),
                                lambda x: tf.nn.log_softmax(x, axis=0)],
                         ids=["softmax", "log_softmax", "softmax_axis0", "log_softmax_axis0"])
def test_softmax_gradients(fn):
    check_grad(fn, _normal(3, 4), order=2)


def test_softmax_errors_name_the_op():
    with pytest.raises(errors.InvalidArgumentError, match=r"Softmax.*>= 1 dimension.*\[\]"):
        tf.nn.softmax(tf.constant(1.0))
    with pytest.raises(errors.InvalidArgumentError, match=r"Softmax: axis 3.*\[2, 3\]"):
        tf.nn.softmax(tf.zeros([2, 3]), axis=3)


# --- cross-entropy losses --------------------------------------------------------------------

def _np_xent(labels, logits, axis=-1):
    log_p = logits - logits.max(axis, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(axis, keepdims=True))
    return -(labels * log_p).sum(axis)


@pytest.mark.parametrize("axis", [-1, 0], ids=["last", "axis0"])
def test_softmax_cross_entropy_values_and_gradients(axis):
    labels = _np_softmax(_normal(4, 3), axis)
    logits = _normal(4, 3, scale=3)
    check_op(lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=axis),
             lambda z, x: _np_xent(z, x, axis), labels, logits)
    check_grad(lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=axis),
               labels, logits, order=2)


def test_softmax_cross_entropy_gradient_is_softmax_minus_labels():
    labels = tf.constant([[0.2, 0.8], [1.0, 0.0]])
    logits = tf.constant([[1.0, 3.0], [2.0, -1.0]])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels, logits)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(),
                               _np_softmax(logits.numpy()) - labels.numpy(), atol=1e-7)


def test_cross_entropies_are_finite_for_large_logits():
    logits = tf.constant([[1000.0, -1000.0], [-1000.0, 1000.0]])
    labels = tf.constant([[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(tf.nn.softmax_cross_entropy_with_logits(labels, logits).numpy(),
                               [2000.0, 0.0])
    np.testing.assert_allclose(
        tf.nn.sparse_softmax_cross_entropy_with_logits([1, 1], logits).numpy(), [2000.0, 0.0])
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    np.testing.assert_allclose(sig.numpy(), [[1000.0, 1000.0], [0.0, 0.0]])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        total = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                                      logits=logits))
    np.testing.assert_allclose(tape.gradient(total, logits).numpy(), [[1, -1], [0, 0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_softmax_cross_entropy_values(dtype):
    logits = _normal(2, 3, 5, scale=3)
    labels = np.array([[0, 4, 2], [1, 1, 3]])
    result = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits.astype(dtype))
    one_hot = np.eye(5)[labels]
    assert result.dtype == tf.as_dtype(dtype)
    # atol: a near-certain label gives a loss near 0, where float32's relative error grows
    np.testing.assert_allclose(result.numpy(), _np_xent(one_hot, logits), rtol=1e-5, atol=1e-6)


def test_sparse_softmax_cross_entropy_gradients_to_second_order():
    labels = np.array([2, 0, 1], np.int32)
    check_grad(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant(labels), x),
               _normal(3, 4), order=2)


def test_sparse_softmax_out_of_range_label_raises_tensorflows_message():
    message = (r"SparseSoftmaxCrossEntropyWithLogits: Received a label value of -1 which is "
               r"outside the valid range of \[0, 3\)\.  Label values: 0 5 -1")
    with pytest.raises(errors.InvalidArgumentError, match=message):
        tf.nn.sparse_softmax_cross_entropy_with_logits([0, 5, -1], tf.zeros([3, 3]))
    with pytest.raises(errors.InvalidArgumentError, match="label value of 3 "):
        tf.nn.sparse_softmax_cross_entropy_with_logits([0, 3], tf.zeros([2, 3]))

    @tf.function
    def loss(labels):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.zeros([2, 3]))

    with pytest.raises(errors.InvalidArgumentError, match="label value of 7 "):
        loss(tf.constant([7, 0]))


def test_sparse_softmax_shape_errors():
    with pytest.raises(ValueError, match=r"rank.*\(2, 3\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.zeros([2, 3], tf.int32),
                                                       tf.zeros([2, 3]))
    with pytest.raises(ValueError, match=r"labels.shape=\(4,\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.zeros([4], tf.int32),
                                                       tf.zeros([2, 3]))


def test_softmax_cross_entropy_shape_error_names_op_and_shapes():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"SoftmaxCrossEntropyWithLogits.*\[2, 3\].*\[2, 4\]"):
        tf.nn.softmax_cross_entropy_with_logits(tf.zeros([2, 4]), tf.zeros([2, 3]))


def test_cross_entropies_keep_half_precision_dtype():
    logits = tf.constant([[1.0, 2.0, 0.5]], tf.float16)
    assert tf.nn.softmax_cross_entropy_with_logits(tf.constant([[0.0, 1.0, 0.0]], tf.float16),
                                                   logits).dtype == tf.float16
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits([1], logits)
    assert sparse.dtype == tf.float16
    np.testing.assert_allclose(sparse.numpy(), _np_xent(np.eye(3)[[1]], logits.numpy()
                                                        .astype(np.float64)), rtol=1e-3)


def _np_sigmoid_xent(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


@pytest.mark.parametrize("name, fn, reference", [
    ("sigmoid", lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
     _np_sigmoid_xent),
    ("weighted", lambda z, x: tf.nn.weighted_cross_entropy_with_logits(z, x, pos_weight=3.0),
     lambda z, x: (1 - z) * x + (1 + 2 * z) * (np.log1p(np.exp(-np.abs(x)))
                                                + np.maximum(-x, 0))),
    ("log_poisson", lambda z, x: tf.nn.log_poisson_loss(z, x), lambda z, x: np.exp(x) - x * z),
], ids=lambda v: v if isinstance(v, str) else "")
def test_elementwise_losses(name, fn, reference):
    labels = RNG.uniform(0.1, 0.9, (3, 4))
    logits = _normal(3, 4, scale=2)
    check_op(fn, reference, labels, logits)
    check_grad(fn, labels, logits, order=2)


def test_log_poisson_full_loss_adds_stirling_above_one():
    targets = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    log_input = np.array([0.1, -0.3, 0.2, 0.7, 1.5])
    result = tf.nn.log_poisson_loss(targets, log_input, compute_full_loss=True).numpy()
    stirling = targets * np.log(np.maximum(targets, 1)) - targets + 0.5 * np.log(
        2 * np.pi * np.maximum(targets, 1))
    expected = np.exp(log_input) - log_input * targets + np.where(targets > 1, stirling, 0)
    np.testing.assert_allclose(result, expected)
    check_grad(lambda t, x: tf.nn.log_poisson_loss(t, x, compute_full_loss=True),
               targets + 0.3, log_input, order=2)


def test_elementwise_losses_require_same_shape():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\) vs \(3,\)"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros([3]), logits=tf.zeros([2, 3]))


def test_l2_loss_and_its_gradient():
    x = _normal(3, 4)
    check_op(tf.nn.l2_loss, lambda a: np.sum(a ** 2) / 2, x)
    check_grad(tf.nn.l2_loss, x, order=2)


def test_compute_average_loss_and_helpers():
    loss = tf.constant([1.0, 2.0, 3.0, 6.0])
    assert float(tf.nn.compute_average_loss(loss)) == 3.0
    assert float(tf.nn.compute_average_loss(loss, global_batch_size=8)) == 1.5
    weighted = tf.nn.compute_average_loss(loss, sample_weight=[1.0, 0.0, 1.0, 0.0])
    assert float(weighted) == 1.0
    assert float(tf.nn.scale_regularization_loss([tf.constant(1.0), 2.0])) == 3.0
    assert float(tf.nn.zero_fraction([0.0, 1.0, 0.0, 2.0])) == 0.5


# --- bias_add --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, data_format, reshape", [
    ((2, 3), None, (3,)), ((2, 4, 5, 3), "NHWC", (3,)), ((2, 3, 4, 5), "NCHW", (3, 1, 1)),
    ((2, 3, 4), "NCW", (3, 1)), ((0, 3), None, (3,)),
], ids=["2d", "nhwc", "nchw", "ncw", "empty"])
def test_bias_add_values_and_gradients(shape, data_format, reshape):
    value = _normal(*shape)
    bias = _normal(3)
    check_op(lambda v, b: tf.nn.bias_add(v, b, data_format=data_format),
             lambda v, b: v + b.reshape(reshape), value, bias)
    if 0 not in shape:
        check_grad(lambda v, b: tf.nn.bias_add(v, b, data_format=data_format), value, bias,
                   order=2)


def test_bias_add_errors_name_the_op_and_shapes():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"BiasAdd: Must provide as many biases as the last dimension of "
                             r"the input tensor: \[4\] vs. \[2, 3\]"):
        tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([4]))
    with pytest.raises(errors.InvalidArgumentError, match=r"BiasAdd.*channel.*\[5\].*\[2, 3, 5\]"):
        tf.nn.bias_add(tf.zeros([2, 3, 5]), tf.zeros([5]), data_format="NCHW")
    with pytest.raises(errors.InvalidArgumentError, match=r"BiasAdd: Biases must be 1D: \[3, 1\]"):
        tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([3, 1]))
    with pytest.raises(errors.InvalidArgumentError, match=r"BiasAdd.*at least 2D: \[3\]"):
        tf.nn.bias_add(tf.zeros([3]), tf.zeros([3]))


def test_bias_add_error_while_tracing():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def add(value):
        return tf.nn.bias_add(value, tf.zeros([4]))

    with pytest.raises(ValueError, match=r"BiasAdd.*\[4\] vs. \[None, 3\]"):
        add(tf.zeros([2, 3]))


# --- embedding lookup, in_top_k --------------------------------------------------------------

def test_embedding_lookup_gathers_and_gives_indexed_slices_gradient():
    params = tf.Variable(_normal(6, 3))
    ids = tf.constant([[0, 5], [5, 2]])
    with tf.GradientTape() as tape:
        rows = tf.nn.embedding_lookup(params, ids)
        total = tf.reduce_sum(rows)
    np.testing.assert_allclose(rows.numpy(), params.numpy()[ids.numpy()])
    grad = tape.gradient(total, params)
    assert isinstance(grad, tf.IndexedSlices)
    dense = tf.convert_to_tensor(grad).numpy()
    np.testing.assert_allclose(dense[:, 0], [1, 0, 1, 0, 0, 2])


def test_embedding_lookup_sharded_params_use_div_strategy():
    table = _normal(7, 2)
    shards = [table[:3], table[3:5], table[5:]]
    ids = np.array([6, 0, 3, 4, 2])
    np.testing.assert_allclose(tf.nn.embedding_lookup(shards, ids).numpy(), table[ids])


def test_embedding_lookup_max_norm_and_gradient():
    table = _normal(4, 3, scale=3)
    ids = np.array([[1, 3], [0, 1]])

    def reference(params):
        rows = params[ids]
        norms = np.linalg.norm(rows, axis=-1, keepdims=True)
        return rows * np.minimum(1, 1.2 / norms)

    check_op(lambda p: tf.nn.embedding_lookup(p, ids, max_norm=1.2), reference, table)
    check_grad(lambda p: tf.nn.embedding_lookup(p, ids, max_norm=1.2), table, order=2)
    check_grad(lambda p: tf.nn.embedding_lookup(p, ids), table, order=2)


def test_in_top_k_ties_non_finite_and_out_of_range():
    predictions = [[1.0, 1.0, 1.0, 0.0]] * 4
    np.testing.assert_array_equal(tf.nn.in_top_k([0, 1, 2, 3], predictions, 1).numpy(),
                                  [True, True, True, False])
    np.testing.assert_array_equal(
        tf.math.in_top_k(tf.constant([0, 5, -1], tf.int64), [[1.0, 1, 1], [1, 2, 3], [1, 2, 3]],
                         k=2).numpy(), [True, False, False])
    np.testing.assert_array_equal(
        tf.nn.in_top_k([0, 1], [[np.nan, 1.0, 1.0], [1.0, np.inf, 3.0]], 3).numpy(),
        [False, False])
    np.testing.assert_array_equal(tf.nn.in_top_k([0], [[1.0, 2.0]], 0).numpy(), [False])
    assert tf.nn.in_top_k([0], tf.zeros([1, 0]), 1).numpy().tolist() == [False]


def test_in_top_k_shape_errors():
    with pytest.raises(errors.InvalidArgumentError, match=r"InTopKV2.*predictions 2.*targets 3"):
        tf.nn.in_top_k([0, 1, 2], tf.zeros([2, 4]), 1)
    with pytest.raises(errors.InvalidArgumentError, match=r"InTopKV2.*2-dimensional.*\[4\]"):
        tf.nn.in_top_k([0], tf.zeros([4]), 1)


# --- graph mode ------------------------------------------------------------------------------

def test_training_step_pieces_in_tf_function_with_unknown_batch():
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32),
                                  tf.TensorSpec([None], tf.int32)])
    def step(x, labels):
        with tf.GradientTape() as tape:
            tape.watch(x)
            hidden = tf.nn.relu(tf.nn.bias_add(x, tf.constant([0.1, -0.2, 0.3, 0.0])))
            logits = tf.nn.log_softmax(tf.nn.elu(hidden))
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        return loss, tape.gradient(loss, x)

    x = _normal(5, 4).astype(np.float32)
    labels = np.array([0, 3, 1, 2, 2], np.int32)
    loss, grad = step(tf.constant(x), tf.constant(labels))
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        hidden = tf.nn.relu(tf.nn.bias_add(xt, tf.constant([0.1, -0.2, 0.3, 0.0])))
        logits = tf.nn.log_softmax(tf.nn.elu(hidden))
        eager = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    np.testing.assert_allclose(loss.numpy(), eager.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), tape.gradient(eager, xt).numpy(), rtol=1e-5)


def test_losses_trace_with_unknown_dims():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.float32)])
    def losses(logits):
        labels = tf.nn.softmax(logits * 2.0)
        return (tf.nn.softmax_cross_entropy_with_logits(labels, logits),
                tf.nn.softmax(logits, axis=1), tf.nn.in_top_k([0, 1], logits[0], 1))

    logits = _normal(2, 2, 3).astype(np.float32)
    dense, soft, top = losses(tf.constant(logits))
    np.testing.assert_allclose(dense.numpy(), _np_xent(_np_softmax(logits * 2), logits),
                               rtol=1e-5)
    np.testing.assert_allclose(soft.numpy(), _np_softmax(logits, 1), rtol=1e-6)
    assert top.dtype == tf.bool


def test_relu_grad_multiplies_by_the_mask_as_tf():
    # TF computes gradients * (features > 0): a NaN or inf gradient where the feature is <= 0
    # gives NaN (TF 2.21: ReluGrad([nan, inf, 1], [-1, -1, 0]) == [nan, nan, 0]).
    dy = tf.constant([np.nan, np.inf, 1.0, 2.0, -3.0])
    x = tf.constant([-1.0, -1.0, 0.0, 0.5, 4.0])
    from ndflow.framework.op_registry import execute

    out = execute("ReluGrad", dy, x).numpy()
    np.testing.assert_array_equal(out, [np.nan, np.nan, 0.0, 2.0, -3.0])
    assert out.dtype == np.float32


@pytest.mark.parametrize("data_format, shape", [("NHWC", (3, 4, 5, 6)), ("NCHW", (3, 6, 4, 5)),
                                                ("NHWC", (7, 6)), ("NCHW", (2, 6, 4, 5, 3)),
                                                ("NCHW", (4, 6))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_bias_add_grad_sums_all_but_the_channel_axis(data_format, shape, dtype):
    from ndflow.framework.op_registry import execute

    d = np.random.default_rng(4).integers(-3, 4, size=shape).astype(dtype)
    out = execute("BiasAddGrad", tf.constant(d), data_format=data_format).numpy()
    axis = 1 if data_format == "NCHW" else len(shape) - 1
    expected = d.astype(np.float64).sum(tuple(i for i in range(len(shape)) if i != axis))
    assert out.dtype == dtype and out.shape == (6,)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
