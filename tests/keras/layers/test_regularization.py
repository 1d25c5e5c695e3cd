"""Tests for ndflow/keras/layers/regularization.py: identity outside training, the statistics
of the noise in training, spatial masks shared across positions, activity losses, errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer

HARNESS = [
    ("spatial1d", layers.SpatialDropout1D, {"rate": 0.5}, (2, 4, 3)),
    ("spatial2d_cf", layers.SpatialDropout2D, {"rate": 0.3, "data_format": "channels_first"},
     (2, 3, 4, 4)),
    ("spatial3d", layers.SpatialDropout3D, {"rate": 0.2}, (1, 2, 2, 2, 3)),
    ("gaussian_noise", layers.GaussianNoise, {"stddev": 0.5}, (2, 5)),
    ("gaussian_dropout", layers.GaussianDropout, {"rate": 0.4}, (2, 5)),
    ("alpha_dropout", layers.AlphaDropout, {"rate": 0.2}, (2, 5)),
    ("activity_regularization", layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, (2, 5)),
]


@pytest.mark.parametrize("name, cls, kwargs, shape", HARNESS, ids=[h[0] for h in HARNESS])
def test_layer_harness_is_identity_outside_training(name, cls, kwargs, shape):
    layer = check_layer(cls, kwargs, shape, shape, 0, 0)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)


@pytest.mark.parametrize("cls, kwargs", [
    (layers.GaussianNoise, {"stddev": 0.1}),
    (layers.SpatialDropout1D, {"rate": 0.2}),
    (layers.AlphaDropout, {"rate": 0.1}),
], ids=["gaussian_noise", "spatial1d", "alpha_dropout"])
def test_fit_lowers_loss(cls, kwargs):
    tf.random.set_seed(3)
    check_fit_lowers_loss(cls, kwargs, (8, 4, 3), epochs=5)


def test_spatial_dropout_drops_whole_channels():
    tf.random.set_seed(0)
    x = np.ones((4, 6, 5, 8), "float32")
    out = layers.SpatialDropout2D(0.5)(x, training=True).numpy()
    per_channel = out.reshape(4, 30, 8)
    assert np.all(per_channel == per_channel[:, :1, :])
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0 < np.mean(out == 0) < 1


def test_gaussian_noise_and_dropout_statistics():
    tf.random.set_seed(1)
    x = np.ones((200, 100), "float32")
    noisy = layers.GaussianNoise(0.5)(x, training=True).numpy()
    assert abs(noisy.mean() - 1) < 0.02 and abs(noisy.std() - 0.5) < 0.02
    dropped = layers.GaussianDropout(0.2)(x, training=True).numpy()
    assert abs(dropped.mean() - 1) < 0.02 and abs(dropped.std() - 0.5) < 0.02


def test_alpha_dropout_keeps_mean_and_variance_of_standard_inputs():
    tf.random.set_seed(2)
    x = np.random.default_rng(0).standard_normal((400, 250)).astype("float32")
    out = layers.AlphaDropout(0.2)(x, training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.03


def test_activity_regularization_adds_loss_and_trains():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
    x = np.array([[1.0, -2.0]], "float32")
    layer(x)
    np.testing.assert_allclose(float(tf.add_n(layer.losses)), 0.1 * 3 + 0.2 * 5, rtol=1e-6)
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.ActivityRegularization(l2=1.0)(inputs))
    model(x)
    assert len(model.losses) == 1


def test_errors():
    with pytest.raises(ValueError, match="rate"):
        layers.SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match=r"SpatialDropout2D 'sd_a' expects an input of rank 4"):
        layers.SpatialDropout2D(0.1, name="sd_a")(tf.ones((2, 3)))
