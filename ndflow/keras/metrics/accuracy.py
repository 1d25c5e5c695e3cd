"""Accuracy metrics and their function forms: `Accuracy`, `BinaryAccuracy`,
`CategoricalAccuracy`, `SparseCategoricalAccuracy`, `TopKCategoricalAccuracy`,
`SparseTopKCategoricalAccuracy` (all means of per-sample 0/1 matches, as Keras 3)."""

import ndflow as tf
from ndflow.keras import losses as losses_module
from ndflow.keras.losses import _to_tensor, squeeze_or_expand_to_same_rank
from ndflow.keras.metrics.reduction import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred` exactly, else 0.0."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return tf.cast(tf.equal(y_true, y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `(y_pred > threshold) == y_true`, else 0.0."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    losses_module._check_shapes("binary_accuracy", y_true, y_pred)
    y_pred = tf.cast(tf.greater(y_pred, tf.cast(threshold, y_pred.dtype)), y_true.dtype)
    return tf.cast(tf.equal(y_true, y_pred), "float32")


def _argmax_matches(labels, y_pred):
    predicted = tf.cast(tf.argmax(y_pred, axis=-1), labels.dtype)
    return tf.cast(tf.equal(labels, predicted), "float32")


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of `y_pred` is the argmax of the one-hot `y_true`."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true)
    losses_module._check_shapes("categorical_accuracy", y_true, y_pred, exact=True)
    return _argmax_matches(tf.argmax(y_true, axis=-1), y_pred)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of `y_pred` equals the integer label (shape `(N,)` or `(N, 1)`)."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype)
    true_rank = y_true.shape.rank
    if true_rank is not None and true_rank == y_pred.shape.rank and y_true.shape[-1] == 1:
        y_true = tf.squeeze(y_true, axis=[-1])
    losses_module._check_sparse_shapes("sparse_categorical_accuracy", y_true, y_pred)
    return _argmax_matches(y_true, y_pred)


def _in_top_k(targets, predictions, k):
    """TF's `in_top_k`: the target's score has fewer than k strictly larger scores (ties at
    the boundary count as in), and a non-finite target score is never in."""
    depth = losses_module.num_classes(predictions)
    one_hot = tf.one_hot(targets, depth, dtype=predictions.dtype)
    target_score = tf.reduce_sum(one_hot * tf.where(tf.math.is_finite(predictions),
                                                    predictions, tf.zeros_like(predictions)),
                                 axis=-1, keepdims=True)
    finite = tf.reduce_all(tf.logical_or(tf.equal(one_hot, 0.0),
                                         tf.math.is_finite(predictions)), axis=-1)
    larger = tf.reduce_sum(tf.cast(tf.greater(predictions, target_score), "int32"), axis=-1)
    in_range = tf.logical_and(tf.greater_equal(targets, 0), tf.less(targets, depth))
    return tf.logical_and(tf.logical_and(tf.less(larger, k), finite), in_range)


def _top_k_matches(labels, y_pred, k):
    shape = tf.shape(labels)
    flat_pred = tf.reshape(y_pred, [-1, losses_module.num_classes(y_pred)])
    matches = _in_top_k(tf.reshape(tf.cast(labels, "int32"), [-1]), flat_pred, k)
    return tf.reshape(tf.cast(matches, "float32"), shape)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the `k` highest scores."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype)
    losses_module._check_shapes("top_k_categorical_accuracy", y_true, y_pred, exact=True)
    return _top_k_matches(tf.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the `k` highest scores (or, with
    `from_sorted_ids`, among the first `k` ids of `y_pred`)."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype if from_sorted_ids else "int32")
    if from_sorted_ids:
        found = tf.equal(tf.expand_dims(y_true, -1), y_pred[..., :k])
        return tf.cast(tf.reduce_any(found, axis=-1), "float32")
    true_rank = y_true.shape.rank
    if true_rank is not None and true_rank == y_pred.shape.rank and y_true.shape[-1] == 1:
        y_true = tf.squeeze(y_true, axis=[-1])
    losses_module._check_sparse_shapes("sparse_top_k_categorical_accuracy", y_true, y_pred)
    return _top_k_matches(y_true, y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches the binary label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class matches the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top `k` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top `k` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
