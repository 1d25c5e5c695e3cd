"""`keras.optimizers.LossScaleOptimizer` (also `keras.mixed_precision.LossScaleOptimizer`):
dynamic loss scaling for float16 training.

The loss is multiplied by a scale before differentiation so small float16 gradients do not
underflow; `apply` divides the gradients by the scale again. A step with a non-finite gradient
is skipped and halves the scale; `dynamic_growth_steps` finite steps in a row double it.
"""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer, _dense

_BASE_DEFAULTS = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """An optimizer wrapper that scales the loss dynamically (`LossScaleOptimizer`).

    Keras 3 programs call `scale_loss(loss)` and pass the scaled gradients to
    `apply_gradients`. Keras 2 programs call `get_scaled_loss` and `get_unscaled_gradients`
    themselves; after that, `apply_gradients` takes the gradients as already unscaled.

    Args:
      inner_optimizer: the `Optimizer` that applies the unscaled gradients.
      initial_scale: the starting loss scale (2**15).
      dynamic_growth_steps: double the scale after this many finite steps in a row (2000).
      name: the optimizer's name.
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the `inner_optimizer`.")
        for arg_name, default in _BASE_DEFAULTS.items():
            if arg_name in kwargs and kwargs.pop(arg_name) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg_name}`. Instead, "
                                 f"set `{arg_name}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs.keys())}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer: `inner_optimizer` must be a Keras Optimizer, "
                            f"got {type(inner_optimizer).__name__}: {inner_optimizer!r}")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        # Keras 2 passed None for "the default".
        self.initial_scale = 2.0**15 if initial_scale is None else initial_scale
        self.dynamic_growth_steps = 2000 if dynamic_growth_steps is None else dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None
        self._gradients_unscaled_by_caller = False

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        self.step_counter = self.add_variable((), initializer="zeros", dtype=nd.int64,
                                              name="step_counter")
        self.dynamic_scale = self.add_variable((), initializer=float(self.initial_scale),
                                               dtype=nd.float32, name="dynamic_scale")
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    lr = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def loss_scale(self):
        """The current loss scale (Keras 2 name of `dynamic_scale`)."""
        return self.dynamic_scale if self.built else nd.constant(float(self.initial_scale))

    @property
    def dynamic_counter(self):
        """Finite steps since the scale last changed (Keras 2 name of `step_counter`)."""
        return self.step_counter

    def apply(self, grads, trainable_variables=None):
        """Applies the unscaled gradients with the inner optimizer when all are finite;
        otherwise skips the step and halves the scale."""
        grads = [None if g is None else _dense(g) for g in grads]
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        if not self.built:
            if trainable_variables is None:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first.")
            with nd.init_scope():
                self.build(trainable_variables)
        nd.cond(self.check_finite(grads),
                lambda: self._apply_finite(grads, trainable_variables),
                self._skip_step)

    def _apply_finite(self, grads, trainable_variables):
        if not self._gradients_unscaled_by_caller:
            grads = [None if g is None else g / nd.cast(self.dynamic_scale, g.dtype)
                     for g in grads]
        self.inner_optimizer.apply(grads, trainable_variables)

        def upscale():
            self.step_counter.assign(nd.constant(0, dtype=nd.int64))
            self.dynamic_scale.assign(self.dynamic_scale * 2.0)
            return nd.constant(0)

        def increment():
            self.step_counter.assign_add(nd.constant(1, dtype=nd.int64))
            return nd.constant(0)

        nd.cond(nd.equal(self.step_counter, self.dynamic_growth_steps - 1), upscale, increment)
        return nd.constant(0)

    def _skip_step(self):
        self.step_counter.assign(nd.constant(0, dtype=nd.int64))
        self.dynamic_scale.assign(self.dynamic_scale * 0.5)
        return nd.constant(0)

    def check_finite(self, grads):
        """A boolean scalar: every element of every (non-None) gradient is finite."""
        checks = [nd.reduce_all(nd.math.is_finite(g)) for g in grads if g is not None]
        if not checks:
            return nd.constant(True)
        return nd.reduce_all(nd.stack(checks))

    def scale_loss(self, loss):
        """`loss * scale` (the current dynamic scale, or the initial one before building)."""
        loss = nd.convert_to_tensor(loss)
        scale = self.dynamic_scale if self.built else float(self.initial_scale)
        return loss * nd.cast(scale, loss.dtype)

    def get_scaled_loss(self, loss):
        """Keras 2: `loss * scale`; the caller then unscales the gradients itself."""
        if callable(loss):
            return lambda: self.scale_loss(loss())
        return self.scale_loss(loss)

    def get_unscaled_gradients(self, grads):
        """Keras 2: the gradients divided by the current scale (None stays None)."""
        self._gradients_unscaled_by_caller = True
        scale = self.dynamic_scale if self.built else float(self.initial_scale)
        return [None if g is None else _dense(g) / nd.cast(scale, _dense(g).dtype)
                for g in grads]

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from ndflow.keras import optimizers  # noqa: PLC0415 - the package imports this module

        return {
            "name": self.name,
            "inner_optimizer": optimizers.serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ndflow.keras import optimizers  # noqa: PLC0415 - the package imports this module

        config = dict(config)
        inner = optimizers.deserialize(config.pop("inner_optimizer"),
                                       custom_objects=custom_objects)
        return cls(inner, **config)
