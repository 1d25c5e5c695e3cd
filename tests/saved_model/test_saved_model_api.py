"""tf.saved_model.save / load: Modules, Keras models, control flow, signatures, bad files."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import ndflow as tf
from ndflow.saved_model import api, codec


class Counter(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(np.array([[1.0, 2.0], [3.0, -4.0]], np.float32))
        self.calls = tf.Variable(0)
        self.layers = [tf.Variable(0.5)]

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def predict(self, x):
        self.calls.assign_add(1)
        y = tf.matmul(x, self.w) * self.layers[0]
        y = tf.cond(tf.reduce_sum(y) > 0, lambda: y * 2.0, lambda: y - 1.0)
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 1.5),
                             [tf.constant(0), y])
        return {"scores": y, "count": self.calls.read_value()}

    @tf.function
    def scale(self, x, factor=2):
        return x * float(factor)


X = np.array([[1.0, 1.0], [2.0, -1.0], [0.5, 0.0]], np.float32)


@pytest.fixture
def saved_counter(tmp_path):
    module = Counter()
    module.scale(tf.constant([1.0, 2.0]))
    module.scale(tf.constant([1.0, 2.0]), factor=3)
    tf.saved_model.save(module, str(tmp_path / "model"))
    return module, str(tmp_path / "model")


def test_directory_layout(saved_counter):
    _, path = saved_counter
    assert sorted(os.listdir(path)) == ["assets", "constants.npz", "saved_model.json",
                                        "variables"]
    assert sorted(os.listdir(os.path.join(path, "variables"))) == [
        "variables.data-00000-of-00001", "variables.index"]
    document = json.loads(Path(path, "saved_model.json").read_text())
    assert (document["format"], document["version"]) == ("ndflow-saved-model", 1)
    assert tf.saved_model.contains_saved_model(path)


def test_module_round_trip_without_the_class(saved_counter):
    module, path = saved_counter
    loaded = tf.saved_model.load(path)
    assert type(loaded).__name__ == "UserObject"
    expected = module.predict(X)["scores"].numpy()
    np.testing.assert_allclose(loaded.predict(X)["scores"].numpy(), expected)
    np.testing.assert_allclose(loaded.predict(x=X)["scores"].numpy(), expected)
    np.testing.assert_array_equal(loaded.scale(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(loaded.scale(tf.constant([1.0, 2.0]), factor=3).numpy(),
                                  [3.0, 6.0])
    np.testing.assert_array_equal(loaded.w.numpy(), module.w.numpy())
    assert len(loaded.variables) == 3 and len(loaded.trainable_variables) == 3
    assert loaded.layers[0].numpy() == 0.5


def test_serving_signature_takes_keywords_and_returns_dict(saved_counter):
    module, path = saved_counter
    serving = tf.saved_model.load(path).signatures["serving_default"]
    result = serving(x=tf.constant(X))
    assert sorted(result) == ["count", "scores"]
    np.testing.assert_allclose(result["scores"].numpy(), module.predict(X)["scores"].numpy())
    inputs = serving.structured_input_signature[1]
    assert inputs["x"].shape.as_list() == [None, 2] and inputs["x"].dtype is tf.float32
    with pytest.raises(TypeError, match="keyword arguments only"):
        serving(tf.constant(X))
    with pytest.raises(TypeError, match=r"expected keyword arguments \['x'\]"):
        serving(y=tf.constant(X))


def test_variables_updated_after_load_persist_in_loaded_object_only(saved_counter):
    module, path = saved_counter
    before = int(module.calls.numpy())
    loaded = tf.saved_model.load(path)
    start = int(loaded.calls.numpy())
    loaded.predict(X)
    assert int(loaded.predict(X)["count"].numpy()) == start + 2
    assert int(loaded.calls.numpy()) == start + 2
    assert int(module.calls.numpy()) == before
    loaded.w.assign(np.zeros((2, 2), np.float32))
    np.testing.assert_allclose(loaded.predict(X)["scores"].numpy(), -1.0 * 1.5 ** 3)
    other = tf.saved_model.load(path)
    np.testing.assert_array_equal(other.w.numpy(), module.w.numpy())


def test_no_matching_function_raises(saved_counter):
    loaded = tf.saved_model.load(saved_counter[1])
    with pytest.raises(ValueError, match="Could not find matching concrete function"):
        loaded.scale(tf.constant([1.0, 2.0]), factor=7)
    with pytest.raises(TypeError, match="not callable"):
        loaded(X)


def test_explicit_signatures_and_concrete_functions(tmp_path):
    module = Counter()
    concrete = module.scale.get_concrete_function(tf.TensorSpec([None], tf.float32, "v"))
    tf.saved_model.save(module, str(tmp_path / "m"),
                        signatures={"double": concrete, "predict": module.predict})
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    assert sorted(loaded.signatures) == ["double", "predict"]
    result = loaded.signatures["double"](v=tf.constant([1.0, 5.0]))
    np.testing.assert_array_equal(result["output_0"].numpy(), [2.0, 10.0])


def test_keras_sequential_export_and_serve(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((3,), name="input_layer"),
                                 tf.keras.layers.Dense(4, "relu"),
                                 tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Dropout(0.5), tf.keras.layers.Dense(2)])
    x = np.random.RandomState(1).randn(5, 3).astype(np.float32)
    model.export(str(tmp_path / "exported"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "exported"))
    expected = model(x, training=False).numpy()
    np.testing.assert_allclose(loaded.serve(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(loaded(x).numpy(), expected, rtol=1e-6)
    signature = loaded.signatures["serving_default"]
    np.testing.assert_allclose(signature(input_layer=x)["output_0"].numpy(), expected,
                               rtol=1e-6)
    assert sorted(loaded.signatures) == ["serve", "serving_default"]
    assert len(loaded.variables) == len(model.weights)


def test_keras_functional_multi_input(tmp_path):
    first = tf.keras.Input((3,), name="first")
    second = tf.keras.Input((3,), name="second")
    output = tf.keras.layers.Dense(2)(tf.keras.layers.Add()([first, second]))
    model = tf.keras.Model([first, second], output)
    tf.saved_model.save(model, str(tmp_path / "f"))
    loaded = tf.saved_model.load(str(tmp_path / "f"))
    a, b = np.ones((2, 3), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)
    result = loaded.signatures["serving_default"](first=a, second=b)["output_0"]
    np.testing.assert_allclose(result.numpy(), model([a, b]).numpy(), rtol=1e-6)
    # The variables are an ndflow checkpoint keyed by object path (Checkpoint(root=model)).
    keys = [k for k, _ in tf.train.list_variables(str(tmp_path / "f/variables/variables"))]
    assert "layer-1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys


def test_keras_model_without_inputs_needs_signature(tmp_path):
    class Sub(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = tf.keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    model = Sub()
    with pytest.raises(ValueError, match="has no known inputs"):
        api.export_keras_model(model, str(tmp_path / "s"), verbose=False)
    model(np.ones((1, 2), np.float32))
    api.export_keras_model(model, str(tmp_path / "s"), verbose=False,
                           input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    loaded = tf.saved_model.load(str(tmp_path / "s"))
    np.testing.assert_allclose(loaded.serve(np.ones((1, 2), np.float32)).numpy(),
                               model(np.ones((1, 2), np.float32)).numpy(), rtol=1e-6)


def test_keras_model_save_without_extension(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.save(str(tmp_path / "legacy_dir"))
    assert tf.saved_model.contains_saved_model(str(tmp_path / "legacy_dir"))
    loaded = tf.saved_model.load(str(tmp_path / "legacy_dir"))
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_py_function_cannot_be_saved(tmp_path):
    class WithPython(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
        def f(self, x):
            return tf.py_function(lambda v: v * 2, [x], tf.float32)

    with pytest.raises(ValueError, match=r"op 'EagerPyFunc.*' \(EagerPyFunc\) cannot be saved"):
        tf.saved_model.save(WithPython(), str(tmp_path / "p"))
    assert not os.path.exists(tmp_path / "p")


def _edit_document(path, change):
    filename = os.path.join(path, "saved_model.json")
    document = json.loads(Path(filename).read_text())
    change(document)
    Path(filename).write_text(json.dumps(document))


def test_unknown_op_type_is_refused(saved_counter):
    _, path = saved_counter

    def rename(document):
        document["concrete_functions"][0]["graph"]["ops"][1]["type"] = "os.system"

    _edit_document(path, rename)
    with pytest.raises(codec.FormatError, match="unknown op type 'os.system'"):
        tf.saved_model.load(path)


def test_pickle_in_constants_is_refused(saved_counter):
    _, path = saved_counter
    with open(os.path.join(path, "constants.npz"), "wb") as handle:
        np.savez(handle, c0=np.array([print], dtype=object))
    with pytest.raises(codec.FormatError, match="never loads pickled data"):
        tf.saved_model.load(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=99), "format version 99"),
    (lambda d: d.update(format="other"), "is not an ndflow SavedModel"),
    (lambda d: d["concrete_functions"][0]["graph"]["ops"][3].update(inputs=[[999, 0]]),
     "bad tensor reference"),
], ids=["newer_version", "other_format", "bad_reference"])
def test_malformed_documents_are_refused(saved_counter, change, message):
    _, path = saved_counter
    _edit_document(path, change)
    with pytest.raises(codec.FormatError, match=message):
        tf.saved_model.load(path)


def test_missing_directory(tmp_path):
    assert not tf.saved_model.contains_saved_model(str(tmp_path / "none"))
    with pytest.raises(OSError, match="SavedModel file does not exist"):
        tf.saved_model.load(str(tmp_path / "none"))


def test_overwrite_is_atomic_and_interrupted_swap_keeps_old_model(tmp_path, monkeypatch):
    path = str(tmp_path / "m")
    module = Counter()
    tf.saved_model.save(module, path)
    module.w.assign(np.full((2, 2), 9.0, np.float32))
    real_rename = os.rename

    def die_on_second_rename(source, target):
        if source.endswith(".ndflow-tmp"):
            raise KeyboardInterrupt("killed")
        return real_rename(source, target)

    monkeypatch.setattr(os, "rename", die_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        tf.saved_model.save(module, path)
    monkeypatch.setattr(os, "rename", real_rename)
    assert tf.saved_model.contains_saved_model(path)
    np.testing.assert_array_equal(tf.saved_model.load(path).w.numpy(),
                                  [[1.0, 2.0], [3.0, -4.0]])
    tf.saved_model.save(module, path)
    assert tf.saved_model.load(path).w.numpy()[0, 0] == 9.0
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_load_never_imports_the_saved_class(saved_counter):
    _, path = saved_counter
    document = json.loads(Path(path, "saved_model.json").read_text())
    assert document["objects"][0]["class"] == "Counter"
    assert "test_saved_model_api" not in json.dumps(document)  # no module paths to import
