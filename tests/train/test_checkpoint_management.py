"""CheckpointManager retention rules, the `checkpoint` state file, latest_checkpoint."""

import os

import pytest

import ndflow as tf
from ndflow.train import checkpoint_management


def _manager(directory, **kwargs):
    variable = tf.Variable(0.0)
    checkpoint = tf.train.Checkpoint(v=variable)
    return tf.train.CheckpointManager(checkpoint, str(directory), **kwargs), variable


def _prefixes(directory):
    return sorted(name[:-len(".index")] for name in os.listdir(directory)
                  if name.endswith(".index"))


def test_max_to_keep_deletes_oldest(tmp_path):
    manager, _ = _manager(tmp_path, max_to_keep=2)
    paths = [manager.save() for _ in range(4)]
    assert paths == [str(tmp_path / f"ckpt-{i}") for i in range(1, 5)]
    assert manager.checkpoints == paths[2:]
    assert manager.latest_checkpoint == paths[-1]
    assert _prefixes(tmp_path) == ["ckpt-3", "ckpt-4"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    assert not any(name.endswith(".tmp") or ".pending" in name for name in os.listdir(tmp_path))


def test_state_file_is_tensorflow_text_format(tmp_path):
    manager, _ = _manager(tmp_path, max_to_keep=2)
    for _ in range(3):
        manager.save()
    lines = (tmp_path / "checkpoint").read_text().splitlines()
    assert lines[0] == 'model_checkpoint_path: "ckpt-3"'
    assert lines[1:3] == ['all_model_checkpoint_paths: "ckpt-2"',
                          'all_model_checkpoint_paths: "ckpt-3"']
    assert sum(line.startswith("all_model_checkpoint_timestamps: ") for line in lines) == 2
    assert lines[-1].startswith("last_preserved_timestamp: ")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "ckpt-3")
    assert state.all_model_checkpoint_paths == [str(tmp_path / "ckpt-2"),
                                                str(tmp_path / "ckpt-3")]


def test_max_to_keep_none_keeps_everything(tmp_path):
    manager, _ = _manager(tmp_path, max_to_keep=None)
    for _ in range(5):
        manager.save()
    assert len(_prefixes(tmp_path)) == 5


def test_new_manager_recovers_state_and_keeps_numbering(tmp_path):
    manager, variable = _manager(tmp_path, max_to_keep=2)
    manager.save()
    variable.assign(5.0)
    manager.save()
    again, restored = _manager(tmp_path, max_to_keep=2)
    assert again.checkpoints == manager.checkpoints
    assert again.restore_or_initialize() == str(tmp_path / "ckpt-2")
    assert restored.numpy() == 5.0
    assert again.save() == str(tmp_path / "ckpt-3")  # save_counter was restored
    assert again.save() == str(tmp_path / "ckpt-4")
    assert _prefixes(tmp_path) == ["ckpt-3", "ckpt-4"]


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(checkpoint_management.time, "time", lambda: clock[0])
    manager, _ = _manager(tmp_path, max_to_keep=1, keep_checkpoint_every_n_hours=1)
    for _ in range(6):  # one save every 30 minutes
        clock[0] += 1800.0
        manager.save()
    # ckpt-2 (1 h after the start) and ckpt-4 (1 h later) are preserved, unlisted.
    assert _prefixes(tmp_path) == ["ckpt-2", "ckpt-4", "ckpt-6"]
    assert manager.checkpoints == [str(tmp_path / "ckpt-6")]


def test_checkpoint_interval_uses_step_counter(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(step=step)
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), max_to_keep=None,
                                         step_counter=step, checkpoint_interval=3)
    saved = []
    for _ in range(7):
        saved.append(manager.save() is not None)
        step.assign_add(1)
    assert saved == [True, False, False, True, False, False, True]
    assert manager.checkpoint_interval == 3
    assert manager.save(check_interval=False) is not None


def test_explicit_checkpoint_number(tmp_path):
    manager, _ = _manager(tmp_path, max_to_keep=3)
    assert manager.save(checkpoint_number=100) == str(tmp_path / "ckpt-100")
    step = tf.Variable(7, dtype=tf.int64)
    assert manager.save(checkpoint_number=step) == str(tmp_path / "ckpt-7")
    assert manager.latest_checkpoint == str(tmp_path / "ckpt-7")


def test_restore_or_initialize_calls_init_fn(tmp_path):
    called = []
    variable = tf.Variable(1.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=variable), str(tmp_path), 1,
                                         init_fn=lambda: called.append(True))
    assert manager.restore_or_initialize() is None
    assert called == [True]


def test_custom_checkpoint_name(tmp_path):
    manager, _ = _manager(tmp_path, max_to_keep=1, checkpoint_name="model")
    assert manager.save() == str(tmp_path / "model-1")


@pytest.mark.parametrize("kwargs, message", [
    ({"max_to_keep": 0}, "Expected a positive integer or `None` for `max_to_keep`, got 0"),
    ({"max_to_keep": 1, "checkpoint_interval": 2}, "`step_counter` should be passed"),
], ids=["max_to_keep_zero", "interval_without_counter"])
def test_invalid_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _manager(tmp_path, **kwargs)


def test_latest_checkpoint_missing_or_unreadable(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("this is not a checkpoint state\n")
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone-3"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_paths_outside_directory_stay_absolute(tmp_path):
    other = tmp_path / "other"
    checkpoint_management.update_checkpoint_state(str(tmp_path), str(other / "c-1"))
    text = (tmp_path / "checkpoint").read_text()
    assert f'model_checkpoint_path: "{other / "c-1"}"' in text
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == str(
        other / "c-1")


def test_quoted_paths_round_trip(tmp_path):
    name = 'we"ird\\name-é-1'
    checkpoint_management.update_checkpoint_state(str(tmp_path), str(tmp_path / name))
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / name)
