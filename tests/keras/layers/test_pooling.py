"""Tests for ndflow/keras/layers/pooling.py: Keras 3's numbers (fixtures), the harness,
masked global average pooling, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer
from tests.keras.layers.layers_a_cases import cases_for, compare_with_live_keras, run_case


@pytest.mark.parametrize("case", cases_for("pooling"))
def test_matches_keras(case):
    run_case(case)


HARNESS = [
    ("max1d", layers.MaxPooling1D, {"pool_size": 2}, (2, 6, 3), (2, 3, 3)),
    ("max2d_same", layers.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"},
     (2, 5, 5, 2), (2, 3, 3, 2)),
    ("max2d_cf", layers.MaxPooling2D, {"data_format": "channels_first"}, (2, 3, 4, 6),
     (2, 3, 2, 3)),
    ("max3d", layers.MaxPooling3D, {}, (1, 4, 4, 4, 2), (1, 2, 2, 2, 2)),
    ("avg1d", layers.AveragePooling1D, {"pool_size": 3, "strides": 1}, (2, 5, 2), (2, 3, 2)),
    ("avg2d", layers.AveragePooling2D, {}, (2, 4, 4, 2), (2, 2, 2, 2)),
    ("avg3d_cf", layers.AveragePooling3D, {"data_format": "channels_first"},
     (1, 2, 4, 4, 4), (1, 2, 2, 2, 2)),
    ("gap1d", layers.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3)),
    ("gap2d_keep", layers.GlobalAveragePooling2D, {"keepdims": True}, (2, 3, 3, 2),
     (2, 1, 1, 2)),
    ("gap3d", layers.GlobalAveragePooling3D, {}, (2, 2, 2, 2, 3), (2, 3)),
    ("gmp1d_cf", layers.GlobalMaxPooling1D, {"data_format": "channels_first"}, (2, 3, 5),
     (2, 3)),
    ("gmp2d", layers.GlobalMaxPooling2D, {}, (2, 3, 3, 2), (2, 2)),
    ("gmp3d_keep", layers.GlobalMaxPooling3D, {"keepdims": True}, (1, 2, 2, 2, 3),
     (1, 1, 1, 1, 3)),
]


@pytest.mark.parametrize("name, cls, kwargs, shape, out", HARNESS, ids=[h[0] for h in HARNESS])
def test_layer_harness(name, cls, kwargs, shape, out):
    check_layer(cls, kwargs, shape, out, 0, 0)


@pytest.mark.parametrize("cls, kwargs, shape", [
    (layers.MaxPooling2D, {}, (4, 4, 4, 2)),
    (layers.AveragePooling1D, {}, (4, 6, 2)),
    (layers.GlobalAveragePooling2D, {}, (4, 3, 3, 2)),
], ids=["max2d", "avg1d", "gap2d"])
def test_fit_lowers_loss(cls, kwargs, shape):
    check_fit_lowers_loss(cls, kwargs, shape)


def test_same_average_pool_counts_only_real_elements():
    x = np.ones((1, 3, 3, 1), "float32")
    out = layers.AveragePooling2D(2, strides=2, padding="same")(x).numpy()
    np.testing.assert_array_equal(out, np.ones((1, 2, 2, 1)))


def test_masked_global_average_pooling_ignores_masked_steps():
    x = np.arange(12, dtype="float32").reshape(1, 4, 3)
    mask = tf.constant([[True, False, True, False]])
    layer = layers.GlobalAveragePooling1D()
    out = layer(x, mask=mask).numpy()
    np.testing.assert_allclose(out, (x[:, 0] + x[:, 2]) / 2)
    assert layer.compute_mask(x, mask) is None


def test_mask_flows_from_masking_layer():
    inputs = keras.Input((4, 2))
    pooled = layers.GlobalAveragePooling1D()(layers.Masking()(inputs))
    model = keras.Model(inputs, pooled)
    x = np.array([[[1, 2], [0, 0], [3, 4], [0, 0]]], "float32")
    np.testing.assert_allclose(model(x).numpy(), [[2.0, 3.0]])


def test_unknown_steps_in_function():
    layer = layers.MaxPooling1D(2)
    run = tf.function(layer, input_signature=[tf.TensorSpec([None, None, 2])])
    assert run(tf.ones((3, 6, 2))).shape.as_list() == [3, 3, 2]


def test_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"MaxPooling2D 'pool_a' expects an input of rank 4, "
                                         r"got input shape \(2, 4, 3\)"):
        layers.MaxPooling2D(name="pool_a")(tf.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"AveragePooling2D 'pool_b'.*negative.*\(1, 1, 1, 2\)"):
        layers.AveragePooling2D(name="pool_b")(tf.ones((1, 1, 1, 2)))
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPooling1D(padding="full")


def test_config_defaults_match_keras():
    config = layers.MaxPooling2D().get_config()
    assert config["pool_size"] == (2, 2) and config["strides"] == (2, 2)
    assert config["padding"] == "valid" and config["data_format"] == "channels_last"


def test_live_keras_avg_pool():
    compare_with_live_keras("AveragePooling2D", {"pool_size": 3, "strides": 2,
                                                 "padding": "same"}, (2, 7, 6, 2))
