"""Keras 3 object serialization: `serialize_keras_object` / `deserialize_keras_object`.

An object is written as `{"module", "class_name", "config", "registered_name"}` (plus
`build_config` / `compile_config` for layers and models), exactly as Keras 3 writes it, so
configs move between ndflow and Keras both ways.

Loading is safe: a class or function is resolved ONLY from `custom_objects`, the active custom
object scopes, the `register_keras_serializable` registry, or ndflow's own Keras namespaces
(layers, models, losses, metrics, optimizers, initializers, regularizers, constraints,
activations, mixed_precision). A module named in a file is never imported, and a `__lambda__`
(Python bytecode) is refused unless `safe_mode=False`. No pickling anywhere.
"""

import codecs
import importlib
import inspect
import marshal
import threading
import types
import warnings

import numpy as np

from ndflow.framework import dtypes
from ndflow.framework.tensor import EagerTensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.keras import saving_registry

# Namespaces searched for classes, in this order; the one named by "module" is tried first.
_CLASS_NAMESPACES = ("layers", "models", "losses", "metrics", "optimizers",
                     "optimizers.schedules", "initializers", "regularizers", "constraints",
                     "mixed_precision", "activations")
# Plain functions may only come from these (never `keras.models.load_model` and the like).
_FUNCTION_NAMESPACES = ("activations", "losses", "metrics")
_ROOT_CLASSES = {"Sequential": "models", "Model": "models", "Functional": "models",
                 "DTypePolicy": "mixed_precision", "FloatDTypePolicy": "mixed_precision",
                 "Policy": "mixed_precision"}

_state = threading.local()
_unsafe_globally = False


def _namespace(name):
    return importlib.import_module(f"ndflow.keras.{name}")  # fixed names, never from a file


# --- scopes -----------------------------------------------------------------------------------


class SafeModeScope:
    """Propagates `safe_mode` to nested `deserialize_keras_object` / `from_config` calls."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._outer = getattr(_state, "safe_mode", None)
        _state.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc_info):
        _state.safe_mode = self._outer


def in_safe_mode():
    """The safe mode of the enclosing load (None outside any), False once unsafe
    deserialization was enabled globally."""
    if _unsafe_globally:
        return False
    return getattr(_state, "safe_mode", None)


def enable_unsafe_deserialization():
    """Allows lambdas to be deserialized from now on (`keras.config.enable_unsafe_...`)."""
    global _unsafe_globally
    _unsafe_globally = True


class ObjectSharingScope:
    """While active, an object serialized twice is written once more with a
    `shared_object_id`, and such configs deserialize to one shared object."""

    def __enter__(self):
        _state.id_to_config = {}
        _state.id_to_object = {}
        return self

    def __exit__(self, *exc_info):
        _state.id_to_config = None
        _state.id_to_object = None


def _record_serialized(obj, config):
    table = getattr(_state, "id_to_config", None)
    if table is None:
        return
    if id(obj) not in table:
        table[id(obj)] = (obj, config)
    else:
        config["shared_object_id"] = id(obj)
        table[id(obj)][1]["shared_object_id"] = id(obj)


# --- serialization ----------------------------------------------------------------------------


def serialize_keras_object(obj):
    """A JSON-compatible description of `obj` in Keras 3's layout.

    Args:
      obj: a Python value, NumPy array, tensor, dtype, function, or an object with
        `get_config()` (layer, model, loss, metric, optimizer, initializer ...).

    Returns:
      Plain values as they are; objects as `{"module", "class_name", "config",
      "registered_name"}`; layers and models also carry `build_config`/`compile_config`.

    Raises:
      TypeError: `obj` cannot be serialized.
    """
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        values = [serialize_keras_object(x) for x in obj]
        return tuple(values) if isinstance(obj, tuple) else values
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    special = _serialize_special(obj)
    if special is not _NOT_SPECIAL:
        return special
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        warnings.warn("The object being serialized includes a `lambda`. Reloading it needs "
                      "`safe_mode=False`; prefer named functions.", stacklevel=2)
        return {"class_name": "__lambda__", "config": {"value": func_dump(obj)}}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return _serialize_function(obj)
    if isinstance(obj, type):
        return _serialize_function(obj)
    return serialize_class_instance(obj, _config_of(obj))


_NOT_SPECIAL = object()


def _serialize_special(obj):
    from ndflow.keras.engine.keras_tensor import KerasTensor

    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            "start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop),
            "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, KerasTensor):
        history = obj._keras_history
        if history is not None:
            history = [history[0].name, history[1], history[2]]
        shape = obj.shape.as_list() if obj.shape.rank is not None else None
        return {"class_name": "__keras_tensor__", "config": {
            "shape": shape, "dtype": obj.dtype.name, "keras_history": history}}
    if isinstance(obj, TensorShape):
        return obj.as_list() if obj.rank is not None else None
    if isinstance(obj, EagerTensor):
        return {"class_name": "__tensor__", "config": {"value": obj.numpy().tolist(),
                                                      "dtype": obj.dtype.name}}
    if isinstance(obj, (np.ndarray, np.generic)):
        if isinstance(obj, np.ndarray) and obj.ndim > 0:
            return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                         "dtype": obj.dtype.name}}
        return obj.item()
    if isinstance(obj, dtypes.DType):
        return obj.name
    return _NOT_SPECIAL


def _config_of(obj):
    from ndflow.keras.layers import Lambda

    if isinstance(obj, Lambda):
        return _lambda_layer_config(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}: to be "
                        f"serializable, a class must implement `get_config()`.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj!r} should return a dict, got "
                        f"{type(config).__name__}: {config!r}")
    return {key: serialize_keras_object(value) for key, value in config.items()}


# Keys ndflow layers write that Keras 3.15 refuses in `from_config` (its own configs omit
# them); dropped on writing when they hold the default, so real Keras loads the file.
_KERAS_REFUSES = {"SpatialDropout1D": {"trainable": True}, "SpatialDropout2D": {"trainable": True},
                  "SpatialDropout3D": {"trainable": True}}


def serialize_class_instance(obj, inner_config):
    """The Keras 3 dict of an object whose (already serialized) config is `inner_config`."""
    cls = type(obj)
    for key, default in _KERAS_REFUSES.get(cls.__name__, {}).items():
        if cls.__module__.startswith("ndflow.") and inner_config.get(key, default) == default:
            inner_config.pop(key, None)
    module, registered = public_location(cls)
    config = {"module": module, "class_name": cls.__name__, "config": inner_config,
              "registered_name": registered}
    from ndflow.keras.engine.base_layer import Layer

    if isinstance(obj, Layer):
        build_config = get_build_config(obj)
        if build_config is not None:
            config["build_config"] = serialize_keras_object(build_config)
        compile_config = get_compile_config(obj)
        if compile_config is not None:
            config["compile_config"] = serialize_keras_object(compile_config)
    _record_serialized(obj, config)
    return config


def public_location(cls):
    """(module, registered_name) Keras 3 writes for a class: its public namespace for a
    built-in, `('<module>', 'package>Name')` for a registered class."""
    registered = saving_registry.get_registered_name(cls)
    if ">" in registered:
        return cls.__module__, registered
    if getattr(cls, "_keras_module", None):
        return cls._keras_module, cls.__name__
    module = cls.__module__
    if not module.startswith("ndflow."):
        return (None if module == "__main__" else module), cls.__name__
    if cls.__name__ == "Functional":
        return "keras.src.models.functional", "Functional"
    if cls.__name__ in _ROOT_CLASSES and getattr(
            _namespace(_ROOT_CLASSES[cls.__name__]), cls.__name__, None) is cls:
        return "keras", None
    for name in _CLASS_NAMESPACES:
        if getattr(_namespace(name), cls.__name__, None) is cls:
            return f"keras.{name}", None
    return "keras." + module.split(".")[2], None


def _serialize_function(fn):
    name = getattr(fn, "__name__", type(fn).__name__)
    registered = saving_registry.get_registered_name(fn)
    if ">" in registered:
        return {"module": fn.__module__, "class_name": "function", "config": registered,
                "registered_name": registered}
    for namespace in _FUNCTION_NAMESPACES:
        if getattr(_namespace(namespace), name, None) is fn:
            return {"module": f"keras.{namespace}", "class_name": "function", "config": name,
                    "registered_name": name}
    module = getattr(fn, "__module__", None)
    return {"module": None if module == "__main__" else module, "class_name": "function",
            "config": name, "registered_name": name}


def func_dump(fn):
    """Keras' `(code, defaults, closure)` of a lambda: base64 of its marshalled bytecode."""
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def func_load(code, defaults=None, closure=None):
    """Rebuilds a function from `func_dump` output (only ever called with safe mode off)."""
    if isinstance(code, (list, tuple)):
        code, defaults, closure = code
    raw = codecs.decode(code.encode("ascii"), "base64")
    function_code = marshal.loads(raw)
    cells = None
    if closure is not None:
        cells = tuple(types.CellType(value) for value in closure)
    from ndflow.keras import activations

    return types.FunctionType(function_code, vars(activations), function_code.co_name,
                              tuple(defaults) if defaults is not None else None, cells)


# --- build and compile configs ----------------------------------------------------------------


def _shape_list(shape):
    if shape is None:
        return None
    if isinstance(shape, TensorShape):
        return shape.as_list() if shape.rank is not None else None
    if isinstance(shape, dict):
        return {key: _shape_list(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(s, (list, tuple, TensorShape)) or s is None for s in shape):
        return [_shape_list(s) for s in shape]
    return list(shape)


def get_build_config(layer):
    """Keras 3's `build_config` of a layer: `{"input_shape": ...}` when it is built."""
    from ndflow.keras.engine.functional import Functional
    from ndflow.keras.engine.input_layer import InputLayer
    from ndflow.keras.engine.sequential import Sequential

    if "get_build_config" in _own_methods(layer):
        return layer.get_build_config()
    if isinstance(layer, InputLayer) or not layer.built:
        return None
    if isinstance(layer, Sequential):
        tensor = layer._input_tensor
        return {"input_shape": _shape_list(tensor.shape) if tensor is not None else None}
    if isinstance(layer, Functional):
        return {"input_shape": None}
    for attribute in ("_build_shapes_dict", "_build_input_shape"):
        recorded = getattr(layer, attribute, None)
        if recorded is not None:
            if attribute == "_build_shapes_dict":
                return dict(recorded)
            return {"input_shape": _shape_list(recorded)}
    if layer._inbound_nodes and layer._inbound_nodes[0].input_tensors:
        return _build_config_from_node(layer, layer._inbound_nodes[0])
    return None


def _build_config_from_node(layer, node):
    """Keras' `_build_shapes_dict` of the layer's first call: `<argument>_shape` for every
    tensor argument; `{"input_shape": ...}` when there is one."""
    from ndflow.keras.engine.keras_tensor import KerasTensor
    from ndflow.util import nest

    try:
        bound = inspect.signature(layer.call).bind(*node.call_args, **node.call_kwargs)
    except TypeError:
        bound = None
    arguments = bound.arguments if bound is not None else {"inputs": node.call_args[0]}
    shapes = {}
    for name, value in arguments.items():
        flat = nest.flatten(value)
        if name in ("mask", "training") or name.endswith("_mask") or not flat or not all(
                isinstance(t, KerasTensor) for t in flat):
            continue
        shapes[f"{name}_shape"] = nest.map_structure(lambda t: _shape_list(t.shape), value)
    if len(shapes) == 1:
        return {"input_shape": next(iter(shapes.values()))}
    return {"shapes_dict": shapes} if shapes else None


def build_from_config(layer, build_config):
    """Builds `layer` for `build_config["input_shape"]` (Keras' `build_from_config`)."""
    if "build_from_config" in _own_methods(layer):
        layer.build_from_config(build_config)
        return
    if not build_config or layer.built:
        return
    if build_config.get("input_shape") is not None:
        layer._build_with_shape(_to_tensor_shapes(build_config["input_shape"]))
    elif build_config.get("shapes_dict"):
        shapes = {key: _to_tensor_shapes(value)
                  for key, value in build_config["shapes_dict"].items()}
        if set(shapes) <= set(inspect.signature(layer.build).parameters):
            from ndflow.framework import context

            with context.init_scope():
                layer.build(**shapes)
            layer.built = True


def _to_tensor_shapes(shape):
    if isinstance(shape, dict):
        return {key: _to_tensor_shapes(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(s, (list, tuple)) for s in shape):
        return [TensorShape(s) for s in shape]
    return TensorShape(shape)


def get_compile_config(model):
    """Keras 3's `compile_config`: the arguments `compile` was called with (None if the object
    is not a compiled model)."""
    if "get_compile_config" in _own_methods(model):
        return model.get_compile_config()
    if not getattr(model, "_compiled", False):
        return {} if hasattr(model, "_compiled") else None
    container = model.compiled_metrics
    loss_weights = None
    if model.compiled_loss is not None and any(w != 1.0 for w in model.compiled_loss._weights):
        loss_weights = list(model.compiled_loss._weights)
    return {"optimizer": model.optimizer, "loss": model.loss, "loss_weights": loss_weights,
            "metrics": container._specs if container is not None else None,
            "weighted_metrics": container._weighted_specs if container is not None else None,
            "run_eagerly": model.run_eagerly, "steps_per_execution": model._steps_per_execution,
            "jit_compile": bool(model._jit_compile)}


def compile_from_config(model, config):
    """Compiles `model` from a `compile_config` and creates the optimizer's variables."""
    if "compile_from_config" in _own_methods(model):
        model.compile_from_config(config)
        return
    config = deserialize_keras_object(config)
    config.pop("jit_compile", None)
    model.compile(**config)
    if model.built and model.optimizer is not None and hasattr(model.optimizer, "build"):
        model.optimizer.build(model.trainable_variables)


def _own_methods(obj):
    """Names of methods a class outside ndflow defines (user overrides we must honor)."""
    names = set()
    for klass in type(obj).__mro__:
        if klass.__module__.startswith("ndflow.") or klass is object:
            continue
        names.update(name for name, value in vars(klass).items() if callable(value))
    return names


# --- Lambda layers ----------------------------------------------------------------------------


def _function_config(fn):
    if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
        warnings.warn("The Lambda layer being serialized wraps a Python `lambda`: reloading "
                      "it needs `safe_mode=False`; prefer a named, registered function.",
                      stacklevel=4)
        code, defaults, closure = func_dump(fn)
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults,
                                                       "closure": closure}}
    if isinstance(fn, types.FunctionType) and fn.__closure__ is None:
        registered = saving_registry.get_registered_name(fn)
        if ">" not in registered and fn.__module__ not in ("__main__", None) and not \
                fn.__module__.startswith("ndflow."):
            return _serialize_function(fn)
    return serialize_keras_object(fn)


def _lambda_layer_config(layer):
    """Keras 3's Lambda config: the function as a reference or as `__lambda__` bytecode."""
    config = layer.get_config()
    config["function"] = _function_config(layer.function)
    if layer._output_shape is not None:
        config["output_shape"] = (_function_config(layer._output_shape)
                                  if callable(layer._output_shape)
                                  else list(layer._output_shape))
    if layer._mask is not None:
        config["mask"] = (_function_config(layer._mask) if callable(layer._mask)
                          else serialize_keras_object(layer._mask))
    config["arguments"] = serialize_keras_object(layer.arguments)
    return {key: serialize_keras_object(value) for key, value in config.items()}


def _lambda_from_config(cls, config, custom_objects):
    config = dict(config)
    safe_mode = in_safe_mode() is not False
    for key in ("function", "output_shape", "mask"):
        entry = config.get(key)
        if isinstance(entry, dict) and entry.get("class_name") == "__lambda__":
            if safe_mode:
                raise ValueError(_LAMBDA_REFUSED)
            inner = entry["config"]
            code = inner.get("code", inner.get("value"))
            config[key] = func_load(code, inner.get("defaults"), inner.get("closure"))
        elif entry is not None and key != "output_shape":
            config[key] = deserialize_keras_object(entry, custom_objects)
        elif isinstance(entry, list):
            config[key] = tuple(entry)
    if "arguments" in config:
        config["arguments"] = deserialize_keras_object(config["arguments"], custom_objects)
    return cls(**_layer_kwargs(config))


_LAMBDA_REFUSED = (
    "Requested the deserialization of a Python lambda. This carries a potential risk of "
    "arbitrary code execution and thus it is disallowed by default. If you trust the source "
    "of the artifact, you can override this error by passing `safe_mode=False` to the loading "
    "function, or calling `keras.config.enable_unsafe_deserialization()`.")


def _layer_kwargs(config):
    if isinstance(config.get("dtype"), dict):
        from ndflow.keras import mixed_precision

        config["dtype"] = mixed_precision.policy_from_config(config["dtype"])
    return config


# --- deserialization --------------------------------------------------------------------------


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuilds an object from `serialize_keras_object`'s output (Keras 3 layout).

    Args:
      config: the serialized description (dict, list, string or plain value).
      custom_objects: optional dict of name -> class or function for custom objects.
      safe_mode: refuse `lambda` bytecode (default); `False` allows it for trusted files.

    Returns:
      The rebuilt object; built (`build_config`) and compiled (`compile_config`) when the
      config says so.

    Raises:
      TypeError: a class or function cannot be found among custom objects, registered
        objects and ndflow's Keras namespaces (nothing else is ever imported).
      ValueError: a lambda met in safe mode.
    """
    scoped = in_safe_mode()
    safe_mode = scoped if scoped is not None else safe_mode
    custom_objects = dict(custom_objects or {})
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = saving_registry.lookup(config, custom_objects)
        return config if found is None else found
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(item, custom_objects, safe_mode) for item in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects, safe_mode)
                for key, value in config.items()}
    outermost = not getattr(_state, "in_deserialize", False)
    if outermost:
        strip_inert_keys(config, custom_objects)
    _state.in_deserialize = True
    try:
        with SafeModeScope(safe_mode):
            return _deserialize_entry(config, custom_objects, safe_mode)
    finally:
        if outermost:
            _state.in_deserialize = False


def _deserialize_entry(config, custom_objects, safe_mode):
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    special = _deserialize_special(class_name, inner, custom_objects, safe_mode)
    if special is not _NOT_SPECIAL:
        return special
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(f"Expected 'config' to be a non-null str for a function, got "
                            f"{type(inner).__name__}. Full config: {config}")
        return resolve(inner, config.get("module"), config.get("registered_name"),
                       custom_objects, kind="function", full_config=config)
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}, got "
                        f"{type(inner).__name__}. Full config: {config}")
    shared_id = config.get("shared_object_id")
    shared = getattr(_state, "id_to_object", None)
    if shared_id is not None and shared is not None and shared_id in shared:
        return shared[shared_id]
    cls = resolve(class_name, config.get("module"), config.get("registered_name"),
                  custom_objects, kind="class", full_config=config)
    instance = instantiate(cls, inner, custom_objects)
    if config.get("build_config"):
        build_from_config(instance, config["build_config"])
    if config.get("compile_config"):
        compile_from_config(instance, config["compile_config"])
    if shared_id is not None and shared is not None:
        shared[shared_id] = instance
    return instance


def instantiate(cls, inner, custom_objects):
    """`cls.from_config(inner)` with custom objects in scope (Lambda handled safely)."""
    from ndflow.keras.layers import Lambda

    if isinstance(cls, (types.FunctionType, types.BuiltinFunctionType)):
        return cls
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Unable to reconstruct an instance of '{cls.__name__}' because the "
                        f"class is missing a `from_config()` method.")
    from ndflow.keras.utils import serialization as utils_serialization

    with utils_serialization.custom_object_scope(custom_objects or {}):
        if isinstance(cls, type) and issubclass(cls, Lambda):
            return _lambda_from_config(cls, inner, custom_objects)
        inner = _drop_inert_keys(cls, dict(inner))
        parameters = inspect.signature(cls.from_config).parameters
        if "custom_objects" in parameters:
            return cls.from_config(inner, custom_objects=custom_objects)
        return cls.from_config(inner)


# Keras 3.15 config keys some ndflow classes do not take yet; dropped only when they hold
# the value that means "feature unused", so nothing a model relies on is lost.
_INERT_KEYS = {"optional": False, "quantization_config": None, "lora_rank": None,
               "lora_alpha": None, "synchronized": False, "ragged": False, "sparse": False,
               "input_axes": None, "output_axes": None}
_LAYER_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "input_dim", "weights",
                 "input_length", "input_dtype", "name", "trainable", "dtype", "dynamic",
                 "activity_regularizer", "autocast"}


def _accepted_keys(cls):
    keys = set(_LAYER_KWARGS)
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is not None:
            keys.update(inspect.signature(init).parameters)
    return keys


def strip_inert_keys(value, custom_objects=None):
    """Removes inert Keras 3.15 keys from every nested `{"class_name", "config"}` entry whose
    class is an ndflow class that does not take them (layer configs hold initializer,
    regularizer ... configs that the layer deserializes itself)."""
    if isinstance(value, list):
        for item in value:
            strip_inert_keys(item, custom_objects)
        return value
    if not isinstance(value, dict):
        return value
    inner = value.get("config")
    if isinstance(value.get("class_name"), str) and isinstance(inner, dict):
        try:
            cls = resolve(value["class_name"], value.get("module", "keras"),
                          value.get("registered_name"), custom_objects)
        except TypeError:
            cls = None
        if isinstance(cls, type):
            _drop_inert_keys(cls, inner)
    for item in value.values():
        strip_inert_keys(item, custom_objects)
    return value


def _drop_inert_keys(cls, config):
    if not cls.__module__.startswith("ndflow.") or "from_config" in vars(cls):
        return config
    accepted = _accepted_keys(cls)
    for key, inert in _INERT_KEYS.items():
        if key in config and key not in accepted and config[key] == inert:
            del config[key]
    return config


def _deserialize_special(class_name, inner, custom_objects, safe_mode):
    if class_name == "__keras_tensor__":
        return {"__keras_tensor__": True, **inner}
    if class_name == "__tensor__":
        from ndflow.framework.tensor import convert_to_tensor

        return convert_to_tensor(np.array(inner["value"], dtype=inner["dtype"]))
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects, safe_mode)
                     for v in inner["value"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k], custom_objects, safe_mode)
                       for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        if safe_mode:
            raise ValueError(_LAMBDA_REFUSED)
        return func_load(inner["value"])
    if class_name == "__typespec__":
        raise TypeError("Cannot deserialize a `__typespec__` entry: TypeSpecs are not part of "
                        "ndflow's Keras configs.")
    return _NOT_SPECIAL


def resolve(name, module, registered_name, custom_objects=None, kind="class",
            full_config=None):
    """The class or function a config names, found without importing anything it names.

    Raises:
      TypeError: not found among custom objects, registered objects and ndflow's Keras
        namespaces.
    """
    for key in (registered_name, name):
        if isinstance(key, str) and key:
            found = saving_registry.lookup(key, custom_objects)
            if found is not None:
                return found
    if isinstance(module, str) and module.startswith(("keras.src.ops.", "keras.ops")):
        from ndflow.keras.saving import keras_ops

        found = keras_ops.operation_class(name)
        if found is not None:
            return found
    elif isinstance(module, str) and (module in ("keras", "builtins", "tf_keras")
                                    or module.startswith(("keras.", "tf_keras."))):
        found = _from_ndflow(name, module, kind)
        if found is not None:
            return found
    raise TypeError(
        f"Could not locate {kind} '{name}'. Make sure custom classes and functions are "
        f"decorated with `@keras.saving.register_keras_serializable()` or passed in "
        f"`custom_objects`; ndflow never imports a module named in a saved file. Full object "
        f"config: {full_config}")


def _from_ndflow(name, module, kind):
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        return None
    parts = [p for p in module.split(".")[1:] if p != "src"]
    wanted = ".".join(parts[:2]) if parts[:2] == ["optimizers", "schedules"] else (
        parts[0] if parts else None)
    candidates = _FUNCTION_NAMESPACES if kind == "function" else _CLASS_NAMESPACES
    order = ([wanted] if wanted in candidates else []) + [c for c in candidates
                                                          if c != wanted]
    for namespace in order:
        obj = getattr(_namespace(namespace), name, None)
        if obj is None or not getattr(obj, "__module__", "").startswith("ndflow."):
            continue
        if kind == "class" and isinstance(obj, type) and hasattr(obj, "from_config"):
            return obj
        if kind == "function" and isinstance(obj, (types.FunctionType, type)):
            return obj
    return None


__all__ = [
    "ObjectSharingScope", "SafeModeScope", "deserialize_keras_object",
    "enable_unsafe_deserialization", "in_safe_mode", "serialize_keras_object",
]
