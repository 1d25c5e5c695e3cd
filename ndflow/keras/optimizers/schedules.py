"""`keras.optimizers.schedules`: learning rates as functions of the optimizer step.

An optimizer calls its schedule with `iterations` at every update, so each schedule is written
with ndflow ops and works on an eager step or a graph tensor alike.
"""

import math

import ndflow as nd


class LearningRateSchedule:
    """Base class of learning-rate schedules: subclasses define `__call__(step)` and
    `get_config()`."""

    def __call__(self, step):
        raise TypeError(f"Learning rate schedule '{type(self).__name__}' must override "
                        f"`__call__(self, step)`.")

    def get_config(self):
        raise TypeError(f"Learning rate schedule '{type(self).__name__}' must override "
                        f"`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _float_tensor(value):
    """The schedule's rate as a tensor: Python numbers become float32 (Keras 2 accepted
    integer rates; integer arithmetic would truncate them)."""
    tensor = nd.convert_to_tensor(value)
    return tensor if tensor.dtype.is_floating else nd.cast(tensor, nd.float32)


def _check_decay_steps(value, name="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`; with `staircase` the
    exponent is floored, so the rate drops every `decay_steps` steps."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial = _float_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        p = nd.cast(step, dtype) / nd.cast(self.decay_steps, dtype)
        if self.staircase:
            p = nd.floor(p)
        return initial * nd.pow(nd.cast(self.decay_rate, dtype), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <=
    boundaries[i]`, and `values[-1]` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = nd.convert_to_tensor(step)
        boundaries = [nd.cast(b, step.dtype) for b in self.boundaries]
        values = [nd.convert_to_tensor(v) for v in self.values]
        dtype = values[0].dtype
        result = nd.cast(step <= boundaries[0], dtype) * values[0]
        result += nd.cast(step > boundaries[-1], dtype) * nd.cast(values[-1], dtype)
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            in_range = nd.logical_and(step > low, step <= high)
            result += nd.cast(in_range, dtype) * nd.cast(value, dtype)
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """`(initial - end) * (1 - step / decay_steps) ** power + end`, with the step capped at
    `decay_steps`; with `cycle`, `decay_steps` grows to the next multiple past the step."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial = _float_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        end = nd.cast(self.end_learning_rate, dtype)
        power = nd.cast(self.power, dtype)
        step = nd.cast(step, dtype)
        decay_steps = nd.cast(self.decay_steps, dtype)
        if self.cycle:
            multiplier = nd.where(nd.equal(step, 0), nd.ones_like(step),
                                  nd.math.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = nd.minimum(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * nd.pow(1 - p, power) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase` the
    ratio `step / decay_steps` is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial = _float_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        p = nd.cast(step, dtype) / nd.cast(self.decay_steps, dtype)
        if self.staircase:
            p = nd.floor(p)
        return initial / (nd.cast(1, dtype) + nd.cast(self.decay_rate, dtype) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha, dtype):
    decayed = 0.5 * (1.0 + nd.cos(nd.constant(math.pi, dtype=dtype) * fraction))
    return (1 - alpha) * decayed + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay from `initial_learning_rate` (or, after a linear warmup of `warmup_steps`
    to `warmup_target`, from the target) down to `alpha` times it over `decay_steps`."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial = _float_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        decay_steps = nd.cast(self.decay_steps, dtype)
        step = nd.cast(step, dtype)
        if self.warmup_target is None:
            step = nd.minimum(step, decay_steps)
            return initial * _cosine(step / decay_steps, self.alpha, dtype)
        target = nd.cast(self.warmup_target, dtype)
        warmup_steps = nd.cast(self.warmup_steps, dtype)
        step = nd.minimum(step, decay_steps + warmup_steps)

        def warmup():
            return (target - initial) * (step / warmup_steps) + initial

        def decay():
            return target * _cosine((step - warmup_steps) / decay_steps, self.alpha, dtype)

        return nd.cond(step < warmup_steps, warmup, decay)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods of `first_decay_steps * t_mul**i`
    steps, each starting from `initial_learning_rate * m_mul**i`."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        initial = _float_tensor(self.initial_learning_rate)
        dtype = initial.dtype
        t_mul = nd.cast(self._t_mul, dtype)
        fraction = nd.cast(step, dtype) / nd.cast(self.first_decay_steps, dtype)
        if self._t_mul == 1.0:
            restart = nd.floor(fraction)
            fraction = fraction - restart
        else:
            restart = nd.floor(nd.math.log(1.0 - fraction * (1.0 - t_mul)) / nd.math.log(t_mul))
            done = (1.0 - nd.pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / nd.pow(t_mul, restart)
        m_factor = nd.pow(nd.cast(self._m_mul, dtype), restart)
        alpha = nd.cast(self.alpha, dtype)
        cosine = 0.5 * m_factor * (1.0 + nd.cos(nd.constant(math.pi, dtype=dtype) * fraction))
        return initial * ((1 - alpha) * cosine + alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (
    LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
    InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """The schedule as a Keras 3 config dict (`module`, `class_name`, `config`)."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A schedule from `serialize`'s dict (Keras 2 dicts without `module` work too)."""
    if isinstance(config, LearningRateSchedule):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}")
    class_name = config["class_name"]
    known = dict(_SCHEDULES, **(custom_objects or {}))
    cls = known.get(class_name) or known.get(class_name.split(">")[-1])
    if cls is None:
        raise ValueError(f"Unknown decay: '{class_name}'. Please ensure you are using a "
                         f"`keras.utils.custom_object_scope` and that this object is included "
                         f"in the scope.")
    return cls.from_config(config.get("config", {}))
