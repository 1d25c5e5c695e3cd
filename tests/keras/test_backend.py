"""keras.backend: global settings, session reset, and the Keras 2 helpers old programs call."""

import numpy as np
import pytest

import ndflow as tf

K = tf.keras.backend


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    K.set_epsilon(1e-7)
    K.set_floatx("float32")
    K.set_image_data_format("channels_last")


def test_defaults_and_setters():
    assert (K.epsilon(), K.floatx(), K.image_data_format()) == (1e-7, "float32",
                                                                  "channels_last")
    K.set_epsilon(1e-5)
    K.set_image_data_format("channels_first")
    assert (K.epsilon(), K.image_data_format()) == (1e-5, "channels_first")
    assert K.backend() == "tensorflow" and K.learning_phase() == 0


def test_set_floatx_changes_new_layers():
    K.set_floatx("float64")
    layer = tf.keras.layers.Dense(2)
    layer.build((None, 3))
    assert layer.kernel.dtype == tf.float64
    assert K.variable([1, 2]).dtype == tf.float64


@pytest.mark.parametrize("call, message", [
    (lambda: K.set_floatx("int8"), "Unknown `floatx` value: int8"),
    (lambda: K.set_image_data_format("nhwc"), "must be one of"),
    (lambda: K.set_learning_phase(3), "0 or 1"),
], ids=["floatx", "data_format", "learning_phase"])
def test_setting_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_set_learning_phase_is_accepted_with_warning():
    with pytest.warns(UserWarning, match="no effect"):
        K.set_learning_phase(1)


def test_clear_session_resets_layer_names():
    K.clear_session()
    first = tf.keras.layers.Dense(1).name
    second = tf.keras.layers.Dense(1).name
    K.clear_session()
    assert (first, second, tf.keras.layers.Dense(1).name) == ("dense", "dense_1", "dense")
    assert (K.get_uid("x"), K.get_uid("x")) == (1, 2)


def test_shapes_values_and_variables():
    x = K.variable(np.arange(6).reshape(2, 3))
    assert K.int_shape(x) == (2, 3) and K.ndim(x) == 2 and K.dtype(x) == "float32"
    assert K.int_shape(tf.keras.Input((None, 4))) == (None, None, 4)
    assert K.is_keras_tensor(tf.keras.Input((2,))) and not K.is_keras_tensor(x)
    K.set_value(x, np.ones((2, 3)))
    np.testing.assert_array_equal(K.get_value(x), np.ones((2, 3)))
    K.batch_set_value([(x, np.zeros((2, 3)))])
    assert K.batch_get_value([x])[0].sum() == 0 and K.count_params(x) == 6


def test_set_value_on_optimizer_learning_rate():
    optimizer = tf.keras.optimizers.SGD(0.1)
    K.set_value(optimizer.learning_rate, 0.01)
    assert abs(K.get_value(optimizer.learning_rate) - 0.01) < 1e-9


def test_reductions_and_dot():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(K.sum(x, axis=1).numpy(), [3, 12])
    np.testing.assert_allclose(K.mean(x, axis=0, keepdims=True).numpy(), [[1.5, 2.5, 3.5]])
    assert K.max(x).numpy() == 5 and K.min(x).numpy() == 0
    np.testing.assert_allclose(K.std(x).numpy(), np.std(x), rtol=1e-6)
    np.testing.assert_allclose(K.dot(x, x.T).numpy(), x @ x.T)
    a = np.random.RandomState(0).randn(2, 3, 4).astype("float32")
    b = np.random.RandomState(1).randn(4, 5).astype("float32")
    np.testing.assert_allclose(K.dot(a, b).numpy(), a @ b, rtol=1e-5)
    c = np.random.RandomState(2).randn(2, 4, 5).astype("float32")
    np.testing.assert_allclose(K.batch_dot(a, c).numpy(), a @ c, rtol=1e-5)


def test_keras2_crossentropies():
    target = tf.constant([[0.0, 1.0]])
    probs = tf.constant([[0.3, 0.7]])
    np.testing.assert_allclose(K.categorical_crossentropy(target, probs).numpy(),
                               [-np.log(0.7)], rtol=1e-6)
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(tf.constant([1]), probs)
                               .numpy(), [-np.log(0.7)], rtol=1e-5)
    np.testing.assert_allclose(K.binary_crossentropy(tf.constant([1.0]), tf.constant([0.7]))
                               .numpy(), [-np.log(0.7)], rtol=1e-6)
    logits = tf.constant([[0.0, 1.0]])
    np.testing.assert_allclose(
        K.categorical_crossentropy(target, logits, from_logits=True).numpy(),
        [np.log(1 + np.exp(-1.0))], rtol=1e-6)


def test_constructors_use_floatx():
    assert K.zeros((2,)).dtype == tf.float32 and K.ones((1,), dtype="int32").dtype == tf.int32
    assert K.constant(1).dtype == tf.float32
    assert K.cast_to_floatx([1, 2]).dtype == np.float32
    np.testing.assert_array_equal(K.switch(tf.constant([True, False]), K.ones((2,)),
                                           K.zeros((2,))).numpy(), [1, 0])
