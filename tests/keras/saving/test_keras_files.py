"""`.keras` files: models written by real Keras 3 load in ndflow with the same predictions,
ndflow's files round-trip for every layer type, and (when the reference TensorFlow venv is
present) files written by ndflow load in real Keras with the same predictions."""

import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

from ndflow import keras
from tests.keras.saving import saving_cases

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
REFERENCE_PYTHON = "/tmp/tfref/bin/python"
CASES = list(saving_cases.BUILDERS)


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(FIXTURES, "expected.npz")) as data:
        return dict(data)


def inputs_of(expected, name):
    keys = sorted(k for k in expected if k.startswith(f"{name}/input"))
    if keys == [f"{name}/input"]:
        return expected[keys[0]]
    if all(k.split("/")[-1].isdigit() for k in keys):
        return [expected[f"{name}/input/{i}"] for i in range(len(keys))]
    return {k.split("/")[-1]: expected[k] for k in keys}


def outputs_of(expected, name):
    count = sum(1 for k in expected if k.startswith(f"{name}/output_"))
    return [expected[f"{name}/output_{i}"] for i in range(count)]


def predict(model, inputs):
    outputs = model.predict(inputs, verbose=0)
    return outputs if isinstance(outputs, list) else [outputs]


@pytest.fixture(autouse=True)
def _custom_classes():
    saving_cases.custom_classes(keras)


@pytest.mark.parametrize("name", CASES)
def test_keras3_file_loads_with_same_predictions(expected, name):
    model = keras.models.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    got = predict(model, inputs_of(expected, name))
    want = outputs_of(expected, name)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_keras3_file_restores_compile_and_optimizer_state(expected):
    model = keras.models.load_model(os.path.join(FIXTURES, "mlp_seq.keras"))
    assert type(model.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()), 0.01, rtol=1e-6)
    assert int(model.optimizer.iterations.numpy()) == int(
        expected["mlp_seq/optimizer_iterations"])
    slots = model.optimizer.variables[2:]
    assert slots and any(np.abs(v.numpy()).sum() > 0 for v in slots)
    x = inputs_of(expected, "mlp_seq")
    history = model.fit(x, np.eye(3, dtype="float32")[[0, 1, 2, 0]], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert int(model.optimizer.iterations.numpy()) == int(
        expected["mlp_seq/optimizer_iterations"]) + 1


def test_load_without_compile(expected):
    model = keras.models.load_model(os.path.join(FIXTURES, "mlp_seq.keras"), compile=False)
    assert model.optimizer is None
    np.testing.assert_allclose(predict(model, inputs_of(expected, "mlp_seq"))[0],
                               outputs_of(expected, "mlp_seq")[0], rtol=1e-5, atol=1e-6)


def _ndflow_model(name):
    model, inputs = saving_cases.build(keras, name)
    if name == "mlp_seq":
        saving_cases.train_one_step(model, inputs)
    return model, inputs


@pytest.mark.parametrize("name", CASES)
def test_round_trip_gives_identical_predictions(tmp_path, name):
    model, inputs = _ndflow_model(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded is not model
    for got, want in zip(predict(loaded, inputs), predict(model, inputs)):
        np.testing.assert_array_equal(got, want)
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]


def test_saved_zip_has_keras3_members_and_layout(tmp_path):
    model, _ = _ndflow_model("mlp_seq")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["keras_version"].startswith("3.")
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    layers = config["config"]["layers"]
    assert [entry["class_name"] for entry in layers] == [
        "InputLayer", "Dense", "BatchNormalization", "Dropout", "Dense"]
    assert layers[1]["build_config"] == {"input_shape": [None, 6]}
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["loss"] == "categorical_crossentropy"


def test_functional_config_matches_keras3_layout():
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Dense(4, name="h")(a)
    out = keras.layers.Concatenate(name="cat")([h, b])
    config = keras.Model([a, b], out, name="f").get_config()
    assert [entry["name"] for entry in config["layers"]] == ["a", "h", "b", "cat"]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == ["cat", 0, 0]
    node = config["layers"][3]["inbound_nodes"][0]
    assert node["kwargs"] == {}
    refs = [t["config"]["keras_history"] for t in node["args"][0]]
    assert refs == [["h", 0, 0], ["b", 0, 0]]


def test_unzipped_directory_round_trip(tmp_path):
    model, inputs = _ndflow_model("custom")
    model.save(tmp_path / "model_dir", zipped=False)
    assert sorted(os.listdir(tmp_path / "model_dir")) == [
        "config.json", "metadata.json", "model.weights.h5"]
    loaded = keras.models.load_model(tmp_path / "model_dir")
    np.testing.assert_array_equal(predict(loaded, inputs)[0], predict(model, inputs)[0])


def test_zipped_false_with_keras_extension_is_refused(tmp_path):
    model, _ = _ndflow_model("custom")
    with pytest.raises(ValueError, match="zipped=False"):
        model.save(tmp_path / "m.keras", zipped=False)


def test_directory_without_extension_uses_saved_model(tmp_path):
    saved_model = pytest.importorskip("ndflow.saved_model")
    if not hasattr(saved_model, "save"):
        pytest.skip("ndflow.saved_model.save is not written yet (saved_model helper)")
    model, _ = _ndflow_model("custom")
    model.save(tmp_path / "export")
    assert os.path.isdir(tmp_path / "export")


# --- real Keras 3 loads ndflow's files --------------------------------------------------------

_KERAS_LOADER = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, sys.argv[1])
import numpy as np, keras
import saving_cases
saving_cases.custom_classes(keras)
data = np.load(sys.argv[3])
results = {}
for name in sys.argv[4].split(","):
    model = keras.models.load_model(os.path.join(sys.argv[2], name + ".keras"))
    inputs = {k.split("/", 1)[1]: data[k] for k in data.files if k.startswith(name + "/input")}
    if list(inputs) == ["input"]:
        x = inputs["input"]
    elif all(k.split("/")[-1].isdigit() for k in inputs):
        x = [inputs[f"input/{i}"] for i in range(len(inputs))]
    else:
        x = {k.split("/")[-1]: v for k, v in inputs.items()}
    y = model.predict(x, verbose=0)
    y = y if isinstance(y, list) else [y]
    np.savez(os.path.join(sys.argv[2], name + "_keras_out.npz"), *y)
    results[name] = type(model).__name__
print(json.dumps(results))
"""


def _run_reference(script, *args):
    if not os.path.exists(REFERENCE_PYTHON):
        pytest.skip("the reference TensorFlow/Keras venv is not installed")
    return subprocess.run([REFERENCE_PYTHON, "-c", script, *args], capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.slow
def test_real_keras_loads_ndflow_files_with_same_predictions(tmp_path):
    if not os.path.exists(REFERENCE_PYTHON):
        pytest.skip("the reference TensorFlow/Keras venv is not installed")
    arrays, predictions = {}, {}
    for name in CASES:
        model, inputs = _ndflow_model(name)
        model.save(tmp_path / f"{name}.keras")
        predictions[name] = predict(model, inputs)
        if isinstance(inputs, dict):
            arrays.update({f"{name}/input/{k}": v for k, v in inputs.items()})
        elif isinstance(inputs, list):
            arrays.update({f"{name}/input/{i}": v for i, v in enumerate(inputs)})
        else:
            arrays[f"{name}/input"] = inputs
    np.savez(tmp_path / "inputs.npz", **arrays)
    cases_dir = os.path.dirname(os.path.abspath(saving_cases.__file__))
    result = _run_reference(_KERAS_LOADER, cases_dir, str(tmp_path),
                            str(tmp_path / "inputs.npz"), ",".join(CASES))
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(loaded) == sorted(CASES)
    for name in CASES:
        with np.load(tmp_path / f"{name}_keras_out.npz") as data:
            keras_outputs = [data[f"arr_{i}"] for i in range(len(data.files))]
        assert len(keras_outputs) == len(predictions[name])
        for got, want in zip(keras_outputs, predictions[name]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
