"""`ndflow.keras` (also `tf.keras`): Keras 3's API as TensorFlow ships it, plus the Keras 2
spellings older programs use. Submodules load on first use, so `import ndflow` stays light."""

import importlib

from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.functional_call import install as _install_symbolic_ops
from ndflow.keras.engine.input_layer import Input, InputLayer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.engine.sequential import Sequential
from ndflow.keras.engine.training import Model
from ndflow.keras.mixed_precision import DTypePolicy

__version__ = "3.15.0"

_install_symbolic_ops()

_SUBMODULES = {
    "activations", "applications", "backend", "callbacks", "constraints", "datasets",
    "initializers", "layers", "losses", "metrics", "mixed_precision", "models", "optimizers",
    "preprocessing", "regularizers", "saving", "utils", "ops", "random", "export",
}


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"ndflow.keras.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ndflow.keras' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
