"""Tests for ndflow/keras/layers/conv_lstm.py: Keras 3's numbers (fixtures written by
fixtures/make_conv_lstm_fixtures.py), a NumPy reference for the cell equations, weight layout,
the harness and fit, unknown sequence lengths (while_loop), states, stateful layers, dropout,
gradients, and errors."""

import os

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from ndflow.keras.layers import conv_lstm
from tests.helpers import check_grad
from tests.keras.fixtures.conv_lstm_cases import CASES, run_case
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer

_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "fixtures", "conv_lstm.npz")


@pytest.mark.parametrize("name", list(CASES))
def test_matches_keras(name):
    data = np.load(_FIXTURES)
    outputs, shapes, count = run_case(layers, name)
    assert [str(s) for s in shapes] == list(data[f"{name}/weight_shapes"])
    assert count == int(data[f"{name}/count_params"])
    assert len(outputs) == len([k for k in data.files if k.startswith(f"{name}/output_")])
    for index, output in enumerate(outputs):
        expected = data[f"{name}/output_{index}"]
        assert output.shape == expected.shape
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _conv1d_same(x, w):
    """(B, L, C) x (k, C, F) -> (B, L, F), stride 1, TF's "same" padding."""
    k = w.shape[0]
    left = (k - 1) // 2
    padded = np.pad(x, [(0, 0), (left, k - 1 - left), (0, 0)])
    return sum(padded[:, j:j + x.shape[1]] @ w[j] for j in range(k))


def test_cell_equations_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 3)).astype("float32")
    layer = layers.ConvLSTM1D(2, 3, padding="same", return_state=True)
    layer(x)
    kernel, recurrent, bias = [0.4 * rng.standard_normal(w.shape).astype("float32")
                               for w in layer.get_weights()]
    layer.set_weights([kernel, recurrent, bias])
    output, h, c = layer(x)
    ref_h = np.zeros((2, 6, 2))
    ref_c = np.zeros((2, 6, 2))
    for t in range(4):
        z = _conv1d_same(x[:, t], kernel) + _conv1d_same(ref_h, recurrent) + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        ref_c = _sigmoid(f) * ref_c + _sigmoid(i) * np.tanh(g)
        ref_h = _sigmoid(o) * np.tanh(ref_c)
    for actual, expected in [(output, ref_h), (h, ref_h), (c, ref_c)]:
        np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_weight_layout_and_unit_forget_bias():
    layer = layers.ConvLSTM2D(3, (2, 3))
    layer(np.zeros((1, 2, 5, 5, 4), np.float32))
    assert [w._layer_path for w in layer.weights] == [
        "conv_lstm_cell/kernel", "conv_lstm_cell/recurrent_kernel", "conv_lstm_cell/bias"]
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3, 4, 12), (2, 3, 3, 12), (12,)]
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    plain = layers.ConvLSTM2D(3, 2, unit_forget_bias=False)
    plain.build((None, 2, 5, 5, 4))
    np.testing.assert_array_equal(plain.cell.bias.numpy(), np.zeros(12))
    no_bias = layers.ConvLSTM1D(2, 2, use_bias=False)
    no_bias.build((None, 2, 5, 4))
    assert [w._layer_path for w in no_bias.weights] == [
        "conv_lstm_cell/kernel", "conv_lstm_cell/recurrent_kernel"]


def test_config_keys_match_keras():
    layer = layers.ConvLSTM2D(3, 2)
    config = layer.get_config()
    keras_keys = {  # keras.layers.ConvLSTM2D(3, 2).get_config() in Keras 3.15
        "name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards",
        "stateful", "unroll", "zero_output_for_mask", "filters", "kernel_size", "strides",
        "padding", "data_format", "dilation_rate", "activation", "recurrent_activation",
        "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "seed"}
    assert set(config) == keras_keys
    assert config["kernel_size"] == (2, 2) and config["strides"] == (1, 1)
    assert layer.filters == 3 and layer.padding == "valid"


@pytest.mark.parametrize("cls,kwargs,input_shape,output_shape,n_params", [
    (layers.ConvLSTM1D, {"filters": 2, "kernel_size": 3}, (2, 3, 6, 2), (2, 4, 2),
     3 * 2 * 8 + 3 * 2 * 8 + 8),
    (layers.ConvLSTM1D, {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same",
                         "return_sequences": True}, (2, 3, 5, 2), (2, 3, 3, 2),
     2 * 2 * 8 + 2 * 2 * 8 + 8),
    (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "padding": "same",
                         "return_sequences": True, "go_backwards": True}, (2, 3, 4, 4, 1),
     (2, 3, 4, 4, 2), 4 * 1 * 8 + 4 * 2 * 8 + 8),
    (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "data_format": "channels_first"},
     (2, 3, 1, 4, 5), (2, 2, 3, 4), 4 * 1 * 8 + 4 * 2 * 8 + 8),
    (layers.ConvLSTM3D, {"filters": 1, "kernel_size": 2}, (2, 2, 3, 3, 3, 1), (2, 2, 2, 2, 1),
     8 * 4 + 8 * 4 + 4),
], ids=["1d", "1d_strided_same_seq", "2d_same_seq_backwards", "2d_channels_first", "3d"])
def test_harness(cls, kwargs, input_shape, output_shape, n_params):
    check_layer(cls, kwargs, input_shape, output_shape, n_params, 0)


def test_fit_lowers_loss():
    check_fit_lowers_loss(layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2,
                                              "padding": "same"}, (8, 3, 4, 4, 2))


def test_return_state_shapes():
    layer = layers.ConvLSTM2D(3, 3, strides=2, return_sequences=True, return_state=True)
    assert layer.compute_output_shape((None, 4, 9, 7, 2)) == (
        (None, 4, 4, 3, 3), (None, 4, 3, 3), (None, 4, 3, 3))
    outputs = layer(keras.Input((4, 9, 7, 2)))
    assert [o.shape.as_list() for o in outputs] == [
        [None, 4, 4, 3, 3], [None, 4, 3, 3], [None, 4, 3, 3]]


def test_unknown_length_uses_while_loop():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 4, 4, 2)).astype("float32")
    layer = layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True)
    eager = layer(x).numpy()
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 4, 4, 2))])
    np.testing.assert_allclose(traced(x).numpy(), eager, rtol=1e-5, atol=1e-6)
    mask = np.array([[True] * 5, [True] * 2 + [False] * 3])
    masked = tf.function(lambda a, m: layer(a, mask=m),
                         input_signature=[tf.TensorSpec((None, None, 4, 4, 2)),
                                          tf.TensorSpec((None, None), tf.bool)])
    np.testing.assert_allclose(masked(x, mask).numpy(), layer(x, mask=mask).numpy(),
                               rtol=1e-5, atol=1e-6)
    inputs = keras.Input((None, 4, 4, 2))
    last = layers.ConvLSTM2D(2, 2)(inputs)
    assert last.shape.as_list() == [None, 3, 3, 2]
    model = keras.Model(inputs, last)
    assert model(x[:, :3]).shape == (2, 3, 3, 2)


def test_masked_steps_keep_state():
    x = np.random.default_rng(4).standard_normal((1, 4, 3, 2)).astype("float32")
    layer = layers.ConvLSTM1D(2, 2, return_sequences=True)
    mask = np.array([[True, True, False, False]])
    out = layer(x, mask=mask).numpy()
    np.testing.assert_array_equal(out[0, 2], out[0, 1])
    np.testing.assert_array_equal(out[0, 3], out[0, 1])
    np.testing.assert_allclose(out[0, :2], layer(x).numpy()[0, :2], rtol=1e-6)


def test_initial_state():
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 2)).astype("float32")
    layer = layers.ConvLSTM1D(3, 3, padding="same", return_state=True)
    zero = layer(x)
    given = layer(x, initial_state=[tf.zeros((2, 5, 3)), tf.zeros((2, 5, 3))])
    for a, b in zip(zero, given):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    other = layer(x, initial_state=[tf.ones((2, 5, 3)), tf.ones((2, 5, 3))])
    assert not np.allclose(other[0].numpy(), zero[0].numpy())


def test_stateful_carries_and_resets():
    x = np.random.default_rng(3).standard_normal((2, 4, 4, 4, 1)).astype("float32")
    whole = layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True)
    expected = whole(x).numpy()
    layer = layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True, stateful=True)
    layer.build(x[:, :2].shape)
    layer.set_weights(whole.get_weights())
    first = layer(x[:, :2]).numpy()
    second = layer(x[:, 2:]).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], 1), expected, rtol=1e-5,
                               atol=1e-6)
    assert [tuple(s.shape) for s in layer.states] == [(2, 4, 4, 2), (2, 4, 4, 2)]
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :2]).numpy(), first, rtol=1e-6)


def test_dropout_only_in_training():
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 5, 2)).astype("float32")
    for kwargs in [{"dropout": 0.5}, {"recurrent_dropout": 0.5},
                   {"dropout": 0.3, "recurrent_dropout": 0.3}]:
        layer = layers.ConvLSTM2D(2, 3, padding="same", seed=1, **kwargs)
        inference = layer(x).numpy()
        np.testing.assert_array_equal(layer(x, training=False).numpy(), inference)
        trained = layer(x, training=True).numpy()
        assert np.isfinite(trained).all()
        assert not np.allclose(trained, inference)
        assert layer.cell._dropout_mask is None and layer.cell._recurrent_dropout_mask is None
    masks = layers.ConvLSTM2D(2, 3, dropout=0.5).cell._create_dropout_mask(
        tf.ones((2, 5, 5, 2)), 0.5)
    assert len(masks) == 4 and not np.array_equal(masks[0].numpy(), masks[1].numpy())


def test_gradients_against_finite_differences():
    layer = layers.ConvLSTM1D(2, 2, padding="same", dtype="float64")
    x = np.random.default_rng(7).standard_normal((1, 3, 4, 2))
    layer(x)
    check_grad(layer, x, order=1)


def test_cell_called_on_one_step():
    layer = layers.ConvLSTM1D(2, 3, return_state=True)
    x = np.random.default_rng(8).standard_normal((2, 1, 6, 2)).astype("float32")
    output, h, c = layer(x)
    states = layer.cell.get_initial_state(batch_size=2)
    step_h, (step_state, c2) = layer.cell(x[:, 0], states)
    np.testing.assert_allclose(step_h.numpy(), output.numpy(), rtol=1e-6)
    np.testing.assert_allclose(step_state.numpy(), h.numpy(), rtol=1e-6)
    np.testing.assert_allclose(c2.numpy(), c.numpy(), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match=r"ConvLSTM2D 'maps' needs static spatial and channel "
                                         r"dimensions, got input shape \(None, 3, None, 4, 2\)"):
        layers.ConvLSTM2D(2, 2, name="maps")(keras.Input((3, None, 4, 2)))
    with pytest.raises(ValueError, match=r"ConvLSTM1D '.*' needs static.*\(None, 3, 4, None\)"):
        layers.ConvLSTM1D(2, 2).build((None, 3, 4, None))
    cell = layers.ConvLSTM2D(2, 2).cell
    with pytest.raises(ValueError, match=r"static input shapes.*\(None, None, 4, 2\)"):
        cell.build((None, None, 4, 2))
    with pytest.raises(ValueError, match=r"channel dimension.*\(None, 3, 4, None\)"):
        cell.build((None, 3, 4, None))
    with pytest.raises(ValueError, match=r"ConvLSTM2D 'bad' expects an input of rank 5.*"
                                         r"\(None, 3, 4, 2\)"):
        layers.ConvLSTM2D(2, 2, name="bad").build((None, 3, 4, 2))
    with pytest.raises(ValueError, match=r"ConvLSTM2D 'x' expects an input of rank 5, got "
                                         r"input shape \(1, 3, 4, 2\)"):
        layers.ConvLSTM2D(2, 2, name="x")(np.zeros((1, 3, 4, 2), np.float32))
    with pytest.raises(ValueError, match="rank=4"):
        conv_lstm.ConvLSTMCell(4, 2, 2)
    with pytest.raises(ValueError, match="filters=0"):
        layers.ConvLSTM2D(0, 2)
    with pytest.raises(ValueError, match=r"strides=\(2, 2\) and dilation_rate=\(2, 2\)"):
        layers.ConvLSTM2D(2, 2, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.ConvLSTM3D(2, (2, 2))
    with pytest.raises(ValueError, match="padding"):
        layers.ConvLSTM1D(2, 2, padding="causal")
    with pytest.raises(ValueError, match="stateful=True"):
        layers.ConvLSTM1D(2, 2, stateful=True)(keras.Input((3, 5, 2)))


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input((3, 5, 5, 2))
    outputs = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(9).standard_normal((2, 3, 5, 5, 2)).astype("float32")
    path = str(tmp_path / "conv_lstm.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
