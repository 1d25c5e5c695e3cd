"""`keras.models`: Model, Sequential, and model (de)serialization entry points."""

from ndflow.keras.engine.functional import Functional
from ndflow.keras.engine.sequential import Sequential
from ndflow.keras.engine.training import Model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by `model.save` (`.keras`, `.h5`, or a directory)."""
    from ndflow.keras.saving import api

    return api.load_model(filepath, custom_objects=custom_objects, compile=compile,
                          safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves a model (`.keras`, `.h5`, or a directory); see `Model.save`."""
    from ndflow.keras.saving import api

    return api.save_model(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model from `model.to_json()` output."""
    from ndflow.keras.saving import api

    return api.model_from_json(json_string, custom_objects=custom_objects)


def model_from_config(config, custom_objects=None):
    """A new model from a serialized config dict."""
    from ndflow.keras.saving import api

    return api.model_from_config(config, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A copy of the model's architecture with new layers and fresh weights."""
    from ndflow.keras.saving import cloning

    return cloning.clone_model(model, input_tensors=input_tensors,
                               clone_function=clone_function, call_function=call_function,
                               recursive=recursive, **kwargs)


__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_config",
    "model_from_json",
    "save_model",
]
