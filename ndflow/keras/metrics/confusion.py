"""Confusion-matrix metrics: `TruePositives`/`FalsePositives`/`TrueNegatives`/
`FalseNegatives`, `Precision`, `Recall`, the sensitivity/specificity family
(`SensitivityAtSpecificity`, `SpecificityAtSensitivity`, `PrecisionAtRecall`,
`RecallAtPrecision`), `AUC`, and `FBetaScore`/`F1Score`.

Counts are accumulated per threshold: a prediction is positive at threshold t when
`y_pred > t`, and any non-zero label is positive, as in Keras.
"""

import numpy as np

import ndflow as tf
from ndflow.keras.losses import EPSILON, num_classes, squeeze_or_expand_to_same_rank
from ndflow.keras.metrics.base import Metric

NEG_INF = -1e10
_CONDITIONS = ("tp", "fp", "tn", "fn")


def _parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def _filter_top_k(x, k):
    """Keeps the top `k` scores of the last axis; the others become a very large negative."""
    _, indices = tf.math.top_k(x, k)
    mask = tf.reduce_sum(tf.one_hot(indices, num_classes(x), dtype=x.dtype), axis=-2)
    return x * mask + NEG_INF * (1.0 - mask)


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None):
    """Adds this batch's weighted counts to `variables` ({"tp"|"fp"|"tn"|"fn": Variable},
    each of shape `(num_thresholds,)`, or `(num_thresholds, num_labels)` for multi-label)."""
    dtype = next(iter(variables.values())).dtype
    y_true = tf.cast(tf.convert_to_tensor(y_true), dtype)
    y_pred = tf.cast(tf.convert_to_tensor(y_pred), dtype)
    thresholds = tf.constant(np.asarray(thresholds), dtype=dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = tf.expand_dims(tf.cast(tf.convert_to_tensor(sample_weight), dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.shape.rank == 1:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    if multi_label:
        layout, thresholds = [1, -1, tf.shape(y_pred)[-1]], tf.reshape(thresholds, [-1, 1, 1])
    else:
        layout, thresholds = [1, -1], tf.reshape(thresholds, [-1, 1])
    pred_is_pos = tf.greater(tf.reshape(y_pred, layout), thresholds)
    label_is_pos = tf.reshape(tf.cast(y_true, "bool"), layout)
    weights = None
    if sample_weight is not None:
        weights = tf.reshape(tf.broadcast_to(sample_weight, tf.shape(y_pred)), layout)
    if label_weights is not None and not multi_label:
        label_weights = tf.broadcast_to(tf.expand_dims(tf.cast(label_weights, dtype), 0),
                                        tf.shape(y_pred))
        label_weights = tf.reshape(label_weights, layout)
        weights = label_weights if weights is None else weights * label_weights
    cells = {
        "tp": (label_is_pos, pred_is_pos),
        "fp": (tf.logical_not(label_is_pos), pred_is_pos),
        "tn": (tf.logical_not(label_is_pos), tf.logical_not(pred_is_pos)),
        "fn": (label_is_pos, tf.logical_not(pred_is_pos)),
    }
    for key, variable in variables.items():
        label, pred = cells[key]
        hit = tf.cast(tf.logical_and(label, pred), dtype)
        if weights is not None:
            hit = hit * weights
        variable.assign_add(tf.reduce_sum(hit, axis=1))


class _ConfusionMatrixConditionCount(Metric):
    _CONDITION = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self.accumulator = self.add_variable((len(self.thresholds),), "zeros",
                                             name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables({self._CONDITION: self.accumulator}, y_true, y_pred,
                                          self.thresholds, sample_weight=sample_weight)

    def result(self):
        value = self.accumulator.read_value()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives, per threshold."""

    _CONDITION = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives, per threshold."""

    _CONDITION = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives, per threshold."""

    _CONDITION = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives, per threshold."""

    _CONDITION = "fn"


class _PrecisionRecall(Metric):
    _OTHER = None

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        other_name = {"fp": "false_positives", "fn": "false_negatives"}[self._OTHER]
        setattr(self, other_name, self.add_variable(shape, "zeros", name=other_name))
        self._other = getattr(self, other_name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {"tp": self.true_positives, self._OTHER: self._other}, y_true, y_pred,
            self.thresholds, top_k=self.top_k, class_id=self.class_id,
            sample_weight=sample_weight)

    def result(self):
        tp = self.true_positives.read_value()
        value = tf.math.divide_no_nan(tp, tp + self._other.read_value())
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """`tp / (tp + fp)` per threshold (or among the `top_k` scores, or for one `class_id`)."""

    _OTHER = "fp"


class Recall(_PrecisionRecall):
    """`tp / (tp + fn)` per threshold (or among the `top_k` scores, or for one `class_id`)."""

    _OTHER = "fn"


class SensitivitySpecificityBase(Metric):
    """Shared state of the metrics that maximise one rate under a constraint on another."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        self.num_thresholds = num_thresholds
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
        shape = (len(self.thresholds),)
        for attribute in ("true_positives", "false_positives", "true_negatives",
                          "false_negatives"):
            setattr(self, attribute, self.add_variable(shape, "zeros", name=attribute))

    def update_state(self, y_true, y_pred, sample_weight=None):
        variables = {"tp": self.true_positives, "fp": self.false_positives,
                     "tn": self.true_negatives, "fn": self.false_negatives}
        update_confusion_matrix_variables(variables, y_true, y_pred, self.thresholds,
                                          class_id=self.class_id, sample_weight=sample_weight)

    def _rates(self):
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        tn, fn = self.true_negatives.read_value(), self.false_negatives.read_value()
        return {"sensitivity": tf.math.divide_no_nan(tp, tp + fn),
                "specificity": tf.math.divide_no_nan(tn, tn + fp),
                "precision": tf.math.divide_no_nan(tp, tp + fp)}

    def _max_under_constraint(self, constrained, dependent):
        feasible = tf.greater_equal(constrained, self.value)
        best = tf.reduce_max(tf.where(feasible, dependent, tf.zeros_like(dependent)))
        return tf.maximum(best, 0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds}


def _check_rate(argument, value):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{argument}` must be in the range [0, 1]. Received: "
                         f"{argument}={value}")


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds whose specificity is >= `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("specificity", specificity)
        self.specificity = specificity
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates["specificity"], rates["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity among thresholds whose sensitivity is >= `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates["sensitivity"], rates["specificity"])

    def get_config(self):
        return {**super().get_config(), "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision among thresholds whose recall is >= `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("recall", recall)
        self.recall = recall
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates["sensitivity"], rates["precision"])

    def get_config(self):
        return {**super().get_config(), "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall among thresholds whose precision is >= `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("precision", precision)
        self.precision = precision
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates["precision"], rates["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "precision": self.precision}


_AUC_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_AUC_METHODS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts at `num_thresholds`
    thresholds (Riemann sum; "interpolation" uses the Davis & Goadrich rule for PR).

    Args:
      num_thresholds: number of thresholds (evenly spaced in [0, 1], ends widened by 1e-7).
      curve: "ROC", "PR" or "PRGAIN".
      summation_method: "interpolation", "minoring" or "majoring".
      thresholds: explicit thresholds (overrides `num_thresholds`).
      multi_label: keep per-label curves and average their AUCs.
      num_labels: number of labels when `multi_label` (else inferred on the first batch).
      label_weights: per-label weights for averaging (multi-label) or for counting.
      from_logits: apply a sigmoid to `y_pred` first.
    """


    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        curve_key = str(getattr(curve, "value", curve)).lower()
        if curve_key not in _AUC_CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             f'["PR", "ROC", "PRGAIN"]')
        method = str(getattr(summation_method, "value", summation_method)).lower()
        if method not in _AUC_METHODS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f'Expected values are ["interpolation", "majoring", "minoring"]')
        super().__init__(name=name, dtype=dtype)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            inner = sorted(float(t) for t in thresholds)
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve = _AUC_CURVES[curve_key]
        self.summation_method = method
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None
        if label_weights is not None:
            self.label_weights = tf.constant(np.asarray(label_weights), dtype=self.dtype)
        self._from_logits = from_logits
        self._built = False
        if multi_label and num_labels:
            self._build((None, num_labels))
        elif not multi_label:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if shape is None or len(shape) != 2:
                raise ValueError(f"AUC: `y_pred` must have rank 2 when `multi_label=True`, got "
                                 f"y_pred.shape={shape}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for attribute in ("true_positives", "false_positives", "true_negatives",
                          "false_negatives"):
            setattr(self, attribute, self.add_variable(variable_shape, "zeros", name=attribute))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.convert_to_tensor(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape.as_list()) if y_pred.shape.rank is not None
                        else None)
        if self._from_logits:
            y_pred = tf.sigmoid(y_pred)
        variables = {"tp": self.true_positives, "fp": self.false_positives,
                     "tn": self.true_negatives, "fn": self.false_negatives}
        update_confusion_matrix_variables(
            variables, y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)

    def _average(self, terms):
        if not self.multi_label:
            return tf.reduce_sum(terms)
        by_label = tf.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return tf.reduce_mean(by_label)
        return tf.math.divide_no_nan(tf.reduce_sum(by_label * self.label_weights),
                                     tf.reduce_sum(self.label_weights))

    def interpolate_pr_auc(self):
        """PR-AUC with precision interpolated between thresholds (Davis & Goadrich, 2006)."""
        tp = self.true_positives.read_value()
        p = tp + self.false_positives.read_value()
        fn = self.false_negatives.read_value()
        dtp = tp[:-1] - tp[1:]
        dp = p[:-1] - p[1:]
        prec_slope = tf.math.divide_no_nan(dtp, tf.maximum(dp, 0.0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = tf.logical_and(p[:-1] > 0, p[1:] > 0)
        safe_p_ratio = tf.where(both_positive,
                                tf.math.divide_no_nan(p[:-1], tf.maximum(p[1:], 0.0)),
                                tf.ones_like(p[1:]))
        increment = tf.math.divide_no_nan(
            prec_slope * (dtp + intercept * tf.math.log(safe_p_ratio)),
            tf.maximum(tp[1:] + fn[1:], 0.0))
        return self._average(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        tn, fn = self.true_negatives.read_value(), self.false_negatives.read_value()
        recall = tf.math.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = tf.math.divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, tf.math.divide_no_nan(tp, tp + fp)
        else:
            scale = tf.math.divide_no_nan(tp + fn, tn + fp)
            no_tp = tf.equal(tp, 0.0)
            recall_gain = 1.0 - scale * tf.math.divide_no_nan(fn, tp)
            precision_gain = 1.0 - scale * tf.math.divide_no_nan(fp, tp)
            x = tf.maximum(tf.where(no_tp, tf.zeros_like(tp), recall_gain), 0.0)
            y = tf.where(no_tp, tf.ones_like(tp), precision_gain)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = tf.minimum(y[:-1], y[1:])
        else:
            heights = tf.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        label_weights = self.label_weights
        config = {
            **super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels, "from_logits": self._from_logits,
            "label_weights": None if label_weights is None else label_weights.numpy().tolist(),
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """F-beta score from counts per class: `(1 + beta^2) * P * R / (beta^2 * P + R)`.

    Args:
      average: None (per class), "micro", "macro" or "weighted".
      beta: weight of recall (a Python float > 0).
      threshold: predictions above it are positive; None marks each row's maximum.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"Invalid `average` argument value. Expected one of: {{None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float > 0. "
                             f"Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"Invalid `threshold` argument value. It should be a Python float "
                             f"with 0 < threshold <= 1. Received: threshold={threshold!r}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2 or pred_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim) and a known output_dim. Received input shapes: "
                             f"y_pred.shape={tuple(pred_shape)} and "
                             f"y_true.shape={tuple(true_shape)}.")
        shape = () if self.average == "micro" else (pred_shape[-1],)
        for attribute in ("true_positives", "false_positives", "false_negatives",
                          "intermediate_weights"):
            setattr(self, attribute, self.add_variable(shape, "zeros", name=attribute))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(tf.convert_to_tensor(y_true), self.dtype)
        y_pred = tf.cast(tf.convert_to_tensor(y_pred), self.dtype)
        if not self._built:
            self._build(y_true.shape.as_list(), y_pred.shape.as_list())
        if self.threshold is None:
            row_max = tf.reduce_max(y_pred, axis=-1, keepdims=True)
            positive = tf.logical_and(y_pred >= row_max, tf.abs(y_pred) > 1e-9)
        else:
            positive = y_pred > self.threshold
        y_pred = tf.cast(positive, self.dtype)
        if sample_weight is not None:
            sample_weight = tf.expand_dims(tf.cast(tf.convert_to_tensor(sample_weight),
                                                   self.dtype), 1)

        def weighted_sum(value):
            if sample_weight is not None:
                value = value * sample_weight
            return tf.reduce_sum(value, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(y_pred * y_true))
        self.false_positives.assign_add(weighted_sum(y_pred * (1.0 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1.0 - y_pred) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        tp = self.true_positives.read_value()
        precision = tp / (tp + self.false_positives.read_value() + EPSILON)
        recall = tp / (tp + self.false_negatives.read_value() + EPSILON)
        beta_sq = self.beta ** 2
        score = precision * recall / (beta_sq * precision + recall + EPSILON) * (1.0 + beta_sq)
        if self.average == "weighted":
            weights = self.intermediate_weights.read_value()
            return tf.reduce_sum(score * weights / (tf.reduce_sum(weights) + EPSILON))
        if self.average is not None:
            return tf.reduce_mean(score)
        return score

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score: the F-beta score with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
