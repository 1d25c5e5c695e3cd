"""`keras.saving.register_keras_serializable`: the registry of custom objects by name, and
the custom object scopes of `keras.utils.custom_object_scope`."""

import threading

_REGISTRY = {}


def register_keras_serializable(package="Custom", name=None):
    """Class/function decorator registering it as '<package>>Name' for deserialization."""

    def decorate(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in _REGISTRY and _REGISTRY[key] is not obj:
            raise ValueError(f"{key} has already been registered to {_REGISTRY[key]}")
        _REGISTRY[key] = obj
        return obj

    return decorate


def get_registered(class_name, registered_name=None):
    for scope in reversed(scope_stack()):
        if class_name in scope:
            return scope[class_name]
    if registered_name and registered_name in _REGISTRY:
        return _REGISTRY[registered_name]
    return lookup(class_name)


def get_registered_name(obj):
    for key, value in _REGISTRY.items():
        if value is obj:
            return key
    return getattr(obj, "__name__", type(obj).__name__)


# --- custom object scopes (`keras.utils.custom_object_scope`) -------------------------------

_scopes = threading.local()


def scope_stack():
    """The dicts of the active `custom_object_scope`s of this thread, innermost last."""
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


def get_custom_objects():
    """The global dict of custom objects: `register_keras_serializable` entries
    ('package>Name') and whatever the user puts there by plain name."""
    return _REGISTRY


def lookup(name, custom_objects=None):
    """The object called `name` in `custom_objects`, then the active scopes (innermost
    first), then the global registry (exact key, then the 'package>Name' suffix)."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(scope_stack()):
        if name in scope:
            return scope[name]
    if name in _REGISTRY:
        return _REGISTRY[name]
    for key, obj in _REGISTRY.items():
        if ">" in key and key.split(">", 1)[1] == name:
            return obj
    return None
