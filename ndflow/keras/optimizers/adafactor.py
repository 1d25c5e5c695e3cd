"""`keras.optimizers.Adafactor`: Adam-like updates with factored second moments (row and
column averages for matrices), relative step sizes and update clipping."""

import ndflow as nd
from ndflow.keras.optimizers.base import Optimizer


def _rms(x):
    return nd.sqrt(nd.reduce_mean(nd.square(x)))


class Adafactor(Optimizer):
    """Adafactor (`keras.optimizers.Adafactor`, Shazeer & Stern, 2018).

    For variables of rank >= 2 the second moment is stored as a row vector `r` and a column
    vector `c`; smaller variables keep a full `velocity`. The step is scaled by
    `max(epsilon_2, rms(w)) * min(learning_rate, 1/sqrt(t))` and the normalized update is
    clipped to an RMS of `clip_threshold`.

    Args:
      learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to 0.001.
      beta_2_decay: the decay exponent: `beta_2_t = 1 - t ** beta_2_decay`.
      epsilon_1: added to the squared gradients.
      epsilon_2: the minimum relative scale of the step.
      clip_threshold: the RMS threshold of the normalized update.
      relative_step: cap a float learning rate at `1 / sqrt(t)`.
      **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, name, ...).
    """

    _hyperparameters = ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold",
                        "relative_step")

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, weight_decay=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name,
                         **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for variable in var_list:
            shape = variable.shape.as_list()
            name = variable.name.removesuffix(":0")
            if len(shape) < 2:
                # Unused placeholders, kept so `variables` lines up with Keras' (int32 scalars).
                self._r.append(self.add_variable((), dtype=nd.int32, name=name))
                self._c.append(self.add_variable((), dtype=nd.int32, name=name))
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=variable.dtype,
                                                 name=name))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=variable.dtype,
                                                 name=name))
            self._v.append(self.add_variable_from_reference(variable, "velocity"))

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = nd.cast(learning_rate, dtype)
        gradient = nd.cast(gradient, dtype)
        step = nd.cast(self.iterations + 1, dtype)
        inverse_sqrt_step = 1 / nd.sqrt(step)
        if not callable(self._learning_rate) and self.relative_step:
            lr = nd.minimum(lr, inverse_sqrt_step)
        index = self._get_variable_index(variable)
        rho_t = nd.minimum(lr, inverse_sqrt_step)
        alpha_t = nd.maximum(nd.cast(self.epsilon_2, dtype), _rms(variable)) * rho_t
        regulated_grad_square = nd.square(gradient) + self.epsilon_1
        beta_2_t = 1 - nd.pow(step, self.beta_2_decay)
        if len(variable.shape) >= 2:
            r_var, c_var = self._r[index], self._c[index]
            r = beta_2_t * r_var + (1 - beta_2_t) * nd.reduce_mean(regulated_grad_square, -1)
            c = beta_2_t * c_var + (1 - beta_2_t) * nd.reduce_mean(regulated_grad_square, -2)
            r_var.assign(r)
            c_var.assign(c)
            v = (nd.expand_dims(r / nd.reduce_mean(r, axis=-1, keepdims=True), -1)
                 * nd.expand_dims(c, -2))
        else:
            v = beta_2_t * self._v[index] + (1 - beta_2_t) * regulated_grad_square
        self._v[index].assign(v)
        u_t = gradient / nd.sqrt(v)
        u_t_hat = u_t / nd.maximum(nd.cast(1.0, dtype), _rms(u_t) / self.clip_threshold)
        variable.assign_sub(alpha_t * u_t_hat)
