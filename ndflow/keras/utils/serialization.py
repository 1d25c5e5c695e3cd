"""Custom objects and the basic Keras 3 object serialization of `keras.utils`:
custom_object_scope / CustomObjectScope / get_custom_objects, get_registered_name/object,
serialize_keras_object / deserialize_keras_object. The registry itself lives in
`ndflow/keras/saving_registry.py`, shared with layer deserialization."""



from ndflow.keras import saving_registry
from ndflow.keras.saving_registry import register_keras_serializable  # noqa: F401

get_custom_objects = saving_registry.get_custom_objects


class CustomObjectScope:
    """Makes custom classes/functions visible to deserialization inside a `with` block
    (`keras.utils.CustomObjectScope`).

    >>> with CustomObjectScope({"MyLayer": dict}):
    ...     get_registered_object("MyLayer") is dict
    True
    """

    def __init__(self, *args):
        self.custom_objects = {}
        for objects in args:
            if not isinstance(objects, dict):
                raise TypeError(f"Arguments to `CustomObjectScope` must be dicts, got "
                                f"{type(objects).__name__}: {objects!r}")
            self.custom_objects.update(objects)

    def __enter__(self):
        saving_registry.scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc_info):
        stack = saving_registry.scope_stack()
        if stack and stack[-1] is self.custom_objects:
            stack.pop()


custom_object_scope = CustomObjectScope


def get_registered_name(obj):
    """The name `obj` is registered under ('package>Name'), else its own name."""
    return saving_registry.get_registered_name(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered as `name` (scopes, global registry, `custom_objects`,
    `module_objects`), or None."""
    found = saving_registry.lookup(name, custom_objects)
    if found is None and module_objects and name in module_objects:
        found = module_objects[name]
    return found


def serialize_keras_object(obj):
    """A JSON-compatible description of `obj` (`keras.utils.serialize_keras_object`); the one
    implementation lives in `ndflow.keras.saving.serialization`."""
    from ndflow.keras.saving import serialization  # noqa: PLC0415 - saving imports this module

    return serialization.serialize_keras_object(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuilds an object from `serialize_keras_object`'s output (only ndflow's own classes,
    registered ones and `custom_objects`; nothing is imported from the config)."""
    from ndflow.keras.saving import serialization  # noqa: PLC0415

    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  safe_mode=safe_mode, **kwargs)
