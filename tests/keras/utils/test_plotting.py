"""plot_model / model_to_dot: pydot and Graphviz when present, DOT text otherwise."""

from pathlib import Path

import pytest

import ndflow as tf
from ndflow.keras.utils import plotting


def _functional():
    inputs = tf.keras.Input((4,), name="features")
    left = tf.keras.layers.Dense(3, name="left")(inputs)
    right = tf.keras.layers.Dense(3, activation="relu", name="right")(inputs)
    outputs = tf.keras.layers.Dense(1, name="out")(left + right)
    return tf.keras.Model(inputs, outputs, name="two_branches")


def test_model_to_dot_lists_layers_and_edges():
    dot = tf.keras.utils.model_to_dot(_functional(), show_shapes=True,
                                      show_layer_activations=True)
    text = dot.to_string()
    assert text.startswith('digraph "two_branches"')
    for label in ("features (InputLayer)", "left (Dense)", "right (Dense)", "out (Dense)",
                  "activation: relu", "output: (None, 3)"):
        assert label in text, label
    assert text.count("->") == 5  # input->left, input->right, left->add, right->add, add->out


def test_sequential_chain_edges():
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(2),
                                 tf.keras.layers.Dense(1)])
    text = tf.keras.utils.model_to_dot(model).to_string()
    assert text.count("->") == 2  # input -> dense -> dense_1
    assert f"{model.layers[-1].name} (Dense)" in text


def test_plot_model_writes_dot_text(tmp_path):
    path = tf.keras.utils.plot_model(_functional(), to_file=str(tmp_path / "m.dot"))
    assert path == str(tmp_path / "m.dot")
    assert "left (Dense)" in Path(path).read_text()


def test_plot_model_without_graphviz_falls_back_to_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(plotting.shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="`dot` program is not installed.*model.dot"):
        path = tf.keras.utils.plot_model(_functional(), to_file=str(tmp_path / "model.png"))
    assert path == str(tmp_path / "model.dot")
    assert not (tmp_path / "model.png").exists()
    assert Path(path).read_text().startswith("digraph")
