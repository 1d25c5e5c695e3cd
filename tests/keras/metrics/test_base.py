"""Tests for the Metric contract (ndflow/keras/metrics/base.py and reduction.py) and the
package's get/serialize/deserialize/resolve_by_loss."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import losses, metrics


def test_mean_over_batches_with_weights():
    metric = metrics.Mean()
    metric.update_state([1.0, 2.0, 3.0])
    metric.update_state([[4.0, 6.0]], sample_weight=[2.0])
    np.testing.assert_allclose(metric.result().numpy(), (6 + 5 * 2) / 5)
    assert [v.name for v in metric.variables] == ["total:0", "count:0"]
    assert all(not v.trainable for v in metric.variables)


def test_sum_and_reset_states_alias():
    metric = metrics.Sum()
    assert metric([1.0, 2.0], sample_weight=[1.0, 3.0]).numpy() == 7.0
    metric.reset_states()
    assert metric.result().numpy() == 0.0


def test_mean_metric_wrapper_over_batches_vs_numpy():
    rng = np.random.RandomState(1)
    metric = metrics.MeanMetricWrapper(losses.mean_squared_error, name="mse")
    batches = [(rng.randn(4, 3), rng.randn(4, 3)) for _ in range(3)]
    for y_true, y_pred in batches:
        metric.update_state(y_true, y_pred)
    expected = np.mean([((t - p) ** 2).mean(-1) for t, p in batches])
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5)
    assert metric.name == "mse"


def test_metrics_update_inside_function():
    metric = metrics.SparseCategoricalAccuracy()
    auc = metrics.AUC(num_thresholds=11)

    @tf.function
    def step(y_true, y_pred):
        metric.update_state(y_true, y_pred)
        auc.update_state(tf.cast(y_true > 0, "float32"), y_pred[:, 1])
        return metric.result()

    y_pred = tf.constant([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    step(tf.constant([0, 1, 1]), y_pred)
    value = step(tf.constant([0, 1, 1]), y_pred)
    np.testing.assert_allclose(value.numpy(), 2 / 3, rtol=1e-6)
    eager = metrics.AUC(num_thresholds=11)
    eager.update_state(np.array([0.0, 1.0, 1.0] * 2), np.array([0.1, 0.8, 0.4] * 2))
    np.testing.assert_allclose(auc.result().numpy(), eager.result().numpy(), rtol=1e-6)


def test_auc_matches_exact_roc_for_distinct_scores():
    rng = np.random.RandomState(3)
    y_true = rng.randint(0, 2, 200).astype("float32")
    y_pred = rng.uniform(size=200).astype("float32")
    pos, neg = y_pred[y_true == 1], y_pred[y_true == 0]
    exact = (pos[:, None] > neg[None, :]).mean()
    auc = metrics.AUC(num_thresholds=2000)
    np.testing.assert_allclose(auc(y_true, y_pred).numpy(), exact, atol=2e-3)


def test_subclass_with_add_weight():
    class Count(metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seen = self.add_weight(name="seen", initializer="zeros")

        def update_state(self, values):
            self.seen.assign_add(tf.cast(tf.size(values), "float32"))

        def result(self):
            return self.seen.read_value()

    metric = Count()
    assert metric.name.startswith("count")
    assert metric([1, 2, 3]).numpy() == 3.0
    metric.reset_state()
    assert metric.result().numpy() == 0.0


def test_add_variable_before_super_init():
    class Broken(metrics.Metric):
        def __init__(self):
            self.add_variable((), "zeros")

    with pytest.raises(RuntimeError, match="Broken.*super"):
        Broken()


def test_get_identifiers():
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("sparse_categorical_accuracy"),
                      metrics.SparseCategoricalAccuracy)
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    config = metrics.serialize(metrics.Precision(thresholds=[0.3, 0.6]))
    restored = metrics.deserialize(config)
    assert isinstance(restored, metrics.Precision) and restored.thresholds == [0.3, 0.6]
    acc = metrics.get("acc")
    np.testing.assert_allclose(acc([[0], [1]], [[0.2, 0.8], [0.1, 0.9]]).numpy(), 0.5)
    assert acc.name == "acc"


def test_get_unknown_metric():
    with pytest.raises(ValueError, match="'precison'.*'precision'"):
        metrics.get("precison")


@pytest.mark.parametrize("name,loss,true_shape,pred_shape,expected", [
    ("accuracy", "binary_crossentropy", (None, 1), (None, 1), metrics.BinaryAccuracy),
    ("accuracy", "sparse_categorical_crossentropy", (None,), (None, 10),
     metrics.SparseCategoricalAccuracy),
    ("acc", None, (None, 1), (None, 10), metrics.SparseCategoricalAccuracy),
    ("accuracy", "categorical_crossentropy", (None, 10), (None, 10),
     metrics.CategoricalAccuracy),
    ("accuracy", losses.SparseCategoricalCrossentropy(), None, (None, 10),
     metrics.SparseCategoricalAccuracy),
], ids=["binary", "sparse", "sparse_column", "categorical", "by_loss_when_shape_unknown"])
def test_resolve_by_loss_accuracy(name, loss, true_shape, pred_shape, expected):
    metric = metrics.resolve_by_loss(name, loss, true_shape, pred_shape)
    assert type(metric) is expected and metric.name == name


def test_resolve_by_loss_crossentropy():
    metric = metrics.resolve_by_loss("ce", "binary_crossentropy", (None, 1), (None, 1))
    assert metric._fn is losses.binary_crossentropy and metric.name == "ce"
    with pytest.raises(ValueError, match="resolve_by_loss.*'mse'"):
        metrics.resolve_by_loss("mse", None, None, None)


def test_function_forms():
    np.testing.assert_allclose(
        metrics.binary_accuracy(np.array([1.0, 0.0]), np.array([0.7, 0.6])).numpy(),
        [1.0, 0.0])
    np.testing.assert_allclose(
        metrics.top_k_categorical_accuracy(np.eye(3)[[2, 2]], np.array(
            [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]]), k=2).numpy(), [0.0, 1.0])
    np.testing.assert_allclose(metrics.mse(np.ones((2, 2)), np.zeros((2, 2))).numpy(), [1, 1])


def test_wrong_shapes_name_metric_and_shapes():
    with pytest.raises(ValueError, match=r"categorical_accuracy.*\(2, 3\).*\(2, 4\)"):
        metrics.CategoricalAccuracy()(np.eye(3)[[0, 1]], np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"sparse_categorical_accuracy.*\(2, 2\).*\(2, 3\)"):
        metrics.SparseCategoricalAccuracy()(np.zeros((2, 2)), np.ones((2, 3)))


@pytest.mark.parametrize("make,message", [
    (lambda: metrics.AUC(curve="ROCK"), "Invalid AUC curve"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: metrics.Precision(thresholds=[1.5]), r"\[0, 1\].*1.5"),
    (lambda: metrics.PrecisionAtRecall(recall=2.0), "recall=2.0"),
    (lambda: metrics.FBetaScore(beta=1), "beta"),
    (lambda: metrics.R2Score(class_aggregation="max"), "class_aggregation"),
    (lambda: metrics.IoU(num_classes=2, target_class_ids=[3]), "Target class id 3"),
], ids=["auc_curve", "auc_thresholds", "precision_thresholds", "precision_at_recall",
        "fbeta_beta", "r2_aggregation", "iou_target"])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_r2_and_fbeta_need_2d_inputs():
    with pytest.raises(ValueError, match=r"R2Score expects 2D.*\(4,\)"):
        metrics.R2Score().update_state(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"F1Score expects 2D.*\(4,\)"):
        metrics.F1Score().update_state(np.ones(4), np.ones(4))
