"""Callbacks that write training state to disk: ModelCheckpoint (the model or its weights,
through `model.save` / `model.save_weights`) and BackupAndRestore (fault tolerance).

BackupAndRestore keeps its own format: one NumPy `.npz` holding the model weights, the optimizer
variables and the epoch/batch counters, written to a temporary file and renamed into place so a
crash mid-write never leaves a half backup. It is read with `allow_pickle=False`.
"""

import os
import shutil
import warnings

import numpy as np

from ndflow.keras.callbacks.base import Callback
from ndflow.keras.callbacks.monitor import MonitorCallback


def _check_save_freq(save_freq, what):
    if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
        raise ValueError(f"{what}: `save_freq` must be 'epoch' or a positive integer number of "
                         f"batches, got save_freq={save_freq!r}")


class _BatchCounter:
    """Counts trained batches across epochs for `save_freq=<int>` (steps_per_execution aware:
    batch hooks may skip indices)."""

    def __init__(self, every):
        self.every = every
        self.since_save = 0
        self.last_batch = None

    def step(self, batch):
        if self.last_batch is None or batch <= self.last_batch:
            added = batch + 1  # a new epoch started at batch 0
        else:
            added = batch - self.last_batch
        self.since_save += added
        self.last_batch = batch
        if self.since_save >= self.every:
            self.since_save = 0
            return True
        return False


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights every epoch or every `save_freq` batches
    (`keras.callbacks.ModelCheckpoint`).

    `filepath` may hold `str.format` fields filled from the epoch (1-based), the batch and the
    logs: `"ckpt/weights.{epoch:02d}-{val_loss:.2f}.weights.h5"`.

    Args:
      filepath: where to save; formatted as above.
      monitor: the logged quantity `save_best_only` compares.
      verbose: 1 prints a line per save.
      save_best_only: save only when `monitor` improved on the best value so far.
      save_weights_only: call `model.save_weights(path)` instead of `model.save(path)`.
      mode: "auto", "min" or "max".
      save_freq: "epoch", or an integer number of batches between saves.
      initial_value_threshold: the best value to beat before the first save.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None, **kwargs):
        period = kwargs.pop("period", None)  # Keras 2: save every `period` epochs
        kwargs.pop("options", None)
        if kwargs:
            raise TypeError(f"ModelCheckpoint got unexpected keyword arguments {sorted(kwargs)}")
        super().__init__(monitor, mode, initial_value_threshold)
        _check_save_freq(save_freq, "ModelCheckpoint")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.period = int(period or 1)
        self._counter = _BatchCounter(save_freq) if save_freq != "epoch" else None
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.step(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch" and (epoch + 1) % self.period == 0:
            self._save_model(epoch, None, logs)

    def _get_file_path(self, epoch, batch, logs):
        logs = dict(logs or {})
        fields = {"epoch": epoch + 1}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields, **logs)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {error}") from None

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch, batch, logs):
        if self.monitor_op is None:
            self._set_monitor_op()
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(f"Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)


class BackupAndRestore(Callback):
    """Backs up the training state to `backup_dir` so an interrupted `fit` resumes where it
    stopped (`keras.callbacks.BackupAndRestore`).

    The state (model weights, optimizer variables, the next epoch) is saved at the end of each
    epoch, or every `save_freq` batches. When `fit` starts and a backup exists, the weights and
    optimizer are restored and training continues from the saved epoch. After a `fit` that
    completes, the backup is deleted unless `delete_checkpoint=False`. The model must be built
    before `fit` (as in Keras).

    Args:
      backup_dir: the folder holding the backup (`backup.npz`).
      save_freq: "epoch", an integer number of batches, or False to save never.
      double_checkpoint: keep the previous backup too, used if the latest cannot be read.
      delete_checkpoint: delete the backup when training completes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq is not False:
            _check_save_freq(save_freq, "BackupAndRestore")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, "backup.npz")
        self._previous_path = self._path + ".bkp"
        self._counter = None if save_freq in ("epoch", False) else _BatchCounter(save_freq)
        self._current_epoch = 0
        self._last_batch = 0

    def on_train_begin(self, logs=None):
        if not getattr(self.model, "built", True):
            raise ValueError(
                f"To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model.name} is unbuilt. You can build it "
                f"beforehand by calling it on a batch of data.")
        for path in (self._path, self._previous_path):
            if not os.path.exists(path):
                continue
            try:
                state = _read_state(path)
            except (OSError, ValueError, KeyError) as error:
                warnings.warn(f"BackupAndRestore: could not read the backup {path} ({error}); "
                              f"trying the previous one.", stacklevel=2)
                continue
            self._restore(state)
            return

    def _restore(self, state):
        self.model.set_weights(state["model"])
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and state["optimizer"]:
            if not getattr(optimizer, "built", True):
                optimizer.build(self.model.trainable_variables)
            _set_optimizer_state(optimizer, state["optimizer"])
        self._current_epoch = state["epoch"]
        self.model._initial_epoch = state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        self._last_batch = batch
        if self._counter is not None and self._counter.step(batch):
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            shutil.copyfile(self._path, self._previous_path)
        optimizer = getattr(self.model, "optimizer", None)
        optimizer_values = [np.asarray(v.numpy()) for v in optimizer.variables] \
            if optimizer is not None and getattr(optimizer, "built", True) else []
        _write_state(self._path, self.model.get_weights(), optimizer_values,
                     self._current_epoch, self._last_batch)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _write_state(path, model_weights, optimizer_values, epoch, batch):
    arrays = {"epoch": np.int64(epoch), "batch": np.int64(batch)}
    arrays.update({f"model_{i:05d}": np.asarray(w) for i, w in enumerate(model_weights)})
    arrays.update({f"optimizer_{i:05d}": v for i, v in enumerate(optimizer_values)})
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)  # atomic: readers see the old or the new backup, never half


def _read_state(path):
    with np.load(path, allow_pickle=False) as data:
        names = sorted(data.files)
        return {
            "epoch": int(data["epoch"]),
            "batch": int(data["batch"]),
            "model": [data[n] for n in names if n.startswith("model_")],
            "optimizer": [data[n] for n in names if n.startswith("optimizer_")],
        }


def _set_optimizer_state(optimizer, values):
    variables = optimizer.variables
    if len(variables) != len(values):
        warnings.warn(f"BackupAndRestore: the optimizer has {len(variables)} variables but the "
                      f"backup holds {len(values)}; the optimizer state is not restored.",
                      stacklevel=3)
        return
    for variable, value in zip(variables, values):
        if tuple(variable.shape.as_list()) != value.shape:
            raise ValueError(f"BackupAndRestore: optimizer variable {variable.name} has shape "
                             f"{tuple(variable.shape.as_list())}, the backup holds "
                             f"{value.shape}")
        variable.assign(value.astype(variable.dtype.as_numpy_dtype))
