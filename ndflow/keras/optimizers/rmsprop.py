"""`keras.optimizers.RMSprop`: divide by a running root mean square of the gradients."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """RMSprop (`keras.optimizers.RMSprop`).

    `v = rho * v + (1 - rho) * g^2; w -= learning_rate * g / sqrt(v + epsilon)` (epsilon inside
    the square root, as Keras). `centered` subtracts the squared running mean of the gradients
    from `v`; `momentum > 0` accumulates the increments in a momentum slot.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      rho: the discounting factor of the squared-gradient average.
      momentum: the momentum of the increments (0 disables it).
      epsilon: a small constant for numerical stability.
      centered: normalize by the estimated variance of the gradient.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        lr = nd.cast(learning_rate, variable.dtype)
        gradient = nd.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        rho = self.rho
        velocity = self._velocities[index] * rho + nd.square(gradient) * (1 - rho)
        self._velocities[index].assign(velocity)
        if self.centered:
            average = self._average_gradients[index] * rho + gradient * (1 - rho)
            self._average_gradients[index].assign(average)
            denominator = velocity - nd.square(average) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = (lr * gradient) / nd.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[index] * self.momentum + increment
            self._momentums[index].assign(momentum)
            variable.assign_sub(momentum)
        else:
            variable.assign_sub(increment)
