"""`tf.saved_model`: save and load Modules and Keras models with their traced functions."""

from ndflow.saved_model.api import (
    ASSETS_DIRECTORY,
    DEFAULT_SERVING_SIGNATURE_DEF_KEY,
    SERVING,
    LoadOptions,
    SaveOptions,
    contains_saved_model,
    export_keras_model,
    load,
    save,
)

SAVED_MODEL_FILENAME_JSON = "saved_model.json"
VARIABLES_DIRECTORY = "variables"

__all__ = [
    "ASSETS_DIRECTORY",
    "DEFAULT_SERVING_SIGNATURE_DEF_KEY",
    "SERVING",
    "LoadOptions",
    "SaveOptions",
    "contains_saved_model",
    "export_keras_model",
    "load",
    "save",
]
