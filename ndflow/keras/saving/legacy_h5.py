"""The Keras 2 HDF5 formats: a full model (`model.save("m.h5")`) and weights only
(`model.save_weights("w.h5")`).

Full model: root attributes `keras_version`, `backend`, `model_config` (JSON) and
`training_config` (JSON, when compiled); weights under `model_weights/`. Weights: attributes
`layer_names`, `backend`, `keras_version` on the weights group, then one group per layer with a
`weight_names` attribute and one dataset per name (`dense/kernel:0`), in the legacy order
`trainable_weights + non_trainable_weights`. Loading is by layer order (only layers with
weights count) or `by_name`; all arrays are read and checked before any is assigned.
"""

import json
import warnings

import numpy as np

from ndflow.keras.saving import serialization, weights_h5

_HEADER_LIMIT = 64512  # HDF5 object header size: longer attribute lists are split in chunks


def _legacy_weights(layer):
    return layer.trainable_weights + layer.non_trainable_weights


def _model_layers(model):
    from ndflow.keras.engine.input_layer import InputLayer

    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


def _save_names(group, name, values):
    if not values:
        group.attrs[name] = np.zeros((0,), dtype="S1")
        return
    data = np.asarray([v.encode("utf8") for v in values])
    chunks = 1
    parts = np.array_split(data, chunks)
    while any(part.nbytes > _HEADER_LIMIT for part in parts):
        chunks += 1
        parts = np.array_split(data, chunks)
    if chunks == 1:
        group.attrs[name] = data
    else:
        for index, part in enumerate(parts):
            group.attrs[f"{name}{index}"] = part


def _load_names(group, name):
    if name in group.attrs:
        raw = list(group.attrs[name])
    else:
        raw, index = [], 0
        while f"{name}{index}" in group.attrs:
            raw.extend(group.attrs[f"{name}{index}"])
            index += 1
    return [n.decode("utf8") if hasattr(n, "decode") else str(n) for n in raw]


def _weight_name(layer, variable, used):
    base = getattr(variable, "_layer_path", None) or f"{layer.name}/{variable.name}"
    name = base.split(":")[0] + ":0"
    while name in used:
        name = name[:-2] + "_1:0"
    used.add(name)
    return name


def save_weights_to_group(group, model):
    """Writes the Keras 2 weights layout of `model` into an h5py group."""
    from ndflow import keras

    layers = _model_layers(model)
    _save_names(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = keras.__version__.encode("utf8")
    for layer in sorted(layers, key=lambda item: item.name):
        layer_group = group.create_group(layer.name)
        used = set()
        names = [_weight_name(layer, v, used) for v in _legacy_weights(layer)]
        _save_names(layer_group, "weight_names", names)
        for name, variable in zip(names, _legacy_weights(layer)):
            value = variable.numpy()
            layer_group.create_dataset(name, data=value)


def save_model_to_file(model, h5file, include_optimizer=True):
    """Writes a Keras 2 full-model HDF5 file (config, training config, weights)."""
    from ndflow import keras

    h5file.attrs["keras_version"] = keras.__version__.encode("utf8")
    h5file.attrs["backend"] = b"tensorflow"
    config = {"class_name": type(model).__name__, "config": model.get_config()}
    h5file.attrs["model_config"] = json.dumps(
        serialization.serialize_keras_object(config)).encode("utf8")
    compile_config = serialization.get_compile_config(model)
    if include_optimizer and compile_config:
        training = serialization.serialize_keras_object(compile_config)
        training["optimizer_config"] = training.pop("optimizer")
        h5file.attrs["training_config"] = json.dumps(training).encode("utf8")
    save_weights_to_group(h5file.create_group("model_weights"), model)


def load_model_from_file(h5file, custom_objects=None, compile=True, safe_mode=True):
    """A model rebuilt from a Keras 2 full-model HDF5 file (compiled when it says so)."""
    raw = h5file.attrs.get("model_config")
    if raw is None:
        raise ValueError("No model config found in the file: it holds weights only. Build "
                         "the model and use `model.load_weights(filepath)`.")
    config = json.loads(raw.decode("utf8") if hasattr(raw, "decode") else raw)
    with serialization.ObjectSharingScope():
        model = _model_from_config(config, custom_objects, safe_mode)
    if "model_weights" not in h5file:
        raise ValueError("Invalid legacy HDF5 model file: no `model_weights` group.")
    load_weights_from_group(weights_h5._child(h5file, "model_weights", _group_type()), model)
    training = h5file.attrs.get("training_config")
    if compile and training is not None:
        training = json.loads(training.decode("utf8") if hasattr(training, "decode")
                              else training)
        _compile_from_training_config(model, training, custom_objects)
    return model


def _group_type():
    import h5py

    return h5py.Group


def _model_from_config(config, custom_objects, safe_mode):
    entry = dict(config)
    class_name = entry.get("class_name")
    if class_name == "Model":
        entry["class_name"] = "Functional"
    entry.setdefault("module", "keras")
    return serialization.deserialize_keras_object(entry, custom_objects, safe_mode=safe_mode)


def _compile_from_training_config(model, training, custom_objects):
    optimizer = training.get("optimizer_config")
    if isinstance(optimizer, dict):
        optimizer = dict(optimizer)
        optimizer.setdefault("module", "keras.optimizers")
        optimizer = serialization.deserialize_keras_object(optimizer, custom_objects)
    loss = serialization.deserialize_keras_object(training.get("loss"), custom_objects)
    metrics = serialization.deserialize_keras_object(training.get("metrics"), custom_objects)
    weighted = serialization.deserialize_keras_object(training.get("weighted_metrics"),
                                                      custom_objects)
    model.compile(optimizer=optimizer or "rmsprop", loss=loss, metrics=metrics,
                  weighted_metrics=weighted, loss_weights=training.get("loss_weights"))


def _read_layer(group, name):
    layer_group = weights_h5._child(group, name, _group_type())
    names = _load_names(layer_group, "weight_names")
    return [weights_h5.read_array(layer_group, weight_name) for weight_name in names]


def load_weights_from_group(group, model, by_name=False, skip_mismatch=False):
    """Loads Keras 2 weights (by layer order, or `by_name`) into `model`, all-or-nothing."""
    if by_name:
        assignments = _plan_by_name(group, model, skip_mismatch)
    else:
        assignments = _plan_by_order(group, model, skip_mismatch)
    weights_h5.apply_load(assignments, [])


def _plan_by_order(group, model, skip_mismatch):
    layers = [layer for layer in _model_layers(model) if _legacy_weights(layer)]
    saved = [(name, _read_layer(group, name)) for name in _load_names(group, "layer_names")]
    saved = [(name, values) for name, values in saved if values]
    if len(saved) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file. Model expected "
                         f"{len(layers)} layers, found {len(saved)} saved layers.")
    assignments = []
    for index, (layer, (name, values)) in enumerate(zip(layers, saved)):
        label = f"layer #{index} (named {layer.name} in the current model, {name} in the file)"
        variables = _legacy_weights(layer)
        if len(values) != len(variables):
            raise ValueError(f"Weight count mismatch for {label}: the layer expects "
                             f"{len(variables)} weight(s), the file has {len(values)}.")
        assignments.extend(_pairs(variables, values, label, skip_mismatch))
    return assignments


def _plan_by_name(group, model, skip_mismatch):
    layers = {}
    for layer in _model_layers(model):
        layers.setdefault(layer.name, []).append(layer)
    assignments = []
    for index, name in enumerate(_load_names(group, "layer_names")):
        values = _read_layer(group, name)
        for layer in layers.get(name, []):
            variables = _legacy_weights(layer)
            label = f"layer #{index} (named {layer.name})"
            if len(values) != len(variables):
                message = (f"Weight count mismatch for {label}: the layer expects "
                           f"{len(variables)} weight(s), the file has {len(values)}.")
                if not skip_mismatch:
                    raise ValueError(message)
                warnings.warn(f"Skipping loading of weights: {message}", stacklevel=3)
                continue
            assignments.extend(_pairs(variables, values, label, skip_mismatch))
    return assignments


def _pairs(variables, values, label, skip_mismatch):
    pairs = []
    for variable, value in zip(variables, values):
        expected = tuple(variable.shape.as_list())
        if tuple(value.shape) != expected:
            message = (f"Shape mismatch in {label} for weight {variable.name}: the weight "
                       f"expects shape {expected}, the file has shape {tuple(value.shape)}")
            if not skip_mismatch:
                raise ValueError(message)
            warnings.warn(f"Skipping loading weights: {message}", stacklevel=4)
            continue
        pairs.append((variable, value))
    return pairs
