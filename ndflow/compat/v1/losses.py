"""TF1 `tf.compat.v1.losses`: weighted losses reduced to a scalar (SUM_BY_NONZERO_WEIGHTS)."""

from ndflow.framework import dtypes
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops


class Reduction:
    NONE = "none"
    SUM = "weighted_sum"
    MEAN = "weighted_mean"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Applies weights and TF1's reductions to per-element losses."""
    losses = convert_to_tensor(losses)
    weights = array_ops.cast(convert_to_tensor(weights, dtype_hint=losses.dtype), losses.dtype)
    weighted = losses * weights
    if reduction == Reduction.NONE:
        return weighted
    total = reduce_ops.reduce_sum(weighted)
    if reduction == Reduction.SUM:
        return total
    if reduction == Reduction.MEAN:
        return math_ops.divide_no_nan(total, reduce_ops.reduce_sum(
            array_ops.broadcast_to(weights, array_ops.shape(losses))))
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return total / array_ops.cast(array_ops.size(losses), losses.dtype)
    nonzero = reduce_ops.reduce_sum(array_ops.cast(math_ops.not_equal(
        array_ops.broadcast_to(weights, array_ops.shape(losses)), 0), losses.dtype))
    return math_ops.divide_no_nan(total, nonzero)


def _float(x):
    x = convert_to_tensor(x)
    return x if x.dtype.is_floating else array_ops.cast(x, dtypes.float32)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = _float(predictions)
    labels = array_ops.cast(convert_to_tensor(labels), predictions.dtype)
    return compute_weighted_loss(math_ops.squared_difference(predictions, labels), weights,
                                 reduction=reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = _float(predictions)
    labels = array_ops.cast(convert_to_tensor(labels), predictions.dtype)
    return compute_weighted_loss(math_ops.abs(predictions - labels), weights,
                                 reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    logits = _float(logits)
    labels = array_ops.cast(convert_to_tensor(onehot_labels), logits.dtype)
    if label_smoothing:
        classes = array_ops.cast(array_ops.shape(labels)[-1], logits.dtype)
        labels = labels * (1.0 - label_smoothing) + label_smoothing / classes
    log_probs = logits - reduce_ops.reduce_logsumexp(logits, axis=-1, keepdims=True)
    losses = -reduce_ops.reduce_sum(labels * log_probs, axis=-1)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=None,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    logits = _float(logits)
    depth = logits.shape[-1]
    onehot = array_ops.one_hot(labels, depth, dtype=logits.dtype)
    return softmax_cross_entropy(onehot, logits, weights, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    logits = _float(logits)
    labels = array_ops.cast(convert_to_tensor(multi_class_labels), logits.dtype)
    if label_smoothing:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    # max(x, 0) - x * z + log(1 + exp(-|x|)): stable for large |x|
    losses = (math_ops.maximum(logits, 0.0) - logits * labels
              + math_ops.log1p(math_ops.exp(-math_ops.abs(logits))))
    return compute_weighted_loss(losses, weights, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=None,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = _float(predictions)
    labels = array_ops.cast(convert_to_tensor(labels), predictions.dtype)
    losses = -(labels * math_ops.log(predictions + epsilon)
               + (1 - labels) * math_ops.log(1 - predictions + epsilon))
    return compute_weighted_loss(losses, weights, reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=None,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    logits = _float(logits)
    labels = array_ops.cast(convert_to_tensor(labels), logits.dtype)
    signs = 2.0 * labels - 1.0
    return compute_weighted_loss(math_ops.maximum(1.0 - signs * logits, 0.0), weights,
                                 reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=None,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = _float(predictions)
    labels = array_ops.cast(convert_to_tensor(labels), predictions.dtype)
    error = math_ops.abs(predictions - labels)
    quadratic = math_ops.minimum(error, delta)
    losses = 0.5 * quadratic * quadratic + delta * (error - quadratic)
    return compute_weighted_loss(losses, weights, reduction=reduction)
