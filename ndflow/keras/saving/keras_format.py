"""The Keras 3 `.keras` format: a zip of `metadata.json`, `config.json` and
`model.weights.h5` (or, with `zipped=False`, a directory holding the same three files).

Writes are atomic: everything goes to a temporary file (or directory) beside the target,
which then replaces it with `os.replace`, so a crash during a save never leaves a partial
file. Loads build a new model and return it only once every weight has loaded.
"""

import datetime
import io
import json
import os
import shutil
import tempfile
import zipfile

import h5py

from ndflow.keras.saving import serialization, weights_h5

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
_MEMBER_BOMB_FLOOR_BYTES = 1 << 28  # refuse > 256 MiB members that expand > 100x (Keras)
_MEMBER_MAX_EXPANSION = 100


def model_to_json_config(model):
    """(config JSON, metadata JSON) of `model` as Keras 3 writes them."""
    from ndflow import keras

    with serialization.ObjectSharingScope():
        config = serialization.serialize_keras_object(model)
    metadata = {"keras_version": keras.__version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    return json.dumps(config), json.dumps(metadata)


def weights_bytes(model):
    """The Keras 3 `model.weights.h5` of `model`, in memory."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5file:
        weights_h5.write_weights(model, h5file)
    return buffer.getvalue()


def save(model, filepath, zipped=True):
    """Writes `model` in the `.keras` format (a zip, or a directory when `zipped=False`)."""
    config_json, metadata_json = model_to_json_config(model)
    members = [(METADATA_FILENAME, metadata_json.encode()), (CONFIG_FILENAME,
                                                             config_json.encode()),
               (WEIGHTS_FILENAME, weights_bytes(model))]
    if zipped:
        atomic_write(filepath, lambda handle: _write_zip(handle, members))
    else:
        _write_directory(filepath, members)


def _write_zip(handle, members):
    with zipfile.ZipFile(handle, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)


def atomic_write(filepath, write):
    """Calls `write(file handle)` on a temporary file beside `filepath`, then moves it into
    place; on any error the temporary file is removed and `filepath` is untouched."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    descriptor, temp_path = tempfile.mkstemp(prefix=".ndflow-save-", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, filepath)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


def _write_directory(dirpath, members):
    dirpath = os.fspath(dirpath)
    parent = os.path.dirname(os.path.abspath(dirpath))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".ndflow-save-", dir=parent)
    try:
        for name, data in members:
            with open(os.path.join(staging, name), "wb") as handle:
                handle.write(data)
        if os.path.isdir(dirpath):
            old = tempfile.mkdtemp(prefix=".ndflow-old-", dir=parent)
            os.replace(dirpath, os.path.join(old, "model"))
            os.replace(staging, dirpath)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, dirpath)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- loading ----------------------------------------------------------------------------------


def load(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model stored in a `.keras` zip (or a directory with its three files)."""
    filepath = os.fspath(filepath) if not hasattr(filepath, "read") else filepath
    if isinstance(filepath, str) and os.path.isdir(filepath):
        members = {}
        for name in (CONFIG_FILENAME, WEIGHTS_FILENAME):
            path = os.path.join(filepath, name)
            if not os.path.isfile(path):
                raise ValueError(f"Invalid Keras model directory '{filepath}': no {name}")
            with open(path, "rb") as handle:
                members[name] = handle.read()
    else:
        members = _read_zip(filepath)
    return model_from_members(members, custom_objects, compile, safe_mode, filepath)


def _read_zip(filepath):
    try:
        with zipfile.ZipFile(filepath, "r") as archive:
            names = archive.namelist()
            for name in (CONFIG_FILENAME, WEIGHTS_FILENAME):
                if name not in names:
                    raise ValueError(f"Invalid .keras file '{filepath}': it has no '{name}' "
                                     f"(members: {names})")
                info = archive.getinfo(name)
                if info.file_size > _MEMBER_BOMB_FLOOR_BYTES and \
                        info.file_size > _MEMBER_MAX_EXPANSION * info.compress_size:
                    raise ValueError(f"Not allowed: '{name}' in '{filepath}' declares "
                                     f"{info.file_size} bytes but stores {info.compress_size};"
                                     f" refusing a potential decompression bomb.")
            return {name: archive.read(name) for name in (CONFIG_FILENAME, WEIGHTS_FILENAME)}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ValueError(f"Cannot read '{filepath}' as a .keras file: the zip archive is "
                         f"truncated or corrupt ({error}).") from error


def model_from_members(members, custom_objects, compile, safe_mode, filepath):
    """Deserializes the config, then loads every weight; returns the model only on success."""
    try:
        config = json.loads(members[CONFIG_FILENAME])
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"Invalid .keras file '{filepath}': config.json is not valid JSON "
                         f"({error}).") from error
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Invalid .keras file '{filepath}': config.json does not describe a "
                         f"Keras object (no 'class_name').")
    if not compile:
        config["compile_config"] = None
    with serialization.ObjectSharingScope():
        model = serialization.deserialize_keras_object(config, custom_objects,
                                                       safe_mode=safe_mode)
    try:
        h5file = h5py.File(io.BytesIO(members[WEIGHTS_FILENAME]), "r")
    except OSError as error:
        raise ValueError(f"Invalid .keras file '{filepath}': model.weights.h5 is not a valid "
                         f"HDF5 file ({error}).") from error
    with h5file:
        try:
            weights_h5.load_weights(model, h5file)
        except (OSError, KeyError, RuntimeError) as error:
            raise ValueError(f"Invalid .keras file '{filepath}': model.weights.h5 could not "
                             f"be read ({error}).") from error
    return model
