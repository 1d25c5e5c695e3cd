"""The `checkpoint` state file, `tf.train.latest_checkpoint` and `tf.train.CheckpointManager`.

The state file is TF's text format of CheckpointState, so tools that read it keep working:

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_timestamps: 1700000000.5
    last_preserved_timestamp: 1699999990.0

Paths inside the checkpoint directory are written relative to it. The file is replaced
atomically and only after the checkpoint it names is complete; a manager deletes old
checkpoints only after the state file stops naming them.
"""

import codecs
import collections
import glob
import logging
import os
import re
import time

from ndflow.train import checkpoint as checkpoint_lib

_logger = logging.getLogger("ndflow")
_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


class CheckpointState:
    """The contents of a `checkpoint` state file (TF's CheckpointState proto)."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return (f"CheckpointState(model_checkpoint_path={self.model_checkpoint_path!r}, "
                f"all_model_checkpoint_paths={self.all_model_checkpoint_paths!r})")


def _quote(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _unquote(value, filename):
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        raise ValueError(f"{filename}: expected a quoted string, got {value!r}")
    return codecs.escape_decode(value[1:-1].encode("utf-8"))[0].decode("utf-8")


def _parse_state(text, filename):
    state = CheckpointState()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{filename}: cannot parse line {line!r}")
        key, value = match.groups()
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(value, filename)
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(value, filename))
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"{filename}: unknown field {key!r}")
    return state


def _relative(path, save_dir):
    if os.path.abspath(os.path.dirname(path)) == os.path.abspath(save_dir):
        return os.path.basename(path)
    return path


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=True):
    """Writes the `checkpoint` state file of `save_dir` atomically (temporary file, then
    rename), naming `model_checkpoint_path` as the latest checkpoint."""
    save_dir = os.fspath(save_dir)
    paths = list(all_model_checkpoint_paths or [])
    if model_checkpoint_path and model_checkpoint_path not in paths:
        paths.append(model_checkpoint_path)
    convert = (lambda p: _relative(p, save_dir)) if save_relative_paths else (lambda p: p)
    lines = [f"model_checkpoint_path: {_quote(convert(model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(convert(p))}" for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}"
              for t in all_model_checkpoint_timestamps or []]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved_timestamp!r}")
    os.makedirs(save_dir, exist_ok=True)
    target = os.path.join(save_dir, latest_filename or "checkpoint")
    temporary = f"{target}.tmp{os.getpid()}"
    checkpoint_lib._fsync_write(temporary, ("\n".join(lines) + "\n").encode("utf-8"))
    os.replace(temporary, target)
    checkpoint_lib._fsync_dir(save_dir)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of a directory (paths made absolute-or-joined), or None when it
    has no readable state file."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    filename = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    try:
        with open(filename, encoding="utf-8") as handle:
            state = _parse_state(handle.read(), filename)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        _logger.warning("%s: %s: Checkpoint ignored", filename, error)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")

    def joined(path):
        return path if os.path.isabs(path) else os.path.join(checkpoint_dir, path)

    state.model_checkpoint_path = joined(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [joined(p) for p in state.all_model_checkpoint_paths]
    return state


def checkpoint_exists(checkpoint_prefix):
    """Whether a checkpoint with this prefix exists."""
    return os.path.isfile(os.fspath(checkpoint_prefix) + ".index")


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the latest checkpoint recorded in `checkpoint_dir`, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    if checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    _logger.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def _delete_checkpoint(prefix):
    for path in [prefix + ".index", prefix + ".index.pending",
                 *glob.glob(glob.escape(prefix) + ".data-?????-of-?????")]:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


class CheckpointManager:
    """Numbers, saves, and deletes old checkpoints (`tf.train.CheckpointManager`).

    Args:
      checkpoint: the `tf.train.Checkpoint` to save and restore.
      directory: where checkpoints and the `checkpoint` state file go.
      max_to_keep: how many recent checkpoints to keep (None keeps all).
      keep_checkpoint_every_n_hours: also keep (forever) one checkpoint per this many hours.
      checkpoint_name: the prefix of checkpoint files (`ckpt-1`, `ckpt-2`, ...).
      step_counter: a variable read when `checkpoint_interval` is set.
      checkpoint_interval: `save` writes only when `step_counter` advanced by this much.
      init_fn: called by `restore_or_initialize` when there is no checkpoint.
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None,
                 init_fn=None):
        if directory is None:
            raise ValueError("`directory` must be a directory path, got None")
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not "
                             "None.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._checkpoint_prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._init_fn = init_fn
        self._last_checkpoint_step = None
        self._maybe_delete = collections.OrderedDict()
        self._recover_state()

    def _recover_state(self):
        state = get_checkpoint_state(self._directory)
        now = time.time()
        if state is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now - 1.0
            return
        self._latest_checkpoint = state.model_checkpoint_path
        self._last_preserved_timestamp = min(state.last_preserved_timestamp, now)
        timestamps = state.all_model_checkpoint_timestamps or (
            [self._last_preserved_timestamp] * len(state.all_model_checkpoint_paths))
        for path, stamp in zip(state.all_model_checkpoint_paths, timestamps):
            stamp = min(stamp, now)
            if stamp > self._last_preserved_timestamp:
                self._maybe_delete[path] = stamp

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self):
        """The prefix of the newest checkpoint, or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self):
        """The managed checkpoints still on disk, oldest first."""
        return list(self._maybe_delete)

    def _record_state(self):
        update_checkpoint_state(
            self._directory, self._latest_checkpoint, list(self._maybe_delete),
            all_model_checkpoint_timestamps=list(self._maybe_delete.values()),
            last_preserved_timestamp=self._last_preserved_timestamp)

    def _sweep(self):
        """Deletes the oldest checkpoints beyond `max_to_keep` (keeping one per
        `keep_checkpoint_every_n_hours`, unlisted)."""
        if not self._max_to_keep:
            return
        hours = self._keep_checkpoint_every_n_hours
        while len(self._maybe_delete) > self._max_to_keep:
            path, stamp = self._maybe_delete.popitem(last=False)
            if hours and stamp - hours * 3600.0 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = stamp
                continue
            _delete_checkpoint(path)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Saves a numbered checkpoint and deletes old ones; returns its path (None when
        `checkpoint_interval` says it is too early)."""
        current_step = None
        if self._checkpoint_interval is not None and check_interval:
            current_step = int(_value(self._step_counter))
            if (self._last_checkpoint_step is not None
                    and current_step - self._last_checkpoint_step < self._checkpoint_interval):
                return None
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        if checkpoint_number is None:
            checkpoint_number = counter
        number = int(_value(checkpoint_number))
        path = self._checkpoint.write(f"{self._checkpoint_prefix}-{number}", options=options)
        self._maybe_delete.pop(path, None)
        self._maybe_delete[path] = time.time()
        self._latest_checkpoint = path
        # State first (a crash while deleting still finds the new checkpoint), then delete,
        # then the state again without the deleted ones.
        self._record_state()
        self._sweep()
        self._record_state()
        if self._step_counter is not None:
            self._last_checkpoint_step = (current_step if current_step is not None
                                          else int(_value(self._step_counter)))
        return path

    def restore_or_initialize(self):
        """Restores the latest checkpoint (returning its path), else runs `init_fn`."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = int(_value(self._step_counter))
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self):
        """Waits for pending saves: ndflow saves synchronously."""


def _value(number):
    if hasattr(number, "numpy"):
        return number.numpy()
    return number
