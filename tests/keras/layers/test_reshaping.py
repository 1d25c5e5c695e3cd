"""Tests for ndflow/keras/layers/reshaping.py: Keras 3's numbers (fixtures), the harness,
masks from Masking, unknown sizes, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer
from tests.keras.layers.layers_a_cases import cases_for, compare_with_live_keras, run_case


@pytest.mark.parametrize("case", cases_for("reshaping"))
def test_matches_keras(case):
    layer, inputs, outputs = run_case(case)
    if case["cls"] == "Masking":
        np.testing.assert_array_equal(layer.compute_mask(inputs).numpy(),
                                      run_case.__globals__["FIXTURES"][f"{case['id']}/out_mask"])
        np.testing.assert_array_equal(outputs._keras_mask.numpy(),
                                      layer.compute_mask(inputs).numpy())


HARNESS = [
    ("upsampling1d", layers.UpSampling1D, {"size": 2}, (2, 3, 2), (2, 6, 2)),
    ("upsampling2d_cf", layers.UpSampling2D, {"data_format": "channels_first"}, (2, 2, 3, 3),
     (2, 2, 6, 6)),
    ("upsampling2d_bilinear", layers.UpSampling2D, {"interpolation": "bilinear",
                                                    "size": (2, 1)}, (2, 3, 3, 2), (2, 6, 3, 2)),
    ("upsampling3d", layers.UpSampling3D, {}, (1, 2, 2, 2, 1), (1, 4, 4, 4, 1)),
    ("zeropad1d", layers.ZeroPadding1D, {"padding": 2}, (2, 3, 2), (2, 7, 2)),
    ("zeropad2d_cf", layers.ZeroPadding2D, {"padding": (1, 2),
                                            "data_format": "channels_first"},
     (2, 1, 3, 3), (2, 1, 5, 7)),
    ("zeropad3d", layers.ZeroPadding3D, {"padding": ((1, 0), (0, 1), (1, 1))},
     (1, 2, 2, 2, 1), (1, 3, 3, 4, 1)),
    ("crop1d", layers.Cropping1D, {}, (2, 5, 2), (2, 3, 2)),
    ("crop2d", layers.Cropping2D, {"cropping": 1}, (2, 4, 5, 2), (2, 2, 3, 2)),
    ("crop3d", layers.Cropping3D, {"cropping": (1, 0, 1)}, (1, 4, 3, 4, 1), (1, 2, 3, 2, 1)),
    ("permute", layers.Permute, {"dims": (3, 1, 2)}, (2, 3, 4, 5), (2, 5, 3, 4)),
    ("repeat_vector", layers.RepeatVector, {"n": 4}, (2, 3), (2, 4, 3)),
    ("masking", layers.Masking, {}, (2, 3, 2), (2, 3, 2)),
]


@pytest.mark.parametrize("name, cls, kwargs, shape, out", HARNESS, ids=[h[0] for h in HARNESS])
def test_layer_harness(name, cls, kwargs, shape, out):
    check_layer(cls, kwargs, shape, out, 0, 0)


@pytest.mark.parametrize("cls, kwargs, shape", [
    (layers.UpSampling2D, {"interpolation": "bilinear"}, (4, 3, 3, 2)),
    (layers.ZeroPadding1D, {}, (4, 3, 2)),
    (layers.Permute, {"dims": (2, 1)}, (4, 3, 2)),
], ids=["upsampling_bilinear", "zeropad", "permute"])
def test_fit_lowers_loss(cls, kwargs, shape):
    check_fit_lowers_loss(cls, kwargs, shape)


def test_masking_zeroes_masked_steps_and_sets_mask():
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [0.0, 3.0]]], "float32")
    layer = layers.Masking(mask_value=-1.0)
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), [[[1, 2], [0, 0], [0, 3]]])
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, False, True]])


def test_cropping_and_repeat_work_with_unknown_sizes():
    crop = tf.function(layers.Cropping1D((1, 2)),
                       input_signature=[tf.TensorSpec([None, None, 2])])
    assert crop(tf.ones((3, 7, 2))).shape.as_list() == [3, 4, 2]
    repeated = layers.RepeatVector(3)(keras.Input((5,)))
    assert repeated.shape.as_list() == [None, 3, 5]


def test_nearest_upsampling_repeats_values():
    x = np.array([[[[1.0], [2.0]]]], "float32")
    np.testing.assert_array_equal(layers.UpSampling2D((1, 2))(x).numpy()[0, 0, :, 0],
                                  [1, 1, 2, 2])


def test_errors():
    with pytest.raises(ValueError, match=r"Cropping2D 'crop_a'.*\(1, 3, 3, 1\)"):
        layers.Cropping2D(2, name="crop_a")(tf.ones((1, 3, 3, 1)))
    with pytest.raises(ValueError, match="dims"):
        layers.Permute((0, 1))
    with pytest.raises(TypeError, match="integer"):
        layers.RepeatVector(2.5)
    with pytest.raises(ValueError, match="positive"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="cubicle")
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding2D(((1, 2), (1, 2), (1, 2)))
    with pytest.raises(ValueError, match=r"RepeatVector 'rep_a' expects an input of rank 2"):
        layers.RepeatVector(2, name="rep_a")(tf.ones((1, 2, 3)))
    with pytest.raises(ValueError, match=r"UpSampling2D 'up_a'.*known height"):
        tf.function(layers.UpSampling2D(interpolation="bilinear", name="up_a"),
                    input_signature=[tf.TensorSpec([None, None, 3, 1])])(tf.ones((1, 2, 3, 1)))


def test_live_keras_bilinear_upsampling():
    compare_with_live_keras("UpSampling2D", {"size": (3, 2), "interpolation": "bilinear"},
                            (1, 3, 4, 2))
