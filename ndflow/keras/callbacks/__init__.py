"""`keras.callbacks`: hooks into fit/evaluate/predict."""

from ndflow.keras.callbacks.base import Callback, CallbackList, History, ProgbarLogger
from ndflow.keras.callbacks.checkpoint import BackupAndRestore, ModelCheckpoint
from ndflow.keras.callbacks.loggers import CSVLogger, LambdaCallback, RemoteMonitor, TensorBoard
from ndflow.keras.callbacks.monitor import (
    EarlyStopping,
    LearningRateScheduler,
    MonitorCallback,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
    "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "MonitorCallback",
    "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "TensorBoard", "TerminateOnNaN",
]
