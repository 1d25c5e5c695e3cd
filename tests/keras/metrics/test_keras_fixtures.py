"""Every metric family against Keras 3 fixtures: three batches (the second weighted),
including AUC (ROC/PR, summation methods, multi-label), thresholds, top_k and class_id."""

import json
import os

import numpy as np
import pytest

from ndflow.keras import metrics

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), os.pardir, "fixtures",
                                "keras_losses_metrics.npz"))
CASES = [case for case in json.loads(str(FIXTURES["cases"])) if case["kind"] == "metric"]


def _case_id(case):
    config = ",".join(f"{k}={v}" for k, v in case["config"].items())
    return f"{case['cls']}({config})"


def _run(case):
    metric = getattr(metrics, case["cls"])(**case["config"])
    for index, (y_true, y_pred, weight) in enumerate(case["batches"]):
        sample_weight = FIXTURES[weight] if index == 1 else None
        if case["cls"] in ("MeanIoU", "IoU") and sample_weight is not None:
            sample_weight = np.round(sample_weight)
        metric.update_state(FIXTURES[y_true], FIXTURES[y_pred], sample_weight=sample_weight)
    return metric


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_metric_matches_keras_fixture(case):
    metric = _run(case)
    expected = FIXTURES[case["expected"]]
    result = metric.result().numpy()
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_reset_state_then_config_round_trip(case):
    metric = _run(case)
    metric.reset_state()
    for variable in metric.variables:
        assert not np.any(variable.numpy())
    restored = type(metric).from_config(metric.get_config())
    assert restored.get_config() == metric.get_config()
