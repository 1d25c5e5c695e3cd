"""`tf.data.Options` (with its threading and optimization groups) and `tf.experimental.
Optional`, the value `get_next_as_optional` returns."""


class _OptionGroup:
    _FIELDS = ()

    def __init__(self, **kwargs):
        for name in self._FIELDS:
            object.__setattr__(self, name, kwargs.pop(name, None))
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unknown options {sorted(kwargs)}")

    def __setattr__(self, name, value):
        if name not in self._FIELDS:
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")
        object.__setattr__(self, name, value)

    def merge(self, other):
        merged = type(self)()
        for name in self._FIELDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            value = theirs if theirs is not None else mine
            if isinstance(mine, _OptionGroup):
                value = mine.merge(theirs)
            object.__setattr__(merged, name, value)
        return merged

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, n) == getattr(other, n) for n in self._FIELDS)

    def __repr__(self):
        values = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._FIELDS
                           if getattr(self, n) is not None)
        return f"{type(self).__name__}({values})"


class ThreadingOptions(_OptionGroup):
    """Thread pool settings (`tf.data.ThreadingOptions`)."""

    _FIELDS = ("max_intra_op_parallelism", "private_threadpool_size")


class OptimizationOptions(_OptionGroup):
    """Graph rewrites (`tf.data.experimental.OptimizationOptions`); accepted, no effect."""

    _FIELDS = ("apply_default_optimizations", "filter_fusion", "map_and_batch_fusion",
               "map_and_filter_fusion", "map_fusion", "map_parallelization",
               "noop_elimination", "parallel_batch", "shuffle_and_repeat_fusion",
               "inject_prefetch")


class AutotuneOptions(_OptionGroup):
    _FIELDS = ("enabled", "cpu_budget", "ram_budget", "autotune_algorithm")


class DistributeOptions(_OptionGroup):
    _FIELDS = ("auto_shard_policy", "num_devices")


class Options(_OptionGroup):
    """Options of a dataset pipeline (`tf.data.Options`); set with `with_options`.

    `deterministic=False` lets parallel `map` yield elements in completion order.
    """

    _FIELDS = ("deterministic", "experimental_deterministic", "threading",
               "experimental_threading", "experimental_optimization", "autotune",
               "experimental_distribute", "experimental_slack",
               "experimental_external_state_policy", "experimental_warm_start",
               "experimental_symbolic_checkpoint")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        object.__setattr__(self, "threading", self.threading or ThreadingOptions())
        object.__setattr__(self, "experimental_optimization",
                           self.experimental_optimization or OptimizationOptions())
        object.__setattr__(self, "autotune", self.autotune or AutotuneOptions())
        object.__setattr__(self, "experimental_distribute",
                           self.experimental_distribute or DistributeOptions())

    def __setattr__(self, name, value):
        if name == "experimental_deterministic":
            name = "deterministic"
        if name == "experimental_threading":
            name = "threading"
        super().__setattr__(name, value)

    def __getattribute__(self, name):
        if name == "experimental_deterministic":
            name = "deterministic"
        elif name == "experimental_threading":
            name = "threading"
        return object.__getattribute__(self, name)


class Optional:
    """A value that may be absent (`tf.experimental.Optional`)."""

    def __init__(self, value, element_spec):
        self._value = value
        self._has_value = value is not None
        self.element_spec = element_spec

    def has_value(self, name=None):
        import numpy as np  # noqa: PLC0415

        from ndflow.data import structure  # noqa: PLC0415
        from ndflow.framework import dtypes  # noqa: PLC0415

        return structure.make_tensor(np.array(self._has_value), dtypes.bool)

    def get_value(self, name=None):
        if not self._has_value:
            from ndflow.framework import errors  # noqa: PLC0415

            raise errors.InvalidArgumentError("Optional.get_value: the optional has no value")
        return self._value

    @staticmethod
    def empty(element_spec):
        return Optional(None, element_spec)

    @staticmethod
    def from_value(value):
        return Optional(value, None)
