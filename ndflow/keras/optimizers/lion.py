"""`keras.optimizers.Lion`: sign updates from an interpolated momentum (Chen et al., 2023)."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer


class Lion(Optimizer):
    """The Lion optimizer (`keras.optimizers.Lion`).

    `w -= learning_rate * sign(beta_1 * m + (1 - beta_1) * g)`, then
    `m = beta_2 * m + (1 - beta_2) * g`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      beta_1: the interpolation rate for the update direction, in (0, 1].
      beta_2: the decay rate of the momentum.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        lr = nd.cast(learning_rate, variable.dtype)
        gradient = nd.cast(gradient, variable.dtype)
        beta_1 = nd.cast(self.beta_1, variable.dtype)
        beta_2 = nd.cast(self.beta_2, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)].value()
        variable.assign_sub(lr * nd.sign(m * beta_1 + gradient * (1.0 - beta_1)))
        self._momentums[self._get_variable_index(variable)].assign(
            m * beta_2 + gradient * (1.0 - beta_2))
