"""Tests for ndflow/keras/layers/merging.py: Keras 3's numbers (fixtures), the harness, the
functional forms, masks, and errors naming the layer and shapes."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.layer_helpers import check_fit_lowers_loss, check_layer
from tests.keras.layers.layers_a_cases import cases_for, run_case


@pytest.mark.parametrize("case", cases_for("merging"))
def test_matches_keras(case):
    run_case(case)


HARNESS = [
    ("add", layers.Add, {}, [(2, 3), (2, 3)], (2, 3)),
    ("subtract", layers.Subtract, {}, [(2, 3, 2), (2, 3, 2)], (2, 3, 2)),
    ("multiply_broadcast", layers.Multiply, {}, [(2, 3, 4), (2, 4)], (2, 3, 4)),
    ("average", layers.Average, {}, [(2, 3), (2, 3), (2, 3)], (2, 3)),
    ("maximum", layers.Maximum, {}, [(2, 3), (2, 1)], (2, 3)),
    ("minimum", layers.Minimum, {}, [(2, 3), (2, 3)], (2, 3)),
    ("concatenate", layers.Concatenate, {"axis": 1}, [(2, 3, 2), (2, 4, 2)], (2, 7, 2)),
    ("dot", layers.Dot, {"axes": 1}, [(2, 3), (2, 3)], (2, 1)),
    ("dot_3d_normalize", layers.Dot, {"axes": (2, 2), "normalize": True},
     [(2, 3, 4), (2, 5, 4)], (2, 3, 5)),
]


@pytest.mark.parametrize("name, cls, kwargs, shapes, out", HARNESS,
                         ids=[h[0] for h in HARNESS])
def test_layer_harness(name, cls, kwargs, shapes, out):
    check_layer(cls, kwargs, shapes, out, 0, 0)


@pytest.mark.parametrize("cls, kwargs, shapes", [
    (layers.Add, {}, [(4, 3), (4, 3)]),
    (layers.Concatenate, {}, [(4, 3), (4, 2)]),
    (layers.Dot, {"axes": -1}, [(4, 3, 2), (4, 5, 2)]),
], ids=["add", "concatenate", "dot"])
def test_fit_lowers_loss(cls, kwargs, shapes):
    check_fit_lowers_loss(cls, kwargs, shapes)


def test_functional_forms():
    a = keras.Input((3,))
    b = keras.Input((3,))
    outputs = [layers.add([a, b]), layers.subtract([a, b]), layers.multiply([a, b]),
               layers.average([a, b]), layers.maximum([a, b]), layers.minimum([a, b]),
               layers.concatenate([a, b]), layers.dot([a, b], axes=1)]
    model = keras.Model([a, b], outputs)
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    y = np.array([[2.0, 2.0, -1.0]], "float32")
    results = [r.numpy() for r in model([x, y])]
    expected = [x + y, x - y, x * y, (x + y) / 2, np.maximum(x, y), np.minimum(x, y),
                np.concatenate([x, y], 1), np.sum(x * y, 1, keepdims=True)]
    for result, value in zip(results, expected):
        np.testing.assert_allclose(result, value)


def test_masks_are_or_combined_and_concatenated():
    x = tf.ones((1, 3, 2))
    m1 = tf.constant([[True, False, False]])
    m2 = tf.constant([[False, False, True]])
    np.testing.assert_array_equal(layers.Add().compute_mask([x, x], [m1, m2]).numpy(),
                                  [[True, False, True]])
    assert layers.Add().compute_mask([x, x], [m1, None]) is None
    mask = layers.Concatenate(axis=1).compute_mask([x, x], [m1, None])
    np.testing.assert_array_equal(mask.numpy(), [[True, False, False, True, True, True]])


def test_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Add 'add_a' expects inputs of compatible shapes, got "
                                         r"input shapes \(3,\) and \(4,\)"):
        layers.Add(name="add_a")([tf.ones((2, 3)), tf.ones((2, 4))])
    with pytest.raises(ValueError, match=r"Subtract 'sub_a' should be called on exactly 2"):
        layers.Subtract(name="sub_a")([tf.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match=r"Concatenate 'cat_a' expects inputs with matching "
                                         r"shapes.*\(2, 3, 4\)"):
        layers.Concatenate(name="cat_a")([tf.ones((2, 3, 4)), tf.ones((2, 2, 4))])
    with pytest.raises(ValueError, match=r"Dot 'dot_a' expects equal sizes on axes \[1, 1\]"):
        layers.Dot(axes=1, name="dot_a")([tf.ones((2, 3)), tf.ones((2, 4))])
    with pytest.raises(ValueError, match=r"Add 'add_b' should be called on a list"):
        layers.Add(name="add_b")(tf.ones((2, 3)))
    with pytest.raises(ValueError, match="axes"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([tf.ones((2, 3)), tf.ones((3, 3))])


def test_live_keras_dot():
    keras_ref = pytest.importorskip("keras")
    if not hasattr(keras_ref, "layers"):
        pytest.skip("real Keras is not importable")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 4)).astype("float32"), rng.standard_normal(
        (2, 4)).astype("float32")
    expected = np.asarray(keras_ref.layers.Dot(axes=(2, 1))([x, y]))
    np.testing.assert_allclose(layers.Dot(axes=(2, 1))([x, y]).numpy(), expected, rtol=1e-5)
