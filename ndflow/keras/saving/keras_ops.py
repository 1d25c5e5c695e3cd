"""Keras 3 `keras.ops` operations found in functional configs (for example the `NotEqual` and
`Any` nodes Keras 3 records for `Embedding(mask_zero=True)` and `Masking` masks, or `x + y`
applied to Keras tensors), rebuilt as layers that call the matching ndflow op.

Only the operations in `_OPERATIONS` are known; any other name is refused like an unknown
class (nothing is imported from the module a file names).
"""

from ndflow.keras.engine.base_layer import Layer


def _tf():
    import ndflow

    return ndflow


def _axis(config):
    axis = config.get("axis")
    return list(axis) if isinstance(axis, (list, tuple)) else axis


def _reduction(name):
    def run(x, config):
        return getattr(_tf(), name)(x, axis=_axis(config), keepdims=config.get("keepdims",
                                                                                 False))
    return run


def _binary(name):
    return lambda x, y, config: getattr(_tf(), name)(x, y)


def _unary(name):
    return lambda x, config: getattr(_tf().math, name)(x)


_OPERATIONS = {
    "NotEqual": _binary("not_equal"), "Equal": _binary("equal"),
    "Greater": _binary("greater"), "GreaterEqual": _binary("greater_equal"),
    "Less": _binary("less"), "LessEqual": _binary("less_equal"),
    "LogicalAnd": _binary("logical_and"), "LogicalOr": _binary("logical_or"),
    "Add": _binary("add"), "Subtract": _binary("subtract"), "Multiply": _binary("multiply"),
    "Divide": _binary("divide"), "TrueDivide": _binary("divide"),
    "Maximum": _binary("maximum"), "Minimum": _binary("minimum"), "Matmul": _binary("matmul"),
    "LogicalNot": _unary("logical_not"), "Negative": _unary("negative"),
    "Absolute": _unary("abs"), "Square": _unary("square"), "Sqrt": _unary("sqrt"),
    "Exp": _unary("exp"), "Log": _unary("log"), "Tanh": _unary("tanh"),
    "Sigmoid": _unary("sigmoid"),
    "Any": _reduction("reduce_any"), "All": _reduction("reduce_all"),
    "Sum": _reduction("reduce_sum"), "Mean": _reduction("reduce_mean"),
    "Max": _reduction("reduce_max"), "Min": _reduction("reduce_min"),
    "Cast": lambda x, config: _tf().cast(x, config["dtype"]),
}
_classes = {}


class KerasOperation(Layer):
    """A `keras.ops` operation node of a Keras 3 functional config."""

    _keras_module = "keras.src.ops.numpy"
    _operation = None

    def __init__(self, name=None, **config):
        super().__init__(name=name, autocast=False)
        self._op_config = dict(config)
        self.built = True

    def call(self, *args):
        return type(self)._operation(*args, self._op_config)

    def get_config(self):
        return {"name": self.name, **self._op_config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def operation_class(class_name):
    """The layer class standing for Keras operation `class_name`, or None if unknown."""
    if class_name not in _OPERATIONS:
        return None
    if class_name not in _classes:
        function = _OPERATIONS[class_name]
        _classes[class_name] = type(class_name, (KerasOperation,),
                                    {"_operation": staticmethod(function),
                                     "__module__": __name__})
    return _classes[class_name]
