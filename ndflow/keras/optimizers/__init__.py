"""`keras.optimizers`: the optimizer classes, `get`/`serialize`/`deserialize`, learning-rate
`schedules`, and Keras 2's `legacy` / `experimental` namespaces (mapped to the same classes)."""

import sys
import types

from ndflow.keras.optimizers import schedules
from ndflow.keras.optimizers.adafactor import Adafactor
from ndflow.keras.optimizers.adagrad import Adadelta, Adagrad
from ndflow.keras.optimizers.adam import Adam, Adamax, AdamW, Nadam
from ndflow.keras.optimizers.base import Optimizer
from ndflow.keras.optimizers.ftrl import Ftrl
from ndflow.keras.optimizers.lion import Lion
from ndflow.keras.optimizers.loss_scale import LossScaleOptimizer
from ndflow.keras.optimizers.rmsprop import RMSprop
from ndflow.keras.optimizers.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl",
           "Lion", "LossScaleOptimizer", "Nadam", "Optimizer", "RMSprop", "deserialize",
           "experimental", "get", "legacy", "schedules", "serialize"]

_ALL_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (
    Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Adafactor, Nadam, Ftrl,
    Lion, LossScaleOptimizer)}

legacy = types.ModuleType(f"{__name__}.legacy",
                          "Keras 2's `optimizers.legacy` names, mapped to the Keras 3 classes.")
experimental = types.ModuleType(f"{__name__}.experimental",
                                "Keras 2.11's `optimizers.experimental` names.")
for _cls in (Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Adafactor, Nadam,
             Ftrl, Lion):
    setattr(legacy, _cls.__name__, _cls)
    setattr(experimental, _cls.__name__, _cls)
del _cls
sys.modules[legacy.__name__] = legacy  # `from ...optimizers.legacy import Adam` works too
sys.modules[experimental.__name__] = experimental


def serialize(optimizer):
    """The optimizer as a Keras 3 config dict (`module`, `class_name`, `config`)."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None, use_legacy_format=False):
    """An optimizer from `serialize`'s dict; built-in class names match case-insensitively
    (Keras 2 configs, including `Custom>Adam` from TF 2.11-2.15 files, work too)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret optimizer identifier: {config}")
    class_name = config["class_name"]
    custom_objects = custom_objects or {}
    cls = custom_objects.get(class_name)
    if cls is None:
        cls = _ALL_OPTIMIZERS.get(class_name.split(">")[-1].lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {class_name}")
    inner_config = dict(config.get("config") or {})
    if custom_objects:
        return cls.from_config(inner_config, custom_objects=custom_objects)
    return cls.from_config(inner_config)


def get(identifier):
    """An optimizer from a name ("adam", "SGD", ...), a config dict, an `Optimizer` class or
    an instance (returned as is); None gives None.

    Raises:
      ValueError: the identifier names no optimizer.
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() not in _ALL_OPTIMIZERS:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
