"""Weights files: Keras 3 `.weights.h5` (layout and interop), Keras 2 `.h5` full models and
weights (`by_name`, `skip_mismatch`), and all-or-nothing loading."""

import os

import h5py
import numpy as np
import pytest

from ndflow import keras
from tests.keras.saving import saving_cases

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(FIXTURES, "expected.npz")) as data:
        return dict(data)


def _mlp():
    model, inputs = saving_cases.build(keras, "mlp_seq")
    return model, inputs


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def test_keras3_weights_file_loads_into_ndflow_model(expected):
    model, _ = _mlp()
    model.load_weights(os.path.join(FIXTURES, "mlp_seq.weights.h5"))
    np.testing.assert_allclose(model.predict(expected["mlp_seq/input"], verbose=0),
                               expected["mlp_seq/output_0"], rtol=1e-5, atol=1e-6)


def test_weights_file_layout_matches_keras3(tmp_path):
    model, inputs = _mlp()
    saving_cases.train_one_step(model, inputs)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r") as h5file:
        names = []
        h5file.visit(names.append)
        assert h5file["vars"].attrs["name"] == "mlp_seq"
        assert h5file["layers/dense/vars"].attrs["name"] == model.layers[0].name
        assert h5file["layers/dense/vars/0"].shape == (6, 8)
        assert h5file["layers/batch_normalization/vars/3"].shape == (8,)
        assert h5file["layers/dropout/vars"].attrs["name"] == model.layers[2].name
        assert h5file["optimizer/vars"].attrs["name"] == model.optimizer.name
        assert h5file["optimizer/vars/0"][()] == 1  # iterations
    with h5py.File(os.path.join(FIXTURES, "mlp_seq.weights.h5"), "r") as reference:
        keras_names = []
        reference.visit(keras_names.append)
    assert sorted(names) == sorted(keras_names)


def test_weights_round_trip_and_optimizer_state(tmp_path):
    model, inputs = _mlp()
    saving_cases.train_one_step(model, inputs)
    model.save_weights(tmp_path / "m.weights.h5")
    clone, _ = _mlp()
    clone.build((None, 6))
    saving_cases.train_one_step(clone, inputs)
    clone.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(_weights(model), _weights(clone)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, clone.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_failed_load_leaves_weights_unchanged(tmp_path):
    model, _ = _mlp()
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "a") as h5file:
        del h5file["layers/dense_1/vars/1"]
        h5file["layers/dense_1/vars/1"] = np.zeros((7,), "float32")
    target, _ = _mlp()
    before = _weights(target)
    with pytest.raises(ValueError, match=r"Dense '.*' \(path 'layers/dense_1'\): variable 1 .* "
                                         r"expects shape \(3,\), got shape \(7,\)"):
        target.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(before, _weights(target)):
        np.testing.assert_array_equal(a, b)


def test_skip_mismatch_loads_the_rest(tmp_path):
    model, _ = _mlp()
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "a") as h5file:
        del h5file["layers/dense_1/vars/1"]
        h5file["layers/dense_1/vars/1"] = np.zeros((7,), "float32")
    target, _ = _mlp()
    before = _weights(target)
    with pytest.warns(UserWarning, match="Skipping loading weights"):
        target.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(target.layers[0].kernel.numpy(),
                                  model.layers[0].kernel.numpy())
    np.testing.assert_array_equal(target.layers[3].kernel.numpy(), before[-2])


def test_load_weights_from_keras_file(tmp_path, expected):
    model, _ = _mlp()
    model.load_weights(os.path.join(FIXTURES, "mlp_seq.keras"))
    np.testing.assert_allclose(model.predict(expected["mlp_seq/input"], verbose=0),
                               expected["mlp_seq/output_0"], rtol=1e-5, atol=1e-6)


def test_save_weights_requires_known_extension_and_built_model(tmp_path):
    model, _ = _mlp()
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "w.bin")
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.save_weights(tmp_path / "w.weights.h5")


# --- Keras 2 HDF5 -----------------------------------------------------------------------------


def test_keras_legacy_full_model_loads(expected):
    model = keras.models.load_model(os.path.join(FIXTURES, "mlp_seq_legacy.h5"))
    np.testing.assert_allclose(model.predict(expected["mlp_seq/input"], verbose=0),
                               expected["mlp_seq/output_0"], rtol=1e-5, atol=1e-6)
    assert model.optimizer is not None and model.loss == "categorical_crossentropy"


def test_keras_legacy_weights_file_loads_by_order_and_by_name(expected):
    path = os.path.join(FIXTURES, "mlp_seq_legacy.weights.h5")
    by_order, _ = _mlp()
    by_order.load_weights(path)
    np.testing.assert_allclose(by_order.predict(expected["mlp_seq/input"], verbose=0),
                               expected["mlp_seq/output_0"], rtol=1e-5, atol=1e-6)
    with h5py.File(path, "r") as h5file:
        saved_names = [_text(n) for n in h5file.attrs["layer_names"]]
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, activation="relu", name=saved_names[0])(inputs)
    x = keras.layers.Dense(8, name="unrelated")(x)
    by_name = keras.Model(inputs, x)
    unrelated = by_name.get_layer("unrelated").kernel.numpy().copy()
    by_name.load_weights(path, by_name=True)
    np.testing.assert_array_equal(by_name.get_layer(saved_names[0]).kernel.numpy(),
                                  by_order.layers[0].kernel.numpy())
    np.testing.assert_array_equal(by_name.get_layer("unrelated").kernel.numpy(), unrelated)


def test_legacy_round_trip_full_model_and_weights(tmp_path):
    model, inputs = _mlp()
    saving_cases.train_one_step(model, inputs)
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0),
                                  model.predict(inputs, verbose=0))
    model.save_weights(tmp_path / "w.h5")
    target, _ = _mlp()
    target.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(target.predict(inputs, verbose=0),
                                  model.predict(inputs, verbose=0))
    with h5py.File(tmp_path / "w.h5", "r") as h5file:
        assert [_text(n) for n in h5file.attrs["layer_names"]] == [
            layer.name for layer in model.layers]
        assert _text(h5file.attrs["backend"]) == "tensorflow"


def test_legacy_by_name_skip_mismatch(tmp_path):
    source = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"),
                               keras.layers.Dense(2, name="b")])
    source.save_weights(tmp_path / "w.h5")
    target = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"),
                               keras.layers.Dense(5, name="b")])
    b_before = target.get_layer("b").kernel.numpy().copy()
    with pytest.raises(ValueError, match=r"layer #1 \(named b\).*expects shape \(4, 5\), the "
                                         r"file has shape \(4, 2\)"):
        target.load_weights(tmp_path / "w.h5", by_name=True)
    assert not np.array_equal(target.get_layer("a").kernel.numpy(),
                              source.get_layer("a").kernel.numpy())
    with pytest.warns(UserWarning, match="Skipping"):
        target.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("a").kernel.numpy(),
                                  source.get_layer("a").kernel.numpy())
    np.testing.assert_array_equal(target.get_layer("b").kernel.numpy(), b_before)


def test_legacy_layer_count_mismatch(tmp_path):
    source = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    source.save_weights(tmp_path / "w.h5")
    target = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Layer count mismatch.*expected 2 layers, found 1"):
        target.load_weights(tmp_path / "w.h5")


def test_by_name_refused_for_keras3_layout(tmp_path):
    model, _ = _mlp()
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="by_name"):
        model.load_weights(tmp_path / "m.weights.h5", by_name=True)


_KERAS_READS_NDFLOW_WEIGHTS = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, sys.argv[1])
import h5py, keras, numpy as np
from keras.src.legacy.saving import legacy_h5_format
import saving_cases
folder = sys.argv[2]
x, y = np.load(os.path.join(folder, "x.npy")), np.load(os.path.join(folder, "y.npy"))
full = keras.models.load_model(os.path.join(folder, "m.h5"))
assert full.optimizer is not None
fresh = saving_cases.build(keras, "mlp_seq")[0]
with h5py.File(os.path.join(folder, "w.h5"), "r") as h5file:
    legacy_h5_format.load_weights_from_hdf5_group(h5file, fresh)
layout = saving_cases.build(keras, "mlp_seq")[0]
layout.load_weights(os.path.join(folder, "m.weights.h5"))
for model in (full, fresh, layout):
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)
print("ok")
"""


@pytest.mark.slow
def test_real_keras_reads_ndflow_weights_and_legacy_files(tmp_path):
    import subprocess

    reference = "/tmp/tfref/bin/python"
    if not os.path.exists(reference):
        pytest.skip("the reference TensorFlow/Keras venv is not installed")
    model, inputs = _mlp()
    saving_cases.train_one_step(model, inputs)
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "w.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    np.save(tmp_path / "x.npy", inputs)
    np.save(tmp_path / "y.npy", model.predict(inputs, verbose=0))
    cases_dir = os.path.dirname(os.path.abspath(saving_cases.__file__))
    result = subprocess.run([reference, "-c", _KERAS_READS_NDFLOW_WEIGHTS, cases_dir,
                             str(tmp_path)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
