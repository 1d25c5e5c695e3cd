"""`keras.metrics`: metric classes, their function forms, and `get`/`serialize`/
`deserialize`, plus `resolve_by_loss`, which the compile machinery uses to turn "accuracy"/
"acc"/"crossentropy"/"ce" into the metric that fits the loss and the label shapes."""

import difflib
import inspect

from ndflow.keras import losses as _losses
from ndflow.keras.losses import (  # noqa: F401 - Keras exports these as metric functions
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from ndflow.keras.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from ndflow.keras.metrics.base import Metric
from ndflow.keras.metrics.confusion import (
    AUC,
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from ndflow.keras.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from ndflow.keras.metrics.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from ndflow.keras.metrics.reduction import Mean, MeanMetricWrapper, Sum
from ndflow.keras.metrics.regression import (  # noqa: F401
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    cosine_similarity,
)

_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC,
    Precision, Recall, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
    F1Score, FBetaScore, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU, R2Score,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence,
    Poisson, Hinge, SquaredHinge, CategoricalHinge,
)
_FUNCTIONS = (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
    binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
    sparse_categorical_crossentropy, kl_divergence, poisson, hinge, squared_hinge,
    categorical_hinge, huber, log_cosh, mean_squared_error, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_logarithmic_error,
)
# Keras 3 maps class names and their snake-case forms to classes; short names too.
_OBJECTS = {cls.__name__: cls for cls in _CLASSES}
_OBJECTS.update({_losses._snake_case(cls.__name__): cls for cls in _CLASSES})
_OBJECTS.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
                 "mse": MeanSquaredError, "MSE": MeanSquaredError,
                 "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
                 "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
                 "rmse": RootMeanSquaredError, "logcosh": LogCoshError,
                 "auc": AUC, "iou": IoU})
_FUNCTION_OBJECTS = {fn.__name__: fn for fn in _FUNCTIONS}
_LOSS_DEPENDENT = ("acc", "crossentropy", "ce")


def serialize(metric):
    """A config dict for a Metric (Keras 3 layout), or a function reference."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__,
                "config": metric.get_config(), "registered_name": None}
    return _losses.serialize(metric)


def deserialize(config, custom_objects=None):
    """The metric (class instance or function) for a config dict or a name."""
    objects = {**_FUNCTION_OBJECTS, **_OBJECTS, **(custom_objects or {})}
    if isinstance(config, dict):
        class_name = config.get("class_name")
        if class_name == "function":
            return _lookup(config.get("config"), objects)
        return _lookup(class_name, objects).from_config(config.get("config") or {})
    return _lookup(config, objects)


def _lookup(name, objects):
    if name in objects:
        return objects[name]
    if isinstance(name, str) and name in _losses._OBJECTS:
        return _losses._OBJECTS[name]
    close = difflib.get_close_matches(str(name), list(objects), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"Could not interpret metric identifier: {name!r} (unknown metric{hint})")


def get(identifier):
    """Resolves a metric identifier: a name, config dict, function, class or Metric.

    Names give a new instance of the class (`"mse"` -> `MeanSquaredError()`, `"accuracy"` ->
    `Accuracy()`, as Keras 3). "acc", "crossentropy" and "ce" depend on the loss and the
    shapes: they give a `MeanMetricWrapper` that picks its function on the first batch (the
    compile machinery resolves them earlier with `resolve_by_loss`).
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in _LOSS_DEPENDENT:
        return _ShapeResolvedMetric(identifier)
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
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _kind_from_shapes(y_true_shape, y_pred_shape):
    """Keras 3's rule: "binary" when y_pred has one column, "sparse" when y_true has lower
    rank or a single column against several, else "categorical"; None when unknown."""
    true_dims = _as_dims(y_true_shape)
    pred_dims = _as_dims(y_pred_shape)
    if pred_dims is None or not pred_dims:
        return None
    if pred_dims[-1] == 1:
        return "binary"
    if true_dims is None or not true_dims:
        return None
    if len(true_dims) < len(pred_dims) or (true_dims[-1] == 1 and (pred_dims[-1] or 2) > 1):
        return "sparse"
    return "categorical"


def _as_dims(shape):
    if shape is None:
        return None
    as_list = getattr(shape, "as_list", None)
    if as_list is not None:
        return None if getattr(shape, "rank", 0) is None else tuple(as_list())
    return tuple(shape)


def _kind_from_loss(loss_fn):
    """Keras 2's rule: the kind of the loss function, when it is a crossentropy."""
    if isinstance(loss_fn, str):
        loss_fn = _losses._OBJECTS.get(loss_fn, loss_fn)
    fn = getattr(loss_fn, "fn", loss_fn)
    if inspect.isclass(fn):
        fn = getattr(fn, "__name__", fn)
    name = getattr(fn, "__name__", str(fn))
    for kind, marker in (("sparse", "sparse_categorical"), ("sparse", "SparseCategorical"),
                         ("binary", "binary"), ("binary", "Binary"),
                         ("categorical", "categorical"), ("categorical", "Categorical")):
        if marker in name:
            return kind
    return None


_ACCURACY_FUNCTIONS = {"binary": binary_accuracy, "sparse": sparse_categorical_accuracy,
                       "categorical": categorical_accuracy}
_BY_KIND = {
    "accuracy": {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy,
                 "categorical": CategoricalAccuracy},
    "crossentropy": {"binary": binary_crossentropy, "sparse": sparse_categorical_crossentropy,
                     "categorical": categorical_crossentropy},
}


def resolve_by_loss(name, loss_fn, y_true_shape, y_pred_shape):
    """The Metric for "accuracy"/"acc"/"crossentropy"/"ce" in `compile(metrics=...)`.

    Keras 3 chooses binary, sparse categorical or categorical from the shapes; when the
    shapes cannot decide, the loss decides (Keras 2's rule); the default is categorical.
    The metric keeps the name it was asked by.
    """
    family = "accuracy" if name.lower() in ("accuracy", "acc") else "crossentropy"
    if family == "crossentropy" and name.lower() not in ("crossentropy", "ce"):
        raise ValueError(f"resolve_by_loss: expected 'accuracy', 'acc', 'crossentropy' or "
                         f"'ce', got {name!r}")
    kind = (_kind_from_shapes(y_true_shape, y_pred_shape) or _kind_from_loss(loss_fn)
            or "categorical")
    chosen = _BY_KIND[family][kind]
    if family == "accuracy":
        return chosen(name=name)
    return MeanMetricWrapper(chosen, name=name)


class _ShapeResolvedMetric(MeanMetricWrapper):
    """"acc"/"crossentropy"/"ce" outside compile: the function is chosen on the first batch
    from the shapes (Keras 3's rule), and the metric keeps the name it was asked by."""

    def __init__(self, name, dtype=None):
        super().__init__(None, name=name, dtype=dtype)
        self._family = "accuracy" if name.lower() in ("accuracy", "acc") else "crossentropy"

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._fn is None:
            y_true, y_pred = _losses._to_tensor(y_true), _losses._to_tensor(y_pred)
            kind = _kind_from_shapes(y_true.shape, y_pred.shape) or "categorical"
            table = _ACCURACY_FUNCTIONS if self._family == "accuracy" else \
                _BY_KIND["crossentropy"]
            self._fn = table[kind]
        super().update_state(y_true, y_pred, sample_weight=sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
