"""Loading is safe and all-or-nothing: no arbitrary imports or calls from a config, lambdas
refused in safe mode, clear errors for truncated/tampered files, atomic writes."""

import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import pytest

from ndflow import keras
from ndflow.keras.saving import keras_format

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def _small_model():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2, name="out")(keras.layers.Dense(4, name="hidden")(inputs))
    return keras.Model(inputs, outputs, name="small")


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _with_config(tmp_path, mutate):
    source = tmp_path / "good.keras"
    _small_model().save(source)
    members = _members(source)
    config = json.loads(members["config.json"])
    mutate(config)
    members["config.json"] = json.dumps(config).encode()
    target = tmp_path / "tampered.keras"
    _write_zip(target, members)
    return target


@pytest.mark.parametrize("module,class_name", [
    ("os", "system"), ("subprocess", "Popen"), ("builtins", "eval"),
    ("ndflow_evil_module_xyz", "Payload"), ("keras.src.evil_module_xyz", "Payload"),
], ids=["os.system", "subprocess", "builtins.eval", "unknown-module", "unknown-keras-module"])
def test_config_naming_arbitrary_callable_is_neither_imported_nor_called(
        tmp_path, monkeypatch, module, class_name):
    called = []
    monkeypatch.setattr(os, "system", lambda *a, **k: called.append(a))

    def mutate(config):
        config["config"]["layers"][1].update(module=module, class_name=class_name,
                                             registered_name=None)
        config["config"]["layers"][1]["config"] = {"command": "echo pwned"}

    path = _with_config(tmp_path, mutate)
    with pytest.raises(TypeError, match=f"Could not locate class '{class_name}'"):
        keras.models.load_model(path)
    assert not called
    assert not any("evil_module_xyz" in name for name in sys.modules)


def test_function_entry_naming_a_non_modeling_api_is_refused(tmp_path, monkeypatch):
    from ndflow.keras.saving import api

    calls = []
    monkeypatch.setattr(api, "load_model", lambda *a, **k: calls.append(a))

    def mutate(config):
        config["config"]["layers"][1]["config"]["activation"] = {
            "module": "keras.models", "class_name": "function", "config": "load_model",
            "registered_name": None}

    path = _with_config(tmp_path, mutate)
    with pytest.raises(Exception):  # noqa: B017 - refused by the activation lookup
        keras.saving.load_model(path)
    assert not calls


def _lambda_model():
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0 + 1.0, name="double")(inputs)
    return keras.Model(inputs, outputs)


def test_lambda_layer_is_refused_in_safe_mode(tmp_path):
    with pytest.warns(UserWarning, match="lambda"):
        _lambda_model().save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(tmp_path / "lambda.keras")


def test_lambda_layer_loads_with_safe_mode_false(tmp_path):
    model = _lambda_model()
    with pytest.warns(UserWarning):
        model.save(tmp_path / "lambda.keras")
    loaded = keras.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x * 2.0 + 1.0)


def test_lambda_with_named_registered_function_loads_safely(tmp_path):
    @keras.saving.register_keras_serializable(package="safety_test")
    def triple(x):
        return x * 3.0

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(triple)(inputs))
    model.save(tmp_path / "named.keras")
    loaded = keras.models.load_model(tmp_path / "named.keras")
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2), "float32"), verbose=0), [[3, 3]])


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.95], ids=["30%", "70%", "95%"])
def test_truncated_file_raises_a_clear_error(tmp_path, cut):
    path = tmp_path / "m.keras"
    _small_model().save(path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(ValueError, match="truncated or corrupt|not a valid HDF5|could not be "
                                         "read"):
        keras.models.load_model(path)


def test_not_a_zip_raises_a_clear_error(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"this is not a keras file")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        keras.models.load_model(path)


def test_missing_member_and_bad_json(tmp_path):
    source = tmp_path / "good.keras"
    _small_model().save(source)
    members = _members(source)
    without = dict(members)
    del without["model.weights.h5"]
    _write_zip(tmp_path / "no_weights.keras", without)
    with pytest.raises(ValueError, match="no 'model.weights.h5'"):
        keras.models.load_model(tmp_path / "no_weights.keras")
    members["config.json"] = b"{not json"
    _write_zip(tmp_path / "bad_json.keras", members)
    with pytest.raises(ValueError, match="not valid JSON"):
        keras.models.load_model(tmp_path / "bad_json.keras")


def test_missing_file_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(tmp_path / "nope.keras")


def test_tampered_weight_shape_is_rejected_with_names_and_shapes(tmp_path):
    source = tmp_path / "good.keras"
    _small_model().save(source)
    members = _members(source)
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as h5file:
        del h5file["layers/dense_1/vars/0"]
        h5file["layers/dense_1/vars/0"] = np.zeros((5, 2), "float32")
    members["model.weights.h5"] = buffer.getvalue()
    _write_zip(tmp_path / "bad.keras", members)
    with pytest.raises(ValueError, match=r"Dense 'out'.*expects shape \(4, 2\), got shape "
                                         r"\(5, 2\)"):
        keras.models.load_model(tmp_path / "bad.keras")


def test_soft_link_in_weights_is_refused(tmp_path):
    source = tmp_path / "good.keras"
    _small_model().save(source)
    members = _members(source)
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as h5file:
        del h5file["layers/dense/vars/0"]
        h5file["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense_1/vars/0")
    members["model.weights.h5"] = buffer.getvalue()
    _write_zip(tmp_path / "link.keras", members)
    with pytest.raises(ValueError, match="Not allowed: H5 file with SoftLink"):
        keras.models.load_model(tmp_path / "link.keras")


def test_no_pickle_in_the_saving_package():
    root = os.path.join(os.path.dirname(keras.__file__), "saving")
    for name in os.listdir(root):
        if name.endswith(".py"):
            with open(os.path.join(root, name)) as handle:
                source = handle.read()
            assert "import pickle" not in source and "pickle." not in source, name


# --- atomic writes ----------------------------------------------------------------------------


def test_crash_during_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    model = _small_model()
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash while writing the weights")

    monkeypatch.setattr(keras_format, "weights_bytes", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_crash_while_writing_zip_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "new.keras"

    def crash(handle, members):
        handle.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(keras_format, "_write_zip", crash)
    with pytest.raises(OSError, match="disk full"):
        _small_model().save(path)
    assert os.listdir(tmp_path) == []


def test_crash_during_weights_save_leaves_no_partial_file(tmp_path, monkeypatch):
    from ndflow.keras.saving import weights_h5

    model = _small_model()

    def crash(model, h5file):
        h5file.create_group("layers")
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(weights_h5, "write_weights", crash)
    with pytest.raises(RuntimeError):
        model.save_weights(tmp_path / "w.weights.h5")
    assert os.listdir(tmp_path) == []


def test_overwrite_false_refuses_existing_file(tmp_path):
    path = tmp_path / "m.keras"
    model = _small_model()
    model.save(path)
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(path, overwrite=False)
