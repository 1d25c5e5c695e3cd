"""`keras.losses`: the Loss base class, the built-in loss classes and their function forms,
and `get`/`serialize`/`deserialize`.

Semantics follow Keras 3 as shipped with TF 2.21: `Loss.__call__` converts both arguments to
the loss dtype (float32 by default, so mixed-precision float16 predictions are computed in
float32), `call` gives per-sample losses reduced over the last axis, and the reduction and
sample-weight rules are Keras's `reduce_weighted_values`. Everything is written with public
ndflow ops, so losses run eagerly, inside `ndflow.function` and under GradientTape alike.
Metric classes that wrap these functions live in `ndflow.keras.metrics`.
"""

import difflib
import inspect
import re

import ndflow as tf
from ndflow.framework import dtypes

EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")
_loss_counts = {}


def _unique_name(base):
    count = _loss_counts.get(base, 0)
    _loss_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def _snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _to_tensor(x, dtype=None):
    """Like Keras' `ops.convert_to_tensor(x, dtype)`: casts a tensor of another dtype."""
    if not tf.is_tensor(x):
        x = tf.convert_to_tensor(x)
    if dtype is not None and x.dtype != tf.as_dtype(dtype):
        x = tf.cast(x, dtype)
    return x


def _rank(x):
    return x.shape.rank


def _dims(x):
    return tuple(x.shape.as_list()) if x.shape.rank is not None else None


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands the last axis when the ranks differ by exactly one (Keras rule)."""
    rank1, rank2 = _rank(x1), _rank(x2)
    if rank1 is None or rank2 is None or rank1 == rank2:
        return x1, x2
    if rank1 == rank2 + 1 and x1.shape[-1] == 1:
        if rank2 == 1 and expand_rank_1:
            x2 = tf.expand_dims(x2, -1)
        else:
            x1 = tf.squeeze(x1, axis=[-1])
    if rank2 == rank1 + 1 and x2.shape[-1] == 1:
        if rank1 == 1 and expand_rank_1:
            x1 = tf.expand_dims(x1, -1)
        else:
            x2 = tf.squeeze(x2, axis=[-1])
    return x1, x2


def _check_shapes(what, y_true, y_pred, exact=False):
    """Raises ValueError unless the static shapes broadcast (or match, with `exact`)."""
    true_dims, pred_dims = _dims(y_true), _dims(y_pred)
    if true_dims is None or pred_dims is None:
        return
    if exact and len(true_dims) != len(pred_dims):
        ok = False
    else:
        pairs = zip(reversed(true_dims), reversed(pred_dims))
        ok = all(a is None or b is None or a == b or (not exact and 1 in (a, b))
                 for a, b in pairs)
    if not ok:
        need = "the same shape" if exact else "broadcast-compatible shapes"
        raise ValueError(f"{what}: y_true and y_pred must have {need}, got y_true.shape="
                         f"{true_dims} and y_pred.shape={pred_dims}")


def _check_sparse_shapes(what, y_true, y_pred):
    true_dims, pred_dims = _dims(y_true), _dims(y_pred)
    if true_dims is None or pred_dims is None:
        return
    batch = pred_dims[:-1]
    ok = len(true_dims) == len(batch) and all(
        a is None or b is None or a == b for a, b in zip(true_dims, batch))
    if not pred_dims or not ok:
        raise ValueError(f"{what}: y_true must have the shape of y_pred without its last "
                         f"(class) axis, optionally with a trailing 1, got y_true.shape="
                         f"{true_dims} and y_pred.shape={pred_dims}")


def num_classes(y_pred):
    """The size of the last axis: static when known (OneHot needs a Python depth)."""
    static = y_pred.shape[-1] if y_pred.shape.rank is not None else None
    return static if static is not None else tf.shape(y_pred)[-1]


def _log_softmax(logits, axis=-1):
    log_softmax = getattr(tf.nn, "log_softmax", None)
    if log_softmax is not None:
        return log_softmax(logits, axis=axis)
    return logits - tf.math.reduce_logsumexp(logits, axis=axis, keepdims=True)


def _softmax(logits, axis=-1):
    return tf.math.exp(_log_softmax(logits, axis))


def _clip_probs(p):
    return tf.clip_by_value(p, EPSILON, 1.0 - EPSILON)


def _elementwise_bce(y_true, y_pred, from_logits):
    if from_logits:
        # sigmoid_cross_entropy_with_logits: max(x, 0) - x * z + log(1 + exp(-|x|)).
        return (tf.maximum(y_pred, 0.0) - y_pred * y_true
                + tf.math.log1p(tf.math.exp(-tf.math.abs(y_pred))))
    y_pred = _clip_probs(y_pred)
    return -(y_true * tf.math.log(y_pred) + (1.0 - y_true) * tf.math.log(1.0 - y_pred))


# --- function forms ------------------------------------------------------------------------

def _pair(y_true, y_pred, what=None):
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if what is not None:
        _check_shapes(what, y_true, y_pred)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """Mean of squared errors over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_error")
    return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of absolute errors over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_error")
    return tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(|y_true - y_pred| / max(|y_true|, epsilon))` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    diff = tf.abs((y_true - y_pred) / tf.maximum(tf.abs(y_true), EPSILON))
    return 100.0 * tf.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean of squared `log(1 + x)` differences (inputs floored at epsilon)."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    first = tf.math.log(tf.maximum(y_pred, EPSILON) + 1.0)
    second = tf.math.log(tf.maximum(y_true, EPSILON) + 1.0)
    return tf.reduce_mean(tf.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    inv_norm = tf.math.rsqrt(tf.reduce_sum(tf.square(x), axis=axis, keepdims=True))
    return x * tf.minimum(inv_norm, 1.0 / EPSILON)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along `axis` (so that minimising it aligns the vectors)."""
    y_true, y_pred = _pair(y_true, y_pred, "cosine_similarity")
    return -tf.reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for `|error| <= delta`, linear beyond; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "huber")
    delta = tf.cast(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = tf.abs(error)
    quadratic = 0.5 * tf.square(error)
    linear = delta * abs_error - 0.5 * tf.square(delta)
    return tf.reduce_mean(tf.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """`log(cosh(y_pred - y_true))`, computed stably, mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    log2 = tf.cast(0.6931471805599453, y_pred.dtype)
    return tf.reduce_mean(x + tf.math.softplus(-2.0 * x) - log2, axis=-1)


def _hinge_labels(y_true):
    """Keras maps labels that are all 0/1 to -1/1 before a hinge loss."""
    is_binary = tf.reduce_all(tf.logical_or(tf.equal(y_true, 0.0), tf.equal(y_true, 1.0)))
    return y_true + tf.cast(is_binary, y_true.dtype) * (y_true - 1.0)


def hinge(y_true, y_pred):
    """`mean(max(1 - y_true * y_pred, 0))`; 0/1 labels are converted to -1/1."""
    y_pred = _to_tensor(y_pred)
    y_true = _hinge_labels(tf.cast(_to_tensor(y_true), y_pred.dtype))
    _check_shapes("hinge", y_true, y_pred)
    return tf.reduce_mean(tf.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """`mean(max(1 - y_true * y_pred, 0) ** 2)`; 0/1 labels are converted to -1/1."""
    y_pred = _to_tensor(y_pred)
    y_true = _hinge_labels(tf.cast(_to_tensor(y_true), y_pred.dtype))
    _check_shapes("squared_hinge", y_true, y_pred)
    return tf.reduce_mean(tf.square(tf.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`max(neg - pos + 1, 0)` with `pos = sum(y_true * y_pred)`, `neg = max((1 - y_true) *
    y_pred)`."""
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("categorical_hinge", y_true, y_pred)
    pos = tf.reduce_sum(y_true * y_pred, axis=-1)
    neg = tf.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return tf.maximum(neg - pos + 1.0, 0.0)


def kl_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred))` with both clipped to `[epsilon, 1]`."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype)
    _check_shapes("kl_divergence", y_true, y_pred)
    y_true = tf.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = tf.clip_by_value(y_pred, EPSILON, 1.0)
    return tf.reduce_sum(y_true * tf.math.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true * log(y_pred + epsilon))` over the last axis."""
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype)
    _check_shapes("poisson", y_true, y_pred)
    return tf.reduce_mean(y_pred - y_true * tf.math.log(y_pred + EPSILON), axis=-1)


def _check_axis(axis):
    if isinstance(axis, bool):
        message = f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        raise ValueError(message)  # noqa: TRY004 - Keras raises ValueError here


def _smooth_categorical(y_true, label_smoothing):
    if not label_smoothing:
        return y_true
    num_classes = tf.cast(tf.shape(y_true)[-1], y_true.dtype)
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) labels and predictions along `axis`.

    Probabilities are rescaled to sum to 1 and clipped to `[1e-7, 1 - 1e-7]`, as Keras does;
    `from_logits=True` uses a stable log-softmax instead.
    """
    _check_axis(axis)
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("categorical_crossentropy", y_true, y_pred, exact=True)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        return -tf.reduce_sum(y_true * _log_softmax(y_pred, axis), axis=axis)
    y_pred = y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True)
    return -tf.reduce_sum(y_true * tf.math.log(_clip_probs(y_pred)), axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Focal crossentropy: categorical crossentropy scaled by `alpha * (1 - p) ** gamma`."""
    _check_axis(axis)
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("categorical_focal_crossentropy", y_true, y_pred, exact=True)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        y_pred = _softmax(y_pred, axis)
    output = _clip_probs(y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True))
    cce = -y_true * tf.math.log(output)
    focal = tf.pow(1.0 - output, gamma) * alpha * cce
    return tf.reduce_sum(focal, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Crossentropy between integer labels (shape `(N,)` or `(N, 1)`) and class scores.

    Probabilities are clipped to `[1e-7, 1 - 1e-7]` and renormalised through a log-softmax of
    their logs, which is what Keras' `sparse_softmax_cross_entropy_with_logits` path computes.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true)
    pred_rank = _rank(y_pred)
    if pred_rank is not None and axis not in (-1, pred_rank - 1):
        raise ValueError(f"sparse_categorical_crossentropy: only axis=-1 is supported, got "
                         f"axis={axis}")
    if _rank(y_true) is not None and _rank(y_true) == pred_rank and y_true.shape[-1] == 1:
        y_true = tf.squeeze(y_true, axis=[-1])
    _check_sparse_shapes("sparse_categorical_crossentropy", y_true, y_pred)
    labels = tf.cast(y_true, "int64")
    valid = None
    if ignore_class is not None:
        valid = tf.not_equal(labels, ignore_class)
        labels = tf.where(valid, labels, tf.zeros_like(labels))
    log_probs = y_pred if from_logits else tf.math.log(_clip_probs(y_pred))
    log_probs = _log_softmax(log_probs, -1)
    one_hot = tf.one_hot(labels, num_classes(y_pred), dtype=y_pred.dtype)
    result = -tf.reduce_sum(one_hot * log_probs, axis=-1)
    if valid is not None:
        result = tf.where(valid, result, tf.zeros_like(result))
        result._keras_mask = valid
    return result


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy averaged over `axis`; probabilities are clipped at 1e-7."""
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("binary_crossentropy", y_true, y_pred, exact=True)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return tf.reduce_mean(_elementwise_bce(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy scaled by `(1 - p_t) ** gamma` (and `alpha` balancing)."""
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("binary_focal_crossentropy", y_true, y_pred, exact=True)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = tf.sigmoid(y_pred)
    bce = _elementwise_bce(y_true, y_pred, False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal_bce = tf.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal_bce
    return tf.reduce_mean(focal_bce, axis=axis)


def dice(y_true, y_pred, axis=None):
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)` over `axis`."""
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("dice", y_true, y_pred)
    intersection = tf.reduce_sum(y_true * y_pred, axis=axis)
    total = tf.reduce_sum(y_true, axis=axis) + tf.reduce_sum(y_pred, axis=axis) + EPSILON
    return 1.0 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """`1 - TP / (TP + alpha * FP + beta * FN + epsilon)` on soft counts over `axis`."""
    y_pred = _to_tensor(y_pred)
    y_true = tf.cast(_to_tensor(y_true), y_pred.dtype)
    _check_shapes("tversky", y_true, y_pred)
    intersection = tf.reduce_sum(y_true * y_pred, axis=axis)
    false_pos = tf.reduce_sum((1.0 - y_pred) * y_true, axis=axis)
    false_neg = tf.reduce_sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - intersection / (intersection + false_pos * alpha + false_neg * beta + EPSILON)


# --- reduction -----------------------------------------------------------------------------

def standardize_reduction(reduction):
    """Validates `reduction`; Keras 2's "auto" means "sum_over_batch_size"."""
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                         f"{set(_REDUCTIONS)}. Received: reduction={reduction}")
    return reduction


def _apply_mask(sample_weight, mask, dtype, reduction):
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        # Valid entries get weight total/valid so the batch mean is over valid entries only.
        total = tf.cast(tf.size(mask), dtype)
        valid = tf.reduce_sum(tf.cast(mask, dtype))
        float_mask = tf.cast(mask, dtype) * tf.math.divide_no_nan(total, valid)
    else:
        float_mask = tf.cast(mask, dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(
        float_mask, tf.cast(sample_weight, dtype))
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    dims = _dims(values)
    if reduction in (None, "none") or dims in ((), (0,)):
        return values
    loss = tf.reduce_sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = tf.cast(tf.reduce_sum(sample_weight), loss.dtype)
    else:
        divisor = tf.cast(tf.size(values), loss.dtype)
    return tf.math.divide_no_nan(loss, divisor)


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Weights per-sample losses by `sample_weight` (and a Keras mask), then reduces them."""
    reduction = standardize_reduction(reduction)
    values = _to_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = _to_tensor(sample_weight, values.dtype)
    sample_weight = _apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        _check_weight_shape(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def _check_weight_shape(values, sample_weight):
    value_dims, weight_dims = _dims(values), _dims(sample_weight)
    if value_dims is None or weight_dims is None:
        return
    pairs = zip(reversed(value_dims), reversed(weight_dims))
    if not all(a is None or b is None or a == b or 1 in (a, b) for a, b in pairs):
        raise ValueError(f"Loss: sample_weight must broadcast to the per-sample losses, got "
                         f"sample_weight.shape={weight_dims} and losses shape {value_dims}")


# --- classes -------------------------------------------------------------------------------

class Loss:
    """Base class of losses (`keras.losses.Loss`).

    Args:
      name: name of the loss (default: the snake-case class name, numbered when repeated).
      reduction: "sum_over_batch_size" (default; Keras 2's "auto" is accepted), "sum",
        "mean", "mean_with_sample_weight", or "none"/None for per-sample losses.
      dtype: dtype of the computation (default float32; inputs are cast to it).

    Subclasses implement `call(y_true, y_pred)`, returning per-sample losses.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _unique_name(_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = _policy_dtype(dtype)

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = tf.nest.map_structure(lambda x: _to_tensor(x, self.dtype), y_pred)
        y_true = tf.nest.map_structure(lambda x: _to_tensor(x, self.dtype), y_true)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        mask = in_mask if out_mask is None else out_mask
        if in_mask is not None and out_mask is not None:
            mask = tf.logical_and(tf.cast(in_mask, "bool"), tf.cast(out_mask, "bool"))
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__}: a Loss subclass must implement "
                        f"call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _policy_dtype(dtype):
    """The compute dtype name for a dtype or mixed-precision policy (float32 by default)."""
    if dtype is None:
        return "float32"
    name = getattr(dtype, "compute_dtype", None) or getattr(dtype, "name", None) or dtype
    if name in ("mixed_float16", "mixed_bfloat16"):
        return name[len("mixed_"):]
    return dtypes.as_dtype(name).name


class LossFunctionWrapper(Loss):
    """A Loss built from a function `fn(y_true, y_pred, **kwargs)` of per-sample losses."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        if tf.is_tensor(y_true) and tf.is_tensor(y_pred):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            self._check(y_true, y_pred)
        else:
            pairs = tf.nest.map_structure(squeeze_or_expand_to_same_rank, y_true, y_pred)
            y_true = tf.nest.map_structure_up_to(y_true, lambda pair: pair[0], pairs)
            y_pred = tf.nest.map_structure_up_to(y_pred, lambda pair: pair[1], pairs)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def _check(self, y_true, y_pred):
        what = f"{type(self).__name__} '{self.name}'"
        if self.fn is sparse_categorical_crossentropy:
            _check_sparse_shapes(what, _squeeze_sparse(y_true, y_pred), y_pred)
        else:
            exact = self.fn in _EXACT_SHAPE_FUNCTIONS
            _check_shapes(what, y_true, y_pred, exact=exact)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


def _squeeze_sparse(y_true, y_pred):
    if _rank(y_true) is not None and _rank(y_true) == _rank(y_pred) and y_true.shape[-1] == 1:
        return tf.squeeze(y_true, axis=[-1])
    return y_true


_EXACT_SHAPE_FUNCTIONS = (categorical_crossentropy, categorical_focal_crossentropy,
                          binary_crossentropy, binary_focal_crossentropy)


def _wrapper_class(class_name, fn, default_name, params=(), doc=""):
    """Defines a LossFunctionWrapper subclass whose constructor takes `params` (name,
    default) before `reduction`, `name` and `dtype`, as the Keras class does."""
    params = tuple(params)

    def __init__(self, *args, **kwargs):
        names = [p for p, _ in params] + ["reduction", "name", "dtype"]
        if len(args) > len(names):
            raise TypeError(f"{class_name}() takes at most {len(names)} positional "
                            f"arguments, got {len(args)}")
        values = dict(params)
        values.update(reduction="sum_over_batch_size", name=default_name, dtype=None)
        for key, value in zip(names, args):
            values[key] = value
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{class_name}: unrecognized keyword arguments {sorted(unknown)}")
        values.update(kwargs)
        fn_kwargs = {p: values[p] for p, _ in params}
        LossFunctionWrapper.__init__(self, fn, reduction=values["reduction"],
                                     name=values["name"], dtype=values["dtype"], **fn_kwargs)
        for key, value in fn_kwargs.items():
            setattr(self, key, value)

    def get_config(self):
        config = Loss.get_config(self)
        config.update({p: getattr(self, p) for p, _ in params})
        return config

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    arguments = [*params, ("reduction", "sum_over_batch_size"), ("name", default_name),
                 ("dtype", None)]
    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", keyword)]
        + [inspect.Parameter(p, keyword, default=d) for p, d in arguments])
    signature = ", ".join(f"{p}={d!r}" for p, d in arguments)
    body = {"__init__": __init__, "get_config": get_config, "__module__": __name__,
            "__qualname__": class_name, "__doc__": f"{doc}\n\n    Args: {signature}."}
    return type(class_name, (LossFunctionWrapper,), body)


_CE = (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1))

MeanSquaredError = _wrapper_class("MeanSquaredError", mean_squared_error, "mean_squared_error",
                                  doc="Mean of squared errors.")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", mean_absolute_error,
                                   "mean_absolute_error", doc="Mean of absolute errors.")
MeanAbsolutePercentageError = _wrapper_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error", doc="Mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper_class(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", doc="Mean squared logarithmic error.")
CosineSimilarity = _wrapper_class("CosineSimilarity", cosine_similarity, "cosine_similarity",
                                  params=[("axis", -1)], doc="Negative cosine similarity.")
Huber = _wrapper_class("Huber", huber, "huber_loss", params=[("delta", 1.0)],
                       doc="Huber loss.")
LogCosh = _wrapper_class("LogCosh", log_cosh, "log_cosh", doc="Logarithm of the hyperbolic "
                         "cosine of the prediction error.")
Hinge = _wrapper_class("Hinge", hinge, "hinge", doc="Hinge loss.")
SquaredHinge = _wrapper_class("SquaredHinge", squared_hinge, "squared_hinge",
                              doc="Squared hinge loss.")
CategoricalHinge = _wrapper_class("CategoricalHinge", categorical_hinge, "categorical_hinge",
                                  doc="Categorical hinge loss.")
KLDivergence = _wrapper_class("KLDivergence", kl_divergence, "kl_divergence",
                              doc="Kullback-Leibler divergence.")
Poisson = _wrapper_class("Poisson", poisson, "poisson", doc="Poisson loss.")
BinaryCrossentropy = _wrapper_class("BinaryCrossentropy", binary_crossentropy,
                                    "binary_crossentropy", params=_CE,
                                    doc="Binary crossentropy.")
BinaryFocalCrossentropy = _wrapper_class(
    "BinaryFocalCrossentropy", binary_focal_crossentropy, "binary_focal_crossentropy",
    params=[("apply_class_balancing", False), ("alpha", 0.25), ("gamma", 2.0), *_CE],
    doc="Binary focal crossentropy.")
CategoricalCrossentropy = _wrapper_class("CategoricalCrossentropy", categorical_crossentropy,
                                         "categorical_crossentropy", params=_CE,
                                         doc="Categorical crossentropy.")
CategoricalFocalCrossentropy = _wrapper_class(
    "CategoricalFocalCrossentropy", categorical_focal_crossentropy,
    "categorical_focal_crossentropy", params=[("alpha", 0.25), ("gamma", 2.0), *_CE],
    doc="Categorical focal crossentropy.")
SparseCategoricalCrossentropy = _wrapper_class(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    params=[("from_logits", False), ("ignore_class", None), ("axis", -1)],
    doc="Crossentropy with integer labels.")
Dice = _wrapper_class("Dice", dice, "dice", params=[("axis", None)], doc="Dice loss.")
Tversky = _wrapper_class("Tversky", tversky, "tversky",
                         params=[("alpha", 0.5), ("beta", 0.5), ("axis", None)],
                         doc="Tversky loss.")

# Short names (tf.keras 2.x and Keras 3's legacy aliases).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

_CLASSES = (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
            MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Huber,
            LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
            BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
            CategoricalFocalCrossentropy, SparseCategoricalCrossentropy, Dice, Tversky)
_FUNCTIONS = (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
              categorical_focal_crossentropy, sparse_categorical_crossentropy,
              mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
              mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge,
              squared_hinge, categorical_hinge, kl_divergence, poisson, dice, tversky)
_OBJECTS = {cls.__name__: cls for cls in _CLASSES}
_OBJECTS.update({fn.__name__: fn for fn in _FUNCTIONS})
_OBJECTS.update({"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape,
                 "msle": msle, "MSLE": msle, "kld": kld, "KLD": kld, "bce": bce, "BCE": bce,
                 "kullback_leibler_divergence": kld, "logcosh": log_cosh,
                 "huber_loss": huber})


# --- lookup and serialization --------------------------------------------------------------

def serialize(loss):
    """A config dict for a Loss instance (Keras 3 layout), or the name of a loss function."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    if callable(loss):
        name = getattr(loss, "__name__", None)
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}
    raise ValueError(f"Could not serialize loss {loss!r}: expected a Loss or a function")


def deserialize(name, custom_objects=None):
    """The loss for a name or a config dict (Keras 2 or Keras 3 layout)."""
    objects = dict(_OBJECTS, **(custom_objects or {}))
    if isinstance(name, dict):
        class_name = name.get("class_name")
        config = name.get("config")
        if class_name == "function":
            return _lookup(config, objects)
        cls = _lookup(class_name, objects)
        return cls.from_config(config or {})
    return _lookup(name, objects)


def _lookup(name, objects):
    if name in objects:
        return objects[name]
    close = difflib.get_close_matches(str(name), list(objects), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"Could not interpret loss identifier: {name!r} (unknown loss{hint})")


def get(identifier):
    """Resolves a loss identifier: a name, class name, config dict, function or Loss.

    Names of functions (`"mse"`, `"categorical_crossentropy"`) give the function; class
    names (`"MeanSquaredError"`) give a default instance, as Keras does.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _lookup(identifier, _OBJECTS)
    else:
        obj = identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
