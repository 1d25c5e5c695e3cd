"""The layer harness: `check_layer` builds and calls a layer eagerly, inside `ndflow.function`
and symbolically (Functional API), checks output shapes against `compute_output_shape`,
parameter counts, the `get_config`/`from_config` round trip and `get_weights`/`set_weights`;
`check_fit_lowers_loss` runs a few SGD steps of `fit` with an MSE loss."""

import json

import numpy as np

import ndflow as tf
from ndflow import keras


def _sample(shape, rng, dtype="float32"):
    concrete = tuple(2 if d is None else d for d in shape)
    return rng.standard_normal(concrete).astype(dtype)


def _multi(input_shape):
    return isinstance(input_shape, list)


def _count(weights):
    return int(sum(np.prod(w.shape.as_list(), dtype=np.int64) for w in weights))


def _assert_shape(actual, expected, what):
    actual = tuple(actual)
    expected = tuple(expected)
    assert len(actual) == len(expected), f"{what}: {actual} != {expected}"
    for a, e in zip(actual, expected):
        assert e is None or a is None or a == e, f"{what}: {actual} != {expected}"


def _numpy(value):
    return [_numpy(v) for v in value] if isinstance(value, (list, tuple)) else np.asarray(value)


def check_layer(cls, kwargs, input_shape, expected_output_shape, n_trainable, n_non_trainable,
                seed=0, call_kwargs=None, atol=1e-5):
    """Checks one layer configuration end to end; returns the built layer.

    `input_shape` includes the batch size (a list of shapes for multi-input layers).
    """
    rng = np.random.default_rng(seed)
    call_kwargs = call_kwargs or {}
    shapes = input_shape if _multi(input_shape) else [input_shape]
    arrays = [_sample(s, rng) for s in shapes]
    inputs = [tf.constant(a) for a in arrays] if _multi(input_shape) else tf.constant(arrays[0])

    layer = cls(**kwargs)
    outputs = layer(inputs, **call_kwargs)
    _assert_shape(outputs.shape.as_list(), expected_output_shape, "eager output shape")
    _assert_shape(layer.compute_output_shape(input_shape), expected_output_shape,
                  "compute_output_shape")
    assert _count(layer.trainable_weights) == n_trainable
    assert _count(layer.non_trainable_weights) == n_non_trainable
    assert layer.count_params() == n_trainable + n_non_trainable

    traced = tf.function(lambda *xs: layer(list(xs) if _multi(input_shape) else xs[0],
                                           **call_kwargs))
    graph_out = traced(*(inputs if _multi(input_shape) else [inputs]))
    np.testing.assert_allclose(graph_out.numpy(), outputs.numpy(), rtol=1e-5, atol=atol)

    config = layer.get_config()
    json.dumps(config, default=list)
    clone = cls.from_config(config)
    clone(inputs, **call_kwargs)
    clone.set_weights(layer.get_weights())
    for mine, theirs in zip(clone.get_weights(), layer.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_allclose(clone(inputs, **call_kwargs).numpy(), outputs.numpy(),
                               rtol=1e-5, atol=atol)
    assert clone.get_config() == {**config, "name": clone.name}

    check_symbolic(cls, kwargs, input_shape, expected_output_shape, call_kwargs)
    return layer


def check_symbolic(cls, kwargs, input_shape, expected_output_shape, call_kwargs=None):
    """Calls the layer on `keras.Input`s with an unknown batch size and runs the model."""
    shapes = input_shape if _multi(input_shape) else [input_shape]
    symbolic = [keras.Input(shape=tuple(s[1:])) for s in shapes]
    layer = cls(**kwargs)
    output = layer(symbolic if _multi(input_shape) else symbolic[0], **(call_kwargs or {}))
    expected = (None,) + tuple(expected_output_shape)[1:]
    _assert_shape(output.shape.as_list(), expected, "symbolic output shape")
    assert output.shape.as_list()[1:] == list(expected[1:]), (output.shape, expected)
    model = keras.Model(symbolic if _multi(input_shape) else symbolic[0], output)
    rng = np.random.default_rng(1)
    arrays = [_sample(s, rng) for s in shapes]
    predicted = model(arrays if _multi(input_shape) else arrays[0])
    direct = layer([tf.constant(a) for a in arrays] if _multi(input_shape) else
                   tf.constant(arrays[0]))
    np.testing.assert_allclose(_numpy(predicted), _numpy(direct), rtol=1e-5, atol=1e-5)


def check_fit_lowers_loss(cls, kwargs, input_shape, epochs=3, learning_rate=0.05):
    """`fit` with SGD on MSE to a fixed random target lowers the loss. A Dense on the last
    axis goes before the layer, so weightless layers have something to train."""
    tf.random.set_seed(0)
    shapes = input_shape if _multi(input_shape) else [input_shape]
    symbolic = [keras.Input(shape=tuple(s[1:])) for s in shapes]
    projected = [keras.layers.Dense(s[-1])(x) for s, x in zip(shapes, symbolic)]
    output = cls(**kwargs)(projected if _multi(input_shape) else projected[0])
    model = keras.Model(symbolic if _multi(input_shape) else symbolic[0], output)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    rng = np.random.default_rng(2)
    batch = 8
    arrays = [_sample((batch,) + tuple(s[1:]), rng) for s in shapes]
    x = arrays if _multi(input_shape) else arrays[0]
    target = rng.standard_normal((batch,) + tuple(output.shape.as_list()[1:])).astype("float32")
    before = float(np.mean((_numpy(model(x)) - target) ** 2))
    history = model.fit(x, target, batch_size=batch, epochs=epochs, verbose=0)
    after = float(np.mean((_numpy(model(x)) - target) ** 2))
    assert np.isfinite(history.history["loss"]).all()
    assert after < before, (before, after)
