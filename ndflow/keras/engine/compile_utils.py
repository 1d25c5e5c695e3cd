"""What `compile` turns its arguments into: the loss container (one loss per output, weights,
plus regularization losses) and the metrics container (metrics per output, named as Keras)."""

from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.util import nest


def _per_output(spec, output_names, what):
    """A list with one entry per output from a single value, list or dict."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(output_names)
        if unknown:
            raise ValueError(f"compile: {what} given for unknown outputs {sorted(unknown)}; the "
                             f"model's outputs are {output_names}")
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and len(output_names) > 1:
        if len(spec) != len(output_names):
            raise ValueError(f"compile: got {len(spec)} {what} for a model with "
                             f"{len(output_names)} outputs {output_names}")
        return list(spec)
    if len(output_names) > 1 and what == "losses":
        return [spec] * len(output_names)
    return [spec] + [None] * (len(output_names) - 1) if what != "losses" else [spec]


class LossesContainer:
    """The compiled loss: sum over outputs of weight * loss(y_true, y_pred, sample_weight)."""

    def __init__(self, loss, loss_weights=None, output_names=("output",)):
        from ndflow.keras import losses as losses_module  # noqa: PLC0415

        self._output_names = list(output_names)
        self._losses = [_as_loss_object(losses_module, spec) if spec is not None else None
                        for spec in _per_output(loss, self._output_names, "losses")]
        weights = loss_weights if loss_weights is not None else 1.0
        if isinstance(weights, (int, float)):
            weights = [weights] * len(self._losses)
        else:
            weights = _per_output(weights, self._output_names, "loss weights")
            weights = [1.0 if w is None else w for w in weights]
        self._weights = weights

    @property
    def losses(self):
        return self._losses

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true_list = _as_list(y_true, self._output_names)
        y_pred_list = _as_list(y_pred, self._output_names)
        weights_list = _as_list(sample_weight, self._output_names) if sample_weight is not None \
            else [None] * len(y_pred_list)
        total = None
        for loss, weight, yt, yp, sw in zip(self._losses, self._weights, y_true_list,
                                            y_pred_list, weights_list):
            if loss is None or yt is None:
                continue
            value = loss(yt, yp, sample_weight=sw)
            if weight != 1.0:
                value = value * weight
            total = value if total is None else total + value
        return total


def _as_loss_object(losses_module, spec):
    """Keras' get_loss: names may resolve to plain functions, which get wrapped so they take
    `sample_weight` and reduce like Loss objects."""
    loss = losses_module.get(spec)
    if isinstance(loss, losses_module.Loss):
        return loss
    if isinstance(loss, type):
        return loss()
    name = spec if isinstance(spec, str) else getattr(loss, "__name__", "loss")
    return losses_module.LossFunctionWrapper(loss, name=name)


def _as_list(values, output_names):
    if isinstance(values, dict):
        return [values.get(name) for name in output_names]
    if isinstance(values, (list, tuple)) and len(output_names) > 1:
        return list(values)
    return [values]


class MetricsContainer:
    """Compiled metrics, built on the first batch when the output shapes are known."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=("output",),
                 losses=None):
        self._specs = metrics
        self._weighted_specs = weighted_metrics
        self._output_names = list(output_names)
        self._losses = losses or []
        self._metrics = None  # [(output index, metric, weighted)]

    @property
    def built(self):
        return self._metrics is not None

    @property
    def metrics(self):
        return [metric for _, metric, _ in (self._metrics or [])]

    def build(self, y_true, y_pred):

        y_true_list = _as_list(y_true, self._output_names)
        y_pred_list = _as_list(y_pred, self._output_names)
        built = []
        for specs, weighted in ((self._specs, False), (self._weighted_specs, True)):
            if not specs:
                continue
            per_output = _metric_specs(specs, self._output_names)
            for index, output_specs in enumerate(per_output):
                for spec in output_specs:
                    loss = self._losses[index] if index < len(self._losses) else None
                    yt = y_true_list[index] if index < len(y_true_list) else None
                    yp = y_pred_list[index]
                    metric = resolve_metric(spec, loss, yt, yp)
                    if len(self._output_names) > 1:
                        metric._name = f"{self._output_names[index]}_{metric.name}"
                    if weighted:
                        metric._name = f"weighted_{metric.name}" if isinstance(spec, str) \
                            else metric.name
                    built.append((index, metric, weighted))
        self._metrics = built

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._metrics is None:
            self.build(y_true, y_pred)
        y_true_list = _as_list(y_true, self._output_names)
        y_pred_list = _as_list(y_pred, self._output_names)
        weights = _as_list(sample_weight, self._output_names) if sample_weight is not None \
            else [None] * len(y_pred_list)
        for index, metric, weighted in self._metrics:
            if y_true_list[index] is None:
                continue
            metric.update_state(y_true_list[index], y_pred_list[index],
                                sample_weight=weights[index] if weighted else None)

    def reset_state(self):
        for _, metric, _ in self._metrics or []:
            metric.reset_state()


def _metric_specs(specs, output_names):
    if isinstance(specs, dict):
        return [nest.flatten(specs.get(name, [])) for name in output_names]
    if isinstance(specs, (list, tuple)) and specs and isinstance(specs[0], (list, tuple)):
        return [list(s) for s in specs]
    flat = list(specs) if isinstance(specs, (list, tuple)) else [specs]
    return [flat for _ in output_names] if len(output_names) > 1 else [flat]


def cast_like(value, reference):
    value = convert_to_tensor(value)
    if value.dtype is not reference.dtype and reference.dtype.is_floating:
        return array_ops.cast(value, reference.dtype)
    return value




_LOSS_DEPENDENT = ("accuracy", "acc", "crossentropy", "ce")


def resolve_metric(spec, loss, y_true, y_pred):
    """A Metric object for one `compile(metrics=...)` entry (strings like "accuracy" pick
    binary, categorical or sparse accuracy from the loss and the shapes, as Keras does)."""
    from ndflow.keras import metrics as metrics_module  # noqa: PLC0415

    if isinstance(spec, str) and spec in _LOSS_DEPENDENT:
        true_shape = y_true.shape if y_true is not None else None
        return metrics_module.resolve_by_loss(spec, loss, true_shape, y_pred.shape)
    metric = metrics_module.get(spec)
    if isinstance(metric, type):
        metric = metric()
    if isinstance(metric, metrics_module.Metric):
        if isinstance(spec, str):
            metric.name = spec  # Keras 3 reports a metric under the string it was given
        return metric
    if callable(metric):
        name = spec if isinstance(spec, str) else getattr(metric, "__name__", "metric")
        return metrics_module.MeanMetricWrapper(metric, name=name)
    raise ValueError(f"compile: could not interpret metric {spec!r}")
