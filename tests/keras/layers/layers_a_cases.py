"""Keras 3 reference cases for the part-A layers (tests/keras/fixtures/layers_a.npz, written by
make_layers_a_fixtures.py with real Keras): same inputs and weights into ndflow's layer, and
the outputs, weight names/shapes, parameter counts and config keys compared with Keras'."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import layers

_PATH = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures", "layers_a.npz")
FIXTURES = np.load(_PATH)
CASES = json.loads(str(FIXTURES["cases"]))


def cases_for(module):
    return [pytest.param(case, id=case["id"]) for case in CASES if case["module"] == module]


def _weight_name(variable):
    return variable.name.split("/")[-1].split(":")[0]


def run_case(case, atol=1e-5):
    """Builds the ndflow layer of `case`, loads Keras' weights, calls it, and compares."""
    key = case["id"]
    shapes = [tuple(s) for s in case["shapes"]]
    xs = [FIXTURES[f"{key}/x{i}"] for i in range(len(shapes))]
    layer = getattr(layers, case["cls"])(**case["kwargs"])
    call_kwargs = {}
    if case["call"].get("training"):
        call_kwargs["training"] = True
    if case["call"].get("mask"):
        call_kwargs["mask"] = tf.constant(FIXTURES[f"{key}/mask"])
    inputs = [tf.constant(x) for x in xs] if len(xs) > 1 else tf.constant(xs[0])
    layer.build(tf.TensorShape(shapes[0]) if len(shapes) == 1 else
                [tf.TensorShape(s) for s in shapes])
    layer.built = True
    assert [_weight_name(w) for w in layer.weights] == case["weight_names"]
    assert [w.shape.as_list() for w in layer.weights] == case["weight_shapes"]
    weights = [FIXTURES[f"{key}/w{i}"] for i in range(case["n_weights"])]
    if weights:
        layer.set_weights(weights)
    outputs = layer(inputs, **call_kwargs)
    np.testing.assert_allclose(outputs.numpy(), FIXTURES[f"{key}/y"], rtol=1e-4, atol=atol)
    for i, variable in enumerate(layer.weights):
        np.testing.assert_allclose(variable.numpy(), FIXTURES[f"{key}/after{i}"], rtol=1e-5,
                                   atol=1e-6, err_msg=f"weight {i} after the call")
    trainable = sum(int(np.prod(w.shape.as_list())) for w in layer.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape.as_list())) for w in layer.non_trainable_weights)
    assert (trainable, non_trainable) == (case["trainable"], case["non_trainable"])
    expected_shape = tuple(case["output_shape"])
    assert tuple(layer.compute_output_shape(shapes if len(shapes) > 1 else shapes[0])) == \
        expected_shape
    assert tuple(outputs.shape.as_list()) == expected_shape
    missing = set(case["config_keys"]) - set(layer.get_config())
    assert not missing, f"config lacks Keras keys {sorted(missing)}"
    return layer, inputs, outputs


def compare_with_live_keras(cls_name, kwargs, input_shape, seed=0):
    """Differential test against the installed Keras (skipped when it is absent)."""
    keras = pytest.importorskip("keras")
    if not hasattr(keras, "layers"):  # tests/keras shadows the package when tests/ is on sys.path
        pytest.skip("real Keras is not importable")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")
    reference = getattr(keras.layers, cls_name)(**kwargs)
    reference.build(input_shape)
    weights = [rng.standard_normal(tuple(w.shape)).astype("float32") for w in
               reference.weights]
    reference.set_weights(weights)
    layer = getattr(layers, cls_name)(**kwargs)
    layer.build(tf.TensorShape(input_shape))
    layer.built = True
    layer.set_weights(weights)
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), np.asarray(reference(x)),
                               rtol=1e-4, atol=1e-5)
