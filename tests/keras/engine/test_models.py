"""Functional, Sequential and subclassed models: structure, calls, summary, errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


def test_functional_model_structure_and_call():
    inputs = keras.Input(shape=(4,), name="features")
    hidden = layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = layers.Dense(2, name="out")(hidden)
    model = keras.Model(inputs, outputs, name="net")
    assert [layer.name for layer in model.layers] == ["features", "hidden", "out"]
    assert model.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    x = np.ones((3, 4), np.float32)
    hidden_layer, out_layer = model.get_layer("hidden"), model.get_layer("out")
    expected = np.maximum(x @ hidden_layer.kernel.numpy() + hidden_layer.bias.numpy(), 0)
    expected = expected @ out_layer.kernel.numpy() + out_layer.bias.numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5)
    assert model.output_shape == (None, 2)


def test_layer_names_are_unique_like_keras():
    keras.backend_reset = None
    a, b = layers.Dense(1), layers.Dense(1)
    base = a.name
    assert base.startswith("dense")
    assert b.name != a.name


def test_multi_input_multi_output_and_shared_layers():
    left = keras.Input(shape=(3,))
    right = keras.Input(shape=(3,))
    shared = layers.Dense(2)
    out_a = shared(left)
    out_b = shared(right)
    model = keras.Model([left, right], [out_a, out_b + 1.0])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    first, second = model([x, x])
    np.testing.assert_allclose(second.numpy(), first.numpy() + 1.0, rtol=1e-6)
    assert len(model.trainable_weights) == 2


def test_ops_on_keras_tensors_become_layers():
    inputs = keras.Input(shape=(3,))
    outputs = tf.reduce_sum(inputs * 2.0, axis=1, keepdims=True)
    model = keras.Model(inputs, outputs)
    assert model(np.ones((2, 3), np.float32)).numpy().tolist() == [[6.0], [6.0]]


def test_nested_models():
    inner_in = keras.Input(shape=(4,))
    inner = keras.Model(inner_in, layers.Dense(3)(inner_in))
    outer_in = keras.Input(shape=(4,))
    outer = keras.Model(outer_in, layers.Dense(1)(inner(outer_in)))
    assert outer(np.ones((5, 4), np.float32)).shape.as_list() == [5, 1]
    assert len(outer.trainable_weights) == 4


def test_sequential_with_input_shape_and_deferred_build():
    model = keras.Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(1)])
    assert model.built and model.count_params() == 3 * 5 + 5 + 5 + 1
    deferred = keras.Sequential([layers.Dense(5), layers.Dense(1)])
    assert not deferred.layers[0].built
    assert deferred(np.ones((2, 7), np.float32)).shape.as_list() == [2, 1]
    assert deferred.layers[0].kernel.shape.as_list() == [7, 5]
    deferred.pop()
    assert len(deferred.layers) == 1


def test_sequential_add_and_input():
    model = keras.Sequential()
    model.add(keras.Input(shape=(2,)))
    model.add(layers.Dense(4))
    model.add(layers.Dense(1))
    assert model.output_shape == (None, 1)
    assert [type(l).__name__ for l in model.layers] == ["Dense", "Dense"]


def test_subclassed_model_tracks_layers_and_weights():
    class TwoLayer(keras.Model):
        def __init__(self):
            super().__init__()
            self.first = layers.Dense(4, activation="relu")
            self.second = layers.Dense(1)

        def call(self, inputs, training=None):
            return self.second(self.first(inputs))

    model = TwoLayer()
    assert model.name.startswith("two_layer")
    out = model(np.ones((2, 3), np.float32))
    assert out.shape.as_list() == [2, 1]
    assert len(model.trainable_weights) == 4
    assert [l.name for l in model.layers] == [model.first.name, model.second.name]


def test_summary_matches_keras_layout():
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(64, name="d1"),
                              layers.Dense(10, name="d2")], name="seq")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "seq"' in text
    assert "d1 (Dense)" in text and "(None, 64)" in text and "50,240" in text
    assert "Total params: 50,890 (198.79 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text


def test_dense_rejects_wrong_width_naming_the_layer():
    layer = layers.Dense(3, name="dense_check")
    layer(np.ones((2, 128), np.float32))
    with pytest.raises(ValueError, match=r"Dense 'dense_check' expects last dimension 128, "
                                         r"got input shape \(2, 64\)"):
        layer(np.ones((2, 64), np.float32))


def test_get_and_set_weights_round_trip():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    weights = [np.full((3, 2), 0.5, np.float32), np.array([1.0, -1.0], np.float32)]
    model.set_weights(weights)
    np.testing.assert_allclose(model.predict(np.ones((1, 3), np.float32), verbose=0),
                               [[2.5, 0.5]])
    with pytest.raises(ValueError, match="weight shape"):
        model.set_weights([np.zeros((2, 2)), np.zeros(2)])


def test_trainable_flag_freezes_weights():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 2


def test_graph_disconnected_error():
    a = keras.Input(shape=(2,))
    b = keras.Input(shape=(2,))
    out = layers.Dense(1)(layers.Add()([a, b])) if hasattr(layers, "Add") else \
        layers.Dense(1)(a + b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_functional_call_passes_training_to_every_node():
    class Scale(layers.Layer):
        def call(self, inputs, scale=1.0, training=None):
            self.seen = training
            return inputs * scale

    inputs = keras.Input(shape=(100,))
    dropped = layers.Dropout(0.5)(inputs)  # a one-tensor node
    scaler = Scale()
    outputs = scaler(dropped, scale=2.0)  # a node with call arguments
    model = keras.Model(inputs, outputs)
    x = np.ones((4, 100), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), 2 * x)
    assert scaler.seen is None
    trained = model(x, training=True).numpy()
    assert set(np.unique(trained)) <= {0.0, 4.0} and 0.0 in trained
    assert scaler.seen is True
    np.testing.assert_array_equal(model(x, training=False).numpy(), 2 * x)
    assert scaler.seen is False


def test_eager_inference_of_built_in_layers_runs_traced_with_the_same_numbers():
    rng = np.random.default_rng(31)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(12, 12, 2)),
        tf.keras.layers.Conv2D(4, 3, activation="relu"),
        tf.keras.layers.MaxPooling2D(2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(3, activation="softmax"),
    ])
    x = tf.constant(rng.standard_normal((2, 12, 12, 2)).astype(np.float32))
    traced = model(x).numpy()
    assert model._inference_function[1] is not None
    eager = model(x, training=False)  # the same call, layer by layer, for comparison
    layer_by_layer = x
    for layer in model.layers:
        layer_by_layer = layer(layer_by_layer)
    np.testing.assert_allclose(traced, layer_by_layer.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eager.numpy(), traced, rtol=1e-5, atol=1e-6)
    # weights assigned later are read by the traced call
    model.layers[-1].kernel.assign(tf.zeros_like(model.layers[-1].kernel))
    np.testing.assert_allclose(model(x).numpy(), np.full((2, 3), 1 / 3), rtol=1e-5)
    # training and recorded calls run layer by layer (dropout active; gradients flow)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None for g in grads)


def test_models_with_custom_layers_run_layer_by_layer():
    calls = []

    class Counting(tf.keras.layers.Layer):
        def call(self, inputs):
            calls.append(1)  # a Python side effect, on every call
            return inputs * 2.0

    inputs = tf.keras.Input(shape=(3,))
    model = tf.keras.Model(inputs, Counting()(tf.keras.layers.Dense(3)(inputs)))
    x = tf.ones([1, 3])
    calls.clear()  # the functional construction called it once, symbolically
    model(x)
    model(x)
    assert len(calls) == 2 and model._inference_function[1] is None
