"""Callbacks that report training: CSVLogger, TensorBoard (scalars as JSON lines, see its
docstring), RemoteMonitor (HTTP POST with urllib), and LambdaCallback (hooks from functions).
"""

import collections
import csv
import json
import os
import time
import warnings

import numpy as np

from ndflow.keras.callbacks.base import Callback


def _plain(value):
    """A log value as a Python number/string (tensors and NumPy scalars converted)."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if np.ndim(value) == 0 else value.tolist()
    return value


class CSVLogger(Callback):
    """Streams each epoch's logs to a CSV file (`keras.callbacks.CSVLogger`).

    The columns are "epoch" then the log keys sorted; when the logs have no "val_" keys the
    "val_" columns are added anyway (written "NA"), as Keras does.

    Args:
      filename: the CSV file.
      separator: the column separator.
      append: append to an existing file (the header is written only to an empty file).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        mode = "w"
        self.append_header = True
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as handle:
                    self.append_header = not handle.readline()
            mode = "a"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115 (closed at train end)
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:
            dialect = type("_Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys],
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict(epoch=epoch)
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value):
    value = _plain(value)
    if isinstance(value, list):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class TensorBoard(Callback):
    """Logs scalars for visualisation (`keras.callbacks.TensorBoard`), in a simple open format.

    NOT TensorFlow event files: ndflow writes JSON lines, one object per scalar
    (`{"step": 3, "tag": "epoch_loss", "value": 0.25, "wall_time": ...}`), to
    `<log_dir>/train/scalars.jsonl` and `<log_dir>/validation/scalars.jsonl`, with Keras' tags
    (`epoch_loss`, `epoch_accuracy`, `batch_loss` ...). TensorBoard itself cannot read them;
    pandas (`pd.read_json(path, lines=True)`) or any JSON reader can. Histograms, images,
    graphs, embeddings and profiling are accepted as arguments and not written.

    Args:
      log_dir: the folder to write to.
      update_freq: "epoch", "batch", or an integer: also log `batch_*` scalars every N batches.
      write_steps_per_second: also log the training steps per second.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None, **kwargs):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._global_step = 0
        self._epoch_start = None
        self._epoch_steps = 0

    def _write(self, subdir, step, logs, prefix):
        folder = os.path.join(self.log_dir, subdir)
        os.makedirs(folder, exist_ok=True)
        now = time.time()
        with open(os.path.join(folder, "scalars.jsonl"), "a") as handle:
            for tag, value in logs.items():
                value = _plain(value)
                if isinstance(value, (int, float)):
                    record = {"step": int(step), "tag": f"{prefix}{tag}", "value": float(value),
                              "wall_time": now}
                    handle.write(json.dumps(record) + "\n")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_step += 1
        self._epoch_steps += 1
        if isinstance(self.update_freq, int) and self._global_step % self.update_freq == 0:
            self._write("train", self._global_step, logs or {}, "batch_")

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        if self.write_steps_per_second and self._epoch_start is not None:
            seconds = max(time.time() - self._epoch_start, 1e-12)
            train["steps_per_second"] = self._epoch_steps / seconds
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in train:
            try:
                train["learning_rate"] = float(np.asarray(optimizer.learning_rate))
            except (TypeError, ValueError):
                pass  # a schedule that cannot be read outside a step
        self._write("train", epoch, train, "epoch_")
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if validation:
            self._write("validation", epoch, validation, "epoch_")


class RemoteMonitor(Callback):
    """POSTs each epoch's logs to a server as JSON (`keras.callbacks.RemoteMonitor`).

    With `send_as_json=False` (the default) the logs are sent form-encoded in the field `field`,
    as Keras does; unreachable servers give a warning, not an error.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        import urllib.error
        import urllib.parse
        import urllib.request

        send = {"epoch": epoch}
        send.update({k: _plain(v) for k, v in (logs or {}).items()})
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)


_HOOK_NAMES = tuple(name for name in vars(Callback) if name.startswith("on_"))
_LAMBDA_CLASSES = {}


def _forwarder(hook):
    def method(self, *args):
        return self._functions[hook](*args)

    method.__name__ = hook
    return method


class LambdaCallback(Callback):
    """A callback built from functions (`keras.callbacks.LambdaCallback`).

    Each `on_*` argument is called like the hook of that name: `on_epoch_end(epoch, logs)`,
    `on_train_batch_end(batch, logs)`, `on_train_begin(logs)` ... Any hook of `Callback` may be
    given by keyword (`on_test_end=...`, Keras 2's `on_batch_end=...`); other keywords become
    attributes. Only the given hooks are installed, so fit pays nothing for the others.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        functions = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                     "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                     "on_train_batch_begin": on_train_batch_begin,
                     "on_train_batch_end": on_train_batch_end}
        for name in [k for k in kwargs if k in _HOOK_NAMES]:
            functions[name] = kwargs.pop(name)
        self.__dict__.update(kwargs)
        self._functions = {k: f for k, f in functions.items() if f is not None}
        # CallbackList looks hooks up on the class, so install them on a per-set subclass.
        hooks = tuple(sorted(self._functions))
        if hooks not in _LAMBDA_CLASSES:
            methods = {hook: _forwarder(hook) for hook in hooks}
            _LAMBDA_CLASSES[hooks] = type("LambdaCallback", (LambdaCallback,), methods)
        self.__class__ = _LAMBDA_CLASSES[hooks]
