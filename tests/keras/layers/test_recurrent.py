"""Tests for ndflow/keras/layers/recurrent.py and rnn_cells.py: Keras 3's numbers (fixtures),
NumPy references for the cell equations, masking, states, stateful RNNs, the while_loop path
for unknown lengths, wrappers, the harness, fit, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers._layers_b import check_against_keras, names
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("name", names("SimpleRNN", "LSTM", "GRU", "Bidirectional",
                                       "TimeDistributed"))
def test_matches_keras(name):
    check_against_keras(name)


def _lstm_reference(x, kernel, recurrent, bias):
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
    return h, c


def test_lstm_equations_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    layer = layers.LSTM(5, return_state=True)
    output, h, c = layer(x)
    ref_h, ref_c = _lstm_reference(x, *layer.get_weights())
    np.testing.assert_allclose(output.numpy(), ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), ref_c, rtol=1e-5, atol=1e-6)


def test_weight_layout_and_unit_forget_bias():
    layer = layers.LSTM(3)
    layer(np.zeros((1, 2, 4), np.float32))
    assert [w._layer_path for w in layer.weights] == [
        "lstm_cell/kernel", "lstm_cell/recurrent_kernel", "lstm_cell/bias"]
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    gru = layers.GRU(3)
    gru.build((None, 2, 4))
    assert [tuple(w.shape) for w in gru.weights] == [(4, 9), (3, 9), (2, 9)]
    assert gru.count_params() == 36 + 27 + 18
    old = layers.GRU(3, reset_after=False)
    old.build((None, 2, 4))
    assert tuple(old.cell.bias.shape) == (9,)


def test_recurrent_kernel_is_orthogonal():
    layer = layers.SimpleRNN(4)
    layer.build((None, 3, 2))
    kernel = layer.cell.recurrent_kernel.numpy()
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(4), atol=1e-5)


@pytest.mark.parametrize("cls,n_params", [(layers.SimpleRNN, 4 * 3 + 9 + 3),
                                          (layers.LSTM, 4 * 12 + 36 + 12),
                                          (layers.GRU, 4 * 9 + 27 + 18)],
                         ids=["simple_rnn", "lstm", "gru"])
def test_harness(cls, n_params):
    check_layer(cls, {"units": 3}, (2, 5, 4), (2, 3), n_params, 0)
    check_layer(cls, {"units": 3, "return_sequences": True, "go_backwards": True}, (2, 5, 4),
                (2, 5, 3), n_params, 0)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU],
                         ids=["simple_rnn", "lstm", "gru"])
def test_fit_lowers_loss(cls):
    check_fit_lowers_loss(cls, {"units": 3}, (8, 4, 2))


def test_masked_steps_keep_state_and_output():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, False, True, False]])
    layer = layers.GRU(2, return_sequences=True, return_state=True)
    seq, state = layer(x, mask=mask)
    seq = seq.numpy()
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
    np.testing.assert_array_equal(seq[0, 3], seq[0, 1])
    np.testing.assert_array_equal(seq[1, 1], seq[1, 0])
    np.testing.assert_array_equal(state.numpy(), seq[:, -1])
    compact = layer(x[:1, :2])[1].numpy()
    np.testing.assert_allclose(state.numpy()[0], compact[0], rtol=1e-6)
    zeros = layers.RNN(layers.GRUCell(2), return_sequences=True, zero_output_for_mask=True)
    np.testing.assert_array_equal(zeros(x, mask=mask).numpy()[0, 2:], 0)


def test_mask_propagates_from_embedding():
    inputs = keras.Input((4,), dtype="int32")
    hidden = layers.Embedding(9, 3, mask_zero=True)(inputs)
    seq = layers.LSTM(2, return_sequences=True)(hidden)
    last = layers.LSTM(2)(seq)
    model = keras.Model(inputs, [seq, last])
    out_seq, out_last = model(np.array([[4, 2, 0, 0]]))
    np.testing.assert_array_equal(out_seq.numpy()[0, 2], out_seq.numpy()[0, 1])
    assert out_last.shape == (1, 2)


def test_unknown_length_uses_while_loop():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 3)).astype("float32")
    layer = layers.LSTM(4, return_sequences=True)
    eager = layer(x).numpy()
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 3))])
    np.testing.assert_allclose(traced(x).numpy(), eager, rtol=1e-5, atol=1e-6)
    mask = np.array([[True] * 6, [True] * 3 + [False] * 3])
    masked = tf.function(lambda a, m: layer(a, mask=m),
                         input_signature=[tf.TensorSpec((None, None, 3)),
                                          tf.TensorSpec((None, None), tf.bool)])
    np.testing.assert_allclose(masked(x, mask).numpy(), layer(x, mask=mask).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_initial_state_and_return_state():
    x = np.ones((2, 3, 2), np.float32)
    layer = layers.LSTM(3, return_state=True)
    zero = layer(x)
    given = layer(x, initial_state=[tf.zeros((2, 3)), tf.zeros((2, 3))])
    for a, b in zip(zero, given):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    other = layer(x, initial_state=[tf.ones((2, 3)), tf.ones((2, 3))])
    assert not np.allclose(other[0].numpy(), zero[0].numpy())
    assert layer.compute_output_shape((None, 3, 2)) == ((None, 3), (None, 3), (None, 3))


def test_stateful_carries_and_resets():
    x = np.random.default_rng(3).standard_normal((2, 3, 2)).astype("float32")
    layer = layers.SimpleRNN(3, stateful=True)
    first = layer(x).numpy()
    second = layer(x).numpy()
    assert not np.allclose(first, second)
    assert len(layer.weights) == 3
    layer.reset_states()
    np.testing.assert_allclose(layer(x).numpy(), first, rtol=1e-6)


def test_stateful_needs_static_batch():
    with pytest.raises(ValueError, match="stateful=True"):
        layers.LSTM(2, stateful=True)(keras.Input((3, 2)))


class MinimalRNNCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = tf.matmul(inputs, self.kernel) + tf.matmul(states[0], self.recurrent_kernel)
        return output, [output]


def test_custom_cell_against_numpy():
    x = np.random.default_rng(4).standard_normal((2, 4, 3)).astype("float32")
    layer = layers.RNN(MinimalRNNCell(2), return_sequences=True)
    out = layer(x).numpy()
    kernel, recurrent = layer.get_weights()
    h = np.zeros((2, 2))
    for t in range(4):
        h = x[:, t] @ kernel + h @ recurrent
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-5)
    symbolic = layers.RNN(MinimalRNNCell(2))(keras.Input((None, 3)))
    assert symbolic.shape.as_list() == [None, 2]


def test_stacked_cells_match_two_layers():
    x = np.random.default_rng(5).standard_normal((2, 4, 3)).astype("float32")
    stacked = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True)
    output, _, _, h2 = stacked(x)
    first = layers.LSTM(3, return_sequences=True)
    second = layers.GRU(2)
    first(x)
    first.set_weights(stacked.get_weights()[:3])
    second(first(x))
    second.set_weights(stacked.get_weights()[3:])
    np.testing.assert_allclose(output.numpy(), second(first(x)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2.numpy(), output.numpy())
    config = stacked.get_config()
    clone = layers.RNN.from_config(config)
    assert len(clone.cell.cells) == 2


def test_cell_call_single_step():
    cell = layers.LSTMCell(2)
    x = np.ones((1, 3), np.float32)
    output, (_, c) = cell(x, [tf.zeros((1, 2)), tf.zeros((1, 2))])
    ref_h, ref_c = _lstm_reference(x[:, None], *cell.get_weights())
    np.testing.assert_allclose(output.numpy(), ref_h, rtol=1e-5)
    np.testing.assert_allclose(c.numpy(), ref_c, rtol=1e-5)


def test_dropout_only_in_training():
    x = np.ones((4, 3, 2), np.float32)
    layer = layers.GRU(3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = layer(x).numpy()
    np.testing.assert_allclose(layer(x).numpy(), inference)
    assert not np.allclose(layer(x, training=True).numpy(), inference)


@pytest.mark.parametrize("merge_mode,shape", [("concat", (2, 6)), ("sum", (2, 3)),
                                              ("mul", (2, 3)), ("ave", (2, 3))])
def test_bidirectional_harness(merge_mode, shape):
    layer = layers.Bidirectional(layers.LSTM(3), merge_mode=merge_mode)
    out = layer(np.ones((2, 4, 2), np.float32))
    assert out.shape == shape
    assert layer.count_params() == 2 * (2 * 12 + 36 + 12)
    paths = [w._layer_path for w in layer.weights]
    assert paths[0].startswith("lstm_cell") and len(paths) == 6
    assert layer.forward_layer.name.startswith("forward_")
    assert layer.backward_layer.go_backwards


def test_bidirectional_none_and_states():
    x = np.random.default_rng(6).standard_normal((2, 4, 2)).astype("float32")
    layer = layers.Bidirectional(layers.GRU(2, return_sequences=True, return_state=True),
                                 merge_mode=None)
    forward, backward, h_f, h_b = layer(x)
    np.testing.assert_allclose(forward.numpy()[:, -1], h_f.numpy(), rtol=1e-6)
    np.testing.assert_allclose(backward.numpy()[:, 0], h_b.numpy(), rtol=1e-6)
    clone = layers.Bidirectional.from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x)[0].numpy(), forward.numpy(), rtol=1e-6)


def test_bidirectional_symbolic_and_fit():
    inputs = keras.Input((5, 3))
    output = layers.Dense(1)(layers.Bidirectional(layers.SimpleRNN(2))(inputs))
    model = keras.Model(inputs, output)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 5, 3)).astype("float32")
    y = rng.standard_normal((8, 1)).astype("float32")
    loss = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert loss[-1] < loss[0]


def test_time_distributed_harness():
    layer = layers.TimeDistributed(layers.Dense(3))
    x = np.random.default_rng(8).standard_normal((2, 4, 5)).astype("float32")
    out = layer(x)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out.numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    symbolic = layer(keras.Input((None, 5)))
    assert symbolic.shape.as_list() == [None, None, 3]
    assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 3)
    clone = layers.TimeDistributed.from_config(layer.get_config())
    assert isinstance(clone.layer, layers.Dense)


def test_errors_name_layer_and_shape():
    with pytest.raises(ValueError, match=r"LSTM 'my_lstm' expects an input of rank 3, got "
                                         r"input shape \(2, 3\)"):
        layers.LSTM(2, name="my_lstm")(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="`call` method"):
        layers.RNN(object())
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)


def test_lstm_benchmark_model_trains_under_fit():
    model = keras.Sequential([keras.Input((10,), dtype="int32"), layers.Embedding(50, 8),
                              layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    rng = np.random.default_rng(9)
    x = rng.integers(0, 50, (32, 10))
    y = (x[:, :1] > 25).astype("float32")
    loss = model.fit(x, y, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert loss[-1] < loss[0]
