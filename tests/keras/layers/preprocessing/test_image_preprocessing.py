"""Tests for ndflow/keras/layers/preprocessing/image_preprocessing.py: values against NumPy and
TF's resampling conventions, training-only randomness, shapes, configs and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from ndflow.keras.layers.preprocessing import image_preprocessing as ip


def _images(seed=0, shape=(2, 6, 8, 3)):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def test_rescaling():
    x = _images()
    np.testing.assert_allclose(layers.Rescaling(1 / 255.0, offset=-1)(x).numpy(),
                               x / 255.0 - 1, rtol=1e-6, atol=1e-7)
    out = layers.Rescaling(0.5)(np.array([[2, 4]], np.uint8))
    assert out.dtype == tf.float32 and out.numpy().tolist() == [[1.0, 2.0]]
    assert layers.Rescaling.from_config(layers.Rescaling(2.0, 1.0).get_config()).offset == 1.0


def test_resizing_and_crop_to_aspect_ratio():
    x = _images()
    out = layers.Resizing(3, 4)(x)
    np.testing.assert_allclose(out.numpy(), tf.image.resize(x, [3, 4]).numpy())
    cropped = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x)
    np.testing.assert_allclose(cropped.numpy(), tf.image.resize(x[:, :, 1:7], [4, 4]).numpy(),
                               rtol=1e-6)
    padded = layers.Resizing(4, 4, pad_to_aspect_ratio=True)(x)
    assert padded.shape == (2, 4, 4, 3)
    assert layers.Resizing(3, 4)(x[0]).shape == (3, 4, 3)
    symbolic = layers.Resizing(5, 7)(keras.Input((None, None, 3)))
    assert symbolic.shape.as_list() == [None, 5, 7, 3]


def test_center_crop():
    x = _images()
    np.testing.assert_array_equal(layers.CenterCrop(4, 4)(x).numpy(), x[:, 1:5, 2:6])
    bigger = layers.CenterCrop(10, 10)(x)
    assert bigger.shape == (2, 10, 10, 3)
    assert layers.CenterCrop(2, 3).compute_output_shape((None, 6, 8, 3)) == (None, 2, 3, 3)


@pytest.mark.parametrize("cls,kwargs", [
    (layers.RandomFlip, {}), (layers.RandomRotation, {"factor": 0.2}),
    (layers.RandomZoom, {"height_factor": 0.3}),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2}),
    (layers.RandomContrast, {"factor": 0.5}),
], ids=["flip", "rotation", "zoom", "translation", "contrast"])
def test_random_layers_only_in_training(cls, kwargs):
    x = _images(1)
    layer = cls(seed=3, **kwargs)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    augmented = layer(x, training=True)
    assert augmented.shape == x.shape and augmented.dtype == tf.float32
    assert not np.allclose(augmented.numpy(), x)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == {**config, "name": config["name"]}
    symbolic = cls(**kwargs)(keras.Input((6, 8, 3)), training=True)
    assert symbolic.shape.as_list() == [None, 6, 8, 3]


def test_random_flip_flips_whole_images():
    x = _images(2)
    out = layers.RandomFlip("horizontal", seed=1)(x, training=True).numpy()
    for image, result in zip(x, out):
        assert np.array_equal(result, image) or np.array_equal(result, image[:, ::-1])


def test_affine_transform_matches_tf_conventions():
    image = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
    identity = np.array([[1, 0, 0, 0, 1, 0, 0, 0]], np.float32)
    np.testing.assert_array_equal(ip._affine_transform(image, identity, "bilinear", "reflect",
                                                       0.0), image)
    shift = np.array([[1, 0, -1, 0, 1, 0, 0, 0]], np.float32)  # output x reads input x - 1
    out = ip._affine_transform(image, shift, "nearest", "constant", -1.0)
    np.testing.assert_array_equal(out[0, :, 0, 0], [-1, -1, -1])
    np.testing.assert_array_equal(out[0, :, 1:, 0], image[0, :, :3, 0])
    reflected = ip._affine_transform(image, shift, "nearest", "reflect", 0.0)
    np.testing.assert_array_equal(reflected[0, :, 0, 0], image[0, :, 0, 0])
    wrapped = ip._affine_transform(image, shift, "nearest", "wrap", 0.0)
    np.testing.assert_array_equal(wrapped[0, :, 0, 0], image[0, :, 3, 0])
    half = np.array([[1, 0, 0.5, 0, 1, 0, 0, 0]], np.float32)
    blended = ip._affine_transform(image, half, "bilinear", "nearest", 0.0)
    np.testing.assert_allclose(blended[0, 0, :3, 0], [0.5, 1.5, 2.5])


def test_rotation_by_half_turn_reverses_image():
    x = _images(3, (1, 5, 5, 1))
    layer = layers.RandomRotation((0.5, 0.5), interpolation="nearest")
    np.testing.assert_allclose(layer(x, training=True).numpy(), x[:, ::-1, ::-1], atol=1e-3)


def test_contrast_clips_to_value_range():
    x = _images(4)
    out = layers.RandomContrast((0.9, 0.9), seed=2)(x, training=True).numpy()
    assert out.min() >= 0 and out.max() <= 255


def test_random_crop():
    x = _images(5)
    layer = layers.RandomCrop(4, 5, seed=1)
    train = layer(x, training=True).numpy()
    assert train.shape == (2, 4, 5, 3)
    found = [(i, j) for i in range(3) for j in range(4)
             if np.array_equal(train, x[:, i:i + 4, j:j + 5])]
    assert found
    np.testing.assert_array_equal(layer(x).numpy(), x[:, 1:5, 1:6])


def test_random_layers_in_fit_pipeline():
    keras.utils.set_random_seed(3)  # the Dense initializer too: the loss path is reproducible
    inputs = keras.Input((6, 8, 3))
    hidden = layers.RandomFlip(seed=1)(layers.Rescaling(1 / 255.0)(inputs))
    output = layers.Dense(1)(layers.Flatten()(layers.RandomRotation(0.1, seed=2)(hidden)))
    model = keras.Model(inputs, output)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    loss = model.fit(_images(6, (8, 6, 8, 3)), np.ones((8, 1), np.float32), epochs=3,
                     batch_size=8, verbose=0).history["loss"]
    assert np.isfinite(loss).all() and loss[-1] < loss[0]


def test_errors():
    with pytest.raises(ValueError, match="RandomFlip layer .* unknown mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="RandomContrast: `factor`"):
        layers.RandomContrast(-0.5)
    with pytest.raises(ValueError, match="RandomZoom: `factor` lower bound"):
        layers.RandomZoom((0.5, -0.5))
    with pytest.raises(ValueError, match=r"CenterCrop 'cc' needs static image sizes, got "
                                         r"input shape \(None, None, None, 3\)"):
        layers.CenterCrop(2, 2, name="cc")(keras.Input((None, None, 3)))
