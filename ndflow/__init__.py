"""ndflow: TensorFlow's API on NumPy. `import ndflow as tf` and run a TF2 / tf.keras program.

This file only assembles the public namespace from the modules below it; each op module lists
its public names in an `API` table (`""` is the top level, other keys are `tf.math`, ...).
"""

import sys as _sys
import types as _types

from ndflow.framework import dtypes as _dtypes_module
from ndflow.framework import errors
from ndflow.framework.device import device
from ndflow.framework.dtypes import (  # noqa: F401 - public dtype names
    DType, as_dtype, bfloat16, bool, complex64, complex128, double, float16, float32, float64,
    half, int8, int16, int32, int64, resource, string, uint8, uint16, uint32, uint64, variant,
)
from ndflow.framework.context import executing_eagerly, init_scope
from ndflow.framework.tensor import IndexedSlices, Tensor, convert_to_tensor, is_tensor
from ndflow.framework.tensor_shape import Dimension, TensorShape
from ndflow.ops import _OP_MODULES
from ndflow.module import Module
from ndflow.variables import Variable, VariableAggregation, VariableSynchronization
from ndflow.autodiff.tape import GradientTape, UnconnectedGradients
from ndflow.autodiff.custom_gradient import custom_gradient, recompute_grad
from ndflow.util import nest
from ndflow.framework.graph import Graph, Operation, get_default_graph
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.function.polymorphic import function
from ndflow.autodiff.gradients import gradients

__version__ = "0.1.0"

newaxis = None


def _namespace(name, doc):
    module = _types.ModuleType(f"{__name__}.{name}", doc)
    _sys.modules[module.__name__] = module
    globals()[name] = module
    return module


_NAMESPACES = {
    "math": "Element-wise and reduction math (`tf.math`).",
    "linalg": "Linear algebra (`tf.linalg`).",
    "nn": "Neural-network ops (`tf.nn`).",
    "random": "Random numbers (`tf.random`).",
    "image": "Image ops (`tf.image`).",
    "dtypes": "Element types (`tf.dtypes`).",
    "config": "Devices and run-time settings (`tf.config`).",
    "debugging": "Assertions and checks (`tf.debugging`).",
    "bitwise": "Bitwise ops (`tf.bitwise`).",
    "autodiff": "Automatic differentiation (`tf.autodiff`).",
    "strings": "String ops (`tf.strings`).",
    "experimental": "Experimental APIs (`tf.experimental`).",
    "autograph": "Conversion of Python control flow to graph control flow (`tf.autograph`).",
}
for _name, _doc in _NAMESPACES.items():
    _namespace(_name, _doc)

for _module in _OP_MODULES():
    for _space, _names in getattr(_module, "API", {}).items():
        _target = globals() if _space == "" else vars(globals()[_space])
        for _public in _names:
            _target[_public] = getattr(_module, _public)

for _public in ["DType", "as_dtype", "bfloat16", "bool", "complex64", "complex128", "double",
                "float16", "float32", "float64", "half", "int8", "int16", "int32", "int64",
                "string", "uint8", "uint16", "uint32", "uint64", "resource", "variant"]:
    setattr(dtypes, _public, getattr(_dtypes_module, _public))

from ndflow.framework import device as _device_module  # noqa: E402

config.list_physical_devices = _device_module.list_physical_devices
config.list_logical_devices = _device_module.list_physical_devices
config.PhysicalDevice = _device_module.PhysicalDevice
config.experimental = _types.SimpleNamespace(
    list_physical_devices=_device_module.list_physical_devices,
)
autodiff.GradientTape = GradientTape
autodiff.ForwardAccumulator = None
_sys.modules[f"{__name__}.errors"] = errors

del _name, _doc, _module, _space, _names, _target, _public

# Subpackages above the core load on first use (`tf.keras`, `tf.data`, `tf.compat.v1` ...), so
# `import ndflow` stays light: the import-time target is a tenth of TensorFlow's.
_LAZY = ("keras", "compat", "data", "io", "train", "saved_model")


def __getattr__(name):
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        module = importlib.import_module(f"ndflow.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ndflow' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
