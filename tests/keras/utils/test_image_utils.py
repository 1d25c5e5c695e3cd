"""array_to_img / img_to_array / load_img / save_img (Pillow)."""

import numpy as np
import pytest

import ndflow as tf

pytest.importorskip("PIL")
utils = tf.keras.utils


def test_round_trip_rgb_png(tmp_path):
    pixels = np.random.RandomState(0).randint(0, 256, (5, 7, 3)).astype("float32")
    path = tmp_path / "x.png"
    utils.save_img(str(path), pixels, scale=False)
    image = utils.load_img(str(path))
    assert image.size == (7, 5) and image.mode == "RGB"
    array = utils.img_to_array(image)
    assert array.dtype == np.float32 and array.shape == (5, 7, 3)
    np.testing.assert_array_equal(array, pixels)


def test_array_to_img_scales_and_grayscale():
    image = utils.array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]]))
    assert image.mode == "L"
    np.testing.assert_array_equal(np.asarray(image), [[0, 127], [255, 63]])


def test_load_img_grayscale_target_size_and_channels_first(tmp_path):
    path = tmp_path / "y.png"
    utils.save_img(str(path), np.ones((8, 6, 3), "float32") * 200, scale=False)
    image = utils.load_img(str(path), color_mode="grayscale", target_size=(4, 3))
    assert image.size == (3, 4)
    array = utils.img_to_array(image, data_format="channels_first")
    assert array.shape == (1, 4, 3)


@pytest.mark.parametrize("call, message", [
    (lambda: utils.array_to_img(np.zeros((2, 2))), "rank 3"),
    (lambda: utils.array_to_img(np.zeros((2, 2, 2))), "Unsupported channel number: 2"),
    (lambda: utils.img_to_array(np.zeros((2, 2, 2, 2))), "Unsupported image shape"),
], ids=["rank", "channels", "img_rank"])
def test_image_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_load_img_bad_mode(tmp_path):
    path = tmp_path / "z.png"
    utils.save_img(str(path), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        utils.load_img(str(path), color_mode="cmyk")
