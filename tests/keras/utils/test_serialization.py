"""Custom object scopes and serialize/deserialize_keras_object."""

import numpy as np
import pytest

import ndflow as tf

utils = tf.keras.utils


class Scale:
    def __init__(self, factor=2.0):
        self.factor = factor

    def get_config(self):
        return {"factor": self.factor}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def triple(x):
    return 3 * x


def test_custom_object_scope_nesting_and_exit():
    assert utils.get_registered_object("Scale") is None
    with utils.custom_object_scope({"Scale": Scale}):
        assert utils.get_registered_object("Scale") is Scale
        with utils.CustomObjectScope({"Scale": dict}, {"triple": triple}):
            assert utils.get_registered_object("Scale") is dict
            assert utils.get_registered_object("triple") is triple
        assert utils.get_registered_object("Scale") is Scale
    assert utils.get_registered_object("Scale") is None


def test_custom_object_scope_rejects_non_dict():
    with pytest.raises(TypeError, match="must be dicts, got list"):
        utils.CustomObjectScope([Scale])


def test_get_custom_objects_is_the_shared_registry():
    objects = utils.get_custom_objects()
    objects["ScalePlain"] = Scale
    try:
        assert utils.get_registered_object("ScalePlain") is Scale
        restored = utils.deserialize_keras_object(
            {"class_name": "ScalePlain", "config": {"factor": 5.0}})
        assert isinstance(restored, Scale) and restored.factor == 5.0
    finally:
        del objects["ScalePlain"]


def test_register_keras_serializable_round_trip():
    @utils.register_keras_serializable(package="UtilsTest")
    class Shift(Scale):
        pass

    config = utils.serialize_keras_object(Shift(4.0))
    assert config["class_name"] == "Shift"
    assert config["registered_name"] == "UtilsTest>Shift"
    assert utils.get_registered_name(Shift) == "UtilsTest>Shift"
    restored = utils.deserialize_keras_object(config)
    assert type(restored) is Shift and restored.factor == 4.0


def test_serialize_values_arrays_tuples_and_functions():
    config = utils.serialize_keras_object({"a": (1, 2.5), "b": np.arange(3), "f": triple})
    assert config["a"] == (1, 2.5)  # as Keras 3: tuples stay tuples
    assert config["b"]["class_name"] == "__numpy__"
    assert config["f"]["class_name"] == "function" and config["f"]["config"] == "triple"
    with utils.custom_object_scope({"triple": triple}):
        restored = utils.deserialize_keras_object(config)
    assert restored["a"] == [1, 2.5] and restored["f"] is triple  # Keras 3 returns a list
    np.testing.assert_array_equal(restored["b"], [0, 1, 2])


def test_deserialize_keras_layer_by_module():
    layer = tf.keras.layers.Dense(3, activation="relu")
    config = utils.serialize_keras_object(layer)
    assert config["module"] == "keras.layers"
    restored = utils.deserialize_keras_object(config)
    assert isinstance(restored, tf.keras.layers.Dense) and restored.units == 3


def test_deserialize_unknown_class_and_lambda():
    with pytest.raises(TypeError, match="Could not locate class 'Nope'"):
        utils.deserialize_keras_object({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="Could not locate function 'nope'"):
        utils.deserialize_keras_object({"class_name": "function", "config": "nope"})
    with pytest.raises(ValueError, match="lambda"):
        utils.deserialize_keras_object({"class_name": "__lambda__", "config": {"code": ""}})


def test_custom_object_scope_reaches_layer_deserialization():
    class Doubler(tf.keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    with utils.custom_object_scope({"Doubler": Doubler}):
        layer = tf.keras.layers.deserialize({"class_name": "Doubler", "config": {"name": "d"}})
    assert isinstance(layer, Doubler) and layer.name == "d"
