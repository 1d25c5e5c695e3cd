"""Tests for ndflow/keras/layers/convolutional.py: Keras 3's numbers and weights (fixtures),
the layer harness, a fit step, channels-first, unknown batch sizes, and argument errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer
from tests.keras.layers.layers_a_cases import cases_for, compare_with_live_keras, run_case


@pytest.mark.parametrize("case", cases_for("convolutional"))
def test_matches_keras(case):
    run_case(case)


HARNESS = [
    ("conv1d_causal", layers.Conv1D, {"filters": 3, "kernel_size": 3, "padding": "causal"},
     (2, 6, 2), (2, 6, 3), 21, 0),
    ("conv2d", layers.Conv2D, {"filters": 4, "kernel_size": 3}, (2, 6, 6, 3), (2, 4, 4, 4),
     112, 0),
    ("conv2d_groups_cf", layers.Conv2D, {"filters": 4, "kernel_size": 2, "groups": 2,
                                         "data_format": "channels_first"},
     (2, 4, 5, 5), (2, 4, 4, 4), 36, 0),
    ("conv3d", layers.Conv3D, {"filters": 2, "kernel_size": 2, "padding": "same"},
     (2, 3, 3, 3, 2), (2, 3, 3, 3, 2), 34, 0),
    ("conv2d_transpose", layers.Conv2DTranspose, {"filters": 2, "kernel_size": 3,
                                                  "strides": 2},
     (2, 3, 3, 2), (2, 7, 7, 2), 38, 0),
    ("conv1d_transpose", layers.Conv1DTranspose, {"filters": 2, "kernel_size": 2,
                                                  "strides": 2, "padding": "same"},
     (2, 4, 3), (2, 8, 2), 14, 0),
    ("conv3d_transpose", layers.Conv3DTranspose, {"filters": 1, "kernel_size": 2},
     (1, 2, 2, 2, 2), (1, 3, 3, 3, 1), 17, 0),
    ("depthwise2d", layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2},
     (2, 5, 5, 2), (2, 3, 3, 4), 40, 0),
    ("depthwise1d", layers.DepthwiseConv1D, {"kernel_size": 2}, (2, 5, 3), (2, 4, 3), 9, 0),
    ("separable2d", layers.SeparableConv2D, {"filters": 3, "kernel_size": 2},
     (2, 4, 4, 2), (2, 3, 3, 3), 17, 0),
    ("separable1d", layers.SeparableConv1D, {"filters": 2, "kernel_size": 3,
                                             "padding": "same"}, (2, 5, 2), (2, 5, 2), 12, 0),
]


@pytest.mark.parametrize("name, cls, kwargs, shape, out, n_train, n_fixed", HARNESS,
                         ids=[h[0] for h in HARNESS])
def test_layer_harness(name, cls, kwargs, shape, out, n_train, n_fixed):
    check_layer(cls, kwargs, shape, out, n_train, n_fixed)


@pytest.mark.parametrize("cls, kwargs, shape", [
    (layers.Conv2D, {"filters": 3, "kernel_size": 3, "activation": "tanh"}, (4, 6, 6, 2)),
    (layers.Conv1DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2}, (4, 5, 2)),
    (layers.SeparableConv2D, {"filters": 2, "kernel_size": 3, "padding": "same"},
     (4, 5, 5, 2)),
    (layers.DepthwiseConv2D, {"kernel_size": 2}, (4, 5, 5, 2)),
], ids=["conv2d", "conv1d_transpose", "separable2d", "depthwise2d"])
def test_fit_lowers_loss(cls, kwargs, shape):
    check_fit_lowers_loss(cls, kwargs, shape)


def test_conv2d_matches_numpy_correlation():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 4, 1)).astype("float32")
    layer = layers.Conv2D(1, 2, use_bias=False)
    layer.build(tf.TensorShape(x.shape))
    kernel = rng.standard_normal((2, 2, 1, 1)).astype("float32")
    layer.set_weights([kernel])
    expected = np.zeros((1, 3, 3, 1), "float32")
    for i in range(3):
        for j in range(3):
            expected[0, i, j, 0] = np.sum(x[0, i:i + 2, j:j + 2, 0] * kernel[:, :, 0, 0])
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_conv_transpose_unknown_spatial_dims_in_function():
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same")
    run = tf.function(layer, input_signature=[tf.TensorSpec([None, None, None, 3])])
    assert run(tf.ones((2, 4, 5, 3))).shape.as_list() == [2, 8, 10, 2]
    symbolic = layer(keras.Input((None, None, 3)))
    assert symbolic.shape.as_list() == [None, None, None, 2]
    fixed = layers.Conv2DTranspose(2, 3, strides=2)(keras.Input((4, 4, 3)))
    assert fixed.shape.as_list() == [None, 9, 9, 2]


def test_config_round_trip_keeps_tuples_and_initializers():
    layer = layers.Conv2D(8, (3, 1), strides=(2, 1), kernel_initializer="he_normal",
                          kernel_regularizer="l2", name="c")
    config = layer.get_config()
    assert config["kernel_size"] == (3, 1) and config["strides"] == (2, 1)
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    clone = layers.Conv2D.from_config(config)
    assert clone.kernel_size == (3, 1)
    assert clone.get_config() == config


def test_kernel_regularizer_adds_loss():
    layer = layers.Conv1D(2, 2, kernel_regularizer=keras.regularizers.L2(0.5))
    layer(tf.ones((1, 4, 2)))
    expected = 0.5 * np.sum(layer.kernel.numpy() ** 2)
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0, "kernel_size": 3}, "filters"),
    ({"filters": 3, "kernel_size": 3, "groups": 2}, "groups=2, filters=3"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, "kernel_size"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "dilation_rate > 1"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "padding"),
    ({"filters": 2, "kernel_size": 3, "data_format": "NHWC"}, "data_format"),
], ids=["filters", "groups", "kernel_size", "strides_and_dilation", "causal_2d", "format"])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Conv2D(**kwargs)


def test_output_padding_must_be_below_strides():
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)


def test_wrong_channels_names_layer_and_shapes():
    layer = layers.Conv2D(2, 3, name="conv_a")
    layer(tf.ones((1, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"Conv2D 'conv_a' expects last dimension 3, got input "
                                         r"shape \(1, 5, 5, 4\)"):
        layer(tf.ones((1, 5, 5, 4)))


def test_wrong_rank_and_groups_errors():
    with pytest.raises(ValueError, match=r"Conv2D 'conv_b' expects an input of rank 4, got "
                                         r"input shape \(1, 5, 3\)"):
        layers.Conv2D(2, 3, name="conv_b")(tf.ones((1, 5, 3)))
    with pytest.raises(ValueError, match=r"Conv1D 'conv_c'.*groups=2.*\(1, 5, 3\)"):
        layers.Conv1D(2, 3, groups=2, name="conv_c")(tf.ones((1, 5, 3)))
    with pytest.raises(ValueError, match=r"Conv2D 'conv_d'.*negative.*\(1, 2, 2, 1\)"):
        layers.Conv2D(1, 3, name="conv_d")(tf.ones((1, 2, 2, 1)))


def test_live_keras_conv2d_strided():
    compare_with_live_keras("Conv2D", {"filters": 3, "kernel_size": 3, "strides": 2,
                                       "padding": "same"}, (2, 7, 7, 2))
