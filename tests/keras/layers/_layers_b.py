"""Shared by the part-B layer tests: compare a case of fixtures/layers_b_cases.py with the
outputs real Keras 3 gave (fixtures/layers_b.npz, written by make_layers_b_fixtures.py)."""

import os

import numpy as np

import ndflow as tf
from tests.keras.fixtures.layers_b_cases import CASES, WRAPPER_CASES, run_case

_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "fixtures", "layers_b.npz")


def names(*classes):
    """Case names whose layer (or wrapper) class is one of `classes`."""
    found = [n for n, c in CASES.items() if c[0] in classes]
    return found + [n for n, c in WRAPPER_CASES.items() if c[0] in classes]


def check_against_keras(name, atol=2e-6):
    data = np.load(_FIXTURES)
    outputs, shapes = run_case(tf.keras.layers, name)
    assert [str(s) for s in shapes] == list(data[f"{name}/weight_shapes"])
    for index, output in enumerate(outputs):
        expected = data[f"{name}/output_{index}"]
        assert output.shape == expected.shape
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=atol)
