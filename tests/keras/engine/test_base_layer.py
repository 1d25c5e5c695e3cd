"""Layer.__call__ eagerly: `training` reaches nested layers and is restored after the call (also
after an error), and masks pass through mask-supporting layers only when there is one."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import layers


class _Recorder(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


class _Outer(layers.Layer):
    def __init__(self, fail=False, **kwargs):
        super().__init__(**kwargs)
        self.inner = _Recorder()
        self.fail = fail

    def call(self, inputs):  # takes no `training`: nested layers get it from the context
        outputs = self.inner(inputs)
        if self.fail:
            raise RuntimeError("boom")
        return outputs


def test_training_reaches_nested_layers_and_is_restored():
    x = tf.constant(np.ones((2, 3), np.float32))
    outer = _Outer()
    outer(x, training=True)
    outer(x)
    outer(x, training=False)
    assert outer.inner.seen == [True, None, False]
    failing = _Outer(fail=True)
    with pytest.raises(RuntimeError, match="boom"):
        failing(x, training=True)
    failing.fail = False
    failing(x)
    assert failing.inner.seen == [True, None]


def test_masks_pass_through_only_when_present():
    x = np.array([[[1.0], [0.0], [2.0]]], np.float32)
    masked = layers.Masking(mask_value=0.0)(tf.constant(x))
    dense = layers.Dense(2)
    out = dense(masked)
    assert out._keras_mask.numpy().tolist() == [[True, False, True]]
    plain = dense(tf.constant(x))
    assert getattr(plain, "_keras_mask", None) is None
    out = dense(masked)  # and again after an unmasked call
    assert out._keras_mask.numpy().tolist() == [[True, False, True]]
