"""Custom objects and the basic Keras 3 object serialization of `keras.utils`:
custom_object_scope / CustomObjectScope / get_custom_objects, get_registered_name/object,
serialize_keras_object / deserialize_keras_object. The registry itself lives in
`ndflow/keras/saving_registry.py`, shared with layer deserialization."""

import importlib

import numpy as np

from ndflow.keras import saving_registry
from ndflow.keras.saving_registry import register_keras_serializable

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


def _module_of(obj):
    module = getattr(obj, "__module__", None) or type(obj).__module__
    if module.startswith("ndflow.keras."):
        return "keras." + module.split(".")[2]
    return module


def serialize_keras_object(obj):
    """A JSON-compatible description of `obj` (`keras.utils.serialize_keras_object`): Python
    values as they are, NumPy arrays and dtypes tagged, functions by name, and objects with
    `get_config` as `{"module", "class_name", "config", "registered_name"}`."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                     "dtype": obj.dtype.name}}
    if hasattr(obj, "as_numpy_dtype") and hasattr(obj, "name"):
        return obj.name  # an ndflow DType
    if isinstance(obj, (list, tuple)):
        values = [serialize_keras_object(x) for x in obj]
        return values if isinstance(obj, list) else {"class_name": "__tuple__",
                                                      "config": {"value": values}}
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "get_config")):
        registered = get_registered_name(obj)
        return {"module": _module_of(obj), "class_name": "function",
                "config": getattr(obj, "__name__", registered),
                "registered_name": registered if ">" in registered else None}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()` method")
    registered = get_registered_name(type(obj))
    return {"module": _module_of(type(obj)), "class_name": type(obj).__name__,
            "config": serialize_keras_object(obj.get_config()),
            "registered_name": registered if ">" in registered else None}


def _find(name, module, registered_name, custom_objects):
    for key in (registered_name, name):
        if key:
            found = saving_registry.lookup(key, custom_objects)
            if found is not None:
                return found
    if module and module.split(".")[0] == "keras":
        parts = [p for p in module.split(".")[1:] if p != "src"]
        if parts:
            try:
                package = importlib.import_module(f"ndflow.keras.{parts[0]}")
            except ImportError:
                return None
            return getattr(package, name, None)
    return None


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuilds an object from `serialize_keras_object`'s output
    (`keras.utils.deserialize_keras_object`).

    Classes and functions are looked up in `custom_objects`, the active custom object scopes,
    the registry, and then ndflow's Keras module named by `"module"`. `safe_mode` is accepted;
    ndflow never deserializes lambdas (Python bytecode) at all.

    Raises:
      TypeError: the class or function cannot be found.
    """
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = _find(config, None, None, custom_objects)
        return config if found is None else found
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects) for c in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects) for v in inner["value"])
    if class_name == "__lambda__":
        raise ValueError("Requested the deserialization of a Python lambda: ndflow does not "
                         "load Python bytecode from configs (it could run arbitrary code).")
    if class_name == "function":
        found = _find(inner, config.get("module"), config.get("registered_name"),
                      custom_objects)
        if found is None:
            raise TypeError(f"Could not locate function '{inner}'. Make sure custom classes "
                            f"are decorated with `@keras.saving.register_keras_serializable()`"
                            f". Full object config: {config}")
        return found
    cls = _find(class_name, config.get("module"), config.get("registered_name"),
                custom_objects)
    if cls is None:
        raise TypeError(f"Could not locate class '{class_name}'. Make sure custom classes are "
                        f"decorated with `@keras.saving.register_keras_serializable()`. Full "
                        f"object config: {config}")
    return cls.from_config(inner)  # nested configs are the class's to interpret, as in Keras


__all__ = [
    "CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
    "get_custom_objects", "get_registered_name", "get_registered_object",
    "register_keras_serializable", "serialize_keras_object",
]
