"""Tests for ndflow/keras/layers/attention.py: Keras 3's numbers (fixtures), NumPy references,
masks, causal masks, scores, weights layout, fit, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers._layers_b import check_against_keras, names
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("name", names("Attention", "AdditiveAttention", "MultiHeadAttention"))
def test_matches_keras(name):
    check_against_keras(name)


def _qv(seed=0, tq=3, tv=4, dim=2):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((2, tq, dim)).astype("float32"),
            rng.standard_normal((2, tv, dim)).astype("float32"))


def test_dot_attention_against_numpy():
    q, v = _qv()
    out, scores = layers.Attention()([q, v], return_attention_scores=True)
    weights = _softmax(q @ v.transpose(0, 2, 1))
    np.testing.assert_allclose(scores.numpy(), weights, rtol=1e-5)
    np.testing.assert_allclose(out.numpy(), weights @ v, rtol=1e-5, atol=1e-6)


def test_additive_attention_against_numpy():
    q, v = _qv(1)
    layer = layers.AdditiveAttention()
    out = layer([q, v]).numpy()
    scale = layer.get_weights()[0]
    scores = (scale * np.tanh(q[:, :, None] + v[:, None])).sum(-1)
    np.testing.assert_allclose(out, _softmax(scores) @ v, rtol=1e-5, atol=1e-6)


def test_value_mask_query_mask_and_causal():
    q, v = _qv(2, tq=4, tv=4)
    value_mask = np.array([[True, True, False, False], [True, True, True, True]])
    query_mask = np.array([[True, False, True, True], [True, True, True, True]])
    out, scores = layers.Attention()([q, v], mask=[query_mask, value_mask],
                                     return_attention_scores=True)
    np.testing.assert_allclose(scores.numpy()[0, :, 2:], 0, atol=1e-7)
    np.testing.assert_array_equal(out.numpy()[0, 1], 0)
    _, causal = layers.Attention()([q, v], use_causal_mask=True, return_attention_scores=True)
    upper = np.triu(np.ones((4, 4), bool), 1)
    np.testing.assert_allclose(causal.numpy()[:, upper], 0, atol=1e-7)


def test_attention_harness_and_config():
    check_layer(layers.Attention, {"use_scale": True}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), 1, 0)
    check_layer(layers.AdditiveAttention, {}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), 4, 0)
    check_layer(layers.Attention, {"score_mode": "concat"}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4),
                1, 0)


def test_attention_fit_lowers_loss():
    check_fit_lowers_loss(layers.Attention, {"use_scale": True}, [(8, 3, 4), (8, 5, 4)])


def test_mha_against_numpy():
    rng = np.random.default_rng(3)
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 5, 6)).astype("float32")
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    out, scores = layer(q, v, return_attention_scores=True)
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    query = np.einsum("btd,dhk->bthk", q, wq) + bq
    key = np.einsum("bsd,dhk->bshk", v, wk) + bk
    value = np.einsum("bsd,dhk->bshk", v, wv) + bv
    logits = np.einsum("bthk,bshk->bhts", query / np.sqrt(3), key)
    weights = _softmax(logits)
    context = np.einsum("bhts,bshk->bthk", weights, value)
    expected = np.einsum("bthk,hko->bto", context, wo) + bo
    np.testing.assert_allclose(scores.numpy(), weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert [w._layer_path for w in layer.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
        "attention_output/kernel", "attention_output/bias"]
    assert out.shape == (2, 3, 4)


def test_mha_masks():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 4, 4)).astype("float32")
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    mask = np.array([[[True, True, False, False]] * 4])
    _, scores = layer(x, x, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(scores.numpy()[..., 2:], 0, atol=1e-7)
    _, causal = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    upper = np.triu(np.ones((4, 4), bool), 1)
    np.testing.assert_allclose(causal.numpy()[0][:, upper], 0, atol=1e-7)
    embedded = layers.Embedding(5, 4, mask_zero=True)(np.array([[1, 2, 0, 0]]))
    _, auto = layer(embedded, embedded, return_attention_scores=True)
    np.testing.assert_allclose(auto.numpy()[..., 2:], 0, atol=1e-7)


def test_mha_symbolic_graph_and_fit():
    query = keras.Input((4, 6))
    value = keras.Input((5, 3))
    output = layers.MultiHeadAttention(num_heads=2, key_dim=3, output_shape=2)(query, value)
    assert output.shape.as_list() == [None, 4, 2]
    model = keras.Model([query, value], output)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    rng = np.random.default_rng(5)
    x = [rng.standard_normal((8, 4, 6)).astype("float32"),
         rng.standard_normal((8, 5, 3)).astype("float32")]
    y = rng.standard_normal((8, 4, 2)).astype("float32")
    loss = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert loss[-1] < loss[0]
    traced = tf.function(lambda a, b: model([a, b]))
    np.testing.assert_allclose(traced(*x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_mha_config_round_trip_and_dropout():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, dropout=0.5,
                                      attention_axes=[1], seed=3)
    x = np.ones((2, 3, 5), np.float32)
    inference = layer(x, x).numpy()
    np.testing.assert_allclose(layer(x, x).numpy(), inference)
    clone = layers.MultiHeadAttention.from_config(layer.get_config())
    clone(x, x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x, x).numpy(), inference, rtol=1e-6)
    # query and key 5*2*3 + 2*3, value 5*2*4 + 2*4, output 2*4*5 + 5
    assert layer.count_params() == 36 + 36 + 48 + 45


def test_errors():
    q, _ = _qv()
    with pytest.raises(ValueError, match="Attention layer must be called on a list"):
        layers.Attention()(q)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layers.Attention()([q])
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="general")
    with pytest.raises(tf.errors.InvalidArgumentError):
        layers.Attention()([q, np.ones((2, 4, 3), np.float32)])
