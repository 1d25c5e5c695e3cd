"""`keras.metrics.Metric`: the stateful metric base class (not a Layer).

A metric owns non-trainable `ndflow.Variable`s created by `add_variable`; `update_state`
changes them only through `assign`/`assign_add`, so the same code runs eagerly and inside a
traced `ndflow.function` (where the assignments become graph ops, kept in program order).
"""

import numpy as np

import ndflow as tf
from ndflow.keras import losses as losses_module

_AGGREGATIONS = {
    None: "NONE", "none": "NONE", "sum": "SUM", "mean": "MEAN",
    "only_first_replica": "ONLY_FIRST_REPLICA",
}
_metric_counts = {}


def _unique_name(base):
    count = _metric_counts.get(base, 0)
    _metric_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def _initial_value(initializer, shape, dtype):
    """The initial array for `add_variable`: "zeros"/"ones", a number, or a callable."""
    if isinstance(initializer, str):
        key = initializer.lower()
        if key in ("zeros", "zero"):
            return np.zeros(shape, dtype=dtype.as_numpy_dtype)
        if key in ("ones", "one"):
            return np.ones(shape, dtype=dtype.as_numpy_dtype)
        from ndflow.keras import initializers

        initializer = initializers.get(initializer)
    if initializer is None:
        return np.zeros(shape, dtype=dtype.as_numpy_dtype)
    if callable(initializer):
        return initializer(shape, dtype=dtype)
    return np.full(shape, initializer, dtype=dtype.as_numpy_dtype)


class Metric:
    """Base class of metrics (`keras.metrics.Metric`).

    Args:
      name: name of the metric (default: the snake-case class name, numbered when repeated).
      dtype: dtype of the metric's state and result (default float32).

    Subclasses create state with `add_variable` in `__init__` and implement
    `update_state(...)` and `result()`; `reset_state()` zeroes every variable by default.
    """

    def __init__(self, name=None, dtype=None):
        self._name = name or _unique_name(losses_module._snake_case(type(self).__name__))
        self._dtype = losses_module._policy_dtype(dtype)
        self._variables = []
        self._metrics = []

    def __setattr__(self, name, value):
        if isinstance(value, Metric) and name != "_metrics" and "_metrics" in self.__dict__:
            self._metrics.append(value)
        object.__setattr__(self, name, value)

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    @property
    def weights(self):
        return self.variables

    @property
    def non_trainable_weights(self):
        return self.variables

    @property
    def trainable_weights(self):
        return []

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """Creates a non-trainable state variable tracked by this metric."""
        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                               f"before add_variable")
        dtype = tf.as_dtype(dtype or self._dtype)
        shape = tuple(shape or ())
        aggregation = _AGGREGATIONS.get(aggregation, aggregation)
        if isinstance(aggregation, str):
            aggregation = tf.VariableAggregation[aggregation.upper()]
        variable = tf.Variable(_initial_value(initializer, shape, dtype), trainable=False,
                               name=name, dtype=dtype, aggregation=aggregation)
        self._variables.append(variable)
        return variable

    def add_weight(self, name=None, shape=(), aggregation="sum", initializer=None, dtype=None,
                   **kwargs):
        """Keras 2 spelling of `add_variable` (name first)."""
        return self.add_variable(shape, initializer=initializer or "zeros", dtype=dtype,
                                 aggregation=aggregation, name=name)

    def update_state(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__}: a Metric subclass must implement "
                        f"update_state(...)")

    def result(self):
        raise TypeError(f"{type(self).__name__}: a Metric subclass must implement result()")

    def reset_state(self):
        """Sets every state variable back to zero."""
        for variable in self.variables:
            variable.assign(tf.zeros(tuple(variable.shape.as_list()), dtype=variable.dtype))

    def reset_states(self):
        """Keras 2 alias of `reset_state`."""
        self.reset_state()

    def __call__(self, *args, **kwargs):
        """Updates the state with one batch, then returns `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
