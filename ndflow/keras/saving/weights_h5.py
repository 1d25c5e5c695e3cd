"""Keras 3 weights files: `.weights.h5`, and `model.weights.h5` inside a `.keras` zip.

Layout (Keras 3.15's `saving_lib`): each saveable object (layer, optimizer) found by walking
the model as Keras does gets a group `<path>/vars` with a `name` attribute and one dataset per
own variable, `0`, `1`, ... (trainable variables first, then the others, each in creation
order). Paths are attribute names (`optimizer`, `cell`, `forward_layer` ...), and list members
are named by their snake-cased class (`layers/dense`, `layers/dense_1` ...).

Loading reads and checks every array before assigning any, so a failed load leaves the model's
weights unchanged. Links, external or virtual datasets and size bombs are refused.
"""

import math
import re
import warnings

import h5py
import ml_dtypes
import numpy as np

_DATASET_BOMB_FLOOR_BYTES = 1 << 32  # refuse > 4 GiB datasets stored 1000x smaller (Keras)
_DATASET_MAX_EXPANSION = 1000


def to_snake_case(name):
    """Keras' snake case of a class name (`GlobalAveragePooling1D` -> `global_average_...`)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# --- walking a model as Keras does ------------------------------------------------------------

_probe_attributes = {}


def _internal_attributes(kind):
    """Instance attributes of a bare ndflow Layer/Model: engine state Keras does not walk."""
    if kind not in _probe_attributes:
        from ndflow.keras.engine.base_layer import Layer
        from ndflow.keras.engine.training import Model

        probe = (Layer if kind == "layer" else Model)(name="ndflow_saving_probe")
        names = set(vars(probe)) | set(dir(Layer))
        names.update(("_nodes", "_inputs", "_outputs", "_input_structure", "_output_structure",
                      "_self_layers", "_stack", "_input_tensor", "_graph_built", "_build_dtype",
                      "_weight_regularizers", "_build_input_shape", "_build_shapes_dict"))
        names.discard("optimizer")
        _probe_attributes[kind] = names
    return _probe_attributes[kind]


def _is_layer(obj):
    from ndflow.keras.engine.base_layer import Layer

    return isinstance(obj, Layer)


def _is_optimizer(obj):
    from ndflow.keras.optimizers.base import Optimizer

    return isinstance(obj, Optimizer)


def _is_saveable(obj):
    return _is_layer(obj) or _is_optimizer(obj)


def _name_key(name):
    return f"~{name}" if name.startswith("_") else name


def _children(obj):
    """(attribute, value) pairs Keras' `_walk_saveable` visits, in its order."""
    from ndflow.keras.engine.functional import Functional
    from ndflow.keras.engine.sequential import Sequential
    from ndflow.keras.engine.training import Model

    if _is_optimizer(obj):
        return sorted(((name, value) for name, value in vars(obj).items()
                       if _is_optimizer(value)), key=lambda item: _name_key(item[0]))
    children = []
    if isinstance(obj, Sequential):
        children.append(("layers", obj.layers))
    elif isinstance(obj, Functional):
        from ndflow.keras.saving import functional_config

        children.append(("layers", functional_config.keras_layer_order(obj)))
    skip = _internal_attributes("model" if isinstance(obj, Model) else "layer")
    names = {name for name in vars(obj) if name not in skip and not name.startswith("__")}
    if isinstance(obj, Model):
        names.add("optimizer")
        if not isinstance(obj, Functional):
            names.add("layers")  # Keras' Model.layers property, walked in name order
    for name in sorted(names, key=_name_key):
        value = obj.layers if name == "layers" else getattr(obj, name, None)
        children.append((name, value))
    return children


def saveables(model):
    """[(path, object)] for every layer and optimizer whose state Keras saves, in its order."""
    found = []
    _walk(model, "", set(), found)
    return found


def _walk(obj, path, visited, found):
    if id(obj) in visited:
        return
    found.append((path, obj))
    visited.add(id(obj))
    for attribute, child in _children(obj):
        child_path = f"{path}/{attribute}" if path else attribute
        if _is_saveable(child):
            _walk(child, child_path, visited, found)
        elif isinstance(child, (list, tuple, dict)):
            _walk_container(child, child_path, visited, found, set())


def _walk_container(container, path, visited, found, seen):
    if id(container) in seen:
        return
    seen.add(id(container))
    used = {}
    items = list(container.values()) if isinstance(container, dict) else container
    for item in items:
        if _is_saveable(item):
            name = _unique(to_snake_case(type(item).__name__), used)
            _walk(item, f"{path}/{name}", visited, found)
        elif isinstance(item, (list, tuple, dict)):
            name = _unique("container", used)
            _walk_container(item, f"{path}/{name}", visited, found, seen)


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def own_variables(obj):
    """The variables an object saves itself: Keras' `_trainable_variables +
    _non_trainable_variables` for a layer, `variables` for an optimizer."""
    if _is_optimizer(obj):
        return list(obj.variables)
    own = obj._own_weights
    return [w for w in own if w.trainable] + [w for w in own if not w.trainable]


def _custom_hook(obj, method):
    """A user class's own `save_own_variables` / `load_own_variables`, if it defines one."""
    for klass in type(obj).__mro__:
        if klass.__module__.startswith("ndflow.") or klass is object:
            return None
        if method in vars(klass):
            return getattr(obj, method)
    return None


# --- writing -----------------------------------------------------------------------------------


def write_weights(model, h5file):
    """Writes the Keras 3 weights layout of `model` into an open, empty h5py File."""
    for path, obj in saveables(model):
        group = h5file.create_group(f"{path}/vars" if path else "vars")
        name = getattr(obj, "name", None)
        if isinstance(name, str):
            group.attrs["name"] = name
        hook = _custom_hook(obj, "save_own_variables")
        if hook is not None:
            store = {}
            hook(store)
            items = store.items()
        else:
            items = ((str(i), v.numpy()) for i, v in enumerate(own_variables(obj)))
        for key, value in items:
            _write_array(group, key, np.asarray(value))


def _write_array(group, key, value):
    if value.dtype == ml_dtypes.bfloat16:
        dataset = group.create_dataset(key, data=value.astype(np.float32))
        dataset.attrs["dtype"] = "bfloat16"
    else:
        group.create_dataset(key, data=value)


# --- reading -----------------------------------------------------------------------------------


def _child(parent, name, kind):
    """`parent[name]` refusing links, checking the object is a Group/Dataset."""
    link = parent.get(name, getlink=True)
    if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
        message = f"Not allowed: H5 file with {type(link).__name__} at '{name}'"
        raise ValueError(message)  # noqa: TRY004 - a malformed file, as Keras reports it
    obj = parent[name]
    if not isinstance(obj, kind):
        message = (f"Invalid H5 file: expected a {kind.__name__} at '{name}', got "
                   f"{type(obj).__name__}")
        raise ValueError(message)  # noqa: TRY004 - a malformed file, as Keras reports it
    return obj


def vars_group(h5file, path):
    """The `vars` group of `path`, or None when the file has none."""
    candidates = [path]
    if path.startswith("layers") and "_layer_checkpoint_dependencies" in h5file:
        candidates.append(path.replace("layers", "_layer_checkpoint_dependencies", 1))
    for candidate in candidates:
        group = h5file
        parts = [p for p in candidate.split("/") if p] + ["vars"]
        for part in parts:
            if not isinstance(group, h5py.Group) or part not in group:
                group = None
                break
            group = _child(group, part, h5py.Group)
        if group is not None:
            return group
    return None


def read_array(group, key):
    """One dataset as a NumPy array, refusing external/virtual datasets and size bombs."""
    dataset = _child(group, key, h5py.Dataset)
    if dataset.external:
        raise ValueError(f"Not allowed: H5 file with external dataset '{key}'")
    if dataset.is_virtual:
        raise ValueError(f"Not allowed: H5 file with virtual dataset '{key}'")
    declared = math.prod(dataset.shape or ()) * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > _DATASET_BOMB_FLOOR_BYTES and declared > _DATASET_MAX_EXPANSION * stored:
        raise ValueError(f"Not allowed: H5 dataset '{key}' declares {declared} bytes but only "
                         f"{stored} are stored; refusing a potential decompression bomb.")
    if dataset.attrs.get("dtype") == "bfloat16":
        return np.array(dataset, dtype=ml_dtypes.bfloat16)
    return np.array(dataset)


def plan_load(model, h5file, skip_mismatch=False):
    """Reads and checks every array for `model` from a Keras 3 weights file.

    Returns:
      (assignments, hooks): [(variable, array)] and [(load_own_variables, {key: array})].

    Raises:
      ValueError: listing every object whose variables do not match (unless skip_mismatch).
    """
    assignments, hooks, errors = [], [], []
    for path, obj in saveables(model):
        group = vars_group(h5file, path)
        arrays = {key: read_array(group, key) for key in group} if group is not None else {}
        hook = _custom_hook(obj, "load_own_variables")
        if hook is not None:
            hooks.append((hook, arrays))
            continue
        problem = _match(obj, arrays, assignments)
        if problem is None:
            continue
        label = f"{type(obj).__name__} '{getattr(obj, 'name', path)}' (path '{path or '/'}')"
        if _is_optimizer(obj):
            warnings.warn(f"Skipping variable loading for optimizer {label}: {problem}",
                          stacklevel=3)
        elif skip_mismatch:
            warnings.warn(f"Skipping loading weights for {label}: {problem}", stacklevel=3)
        else:
            errors.append(f"{label}: {problem}")
    if errors:
        raise ValueError(f"A total of {len(errors)} objects could not be loaded; the model's "
                         f"weights were left unchanged:\n" + "\n".join(errors))
    return assignments, hooks


def _match(obj, arrays, assignments):
    """Appends (variable, array) pairs for `obj`; returns a problem description or None."""
    variables = own_variables(obj)
    if len(arrays) != len(variables):
        return (f"it has {len(variables)} variables, but the file holds {len(arrays)} for it "
                f"({sorted(arrays)})")
    pairs = []
    for index, variable in enumerate(variables):
        if str(index) not in arrays:
            return f"the file has no variable '{index}' (it holds {sorted(arrays)})"
        array = arrays[str(index)]
        expected = tuple(variable.shape.as_list())
        if tuple(array.shape) != expected:
            return (f"variable {index} ('{variable.name}') expects shape {expected}, got shape "
                    f"{tuple(array.shape)} in the file")
        pairs.append((variable, array))
    assignments.extend(pairs)
    return None


def apply_load(assignments, hooks):
    """Assigns checked arrays; if anything fails, restores every value it changed."""
    snapshot = [(variable, variable.numpy()) for variable, _ in assignments]
    try:
        for variable, array in assignments:
            variable.assign(array.astype(variable.dtype.as_numpy_dtype, copy=False))
        for hook, arrays in hooks:
            hook(arrays)
    except Exception:
        for variable, value in snapshot:
            variable.assign(value)
        raise


def load_weights(model, h5file, skip_mismatch=False):
    """Loads a Keras 3 weights file into `model` (all-or-nothing)."""
    assignments, hooks = plan_load(model, h5file, skip_mismatch)
    apply_load(assignments, hooks)
