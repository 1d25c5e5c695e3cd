"""Intersection-over-union metrics: `IoU`, `MeanIoU`, `BinaryIoU`, `OneHotIoU`,
`OneHotMeanIoU`, all computed from an accumulated `(num_classes, num_classes)` confusion
matrix (rows are true classes, columns predicted classes)."""

import ndflow as tf
from ndflow.keras.losses import EPSILON
from ndflow.keras.metrics.base import Metric


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype="int64"):
    """The `(num_classes, num_classes)` matrix of (weighted) counts of (label, prediction)."""
    labels = tf.reshape(tf.cast(labels, "int32"), [-1])
    predictions = tf.reshape(tf.cast(predictions, "int32"), [-1])
    values = tf.ones_like(labels, dtype=dtype) if weights is None else tf.cast(weights, dtype)
    cells = labels * num_classes + predictions
    counts = tf.math.unsorted_segment_sum(values, cells, num_classes * num_classes)
    return tf.reshape(counts, (num_classes, num_classes))


class _IoUBase(Metric):
    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int64")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros",
                                          name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = tf.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = tf.argmax(y_pred, axis=self.axis)
        y_true = tf.reshape(tf.cast(tf.convert_to_tensor(y_true), self.dtype), [-1])
        y_pred = tf.reshape(tf.cast(tf.convert_to_tensor(y_pred), self.dtype), [-1])
        if sample_weight is None:
            sample_weight = tf.ones_like(y_true)
        else:
            sample_weight = tf.reshape(tf.cast(tf.convert_to_tensor(sample_weight),
                                               self.dtype), [-1])
            sample_weight = tf.broadcast_to(sample_weight, tf.shape(y_true))
        in_bounds = tf.logical_and(
            tf.logical_and(y_true >= 0, y_true < self.num_classes),
            tf.logical_and(y_pred >= 0, y_pred < self.num_classes))
        if self.ignore_class is not None:
            in_bounds = tf.logical_and(in_bounds, tf.not_equal(y_true, self.ignore_class))
        zeros = tf.zeros_like(y_true)
        y_true = tf.where(in_bounds, y_true, zeros)
        y_pred = tf.where(in_bounds, y_pred, zeros)
        sample_weight = tf.where(in_bounds, sample_weight, tf.zeros_like(sample_weight))
        self.total_cm.assign_add(confusion_matrix(y_true, y_pred, self.num_classes,
                                                  weights=sample_weight, dtype=self.dtype))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class IoU(_IoUBase):
    """Mean IoU over `target_class_ids`: `tp / (tp + fp + fn)` per class, classes that never
    occur are left out of the mean.

    Args:
      num_classes: number of classes.
      target_class_ids: the classes whose IoU is averaged.
      ignore_class: a label value to skip.
      sparse_y_true / sparse_y_pred: False when the labels / predictions are one-hot or
        scores (an argmax over `axis` is taken).
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = tf.cast(self.total_cm.read_value(), "float32")
        true_positives = tf.linalg.diag_part(cm)
        denominator = tf.reduce_sum(cm, axis=0) + tf.reduce_sum(cm, axis=1) - true_positives
        true_positives = tf.gather(true_positives, self.target_class_ids)
        denominator = tf.gather(denominator, self.target_class_ids)
        valid = tf.greater(denominator, 1e-9)
        iou = tf.where(valid, true_positives / (denominator + EPSILON),
                       tf.zeros_like(denominator))
        num_valid = tf.reduce_sum(tf.cast(valid, "float32"))
        return tf.reduce_sum(iou, axis=self.axis) / (num_valid + EPSILON)

    def get_config(self):
        return {**super().get_config(), "target_class_ids": self.target_class_ids}


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary labels against `y_pred >= threshold`."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.cast(tf.convert_to_tensor(y_pred), "float32") >= self.threshold
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class OneHotIoU(IoU):
    """IoU for one-hot labels and class scores."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU for one-hot labels and class scores."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
