"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells.

A cell computes one time step: `cell(inputs, states) -> (output, new_states)`. The built-in
cells split that step in two so the RNN layer can run fast: `project(inputs)` is the input
half (`inputs @ kernel + input bias`), which the layer computes for all time steps with one
matmul before its loop, and `step(projected, states)` is the recurrent half run per step.
Weights follow Keras 3's layout: `kernel`, `recurrent_kernel`, `bias`, gates side by side in
the order i, f, c, o (LSTM) and z, r, h (GRU).
"""

from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.ops import array as array_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import manip, rnn_ops
from ndflow.ops import nn as nn_ops
from ndflow.util import nest


def _maybe(serialize, value):
    return None if value is None else serialize(value)


def _matmul_last(inputs, kernel):
    """`inputs @ kernel` on the last axis, for inputs of rank 2 or more."""
    if inputs.shape.rank == 2:
        return linalg_ops.matmul(inputs, kernel)
    return linalg_ops.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])


def zeros_state(batch_size, size, dtype):
    """A (batch_size, size) zero state; `batch_size` may be a Python int or a scalar tensor."""
    if isinstance(batch_size, int):
        return array_ops.zeros((batch_size, size), dtype=dtype)
    # reshape keeps `size` static when the batch size is only known at run time
    zeros = array_ops.zeros(manip.stack([batch_size, size]), dtype=dtype)
    return array_ops.reshape(zeros, [-1, size])


def _cast_like(variable, like):
    return variable if variable.dtype is like.dtype else array_ops.cast(variable, like.dtype)


class DropoutRNNCell:
    """Dropout masks drawn once per sequence and reused at every step (Keras' mixin).

    The RNN layer draws them before its loop (`prepare_dropout`) and drops them after
    (`reset_dropout_mask`), so one batch shares one mask across time as in Keras.
    """

    def _create_dropout_mask(self, like, rate):
        return nn_ops.dropout(array_ops.ones_like(like), rate=rate, seed=self.seed)

    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and 0 < self.dropout < 1:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, state):
        if getattr(self, "_recurrent_dropout_mask", None) is None and (
                0 < self.recurrent_dropout < 1):
            self._recurrent_dropout_mask = self._create_dropout_mask(state,
                                                                     self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class _GatedCell(DropoutRNNCell, Layer):
    """Shared configuration and weights of the built-in cells (`gates` blocks of `units`)."""

    _GATES = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"{type(self).__name__}: `units` must be a positive integer, got "
                             f"units={units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.state_size = units
        self.output_size = units

    def _add_kernels(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the last dimension of the "
                             f"inputs must be defined, got input shape {tuple(input_shape)}")
        width = self.units * self._GATES
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel",
                                                shape=(self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)

    def _add_bias(self, shape, initializer):
        self.bias = self.add_weight(name="bias", shape=shape, initializer=initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def build(self, input_shape):
        self._add_kernels(input_shape)
        self._add_bias((self.units * self._GATES,), self.bias_initializer)
        self.built = True

    def _input_bias(self):
        return self.bias

    def project(self, inputs):
        """The input half of a step, for one step (B, D) or a whole sequence (B, T, D)."""
        projected = _matmul_last(inputs, _cast_like(self.kernel, inputs))
        bias = self._input_bias()
        if bias is not None:
            projected = projected + _cast_like(bias, inputs)
        return projected

    def _recurrent_input(self, h_tm1, training):
        mask = self.get_recurrent_dropout_mask(h_tm1) if training else None
        return h_tm1 if mask is None else h_tm1 * mask

    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        mask = self.get_dropout_mask(inputs) if training else None
        if mask is not None:
            inputs = inputs * mask
        output, new_states = self.step(self.project(inputs), states, training=training)
        return output, (new_states if nested or len(new_states) > 1 else new_states[0])

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [zeros_state(batch_size, size, self.compute_dtype) for size in sizes]

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=_maybe(regularizers.serialize, self.kernel_regularizer),
            recurrent_regularizer=_maybe(regularizers.serialize, self.recurrent_regularizer),
            bias_regularizer=_maybe(regularizers.serialize, self.bias_regularizer),
            kernel_constraint=_maybe(constraints.serialize, self.kernel_constraint),
            recurrent_constraint=_maybe(constraints.serialize, self.recurrent_constraint),
            bias_constraint=_maybe(constraints.serialize, self.bias_constraint),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed,
        )
        return config


class SimpleRNNCell(_GatedCell):
    """`h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)`."""

    def step(self, projected, states, training=None):
        h_tm1 = self._recurrent_input(states[0], training)
        output = self.activation(
            projected + linalg_ops.matmul(h_tm1, _cast_like(self.recurrent_kernel, h_tm1)))
        return output, [output]


class LSTMCell(_GatedCell):
    """Long short-term memory step with states `[h, c]` (Keras 3's fused implementation 2).

    With the default activations and no recurrent dropout, a step is one fused op
    (`LSTMBlockCell`, ops/rnn_ops.py, issue #8) and its gradient one more.
    """

    _GATES = 4
    # Class switch for tests comparing the fused step with the op-by-op one.
    fused_step = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def build(self, input_shape):
        self._add_kernels(input_shape)
        initializer = self.bias_initializer
        if self.unit_forget_bias:
            def initializer(shape, dtype=None, **kwargs):
                units = self.units
                parts = [self.bias_initializer((units,), dtype=dtype),
                         initializers.get("ones")((units,), dtype=dtype),
                         self.bias_initializer((units * 2,), dtype=dtype)]
                return manip.concat(parts, 0)
        self._add_bias((self.units * 4,), initializer)
        self.built = True

    def _fuses(self, h_tm1, training):
        return (self.fused_step and self.activation is activations.tanh
                and self.recurrent_activation is activations.sigmoid
                and h_tm1.dtype.name in ("float32", "float64")
                and not (training and 0 < self.recurrent_dropout < 1))

    def step(self, projected, states, training=None):
        if self._fuses(states[0], training):
            h, c = rnn_ops.lstm_block_cell(projected, states[0], states[1],
                                           _cast_like(self.recurrent_kernel, states[0]))
            return h, [h, c]
        h_tm1 = self._recurrent_input(states[0], training)
        c_tm1 = states[1]
        z = projected + linalg_ops.matmul(h_tm1, _cast_like(self.recurrent_kernel, h_tm1))
        z_i, z_f, z_c, z_o = manip.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.serialize(self.recurrent_activation),
                      unit_forget_bias=self.unit_forget_bias)
        return config


class GRUCell(_GatedCell):
    """Gated recurrent unit step; `reset_after=True` (default) applies the reset gate after
    the recurrent matmul and keeps a separate recurrent bias: bias shape (2, 3 * units).

    With reset_after, a bias, the default activations and no recurrent dropout, a step is one
    fused op (`GRUResetAfterCell`, ops/rnn_ops.py, issue #8).
    """

    _GATES = 3
    # Class switch for tests comparing the fused step with the op-by-op one.
    fused_step = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def build(self, input_shape):
        self._add_kernels(input_shape)
        shape = (2, self.units * 3) if self.reset_after else (self.units * 3,)
        self._add_bias(shape, self.bias_initializer)
        self.built = True

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _fuses(self, h_tm1, training):
        return (self.fused_step and self.reset_after and self.bias is not None
                and self.activation is activations.tanh
                and self.recurrent_activation is activations.sigmoid
                and h_tm1.dtype.name in ("float32", "float64")
                and not (training and 0 < self.recurrent_dropout < 1))

    def step(self, projected, states, training=None):
        h_tm1 = states[0]
        if self._fuses(h_tm1, training):
            h = rnn_ops.gru_reset_after_cell(projected, h_tm1,
                                             _cast_like(self.recurrent_kernel, h_tm1),
                                             _cast_like(self.bias[1], h_tm1))
            return h, [h]
        h_in = self._recurrent_input(h_tm1, training)
        units = self.units
        kernel = _cast_like(self.recurrent_kernel, h_in)
        x_z, x_r, x_h = manip.split(projected, 3, axis=-1)
        if self.reset_after:
            inner = linalg_ops.matmul(h_in, kernel)
            if self.bias is not None:
                inner = inner + _cast_like(self.bias[1], h_in)
            rec_z, rec_r, rec_h = manip.split(inner, 3, axis=-1)
        else:
            rec_z, rec_r = manip.split(linalg_ops.matmul(h_in, kernel[:, :2 * units]), 2,
                                       axis=-1)
        z = self.recurrent_activation(x_z + rec_z)
        r = self.recurrent_activation(x_r + rec_r)
        if self.reset_after:
            rec_h = r * rec_h
        else:
            rec_h = linalg_ops.matmul(r * h_in, kernel[:, 2 * units:])
        hh = self.activation(x_h + rec_h)
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.serialize(self.recurrent_activation),
                      reset_after=self.reset_after)
        return config


class StackedRNNCells(Layer):
    """Runs several cells as one: each cell's output is the next cell's input."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell) or "state_size" not in dir(cell):
                raise ValueError(f"StackedRNNCells: all cells must have a `call` method and a "
                                 f"`state_size` attribute, got {cell!r}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        size = last.state_size
        return size[0] if isinstance(size, (list, tuple)) else size

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            initial = getattr(cell, "get_initial_state", None)
            if initial is not None:
                states.append(initial(batch_size=batch_size))
            else:
                sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [
                    cell.state_size]
                states.append([zeros_state(batch_size, s, self.compute_dtype) for s in sizes])
        return states

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._build_with_shape(_shape(shape))
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) else (
                    cell.state_size)
            shape = shape[:-1] + (size,)
        self.built = True

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if nested else [cell_states]
            kwargs = {"training": training} if getattr(cell, "_call_has_training", False) else {}
            inputs, cell_new = cell(inputs, cell_states, **kwargs)
            new_states.append(list(cell_new) if nest.is_nested(cell_new) else [cell_new])
        return inputs, new_states

    def get_config(self):
        from ndflow.keras import layers

        config = super().get_config()
        config["cells"] = [layers.serialize(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ndflow.keras import layers

        config = dict(config)
        cells = [layers.deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def _shape(shape):
    from ndflow.framework.tensor_shape import TensorShape

    return TensorShape(shape)
