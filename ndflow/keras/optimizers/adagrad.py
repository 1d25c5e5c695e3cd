"""Accumulating optimizers: `Adagrad` (per-parameter rates from summed squared gradients) and
`Adadelta` (running averages of squared gradients and squared updates)."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """Adagrad (`keras.optimizers.Adagrad`).

    `a += g^2; w -= learning_rate * g / sqrt(a + epsilon)`; the accumulator `a` starts at
    `initial_accumulator_value`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      initial_accumulator_value: the starting value of the accumulators (>= 0).
      epsilon: a small constant for numerical stability.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=self.initial_accumulator_value)

    def update_step(self, gradient, variable, learning_rate):
        lr = nd.cast(learning_rate, variable.dtype)
        gradient = nd.cast(gradient, variable.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        total = accumulator + nd.square(gradient)
        accumulator.assign(total)
        variable.assign_sub((lr * gradient) / nd.sqrt(total + self.epsilon))


class Adadelta(Optimizer):
    """Adadelta (`keras.optimizers.Adadelta`).

    `E[g^2] = rho E[g^2] + (1 - rho) g^2; d = -sqrt(E[d^2] + eps) / sqrt(E[g^2] + eps) * g;
    E[d^2] = rho E[d^2] + (1 - rho) d^2; w += learning_rate * d`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      rho: the decay rate of the running averages.
      epsilon: a small constant for numerical stability.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, gradient, variable, learning_rate):
        lr = nd.cast(learning_rate, variable.dtype)
        gradient = nd.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        rho = self.rho
        grad_var = self._accumulated_grads[index]
        delta_var = self._accumulated_delta_vars[index]
        accumulated_grad = grad_var * rho + nd.square(gradient) * (1 - rho)
        grad_var.assign(accumulated_grad)
        accumulated_delta = delta_var.value()
        delta = -((nd.sqrt(accumulated_delta + self.epsilon) * gradient)
                  / nd.sqrt(accumulated_grad + self.epsilon))
        delta_var.assign(accumulated_delta * rho + nd.square(delta) * (1 - rho))
        variable.assign_add(lr * delta)
