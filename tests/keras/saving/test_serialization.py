"""Keras 3 object serialization, JSON configs, the custom object registry, model configs
(Sequential, Functional incl. nested and shared layers) and `clone_model`."""

import json

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import saving

X = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)


def _same_predictions(a, b, x=X):
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("value", [
    None, 3, 2.5, "text", True, [1, "a"], {"k": [1, 2]},
], ids=["none", "int", "float", "str", "bool", "list", "dict"])
def test_plain_values_round_trip(value):
    assert saving.deserialize_keras_object(saving.serialize_keras_object(value)) == value


def test_special_values_round_trip():
    array = np.arange(6, dtype="int16").reshape(2, 3)
    for value in (array, b"bytes", slice(1, None, 2), Ellipsis):
        config = json.loads(json.dumps(saving.serialize_keras_object(value)))
        back = saving.deserialize_keras_object(config)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back, value)
            assert back.dtype == value.dtype
        else:
            assert back == value


def test_layer_serialization_uses_keras3_layout():
    layer = keras.layers.Dense(3, activation="relu", name="d")
    config = saving.serialize_keras_object(layer)
    assert config["module"] == "keras.layers"
    assert config["class_name"] == "Dense"
    assert config["registered_name"] is None
    assert config["config"]["units"] == 3
    assert "build_config" not in config
    clone = saving.deserialize_keras_object(json.loads(json.dumps(config)))
    assert isinstance(clone, keras.layers.Dense) and clone.units == 3 and not clone.built


def test_build_config_builds_the_layer():
    layer = keras.layers.Dense(3)
    keras.Sequential([keras.Input((5,)), layer])
    config = saving.serialize_keras_object(layer)
    assert config["build_config"] == {"input_shape": [None, 5]}
    clone = saving.deserialize_keras_object(config)
    assert clone.built and clone.kernel.shape.as_list() == [5, 3]


def test_optimizer_loss_metric_round_trip():
    for obj in (keras.optimizers.Adam(learning_rate=0.02), keras.losses.Huber(delta=2.0),
                keras.metrics.AUC(num_thresholds=50)):
        config = json.loads(json.dumps(saving.serialize_keras_object(obj)))
        back = saving.deserialize_keras_object(config)
        assert type(back) is type(obj)
        assert back.get_config() == obj.get_config()


def test_registered_class_and_custom_objects():
    @saving.register_keras_serializable(package="ser_test")
    class Doubler(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def call(self, inputs):
            return inputs * 2.0

    assert saving.get_registered_name(Doubler) == "ser_test>Doubler"
    assert saving.get_registered_object("ser_test>Doubler") is Doubler
    config = saving.serialize_keras_object(Doubler(name="dbl"))
    assert config["registered_name"] == "ser_test>Doubler"
    assert isinstance(saving.deserialize_keras_object(config), Doubler)

    class Unregistered(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

    config = saving.serialize_keras_object(Unregistered(name="u"))
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'"):
        saving.deserialize_keras_object(config)
    back = saving.deserialize_keras_object(config, custom_objects={"Unregistered": Unregistered})
    assert isinstance(back, Unregistered)
    with saving.custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(saving.deserialize_keras_object(config), Unregistered)


def test_registering_a_different_object_under_a_taken_name_fails():
    @saving.register_keras_serializable(package="ser_dup", name="thing")
    def first(x):
        return x

    with pytest.raises(ValueError, match="ser_dup>thing has already been registered"):
        @saving.register_keras_serializable(package="ser_dup", name="thing")
        def second(x):
            return x


def test_registered_function_round_trip():
    @saving.register_keras_serializable(package="ser_fn")
    def scaled_relu(x):
        return keras.activations.relu(x) * 0.5

    config = saving.serialize_keras_object(scaled_relu)
    assert config == {"module": __name__, "class_name": "function",
                      "config": "ser_fn>scaled_relu", "registered_name": "ser_fn>scaled_relu"}
    assert saving.deserialize_keras_object(config) is scaled_relu


def test_shared_objects_deserialize_once():
    dense = keras.layers.Dense(2)
    with saving.serialization.ObjectSharingScope():
        config = saving.serialize_keras_object([dense, dense])
    assert config[0]["shared_object_id"] == config[1]["shared_object_id"]
    with saving.serialization.ObjectSharingScope():
        first, second = saving.deserialize_keras_object(config)
    assert first is second


# --- model configs and JSON -------------------------------------------------------------------


def _functional():
    inputs = keras.Input((3,), name="x")
    shared = keras.layers.Dense(3, name="shared")
    h = shared(shared(inputs))
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, keras.layers.Dense(2, name="inner_dense")(inner_in),
                        name="inner")
    outputs = inner(keras.layers.BatchNormalization()(h))
    return keras.Model(inputs, outputs, name="outer")


def test_functional_with_shared_layer_and_nested_model_round_trips(tmp_path):
    model = _functional()
    config = model.get_config()
    shared_entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert len(shared_entry["inbound_nodes"]) == 2
    assert shared_entry["inbound_nodes"][1]["args"][0]["config"]["keras_history"] == [
        "shared", 0, 0]
    inner_entry = next(e for e in config["layers"] if e["name"] == "inner")
    assert inner_entry["class_name"] == "Functional"
    assert config["output_layers"] == ["inner", 1, 0]  # Keras counts a model's own node
    rebuilt = type(model).from_config(json.loads(json.dumps(config)))
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    _same_predictions(model, rebuilt)
    model.save(tmp_path / "nested.keras")
    _same_predictions(model, keras.models.load_model(tmp_path / "nested.keras"))


def test_to_json_and_model_from_json():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)], name="seq")
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Sequential"
    rebuilt = keras.models.model_from_json(text)
    assert isinstance(rebuilt, keras.Sequential) and rebuilt.name == "seq"
    assert [w.shape.as_list() for w in rebuilt.weights] == [
        w.shape.as_list() for w in model.weights]
    rebuilt.set_weights(model.get_weights())
    _same_predictions(model, rebuilt)


def test_model_from_config_accepts_keras2_layout():
    config = {"class_name": "Sequential", "config": {"name": "old", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3],
                                                "dtype": "float32", "name": "in"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "relu"}},
    ]}}
    model = keras.models.model_from_config(config)
    assert model.layers[0].units == 2
    assert model.predict(X, verbose=0).shape == (4, 2)
    with pytest.raises(TypeError, match="expects a dictionary"):
        keras.models.model_from_config([config])


def test_keras2_functional_config_with_list_inbound_nodes():
    config = {"class_name": "Model", "config": {
        "name": "old_functional",
        "layers": [
            {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "name": "in"}},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2},
             "inbound_nodes": [[["in", 0, 0, {}]]]},
        ],
        "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}}
    model = keras.models.model_from_config(config)
    assert model.predict(X, verbose=0).shape == (4, 2)


def test_raw_op_on_keras_tensor_cannot_be_serialized():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs) * 2.0)
    with pytest.raises(ValueError, match="raw ndflow op"):
        model.to_json()


# --- clone_model ------------------------------------------------------------------------------


def test_clone_sequential_has_new_weights_same_architecture():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    clone = keras.models.clone_model(model)
    assert clone is not model
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [w.shape.as_list() for w in clone.weights] == [
        w.shape.as_list() for w in model.weights]
    clone.set_weights(model.get_weights())
    _same_predictions(model, clone)


def test_clone_functional_with_clone_function_and_input_tensors():
    model = _functional()
    renamed = []

    def clone_function(layer):
        config = layer.get_config()
        renamed.append(layer.name)
        return type(layer).from_config(config)

    new_input = keras.Input((3,), name="new_input")
    clone = keras.models.clone_model(model, input_tensors=new_input,
                                     clone_function=clone_function)
    assert clone.inputs[0] is new_input
    assert "shared" in renamed and renamed.count("shared") == 1
    clone.set_weights(model.get_weights())
    _same_predictions(model, clone)


def test_clone_subclassed_model_uses_its_config():
    @saving.register_keras_serializable(package="clone_test")
    class Tiny(keras.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = keras.layers.Dense(units)

        def call(self, inputs):
            return self.dense(inputs)

        def get_config(self):
            return {"units": self.units, "name": self.name}

    clone = keras.models.clone_model(Tiny(units=5, name="tiny"))
    assert isinstance(clone, Tiny) and clone.units == 5
    with pytest.raises(ValueError, match="only supported for Sequential or Functional"):
        keras.models.clone_model(Tiny(), clone_function=lambda layer: layer)
