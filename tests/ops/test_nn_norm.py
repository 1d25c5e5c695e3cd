"""Tests for ndflow/ops/nn_norm.py: moments, batch_normalization, the fused batch norm and its
gradient primitive (to second order), l2_normalize, LRN and dropout, against TF's numbers
(fixtures/nn.npz) and NumPy."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors
from tests.helpers import check_grad
from tests.ops.test_nn import CASES, check_fixture_case

NORM_CASES = [c for c in CASES if c["fn"] in {
    "moments", "batch_normalization", "fused_batch_norm", "l2_normalize",
    "local_response_normalization", "dropout"}]
RNG = np.random.default_rng(1)


def _normal(*shape, scale=1.0):
    return scale * RNG.standard_normal(shape)


@pytest.mark.parametrize("case", NORM_CASES, ids=[c["name"] for c in NORM_CASES])
def test_matches_tensorflow_fixture(case):
    check_fixture_case(case, rtol=5e-5, atol=5e-6)
