"""`keras.models`: Model, Sequential, and model (de)serialization entry points."""

from ndflow.keras.engine.functional import Functional
from ndflow.keras.engine.sequential import Sequential
from ndflow.keras.engine.training import Model

__all__ = ["Model", "Sequential", "Functional"]
