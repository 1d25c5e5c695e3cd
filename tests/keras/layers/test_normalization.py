"""Tests for ndflow/keras/layers/normalization.py: Keras 3's numbers (fixtures, including the
moving statistics after a training call), the harness, moving-statistics updates inside the
traced fit step, gradients against NumPy formulas, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer
from tests.keras.layers.layers_a_cases import cases_for, compare_with_live_keras, run_case


@pytest.mark.parametrize("case", cases_for("normalization"))
def test_matches_keras(case):
    run_case(case)


HARNESS = [
    ("batchnorm", layers.BatchNormalization, {}, (4, 3), (4, 3), 6, 6),
    ("batchnorm_axis1", layers.BatchNormalization, {"axis": 1}, (2, 3, 4, 4), (2, 3, 4, 4),
     6, 6),
    ("batchnorm_renorm", layers.BatchNormalization, {"renorm": True}, (4, 3), (4, 3), 6, 15),
    ("layernorm", layers.LayerNormalization, {}, (2, 3, 4), (2, 3, 4), 8, 0),
    ("layernorm_axes", layers.LayerNormalization, {"axis": [-2, -1]}, (2, 3, 4), (2, 3, 4),
     24, 0),
    ("layernorm_rms", layers.LayerNormalization, {"rms_scaling": True}, (2, 5), (2, 5), 5, 0),
    ("groupnorm", layers.GroupNormalization, {"groups": 2}, (2, 5, 4), (2, 5, 4), 8, 0),
    ("groupnorm_cf", layers.GroupNormalization, {"groups": 3, "axis": 1}, (2, 6, 3, 3),
     (2, 6, 3, 3), 12, 0),
    ("unitnorm", layers.UnitNormalization, {}, (2, 4), (2, 4), 0, 0),
]


@pytest.mark.parametrize("name, cls, kwargs, shape, out, n_train, n_fixed", HARNESS,
                         ids=[h[0] for h in HARNESS])
def test_layer_harness(name, cls, kwargs, shape, out, n_train, n_fixed):
    check_layer(cls, kwargs, shape, out, n_train, n_fixed)


@pytest.mark.parametrize("cls, kwargs, shape", [
    (layers.BatchNormalization, {}, (8, 4)),
    (layers.LayerNormalization, {}, (8, 3, 4)),
    (layers.GroupNormalization, {"groups": 2}, (8, 3, 4)),
], ids=["batchnorm", "layernorm", "groupnorm"])
def test_fit_lowers_loss(cls, kwargs, shape):
    check_fit_lowers_loss(cls, kwargs, shape)


def test_batchnorm_updates_moving_statistics_inside_traced_fit():
    rng = np.random.default_rng(0)
    x = (3.0 + 2.0 * rng.standard_normal((16, 3))).astype("float32")
    model = keras.Sequential([keras.Input((3,)), layers.BatchNormalization(momentum=0.5)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((16, 3), "float32"), batch_size=16, epochs=1, verbose=0)
    bn = model.layers[-1]
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-5)


def test_batchnorm_inference_uses_moving_statistics_and_ignores_training_when_frozen():
    bn = layers.BatchNormalization(epsilon=0.0)
    x = np.array([[1.0, 2.0], [3.0, 6.0]], "float32")
    bn.build(tf.TensorShape(x.shape))
    bn.set_weights([np.ones(2, "float32"), np.zeros(2, "float32"),
                    np.array([1.0, 1.0], "float32"), np.array([4.0, 4.0], "float32")])
    np.testing.assert_allclose(bn(x).numpy(), (x - 1.0) / 2.0)
    bn.trainable = False
    np.testing.assert_allclose(bn(x, training=True).numpy(), (x - 1.0) / 2.0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), [1.0, 1.0])


def test_batchnorm_training_gradient_matches_formula():
    rng = np.random.default_rng(1)
    xv = rng.standard_normal((5, 2))
    upstream = rng.standard_normal((5, 2))
    x = tf.constant(xv)
    bn = layers.BatchNormalization(dtype="float64", epsilon=1e-3)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(bn(x, training=True) * tf.constant(upstream))
    dx = tape.gradient(loss, x).numpy()
    # The upstream gradient's component orthogonal to 1 and x_hat, scaled by 1/sigma.
    inv = 1 / np.sqrt(xv.var(0) + 1e-3)
    xhat = (xv - xv.mean(0)) * inv
    expected = inv * (upstream - upstream.mean(0) - xhat * (upstream * xhat).mean(0))
    np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-9)


def test_layernorm_mixed_precision_keeps_float16_outputs_and_float32_weights():
    layer = layers.LayerNormalization(dtype="mixed_float16")
    out = layer(np.ones((2, 4), "float32"))
    assert out.dtype == tf.float16
    assert layer.gamma.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 4)))


def test_unit_normalization_values():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], "float32")
    np.testing.assert_allclose(layers.UnitNormalization()(x).numpy(), [[0.6, 0.8], [0, 0]])


def test_errors_name_layer_and_shapes():
    bn = layers.BatchNormalization(name="bn_a")
    bn(tf.ones((2, 3)))
    with pytest.raises(ValueError, match=r"BatchNormalization 'bn_a' expects last dimension 3, "
                                         r"got input shape \(2, 4\)"):
        bn(tf.ones((2, 4)))
    with pytest.raises(ValueError, match=r"GroupNormalization 'gn_a'.*groups=4.*\(2, 6\)"):
        layers.GroupNormalization(groups=4, name="gn_a")(tf.ones((2, 6)))
    with pytest.raises(ValueError, match=r"LayerNormalization 'ln_a': axis 3 is out of bounds"):
        layers.LayerNormalization(axis=3, name="ln_a")(tf.ones((2, 6)))
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="renorm_clipping"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1.0, "bad": 2})
    with pytest.raises(ValueError, match="synchronized"):
        layers.BatchNormalization(synchronized=True)
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="last")


def test_live_keras_layernorm():
    compare_with_live_keras("LayerNormalization", {"axis": [1, 2]}, (2, 3, 4))
