"""The Adam family: `Adam` (with AMSGrad), `AdamW` (decoupled weight decay), `Adamax` (infinity
norm) and `Nadam` (Nesterov momentum), with Keras 3's update formulas."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer
from ndflow.ops import training_ops
from ndflow.variables import Variable


def _fusable(*variables):
    """Plain float variables (not wrappers such as mixed precision's autocast variables)."""
    return all(type(v) is Variable and v.dtype.is_floating for v in variables)


def _step(optimizer, dtype, offset=1):
    """The 1-based step number (`iterations + offset`) as a `dtype` scalar."""
    return nd.cast(optimizer.iterations + offset, dtype)


class Adam(Optimizer):
    """Adam (`keras.optimizers.Adam`): adaptive moment estimation.

    `m += (g - m) * (1 - beta_1); v += (g^2 - v) * (1 - beta_2);
    w -= m * alpha / (sqrt(v) + epsilon)` with the bias-corrected rate
    `alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      beta_1: the decay rate of the first moment estimates.
      beta_2: the decay rate of the second moment estimates.
      epsilon: a small constant for numerical stability (1e-7, outside the square root).
      amsgrad: use the maximum of past second moments (AMSGrad).
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = nd.cast(learning_rate, dtype)
        gradient = nd.cast(gradient, dtype)
        step = _step(self, dtype)
        beta_1_power = nd.pow(nd.cast(self.beta_1, dtype), step)
        beta_2_power = nd.pow(nd.cast(self.beta_2, dtype), step)
        index = self._get_variable_index(variable)
        m_var, v_var = self._momentums[index], self._velocities[index]
        if not self.amsgrad and _fusable(variable, m_var, v_var):
            # One fused kernel, the same arithmetic as below (training_ops.py)
            training_ops.apply_adam("ResourceApplyKerasAdam", variable, m_var, v_var,
                                    beta_1_power, beta_2_power, lr, 1 - self.beta_1,
                                    1 - self.beta_2, self.epsilon, gradient)
            return
        alpha = lr * nd.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m = m_var.value()
        m = m + (gradient - m) * (1 - self.beta_1)
        m_var.assign(m)
        v = v_var.value()
        v = v + (nd.square(gradient) - v) * (1 - self.beta_2)
        v_var.assign(v)
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            v = nd.maximum(v_hat, v)
            v_hat.assign(v)
        variable.assign_sub((m * alpha) / (nd.sqrt(v) + self.epsilon))


class AdamW(Adam):
    """Adam with decoupled weight decay (`keras.optimizers.AdamW`).

    Before each Adam update, `w -= weight_decay * learning_rate * w`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      weight_decay: the decoupled weight decay rate (required; 0.004 by default).
      beta_1, beta_2, epsilon, amsgrad: as for `Adam`.
      **kwargs: the base `Optimizer` arguments (clipnorm, use_ema, name, ...).
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                         name=name, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")


class Adamax(Optimizer):
    """Adamax (`keras.optimizers.Adamax`): Adam with the infinity norm.

    `m += (g - m) * (1 - beta_1); u = max(beta_2 * u, |g|);
    w -= learning_rate * m / ((1 - beta_1^t) * (u + epsilon))`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      beta_1: the decay rate of the first moment estimates.
      beta_2: the decay rate of the exponentially weighted infinity norm.
      epsilon: a small constant for numerical stability.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = nd.cast(learning_rate, dtype)
        gradient = nd.cast(gradient, dtype)
        beta_1_power = nd.pow(nd.cast(self.beta_1, dtype), _step(self, dtype))
        index = self._get_variable_index(variable)
        m = self._m[index].value()
        m = m + (gradient - m) * (1 - self.beta_1)
        self._m[index].assign(m)
        u = nd.maximum(self._u[index] * self.beta_2, nd.abs(gradient))
        self._u[index].assign(u)
        variable.assign_sub((lr * m) / ((1 - beta_1_power) * (u + self.epsilon)))


class Nadam(Optimizer):
    """Nadam (`keras.optimizers.Nadam`): Adam with Nesterov momentum and Keras' momentum
    schedule `u_t = beta_1 * (1 - 0.5 * 0.96^t)`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      beta_1: the decay rate of the first moment estimates.
      beta_2: the decay rate of the second moment estimates.
      epsilon: a small constant for numerical stability.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        dtype = var_list[0].dtype if var_list else nd.float32
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        # The running product of the u_t schedule, shared by all variables (Keras: 'variable').
        self._u_product = self.add_variable((), initializer="ones", dtype=dtype,
                                            name="variable")

    def _clip_decay_and_update(self, grads, variables):
        dtype = self._u_product.dtype
        decay = 1.0 - 0.5 * nd.pow(nd.cast(0.96, dtype), _step(self, dtype))
        self._u_product.assign(self._u_product * self.beta_1 * decay)
        super()._clip_decay_and_update(grads, variables)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = nd.cast(learning_rate, dtype)
        gradient = nd.cast(gradient, dtype)
        decay = nd.cast(0.96, dtype)
        beta_1 = nd.cast(self.beta_1, dtype)
        beta_2 = nd.cast(self.beta_2, dtype)
        u_t = beta_1 * (1.0 - 0.5 * nd.pow(decay, _step(self, dtype)))
        u_t_1 = beta_1 * (1.0 - 0.5 * nd.pow(decay, _step(self, dtype, 2)))
        u_product_t = nd.cast(self._u_product, dtype)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = nd.pow(beta_2, _step(self, dtype))
        index = self._get_variable_index(variable)
        m = self._momentums[index].value()
        m = m + (gradient - m) * (1 - beta_1)
        self._momentums[index].assign(m)
        v = self._velocities[index].value()
        v = v + (nd.square(gradient) - v) * (1 - beta_2)
        self._velocities[index].assign(v)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * gradient) / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        variable.assign_sub((m_hat * lr) / (nd.sqrt(v_hat) + self.epsilon))
