"""tf.train.Checkpoint: object-graph keys, round trips, restore-on-create, atomicity, errors.

(Named test_train_checkpoint.py: tests/keras/callbacks/test_checkpoint.py has the short name.)
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from ndflow.train import checkpoint as checkpoint_lib

Checkpoint = checkpoint_lib.Checkpoint
SUFFIX = checkpoint_lib.VALUE_SUFFIX
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Net(tf.Module):
    def __init__(self, scale=1.0):
        super().__init__()
        self.w = tf.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32) * np.float32(scale))
        self._private = tf.Variable(5.0 * scale)
        self.items = [tf.Variable(6.0 * scale)]
        self.table = {"b": tf.Variable(7.0 * scale)}
        self.child = Inner(scale)


class Inner(tf.Module):
    def __init__(self, scale):
        super().__init__()
        self.v = tf.Variable(np.arange(3, dtype=np.int64) * int(scale))


def _keys(path):
    return [key for key, _ in tf.train.list_variables(path)]


def test_module_keys_match_tensorflow_names(tmp_path):
    path = Checkpoint(net=Net(), step=tf.Variable(3)).save(str(tmp_path / "ckpt"))
    assert path == str(tmp_path / "ckpt-1")
    assert _keys(path) == [
        "_CHECKPOINTABLE_OBJECT_GRAPH", "net/_private" + SUFFIX, "net/child/v" + SUFFIX,
        "net/items/0" + SUFFIX, "net/table/b" + SUFFIX, "net/w" + SUFFIX,
        "save_counter" + SUFFIX, "step" + SUFFIX]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-1.data-00000-of-00001",
                                             "ckpt-1.index"]


def test_module_round_trip_and_load_variable(tmp_path):
    source = Net(scale=2.0)
    path = Checkpoint(net=source).save(str(tmp_path / "ckpt"))
    target = Net(scale=0.0)
    checkpoint = Checkpoint(net=target)
    checkpoint.restore(path).assert_consumed()
    for a, b in zip(source.variables, target.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(checkpoint.save_counter.numpy()) == 1
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "net/child/v" + SUFFIX),
                                  [0, 2, 4])
    reader = tf.train.load_checkpoint(path)
    assert reader.get_variable_to_dtype_map()["net/w" + SUFFIX] is tf.float32
    assert reader.get_variable_to_shape_map()["net/w" + SUFFIX] == [2, 2]
    graph = json.loads(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")[()])
    assert graph["nodes"]["net/child"] == "Inner"


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "complex64", "bool", "string"])
def test_dtypes_round_trip(tmp_path, dtype):
    values = {"string": [b"a", b"\x00b"], "bool": [True, False]}.get(dtype, [1.5, -2.0])
    source = tf.Variable(tf.constant(values, dtype=getattr(tf, dtype)))
    target = tf.Variable(tf.zeros_like(source) if dtype != "string" else tf.constant([b"", b""]))
    Checkpoint(v=source).write(str(tmp_path / "c"))
    Checkpoint(v=target).read(str(tmp_path / "c")).assert_consumed()
    np.testing.assert_array_equal(np.asarray(target.numpy()), np.asarray(source.numpy()))


def test_write_does_not_count_or_touch_state_file(tmp_path):
    checkpoint = Checkpoint(v=tf.Variable(1.0))
    assert checkpoint.write(str(tmp_path / "w")) == str(tmp_path / "w")
    assert not os.path.exists(tmp_path / "checkpoint")
    assert "save_counter" + SUFFIX not in _keys(str(tmp_path / "w"))
    checkpoint.save(str(tmp_path / "s"))
    checkpoint.save(str(tmp_path / "s"))
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "s-2")


def test_restore_directory_means_latest(tmp_path):
    variable = tf.Variable(1.0)
    checkpoint = Checkpoint(v=variable)
    checkpoint.save(str(tmp_path / "c"))
    variable.assign(2.0)
    checkpoint.save(str(tmp_path / "c"))
    variable.assign(0.0)
    checkpoint.restore(str(tmp_path))
    assert variable.numpy() == 2.0


def _regression_data():
    rng = np.random.RandomState(0)
    return rng.randn(16, 3).astype(np.float32), rng.randn(16, 2).astype(np.float32)


def _model_and_optimizer():
    model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="tanh"),
                                 tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Dense(2)])
    return model, tf.keras.optimizers.Adam(0.01)


def _train(model, optimizer, steps):
    x, y = _regression_data()
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x, training=True) - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))


def test_keras_model_and_optimizer_resume_identically(tmp_path):
    model, optimizer = _model_and_optimizer()
    _train(model, optimizer, 3)
    path = Checkpoint(model=model, optimizer=optimizer).save(str(tmp_path / "ckpt"))
    keys = _keys(path)
    assert "model/layer-0/kernel" + SUFFIX in keys
    assert "model/layer-1/moving_variance" + SUFFIX in keys
    assert "optimizer/_iterations" + SUFFIX in keys
    assert "optimizer/_variables/13" + SUFFIX in keys
    _train(model, optimizer, 3)
    fresh_model, fresh_optimizer = _model_and_optimizer()  # unbuilt: restore-on-create
    status = Checkpoint(model=fresh_model, optimizer=fresh_optimizer).restore(path)
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Unresolved object in checkpoint"):
        status.assert_consumed()
    _train(fresh_model, fresh_optimizer, 3)
    status.assert_consumed()
    assert int(fresh_optimizer.iterations.numpy()) == 6
    for a, b in zip(model.weights + optimizer.variables,
                    fresh_model.weights + fresh_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_keras_restore_into_built_model(tmp_path):
    model, _ = _model_and_optimizer()
    model(np.ones((2, 3), np.float32))
    path = Checkpoint(model=model).write(str(tmp_path / "m"))
    other, _ = _model_and_optimizer()
    other(np.zeros((1, 3), np.float32))
    Checkpoint(model=other).read(path).assert_consumed()
    for a, b in zip(model.weights, other.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_subclassed_model_uses_attribute_names(tmp_path):
    class Model(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.encoder = tf.keras.layers.Dense(3)
            self.head = tf.keras.layers.Dense(1)

        def call(self, inputs):
            return self.head(self.encoder(inputs))

    model = Model()
    model(np.ones((1, 2), np.float32))
    keys = _keys(Checkpoint(model=model).write(str(tmp_path / "m")))
    assert "model/encoder/kernel" + SUFFIX in keys
    assert "model/head/bias" + SUFFIX in keys


def test_v1_optimizer_slots_round_trip(tmp_path):
    variable = tf.Variable([1.0, 2.0])
    optimizer = tf.compat.v1.train.AdamOptimizer(0.1)
    optimizer.minimize(lambda: tf.reduce_sum(variable ** 2), var_list=[variable])
    path = Checkpoint(v=variable, opt=optimizer).write(str(tmp_path / "v1"))
    assert any(key.startswith("opt/.slots/v/") for key in _keys(path))
    other_variable = tf.Variable([0.0, 0.0])
    other = tf.compat.v1.train.AdamOptimizer(0.1)
    other.minimize(lambda: tf.reduce_sum(other_variable ** 2), var_list=[other_variable])
    Checkpoint(v=other_variable, opt=other).read(path).assert_consumed()
    for a, b in zip(optimizer.variables(), other.variables()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_status_checks(tmp_path):
    path = Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "c"))
    status = Checkpoint(w=tf.Variable(2.0)).restore(path)
    with pytest.raises(AssertionError, match="not bound to checkpointed values"):
        status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Nothing except the root"):
        status.assert_nontrivial_match()
    assert status.expect_partial() is status
    status.run_restore_ops()
    none_status = Checkpoint(v=tf.Variable(1.0)).restore(None)
    with pytest.raises(AssertionError, match="No checkpoint specified"):
        none_status.assert_consumed()


def test_checkpoint_attributes_and_python_numbers():
    variable = tf.Variable(1.0)
    checkpoint = Checkpoint(v=variable)
    assert checkpoint.v is variable
    checkpoint.extra = tf.Variable(2)
    assert checkpoint.extra.numpy() == 2
    with pytest.raises(ValueError, match="was expecting step to be a trackable object"):
        Checkpoint(step=5)


def test_missing_checkpoint_raises_not_found(tmp_path):
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files"):
        Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "nothing-1"))
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.list_variables(str(tmp_path))


def test_shape_and_dtype_mismatch_raise(tmp_path):
    path = Checkpoint(v=tf.Variable([1.0, 2.0])).write(str(tmp_path / "c"))
    with pytest.raises(ValueError, match=r"incompatible tensor with shape \(2,\).*shape \(3,\)"):
        Checkpoint(v=tf.Variable([1.0, 2.0, 3.0])).read(path)
    with pytest.raises(errors.InvalidArgumentError, match="dtype float32.*dtype int32"):
        Checkpoint(v=tf.Variable([1, 2])).read(path)


@pytest.mark.parametrize("damage", ["index_garbage", "index_other_json", "data_flipped",
                                    "data_missing"])
def test_corrupt_files_raise_data_loss(tmp_path, damage):
    path = Checkpoint(v=tf.Variable(np.arange(10.0))).write(str(tmp_path / "c"))
    index, data = path + ".index", path + checkpoint_lib.DATA_SUFFIX
    if damage == "index_garbage":
        Path(index).write_bytes(b"\x00garbage")
    elif damage == "index_other_json":
        Path(index).write_text('{"format": "something-else"}')
    elif damage == "data_flipped":
        content = bytearray(Path(data).read_bytes())
        content[len(content) // 2] ^= 0xFF
        Path(data).write_bytes(bytes(content))
    else:
        os.remove(data)
    with pytest.raises(errors.DataLossError, match=os.path.basename(path)):
        Checkpoint(v=tf.Variable(np.zeros(10))).read(path)


def test_pickled_data_is_refused(tmp_path):
    path = Checkpoint(v=tf.Variable(1.0)).write(str(tmp_path / "c"))
    data = path + checkpoint_lib.DATA_SUFFIX
    with open(data, "wb") as handle:
        np.savez(handle, t0=np.array([{"evil": 1}], dtype=object))
    index = json.loads(Path(path + ".index").read_text())
    content = Path(data).read_bytes()

    index["data_crc32"] = zlib.crc32(content)
    Path(path + ".index").write_text(json.dumps(index))
    with pytest.raises(errors.DataLossError, match="cannot be read safely"):
        Checkpoint(v=tf.Variable(0.0)).read(path)


def test_interrupted_overwrite_rolls_forward(tmp_path, monkeypatch):
    variable = tf.Variable([1.0, 1.0])
    checkpoint = Checkpoint(v=variable)
    prefix = str(tmp_path / "c")
    checkpoint.write(prefix)
    variable.assign([2.0, 2.0])
    real_replace = os.replace

    def die_before_index(source, target):
        if target.endswith(".index"):
            raise KeyboardInterrupt("killed")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", die_before_index)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.write(prefix)
    monkeypatch.setattr(os, "replace", real_replace)
    target = tf.Variable([0.0, 0.0])
    Checkpoint(v=target).read(prefix).assert_consumed()
    np.testing.assert_array_equal(target.numpy(), [2.0, 2.0])


_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import ndflow as tf
    directory, mode = sys.argv[1], sys.argv[2]
    values = [tf.Variable(np.zeros(20000, np.float32)) for _ in range(4)]
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(values=values, step=step)
    manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=2)
    print("ready", flush=True)
    while True:
        step.assign_add(1)
        for v in values:
            v.assign(np.full(20000, float(step.numpy()), np.float32))
        if mode == "manager":
            manager.save()
        else:
            checkpoint.write(directory + "/fixed")
""")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["manager", "overwrite"])
def test_kill_mid_save_keeps_latest_checkpoint_restorable(tmp_path, mode):
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    randomness = random.Random(7)
    restored = 0
    for attempt in range(4):
        directory = tmp_path / f"run{attempt}"
        directory.mkdir()
        child = subprocess.Popen([sys.executable, str(script), str(directory), mode],
                                 stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(0.15 + randomness.random() * 0.3)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        prefix = (tf.train.latest_checkpoint(str(directory)) if mode == "manager"
                  else str(directory / "fixed"))
        if prefix is None or not os.path.exists(prefix + ".index"):
            continue  # killed before the first save completed
        values = [tf.Variable(np.zeros(20000, np.float32)) for _ in range(4)]
        step = tf.Variable(0, dtype=tf.int64)
        tf.train.Checkpoint(values=values, step=step).restore(prefix).assert_consumed()
        for v in values:
            np.testing.assert_array_equal(v.numpy(), float(step.numpy()))
        assert step.numpy() >= 1
        restored += 1
    assert restored >= 3
