"""`tf.train.Checkpoint`: saving and restoring the variables of an object graph.

A checkpoint names every variable by the path of attributes that reaches it from the
Checkpoint's keyword arguments (`model/layer-0/kernel`, `optimizer/_variables/3`); the rules
for each kind of object are in `_children` and in docs/formats.md. A checkpoint is two files:
`prefix.index` (JSON: the variables' keys, dtypes, shapes and the data file's checksum) and
`prefix.data-00000-of-00001` (a NumPy `.npz`, read with `allow_pickle=False`). Writes are
atomic: the data goes to a temporary file renamed into place, the index is written last, and
a reader that finds new data under an old index rolls forward to the fully written
`prefix.index.pending`, so a process killed mid-save never leaves an unreadable checkpoint.

Restoring matches saved paths against the current object graph. Values for variables that do
not exist yet (optimizer slots made on the first step, weights of layers built later) wait in
a registry keyed by their owner object and are assigned when the owner creates them
(`_restore_on_create`, called by Keras layers and optimizers). The `checkpoint` state file and
CheckpointManager live in checkpoint_management.py.
"""

import base64
import json
import logging
import os
import tempfile
import weakref
import zlib

import numpy as np

from ndflow.framework import context, dtypes, errors
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.module import Module
from ndflow.variables import Variable

FORMAT_NAME = "ndflow-checkpoint"
FORMAT_VERSION = 1
DATA_SUFFIX = ".data-00000-of-00001"
VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"  # TF's key suffix, kept for list_variables users
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"

_logger = logging.getLogger("ndflow")


# --- the object graph ---------------------------------------------------------------------


def _loaded_class(module_name, class_name):
    """A class from a module only if that module is already imported (no import cost)."""
    import sys

    module = sys.modules.get(module_name)
    return getattr(module, class_name, None) if module is not None else None



def _is_trackable(value):
    """Objects a checkpoint can hold: variables, Modules, Keras layers and optimizers, TF1
    optimizers, Checkpoints, and objects defining `_checkpoint_children`."""
    if _is_variable(value) or isinstance(value, Module) or hasattr(value,
                                                                   "_checkpoint_children"):
        return True
    for module_name, class_name in (("ndflow.keras.engine.base_layer", "Layer"),
                                    ("ndflow.keras.optimizers.base", "Optimizer"),
                                    ("ndflow.compat.v1.train", "Optimizer")):
        cls = _loaded_class(module_name, class_name)
        if cls is not None and isinstance(value, cls):
            return True
    return False


def _expand(name, value):
    """(name, trackable) pairs for an attribute; lists, tuples and dicts are transparent and
    add `/index` or `/key` to the name."""
    if _is_trackable(value):
        return [(name, value)]
    if isinstance(value, (list, tuple)):
        return [pair for i, item in enumerate(value) for pair in _expand(f"{name}/{i}", item)]
    if isinstance(value, dict):
        return [pair for key, item in value.items() if isinstance(key, str)
                for pair in _expand(f"{name}/{key}", item)]
    return []


def _attribute_children(obj, public_only=False):
    ignored = getattr(obj, "_TF_MODULE_IGNORED_PROPERTIES", frozenset())
    pairs = []
    for name in sorted(vars(obj)):
        if name in ignored or (public_only and name.startswith("_")):
            continue
        pairs.extend(_expand(name, vars(obj)[name]))
    return pairs


def _weight_base_name(layer, variable, attribute_names):
    path = getattr(variable, "_layer_path", None)
    if path and "/" in path:
        return path.split("/", 1)[1]
    if id(variable) in attribute_names:
        return attribute_names[id(variable)]
    return variable.name.split(":")[0].rsplit("/", 1)[-1]


def _layer_weight_names(layer):
    """Child names of a layer's own weights: their `add_weight` name, `_1`, `_2` for repeats."""
    attribute_names = {id(v): n for n, v in reversed(_attribute_children(layer, True))}
    names, seen = [], {}
    for variable in layer._own_weights:
        base = _weight_base_name(layer, variable, attribute_names)
        count = seen.get(base, 0)
        seen[base] = count + 1
        names.append(base if count == 0 else f"{base}_{count}")
    return names


def _layer_children(layer):
    """A Keras layer: its own weights by name, then its sub-layers by public attribute name
    (subclassed models) or `layer-<i>` (position among non-Input layers)."""
    pairs = list(zip(_layer_weight_names(layer), layer._own_weights))
    attribute_names = {id(v): n for n, v in reversed(_attribute_children(layer, True))}
    input_layer = _loaded_class("ndflow.keras.engine.input_layer", "InputLayer")
    sublayers = [sub for sub in layer._layers
                 if input_layer is None or not isinstance(sub, input_layer)]
    for index, sub in enumerate(sublayers):
        pairs.append((attribute_names.get(id(sub), f"layer-{index}"), sub))
    return pairs


def _keras_optimizer_children(optimizer):
    """A Keras optimizer, as TF names it: `_iterations`, `_learning_rate`, `_variables/<i>`
    (creation order: the slots), and a LossScaleOptimizer's `inner_optimizer`."""
    pairs = [("_iterations", optimizer._iterations)]
    if _is_variable(optimizer._learning_rate):
        pairs.append(("_learning_rate", optimizer._learning_rate))
    pairs += [(f"_variables/{i}", v) for i, v in enumerate(optimizer._variables)]
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        pairs.append(("inner_optimizer", inner))
    return pairs


def _v1_optimizer_children(optimizer, variable_paths):
    """A TF1 optimizer: scalars by name; slots as `.slots/<variable path>/<slot>`."""
    pairs = []
    for (name, owner), slot in sorted(optimizer._slots.items(), key=lambda kv: str(kv[0])):
        if owner == 0:
            pairs.append((name, slot))
        elif owner in variable_paths:
            pairs.append((f".slots/{variable_paths[owner]}/{name}", slot))
    return pairs


def _children(obj, variable_paths=None):
    """The named children of one object of the graph (see docs/formats.md)."""
    if _is_variable(obj):
        return []
    hook = getattr(obj, "_checkpoint_children", None)
    if hook is not None:
        return list(hook())
    layer = _loaded_class("ndflow.keras.engine.base_layer", "Layer")
    if layer is not None and isinstance(obj, layer):
        return _layer_children(obj)
    keras_optimizer = _loaded_class("ndflow.keras.optimizers.base", "Optimizer")
    if keras_optimizer is not None and isinstance(obj, keras_optimizer):
        return _keras_optimizer_children(obj)
    v1_optimizer = _loaded_class("ndflow.compat.v1.train", "Optimizer")
    if v1_optimizer is not None and isinstance(obj, v1_optimizer):
        return _v1_optimizer_children(obj, variable_paths or {})
    if isinstance(obj, Module):
        return _attribute_children(obj)
    return []


class _ObjectGraph:
    """A breadth-first walk from a root: `nodes` {path: object} (non-variables), `edges`
    [(node path, child name, child)], and `variables` {path: variable}, each variable under
    the first path that reaches it. TF1 optimizers are expanded last (their slots are named
    after the variables' paths)."""

    def __init__(self, root):
        self.nodes = {"": root}
        self.edges = []
        self.variables = {}
        seen = {id(root)}
        variable_ids = set()
        queue = [("", root)]
        deferred = []
        v1_optimizer = _loaded_class("ndflow.compat.v1.train", "Optimizer")
        while queue or deferred:
            if not queue:
                paths = {id(v): p for p, v in self.variables.items()}
                queue = [(p, o, paths) for p, o in deferred]
                deferred = []
            item = queue.pop(0)
            path, obj = item[0], item[1]
            if v1_optimizer is not None and isinstance(obj, v1_optimizer) and len(item) == 2:
                deferred.append((path, obj))
                continue
            for name, child in _children(obj, item[2] if len(item) == 3 else None):
                child_path = f"{path}/{name}" if path else name
                self.edges.append((path, name, child))
                if _is_variable(child):
                    if id(child) not in variable_ids:
                        variable_ids.add(id(child))
                        self.variables[child_path] = child
                elif id(child) not in seen:
                    seen.add(id(child))
                    self.nodes[child_path] = child
                    queue.append((child_path, child))

    def owner_of(self, path):
        """(node path, remaining name) for the longest existing node path prefixing `path`."""
        parts = path.split("/")
        for cut in range(len(parts) - 1, -1, -1):
            prefix = "/".join(parts[:cut])
            if prefix in self.nodes:
                return prefix, "/".join(parts[cut:])
        return "", path


# --- the files ------------------------------------------------------------------------------

_STORED_AS = {"bfloat16": np.uint16}  # not a NumPy-native dtype: stored as raw bits


def _fsync_write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(directory):
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode_strings(array):
    flat = [bytes(v) if isinstance(v, (bytes, bytearray)) else str(v).encode() for v in
            np.asarray(array, dtype=object).reshape(-1)]
    return [base64.b64encode(v).decode("ascii") for v in flat]


def write_bundle(prefix, values, object_graph=None):
    """Writes `{key: (array, DType)}` as `prefix.index` + data file, atomically."""
    prefix = os.fspath(prefix)
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    arrays, entries = {}, {}
    for number, key in enumerate(sorted(values)):
        array, dtype = values[key]
        entry = {"dtype": dtype.name, "shape": list(np.shape(array))}
        if dtype in (dtypes.string, dtypes.resource, dtypes.variant):
            entry["strings"] = _encode_strings(array)
        else:
            stored = np.ascontiguousarray(array)
            if dtype.name in _STORED_AS:
                stored = stored.view(_STORED_AS[dtype.name])
            entry["array"] = f"t{number}"
            arrays[entry["array"]] = stored
        entries[key] = entry
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed after
        dir=directory or ".", prefix=".tmp-ckpt-", delete=False)
    try:
        with handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        with open(handle.name, "rb") as data:
            content = data.read()
        index = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                 "data_crc32": zlib.crc32(content), "data_size": len(content),
                 "object_graph": object_graph or {}, "tensors": entries}
        pending = prefix + ".index.pending"
        _fsync_write(pending, json.dumps(index, indent=1, sort_keys=True).encode("utf-8"))
        os.replace(handle.name, prefix + DATA_SUFFIX)
        os.replace(pending, prefix + ".index")
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
    _fsync_dir(directory)
    return prefix


def _read_index(path):
    try:
        with open(path, "rb") as handle:
            index = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise errors.DataLossError(None, None, f"Checkpoint index {path} is corrupt: it is not "
                                               f"valid JSON ({error})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT_NAME:
        raise errors.DataLossError(None, None, f"Checkpoint index {path} is not an ndflow "
                                               f"checkpoint (format {FORMAT_NAME!r} expected)")
    if index.get("version", 0) > FORMAT_VERSION:
        raise errors.DataLossError(
            None, None, f"Checkpoint {path} has format version {index.get('version')}; this "
                        f"ndflow reads versions up to {FORMAT_VERSION}")
    return index


class CheckpointReader:
    """Reads one checkpoint (`tf.train.load_checkpoint`): keys, shapes, dtypes, values."""

    def __init__(self, prefix):
        prefix = os.fspath(prefix)
        index_path = prefix + ".index"
        if not os.path.isfile(index_path):
            raise errors.NotFoundError(
                None, None, f"Error when restoring from checkpoint at {prefix}: Failed to find "
                            f"any matching files for {prefix}\nPlease double-check that the path "
                            f"is correct. You may be missing the checkpoint suffix (e.g. the '-1' "
                            f"in 'path/to/ckpt-1').")
        self._prefix = prefix
        index = _read_index(index_path)
        data_path = prefix + DATA_SUFFIX
        try:
            with open(data_path, "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            raise errors.DataLossError(None, None, f"Checkpoint {prefix}: data file "
                                                   f"{data_path} is missing") from None
        if zlib.crc32(content) != index.get("data_crc32"):
            index = self._roll_forward(prefix, content)
        self._index = index
        self._tensors = index["tensors"]
        self._content = content

    @staticmethod
    def _roll_forward(prefix, content):
        """The data file was replaced but the process died before the index was: the fully
        written `.index.pending` describes it."""
        pending = prefix + ".index.pending"
        if os.path.isfile(pending):
            try:
                index = _read_index(pending)
            except errors.DataLossError:
                index = None
            if index is not None and index.get("data_crc32") == zlib.crc32(content):
                return index
        raise errors.DataLossError(
            None, None, f"Checkpoint {prefix} is corrupt: the checksum of {prefix + DATA_SUFFIX}"
                        f" does not match its index")

    def _arrays(self):
        import io

        try:
            with np.load(io.BytesIO(self._content), allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except ValueError as error:
            raise errors.DataLossError(None, None, f"Checkpoint {self._prefix}: the data file "
                                                   f"cannot be read safely ({error})") from None

    def get_variable_to_shape_map(self):
        shapes = {key: entry["shape"] for key, entry in self._tensors.items()}
        shapes[OBJECT_GRAPH_KEY] = []
        return shapes

    def get_variable_to_dtype_map(self):
        types = {key: dtypes.as_dtype(entry["dtype"]) for key, entry in self._tensors.items()}
        types[OBJECT_GRAPH_KEY] = dtypes.string
        return types

    def has_tensor(self, name):
        return name in self._tensors or name == OBJECT_GRAPH_KEY

    def get_tensor(self, name):
        """The saved value of key `name` as a NumPy array."""
        if name == OBJECT_GRAPH_KEY:
            return np.array(json.dumps(self._index.get("object_graph", {})).encode(),
                            dtype=object)
        if name not in self._tensors:
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        return self.values([name])[name]

    def values(self, names):
        """{key: array} for several keys, decoding the data file once."""
        arrays = self._arrays() if any("array" in self._tensors[n] for n in names) else {}
        result = {}
        for name in names:
            entry = self._tensors[name]
            shape = tuple(entry["shape"])
            if "strings" in entry:
                flat = [base64.b64decode(v) for v in entry["strings"]]
                value = np.empty(len(flat), dtype=object)
                value[:] = flat
                result[name] = value.reshape(shape)
                continue
            if entry["array"] not in arrays:
                raise errors.DataLossError(None, None, f"Checkpoint {self._prefix}: the data "
                                                       f"file has no array for {name}")
            array = arrays[entry["array"]]
            dtype = dtypes.as_dtype(entry["dtype"])
            if entry["dtype"] in _STORED_AS:
                array = array.view(dtype.as_numpy_dtype)
            result[name] = array.reshape(shape)
        return result

    def keys(self):
        return sorted(self._tensors)


# --- deferred restoration (restore-on-create) ----------------------------------------------

_pending = {}  # id(owner) -> (weakref to owner, {child name: (array, status, path)})


def _forget(owner_id, pending=_pending):
    return lambda _ref: pending.pop(owner_id, None)  # `pending` bound: safe at exit


def _defer(owner, name, array, status, path):
    entry = _pending.get(id(owner))
    if entry is None or entry[0]() is not owner:
        try:
            ref = weakref.ref(owner, _forget(id(owner)))
        except TypeError:
            return
        entry = (ref, {})
        _pending[id(owner)] = entry
    entry[1][name] = (array, status, path)


def _restore_on_create(owner, variable, name=None):
    """Called by Keras layers and optimizers right after they create `variable`: assigns the
    value a checkpoint restored earlier saved for it, if any. `name` is the variable's child
    name under `owner` (found from the owner when not given)."""
    entry = _pending.get(id(owner))
    if entry is None or entry[0]() is not owner:
        return False
    if name is None:
        name = next((n for n, child in _children(owner) if child is variable), None)
    found = entry[1].pop(name, None)
    if found is None:
        return False
    array, status, path = found
    with context.init_scope():
        _assign(variable, array, path)
    status._matched(path, variable)
    return True


# --- restoring ------------------------------------------------------------------------------


def _assign(variable, array, path):
    if not variable.shape.is_compatible_with(np.shape(array)):
        raise ValueError(f"Received incompatible tensor with shape {np.shape(array)} when "
                         f"attempting to restore variable with shape {variable.shape} and "
                         f"name {path}.")
    if variable.dtype is dtypes.bfloat16 or array.dtype == variable.dtype.as_numpy_dtype:
        variable.assign(array)
        return
    raise errors.InvalidArgumentError(
        f"Checkpoint value {path} has dtype {dtypes.from_numpy(array.dtype).name}, but the "
        f"variable {variable.name} has dtype {variable.dtype.name}")


def _restore_graph(root, reader, status):
    graph = _ObjectGraph(root)
    saved = {key[:-len(VALUE_SUFFIX)]: key for key in reader.keys()  # noqa: SIM118
             if key.endswith(VALUE_SUFFIX)}
    targets = {}
    for node_path, name, child in graph.edges:
        path = f"{node_path}/{name}" if node_path else name
        if _is_variable(child) and path in saved:
            targets.setdefault(path, []).append(child)
    values = reader.values([saved[p] for p in saved])
    for path, key in saved.items():
        if path in targets:
            for variable in targets[path]:
                _assign(variable, values[key], path)
                status._matched(path, variable)
            continue
        owner_path, rest = graph.owner_of(path)
        _defer(graph.nodes[owner_path], rest, values[key], status, path)
    status._saved_paths = set(saved)


class CheckpointLoadStatus:
    """What `Checkpoint.restore` returns: checks how the checkpoint matched the objects.

    Checks are live: values waiting for variables that are created later count as matched
    once those variables exist.
    """

    def __init__(self, checkpoint, save_path):
        self._checkpoint = checkpoint
        self._save_path = save_path
        self._saved_paths = set()
        self._matched_paths = set()
        self._restored_ids = set()
        self._expect_partial = False

    def _matched(self, path, variable):
        self._matched_paths.add(path)
        self._restored_ids.add(id(variable))

    def _unmatched_objects(self):
        graph = _ObjectGraph(self._checkpoint)
        return [v for p, v in graph.variables.items() if id(v) not in self._restored_ids
                and not (p == "save_counter" and p not in self._saved_paths)]

    def _unresolved(self):
        return sorted(self._saved_paths - self._matched_paths)

    def assert_consumed(self):
        """Raises AssertionError unless every saved value and every object was matched."""
        self.assert_existing_objects_matched()
        unresolved = self._unresolved()
        if unresolved:
            raise AssertionError(f"Unresolved object in checkpoint {self._save_path}: "
                                 f"{len(unresolved)} saved value(s) were not restored into any "
                                 f"object: {unresolved[:10]}")
        return self

    def assert_existing_objects_matched(self):
        """Raises AssertionError if a variable of the current objects had no saved value."""
        unmatched = self._unmatched_objects()
        if unmatched:
            raise AssertionError(
                f"Found {len(unmatched)} Python objects that were not bound to checkpointed "
                f"values, likely due to changes in the Python program. Showing "
                f"{min(len(unmatched), 10)} of {len(unmatched)} unmatched objects: "
                f"{unmatched[:10]}")
        return self

    def assert_nontrivial_match(self):
        """Raises AssertionError unless something besides the save counter was restored."""
        if not self._matched_paths - {"save_counter"}:
            raise AssertionError(f"Nothing except the root object matched a checkpointed value "
                                 f"in {self._save_path}. Typically this means that the "
                                 f"checkpoint does not match the Python program.")
        return self

    def expect_partial(self):
        """Silences the warning about unused saved values when this status is deleted."""
        self._expect_partial = True
        return self

    def run_restore_ops(self, session=None):
        """Restoring runs eagerly; nothing is left to run."""

    def initialize_or_restore(self, session=None):
        """Restoring runs eagerly; nothing is left to run."""

    def __del__(self):
        try:
            unresolved = self._unresolved()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            return
        if unresolved and not self._expect_partial:
            _logger.warning("Checkpoint %s: %d saved value(s) were never restored (e.g. %s). "
                            "Call expect_partial() on the restore status to silence this.",
                            self._save_path, len(unresolved), unresolved[0])


class InitializationOnlyStatus:
    """What `restore(None)` returns: nothing is restored."""

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    assert_existing_objects_matched = assert_consumed
    assert_nontrivial_match = assert_consumed

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        """Nothing to run."""

    def initialize_or_restore(self, session=None):
        """Nothing to run."""


# --- Checkpoint -----------------------------------------------------------------------------


class CheckpointOptions:
    """Options for saving and restoring (`tf.train.CheckpointOptions`); accepted for
    compatibility: ndflow checkpoints are written by the calling process, synchronously."""

    def __init__(self, experimental_io_device=None, experimental_enable_async_checkpoint=False,
                 experimental_write_callbacks=None, enable_async=False,
                 experimental_skip_slot_variables=False, experimental_sharding_callback=None):
        self.experimental_io_device = experimental_io_device
        self.experimental_enable_async_checkpoint = experimental_enable_async_checkpoint
        self.experimental_write_callbacks = experimental_write_callbacks
        self.enable_async = enable_async
        self.experimental_skip_slot_variables = experimental_skip_slot_variables
        self.experimental_sharding_callback = experimental_sharding_callback


def _check_trackable(name, value):
    if not _is_trackable(value) and not _expand(name, value):
        raise ValueError(
            f"`Checkpoint` was expecting {name} to be a trackable object (an object derived "
            f"from `Trackable`), got {value!r}. A Python number must be held in a tf.Variable "
            f"to be checkpointed.")


class Checkpoint:
    """Saves and restores the variables of objects (`tf.train.Checkpoint`).

    Args:
      root: optional object whose children become the checkpoint's top-level children.
      **kwargs: the objects to save, by name: variables, `tf.Module`s, Keras models, layers
        and optimizers, other Checkpoints, lists and dicts of these.

    >>> ckpt = Checkpoint(step=Variable(1))
    """

    def __init__(self, root=None, **kwargs):
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_objects", {})
        object.__setattr__(self, "_save_counter", None)
        if root is not None:
            _check_trackable("root", root)
        for name, value in kwargs.items():
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        _check_trackable(name, value)
        self._objects[name] = value

    def __getattr__(self, name):
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute '{name}'")

    def _checkpoint_children(self):
        pairs = _children(self._root) if self._root is not None else []
        for name in sorted(self._objects):
            pairs.extend(_expand(name, self._objects[name]))
        if self._save_counter is not None:
            pairs.append(("save_counter", self._save_counter))
        return pairs

    @property
    def save_counter(self):
        """An int64 variable counting `save` calls (created on first use)."""
        if self._save_counter is None:
            with context.init_scope():
                self._save_counter = Variable(0, dtype=dtypes.int64, trainable=False,
                                              name="save_counter")
        return self._save_counter

    def write(self, file_prefix, options=None):
        """Writes a checkpoint at exactly `file_prefix` (no counter, no state file); returns
        the prefix."""
        graph = _ObjectGraph(self)
        values = {f"{path}{VALUE_SUFFIX}": (variable.numpy(), variable.dtype)
                  for path, variable in graph.variables.items()}
        object_graph = {"nodes": {path or ".": type(obj).__name__
                                  for path, obj in graph.nodes.items()}}
        return write_bundle(os.fspath(file_prefix), values, object_graph)

    def save(self, file_prefix, options=None):
        """Writes `file_prefix-N` (N = the incremented `save_counter`) and records it as the
        latest checkpoint of its directory; returns the path."""
        from ndflow.train import checkpoint_management

        counter = self.save_counter
        counter.assign_add(1)
        path = self.write(f"{os.fspath(file_prefix)}-{int(counter.numpy())}", options)
        checkpoint_management.update_checkpoint_state(
            os.path.dirname(path) or ".", path, [path])
        return path

    def read(self, save_path, options=None):
        """Restores from `save_path` without creating `save_counter`; returns a status."""
        if save_path is None:
            return InitializationOnlyStatus()
        save_path = os.fspath(save_path)
        if os.path.isdir(save_path):
            from ndflow.train import checkpoint_management

            save_path = checkpoint_management.latest_checkpoint(save_path) or save_path
        reader = CheckpointReader(save_path)
        status = CheckpointLoadStatus(self, save_path)
        _restore_graph(self, reader, status)
        return status

    def restore(self, save_path, options=None):
        """Restores the saved values into the objects (now, or when created later); returns a
        status with `assert_consumed()`, `assert_existing_objects_matched()`,
        `expect_partial()`. `save_path` None restores nothing; a directory means its latest
        checkpoint."""
        if save_path is not None:
            self.save_counter  # noqa: B018 - created first, so it is restored too (as TF)
        return self.read(save_path, options)

    def sync(self):
        """Waits for pending saves: ndflow saves synchronously."""


# --- reading helpers ------------------------------------------------------------------------


def _prefix_of(ckpt_dir_or_file):
    from ndflow.train import checkpoint_management

    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = checkpoint_management.latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


def load_checkpoint(ckpt_dir_or_file):
    """A CheckpointReader for a checkpoint prefix or a directory's latest checkpoint."""
    return CheckpointReader(_prefix_of(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file):
    """[(key, shape)] of the values in a checkpoint, sorted by key."""
    reader = load_checkpoint(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    return [(key, list(shapes[key])) for key in sorted(shapes)]


def load_variable(ckpt_dir_or_file, name):
    """The saved value of key `name` (a `:0` suffix is ignored) as a NumPy array."""
    name = name.removesuffix(":0")
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)
