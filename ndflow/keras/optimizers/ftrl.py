"""`keras.optimizers.Ftrl`: Follow The Regularized Leader, for large sparse linear models."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal (`keras.optimizers.Ftrl`, McMahan et al., 2013) with L1, L2 and L2
    shrinkage regularization.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      learning_rate_power: how the rate decreases during training (<= 0; -0.5 by default).
      initial_accumulator_value: the starting value of the accumulators (>= 0).
      l1_regularization_strength: the L1 strength (>= 0).
      l2_regularization_strength: the L2 strength (>= 0).
      l2_shrinkage_regularization_strength: the L2 shrinkage (magnitude penalty) strength.
      beta: the beta value of the paper (adds `beta / (2 * learning_rate)` to the L2 strength).
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("learning_rate_power", "initial_accumulator_value",
                        "l1_regularization_strength", "l2_regularization_strength",
                        "l2_shrinkage_regularization_strength", "beta")

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, weight_decay=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        _check_non_negative(initial_accumulator_value=initial_accumulator_value,
                            l1_regularization_strength=l1_regularization_strength,
                            l2_regularization_strength=l2_regularization_strength,
                            l2_shrinkage_regularization_strength=(
                                l2_shrinkage_regularization_strength))
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"],
            initializer=[self.initial_accumulator_value, "zeros"])

    def update_step(self, gradient, variable, learning_rate):
        lr = nd.cast(learning_rate, variable.dtype)
        gradient = nd.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        accum_var, linear_var = self._accumulators[index], self._linears[index]
        lr_power = self.learning_rate_power
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        value = variable.value()
        grad_to_use = gradient + 2 * self.l2_shrinkage_regularization_strength * value
        accum = accum_var.value()
        new_accum = accum + nd.square(gradient)
        linear = linear_var + (grad_to_use - (nd.pow(new_accum, -lr_power)
                                              - nd.pow(accum, -lr_power)) / lr * value)
        linear_var.assign(linear)
        quadratic = nd.pow(new_accum, -lr_power) / lr + 2 * l2_reg
        l1 = self.l1_regularization_strength
        linear_clipped = nd.clip_by_value(linear, -l1, l1)
        variable.assign((linear_clipped - linear) / quadratic)
        accum_var.assign(new_accum)


def _check_non_negative(**values):
    for name, value in values.items():
        if value < 0.0:
            raise ValueError(f"`{name}` needs to be positive or zero. Received: {name}={value}.")
