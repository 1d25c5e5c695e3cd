"""`keras.saving`: save/load models and weights in the Keras 3 (`.keras`, `.weights.h5`) and
Keras 2 (`.h5`) formats, Keras 3 object serialization, and the custom object registry.

No pickle anywhere: configs are JSON, weights are HDF5, and deserialization only resolves
classes from ndflow's Keras modules, the registry, or `custom_objects`."""

from ndflow.keras.saving.api import (
    load_model,
    load_weights,
    model_from_config,
    model_from_json,
    save_model,
    save_weights,
)
from ndflow.keras.saving.cloning import clone_model
from ndflow.keras.saving.serialization import (
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)
from ndflow.keras.saving_registry import get_custom_objects, register_keras_serializable


def get_registered_name(obj):
    """The name `obj` is registered under ('package>Name'), else its own name."""
    from ndflow.keras import saving_registry

    return saving_registry.get_registered_name(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered as `name` (custom objects, active scopes, global registry,
    then `module_objects`), or None."""
    from ndflow.keras import saving_registry

    found = saving_registry.lookup(name, custom_objects)
    if found is None and module_objects and name in module_objects:
        found = module_objects[name]
    return found


def custom_object_scope(*args):
    """`keras.saving.custom_object_scope` (the same scope as `keras.utils`)."""
    from ndflow.keras.utils import serialization as utils_serialization

    return utils_serialization.CustomObjectScope(*args)


CustomObjectScope = custom_object_scope

__all__ = [
    "CustomObjectScope", "clone_model", "custom_object_scope", "deserialize_keras_object",
    "enable_unsafe_deserialization", "get_custom_objects", "get_registered_name",
    "get_registered_object", "load_model", "load_weights", "model_from_config",
    "model_from_json", "register_keras_serializable", "save_model", "save_weights",
    "serialize_keras_object",
]
