"""Reduction metrics: `Sum`, `Mean` and `MeanMetricWrapper` (the mean of a per-sample
function, which is how every loss and accuracy function becomes a metric)."""

import ndflow as tf
from ndflow.keras import losses as losses_module
from ndflow.keras.metrics.base import Metric


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras' rule: weight values by `sample_weight` (squeezed/expanded to match), reduce the
    extra axes with `reduce_fn`, and return per-sample values and weights."""
    values = tf.cast(losses_module._to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = losses_module._to_tensor(sample_weight, dtype)
        values, sample_weight = losses_module.squeeze_or_expand_to_same_rank(
            values, sample_weight)
        weight_ndim = sample_weight.shape.rank
        values_ndim = values.shape.rank
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=list(range(weight_ndim, values_ndim)))
        _check_weight(values, sample_weight)
        sample_weight = tf.broadcast_to(sample_weight, tf.shape(values))
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_ndim)))
    values_ndim = values.shape.rank
    if values_ndim > 1:
        values = reduce_fn(values, axis=list(range(1, values_ndim)))
    return values, sample_weight


def _check_weight(values, sample_weight):
    value_dims = losses_module._dims(values)
    weight_dims = losses_module._dims(sample_weight)
    if value_dims is None or weight_dims is None or len(weight_dims) > len(value_dims):
        return
    pairs = zip(reversed(value_dims), reversed(weight_dims))
    if not all(a is None or b is None or a == b or b == 1 for a, b in pairs):
        raise ValueError(f"Metric: sample_weight must broadcast to the values, got "
                         f"sample_weight.shape={weight_dims} and values shape {value_dims}")


class Sum(Metric):
    """The (weighted) sum of the given values (`keras.metrics.Sum`)."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, tf.reduce_sum,
                                                self.dtype)
        self.total.assign_add(tf.reduce_sum(values))

    def result(self):
        return tf.identity(self.total)


class Mean(Metric):
    """The (weighted) mean of the given values (`keras.metrics.Mean`)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight,
                                                            tf.reduce_mean, self.dtype)
        self.total.assign_add(tf.reduce_sum(values))
        if sample_weight is not None:
            num_samples = tf.reduce_sum(sample_weight)
        elif values.shape.rank >= 1:
            num_samples = tf.shape(values)[0]
        else:
            num_samples = 1
        self.count.assign_add(tf.cast(num_samples, self.dtype))

    def result(self):
        return tf.math.divide_no_nan(self.total.read_value(), self.count.read_value())


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over all samples seen.

    Args:
      fn: per-sample function, e.g. `keras.losses.mean_squared_error`.
      name: metric name (default: the function's name).
      dtype: dtype of the state.
      **kwargs: extra keyword arguments for `fn`.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper",
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        sample_weight = losses_module._apply_mask(sample_weight, mask, self.dtype, "sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config["fn"] = losses_module.serialize(self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from ndflow.keras import metrics

            config["fn"] = metrics.deserialize(config["fn"])
        return cls(**config)
