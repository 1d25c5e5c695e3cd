"""Tests for ndflow/keras/layers/activation_layers.py: Keras 3's numbers (fixtures), the
harness, PReLU training, masked softmax, Keras 2 spellings and errors."""

import warnings

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer
from tests.keras.layers.layers_a_cases import cases_for, compare_with_live_keras, run_case


@pytest.mark.parametrize("case", cases_for("activation_layers"))
def test_matches_keras(case):
    run_case(case)


HARNESS = [
    ("relu", layers.ReLU, {"max_value": 1.0}, (2, 5), 0),
    ("leaky_relu", layers.LeakyReLU, {}, (2, 5), 0),
    ("prelu", layers.PReLU, {}, (2, 3, 4), 12),
    ("prelu_shared", layers.PReLU, {"shared_axes": [1]}, (2, 3, 4), 4),
    ("elu", layers.ELU, {"alpha": 2.0}, (2, 5), 0),
    ("softmax", layers.Softmax, {"axis": 1}, (2, 3, 4), 0),
]


@pytest.mark.parametrize("name, cls, kwargs, shape, n_train", HARNESS,
                         ids=[h[0] for h in HARNESS])
def test_layer_harness(name, cls, kwargs, shape, n_train):
    check_layer(cls, kwargs, shape, shape, n_train, 0)


@pytest.mark.parametrize("cls, kwargs", [
    (layers.PReLU, {"alpha_initializer": "ones"}), (layers.LeakyReLU, {}),
    (layers.Softmax, {}),
], ids=["prelu", "leaky_relu", "softmax"])
def test_fit_lowers_loss(cls, kwargs):
    check_fit_lowers_loss(cls, kwargs, (8, 4))


def test_values_against_formulas():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]], "float32")
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), np.where(x > 0, x, 0.3 * x),
                               rtol=1e-6)
    np.testing.assert_allclose(layers.ELU(0.5)(x).numpy(),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-6)
    np.testing.assert_allclose(layers.ReLU(max_value=1.0)(x).numpy(), np.clip(x, 0, 1))


def test_leaky_relu_accepts_keras2_alpha():
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    assert layer.get_config()["negative_slope"] == 0.1


def test_masked_softmax_gives_zero_to_masked_positions():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], "float32")
    mask = tf.constant([[True, False, True], [False, False, False]])
    out = layers.Softmax()(x, mask=mask).numpy()
    e = np.exp([1.0, 3.0])
    np.testing.assert_allclose(out[0], [e[0] / e.sum(), 0, e[1] / e.sum()], rtol=1e-6)
    np.testing.assert_array_equal(out[1], [0, 0, 0])


def test_prelu_gradient_reaches_alpha():
    layer = layers.PReLU()
    x = tf.constant([[-1.0, 2.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x))
    np.testing.assert_allclose(tape.gradient(y, layer.alpha).numpy(), [-1.0, 0.0])


def test_errors():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(negative_slope=-1)
    with pytest.raises(ValueError, match=r"Softmax 'sm_a' expects a mask broadcastable.*"
                                         r"\(2, 4\).*\(2, 3\)"):
        layers.Softmax(name="sm_a")(tf.ones((2, 3)), mask=tf.ones((2, 4), "bool"))
    prelu = layers.PReLU(name="pr_a")
    prelu(tf.ones((2, 3)))
    with pytest.raises(ValueError, match=r"PReLU 'pr_a' expects dimension 1 3, got input shape "
                                         r"\(2, 4\)"):
        prelu(tf.ones((2, 4)))


def test_live_keras_prelu():
    compare_with_live_keras("PReLU", {"shared_axes": [1]}, (2, 3, 4))
