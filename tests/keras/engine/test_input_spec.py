"""Input spec checks: errors that name the layer and shapes, and the per-spec memory of eager
shapes that already passed (it must never let a bad input through)."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import layers
from ndflow.keras.engine.input_spec import InputSpec


def _ones(*shape):
    return tf.constant(np.ones(shape, np.float32))


def test_accepted_shape_does_not_hide_a_new_bad_shape():
    dense = layers.Dense(2, name="dense_spec")
    dense(_ones(3, 4))
    dense(_ones(5, 4))  # another batch size is fine
    with pytest.raises(ValueError, match=r"Dense 'dense_spec' expects last dimension 4, got "
                                         r"input shape \(3, 5\)"):
        dense(_ones(3, 5))
    with pytest.raises(ValueError, match="Dense 'dense_spec'"):
        dense(_ones(3, 5))  # a failure is not remembered as accepted


def test_changing_the_spec_forgets_accepted_shapes():
    layer = layers.Dropout(0.5, name="dropout_spec")
    layer.input_spec = InputSpec(ndim=2)
    layer(_ones(2, 3))
    layer.input_spec.ndim = 3
    with pytest.raises(ValueError, match=r"expects an input of rank 3, got input shape \(2, 3\)"):
        layer(_ones(2, 3))
    layer.input_spec = InputSpec(axes={-1: 3})
    layer(_ones(2, 3))
    layer.input_spec.axes[-1] = 4  # changed in place
    with pytest.raises(ValueError, match="expects last dimension 4"):
        layer(_ones(2, 3))


def test_symbolic_and_nested_inputs_are_still_checked():
    with pytest.raises(ValueError, match="Dense 'dense_sym' expects last dimension 4"):
        dense = layers.Dense(2, name="dense_sym")
        dense(tf.keras.Input(shape=(4,)))
        dense(tf.keras.Input(shape=(5,)))
    add = layers.Add(name="add_spec")
    add.input_spec = [InputSpec(ndim=2), InputSpec(ndim=2)]
    add([_ones(2, 3), _ones(2, 3)])
    with pytest.raises(ValueError, match="Add 'add_spec' input 1 expects an input of rank 2"):
        add([_ones(2, 3), _ones(2, 3, 1)])
