"""`keras.optimizers.SGD`: gradient descent with optional (Nesterov) momentum."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer


class SGD(Optimizer):
    """Gradient descent with momentum (`keras.optimizers.SGD`).

    Without momentum `w -= learning_rate * g`. With momentum, `v = momentum * v -
    learning_rate * g; w += v`, and with Nesterov `w += momentum * v - learning_rate * g` using
    the new `v`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.01.
      momentum: a float in [0, 1] that accelerates descent in the relevant direction.
      nesterov: whether to apply Nesterov momentum.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        if isinstance(momentum, int) and not isinstance(momentum, bool):
            momentum = float(momentum)  # Keras 2 accepted momentum=0 or 1
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        lr = nd.cast(learning_rate, variable.dtype)
        gradient = nd.cast(gradient, variable.dtype)
        if self.momentum == 0:
            variable.assign_sub(gradient * lr)
            return
        m = self.momentums[self._get_variable_index(variable)]
        new_m = m * self.momentum - gradient * lr
        m.assign(new_m)
        if self.nesterov:
            variable.assign_add(new_m * self.momentum - gradient * lr)
        else:
            variable.assign_add(new_m)
