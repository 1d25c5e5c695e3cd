"""`keras.saving` / `keras.models` entry points: save and load models and weights, JSON
configs, and `clone_model`. The file extension picks the format, as in Keras:

- `.keras`: Keras 3 zip (config, metadata, weights), `zipped=False` for a directory;
- `.weights.h5`: Keras 3 weights layout;
- `.h5` / `.hdf5`: Keras 2 HDF5 (full model from `save`, weights from `save_weights`);
- no extension in `save_model`: the SavedModel-style directory of `ndflow.saved_model`.
"""

import json
import os

import h5py

from ndflow.keras.saving import keras_format, legacy_h5, serialization, weights_h5

_LEGACY_EXTENSIONS = (".h5", ".hdf5")


def _path(filepath):
    return os.fspath(filepath) if isinstance(filepath, (str, os.PathLike)) else filepath


def _check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"'{filepath}' already exists and `overwrite=False`: pass "
                              f"`overwrite=True` to replace it.")


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True,
               save_format=None, **kwargs):
    """Saves a model (`keras.saving.save_model`, `Model.save`).

    Args:
      model: the Keras model.
      filepath: `.keras` (Keras 3 zip), `.h5`/`.hdf5` (Keras 2 HDF5), or a path without
        extension (SavedModel-style directory, as Keras 2's `model.save(dir)`).
      overwrite: replace an existing file (otherwise `FileExistsError`).
      zipped: `False` writes the `.keras` contents as a directory.
      include_optimizer: for `.h5`, whether to store the training configuration.
      save_format: `"keras"`, `"h5"` or `"tf"` (Keras 2 argument), overriding the extension.

    Raises:
      ValueError: unsupported extension/argument combinations.
    """
    filepath = _path(filepath)
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword arguments {sorted(kwargs)}")
    _check_overwrite(filepath, overwrite)
    if save_format == "h5" or (save_format is None and filepath.endswith(_LEGACY_EXTENSIONS)):
        keras_format.atomic_write(filepath, lambda handle: _write_legacy_model(
            handle, model, include_optimizer))
        return
    if filepath.endswith(".keras"):
        if zipped is False:
            raise ValueError(f"When using `zipped=False`, the `filepath` argument should not "
                             f"end in `.keras`. Received: filepath={filepath}")
        keras_format.save(model, filepath, zipped=True)
        return
    if zipped is False:
        keras_format.save(model, filepath, zipped=False)
        return
    if save_format in (None, "tf") and not os.path.splitext(filepath)[1]:
        from ndflow import saved_model

        saved_model.save(model, filepath)
        return
    raise ValueError(f"Invalid filepath extension for saving. Please add either a `.keras` "
                     f"extension for the native Keras format (recommended) or a `.h5` "
                     f"extension. Received: filepath={filepath}")


def _write_legacy_model(handle, model, include_optimizer):
    with h5py.File(handle, "w") as h5file:
        legacy_h5.save_model_to_file(model, h5file, include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `save_model` (or by Keras 3 / Keras 2).

    Args:
      filepath: a `.keras` file, a `.h5` file, or a directory (`zipped=False` `.keras`
        contents, or a SavedModel-style directory).
      custom_objects: dict of name -> class/function for custom objects.
      compile: whether to compile the model with its saved training configuration.
      safe_mode: refuse Python lambdas stored in the file (default).

    Returns:
      A new model; nothing is returned (or half-built) if any part fails to load.

    Raises:
      ValueError: the file is missing, truncated, corrupt or inconsistent.
      TypeError: the config names a class/function that is neither built-in nor registered.
    """
    filepath = _path(filepath)
    if isinstance(filepath, str) and not os.path.exists(filepath):
        raise ValueError(f"File not found: filepath={filepath}. Please ensure the file is an "
                         f"accessible `.keras` zip file.")
    if isinstance(filepath, str) and os.path.isdir(filepath):
        if os.path.isfile(os.path.join(filepath, keras_format.CONFIG_FILENAME)):
            return keras_format.load(filepath, custom_objects, compile, safe_mode)
        from ndflow import saved_model

        return saved_model.load(filepath)
    if _is_hdf5(filepath):
        with _open_h5(filepath) as h5file:
            return legacy_h5.load_model_from_file(h5file, custom_objects, compile, safe_mode)
    return keras_format.load(filepath, custom_objects, compile, safe_mode)


def _is_hdf5(filepath):
    if isinstance(filepath, str):
        return h5py.is_hdf5(filepath)
    return False


def _open_h5(filepath):
    try:
        return h5py.File(filepath, "r")
    except OSError as error:
        raise ValueError(f"Cannot read '{filepath}' as an HDF5 file: it is truncated or "
                         f"corrupt ({error}).") from error


def save_weights(model, filepath, overwrite=True, **kwargs):
    """Saves the model's weights: `.weights.h5` (Keras 3 layout) or `.h5` (Keras 2)."""
    filepath = _path(filepath)
    kwargs.pop("save_format", None)
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"save_weights() got unexpected keyword arguments {sorted(kwargs)}")
    if not model.built:
        raise ValueError("You are saving a model that has not yet been built. Try building "
                         "the model first by calling it on some data or by using `build()`.")
    _check_overwrite(filepath, overwrite)
    if filepath.endswith(".weights.h5"):
        writer = weights_h5.write_weights
    elif filepath.endswith(_LEGACY_EXTENSIONS):
        writer = legacy_h5.save_weights_to_group
    else:
        raise ValueError(f"The filename must end in `.weights.h5` (or `.h5` for the Keras 2 "
                         f"format). Received: filepath={filepath}")

    def write(handle):
        with h5py.File(handle, "w") as h5file:
            if writer is weights_h5.write_weights:
                writer(model, h5file)
            else:
                writer(h5file, model)

    keras_format.atomic_write(filepath, write)


def load_weights(model, filepath, skip_mismatch=False, by_name=False, **kwargs):
    """Loads weights into `model` from `.weights.h5`, `.keras` or Keras 2 `.h5` files.

    The model is unchanged when the file cannot be read or does not match (unless
    `skip_mismatch`, which skips the mismatching layers with a warning).
    """
    filepath = _path(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: '{filepath}'")
    if str(filepath).endswith(".keras"):
        if by_name:
            raise ValueError("Invalid keyword arguments: `by_name` is only supported for "
                             "legacy '.h5' weights files.")
        members = keras_format._read_zip(filepath)
        import io

        with h5py.File(io.BytesIO(members[keras_format.WEIGHTS_FILENAME]), "r") as h5file:
            weights_h5.load_weights(model, h5file, skip_mismatch)
        return
    with _open_h5(filepath) as h5file:
        if _is_keras3_layout(h5file):
            if by_name:
                raise ValueError("Invalid keyword arguments: `by_name` is only supported for "
                                 "legacy '.h5' weights files, not the Keras 3 '.weights.h5' "
                                 "layout.")
            weights_h5.load_weights(model, h5file, skip_mismatch)
            return
        group = h5file
        if "layer_names" not in h5file.attrs and "model_weights" in h5file:
            group = weights_h5._child(h5file, "model_weights", h5py.Group)
        if "layer_names" not in group.attrs:
            raise ValueError(f"'{filepath}' is not a Keras weights file: it has neither the "
                             f"Keras 3 layout (`vars`, `layers/...`) nor Keras 2's "
                             f"`layer_names`.")
        legacy_h5.load_weights_from_group(group, model, by_name=by_name,
                                          skip_mismatch=skip_mismatch)


def _is_keras3_layout(h5file):
    if "layer_names" in h5file.attrs or "model_weights" in h5file:
        return False
    return any(key in h5file for key in ("vars", "layers", "_layer_checkpoint_dependencies",
                                         "optimizer")) or len(h5file) == 0


def to_json(model, **kwargs):
    """The model's Keras 3 config as a JSON string (`Model.to_json`)."""
    with serialization.ObjectSharingScope():
        config = serialization.serialize_keras_object(model)
    return json.dumps(config, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new (untrained) model from `to_json()` output (`keras.models.model_from_json`)."""
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as error:
        raise ValueError(f"model_from_json: invalid JSON ({error})") from error
    return model_from_config(config, custom_objects)


def model_from_config(config, custom_objects=None):
    """A new model (or layer) from its serialized config (`keras.models.model_from_config`)."""
    if isinstance(config, list):
        raise TypeError(f"`model_from_config` expects a dictionary, not a list. Received: "
                        f"config={config}. Did you meant to use `Sequential.from_config(config)`?")
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"model_from_config: expected a dict with 'class_name' and 'config', "
                         f"got {config!r}")
    entry = dict(config)
    if "module" not in entry:
        entry["module"] = "keras"
        if entry["class_name"] == "Model":
            entry["class_name"] = "Functional"
    with serialization.ObjectSharingScope():
        return serialization.deserialize_keras_object(entry, custom_objects)
