"""Convolutional LSTM layers: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (`keras.layers.ConvLSTM*D`).

An LSTM whose input and recurrent transformations are convolutions. The inputs are sequences
of feature maps, `(batch, time, *spatial, channels)` (or `(batch, time, channels, *spatial)`
with `channels_first`); the states `h` and `c` are feature maps with `filters` channels.

Weights are Keras 3's: `kernel` `(*kernel_size, in, 4 * filters)`, `recurrent_kernel`
`(*kernel_size, filters, 4 * filters)`, `bias` `(4 * filters,)`, gates side by side in the
order i, f, c, o. The layers run on the RNN base class's loop; as for LSTM, the input
convolution of every time step is one convolution before the loop (time folded into the batch),
so each step only does the recurrent convolution (always stride 1, "same" padding) and the gates.
"""

from ndflow.framework.tensor_shape import TensorShape
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import _conv_utils as utils
from ndflow.keras.layers import recurrent, rnn_cells
from ndflow.ops import array as array_ops
from ndflow.ops import control_flow, manip, tensor_array
from ndflow.ops import conv as conv_ops
from ndflow.ops import nn as nn_ops


class ConvLSTMCell(rnn_cells.DropoutRNNCell, Layer):
    """One ConvLSTM step over `rank`-d feature maps; states `[h, c]`.

    As in Keras, dropout draws four masks (one per gate) for the inputs and four for the
    recurrent state, once per sequence.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. "
                             f"Received: rank={rank}")
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        self.rank = rank
        self.filters = filters
        self.kernel_size = utils.standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = utils.standardize_tuple(strides, rank, "strides", allow_zero=True)
        self.padding = utils.standardize_padding(padding)
        self.data_format = utils.standardize_data_format(data_format)
        self.dilation_rate = utils.standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"Specifying `strides > 1` is not compatible with `dilation_rate > "
                             f"1`. Please provide `strides=1` or `dilation_rate=1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.state_size = [-1, -1]  # h and c are feature maps: their shape comes with build
        self.spatial_dims = None
        self.input_dim = None

    # --- shapes and weights --------------------------------------------------------------------

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _tf_format(self):
        return utils.tf_format(self.data_format, self.rank)

    def build(self, input_shape):
        shape = tuple(input_shape)
        spatial = utils.spatial_dims(shape, self.data_format)
        if None in spatial:
            raise ValueError(f"ConvLSTM layers only support static input shapes for the "
                             f"spatial dimension, got input shape {utils.shape_text(shape)}")
        channels = shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"ConvLSTM layers expect a defined channel dimension, got input "
                             f"shape {utils.shape_text(shape)}")
        self.spatial_dims = tuple(spatial)
        self.input_dim = channels
        width = self.filters * 4
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels, width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=self.kernel_size + (self.filters, width),
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            initializer = self.bias_initializer
            if self.unit_forget_bias:
                def initializer(shape, dtype=None, **kwargs):
                    filters = self.filters
                    return manip.concat([self.bias_initializer((filters,), dtype=dtype),
                                         initializers.get("ones")((filters,), dtype=dtype),
                                         self.bias_initializer((filters * 2,), dtype=dtype)], 0)
            self.bias = self.add_weight(name="bias", shape=(width,), initializer=initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def state_shape(self):
        """The shape of `h` and `c` without the batch axis (needs the cell built)."""
        spatial = []
        for size, window, stride, dilation in zip(self.spatial_dims, self.kernel_size,
                                                  self.strides, self.dilation_rate):
            spatial.append(utils.conv_output_length(size, window, self.padding, stride,
                                                    dilation))
        return utils.with_spatial(None, spatial, self.filters, self.data_format)[1:]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        spatial = [utils.conv_output_length(size, window, self.padding, stride, dilation)
                   for size, window, stride, dilation in zip(
                       utils.spatial_dims(shape, self.data_format), self.kernel_size,
                       self.strides, self.dilation_rate)]
        output = utils.with_spatial(shape[0], spatial, self.filters, self.data_format)
        return output, [output, output]

    def get_initial_state(self, batch_size=None):
        dims = list(self.state_shape())
        zeros = array_ops.zeros(utils.stack_shape([batch_size] + dims), dtype=self.compute_dtype)
        if not isinstance(batch_size, int):
            zeros = array_ops.reshape(zeros, [-1] + dims)  # keeps the feature-map dims static
        return [zeros, zeros]

    # --- the step ------------------------------------------------------------------------------

    def _create_dropout_mask(self, like, rate):
        ones = array_ops.ones_like(like)
        return [nn_ops.dropout(ones, rate=rate, seed=self.seed) for _ in range(4)]

    def _conv(self, inputs, kernel, strides, padding, dilations):
        return conv_ops.convolution(inputs, utils.cast_like(kernel, inputs), strides=strides,
                                    padding=padding.upper(), data_format=self._tf_format(),
                                    dilations=dilations)

    def _gate_convs(self, inputs, masks, kernel, strides, padding, dilations, axis):
        """The convolution for all four gates: one convolution with the whole kernel, or, with
        dropout masks, one per gate on its own masked inputs, concatenated on `axis`."""
        if masks is None:
            return self._conv(inputs, kernel, strides, padding, dilations)
        kernels = manip.split(kernel, 4, axis=-1)
        return manip.concat([self._conv(inputs * mask, k, strides, padding, dilations)
                             for mask, k in zip(masks, kernels)], axis)

    def _input_conv(self, inputs, masks):
        outputs = self._gate_convs(inputs, masks, self.kernel, self.strides, self.padding,
                                   self.dilation_rate, self._channel_axis())
        if self.bias is None:
            return outputs
        return nn_ops.bias_add(outputs, utils.cast_like(self.bias, outputs),
                               data_format=self._tf_format())

    def project(self, sequences, training=None):
        """The input convolutions of every time step of `(batch, time, ...)` sequences, with
        time folded into the batch: `(batch, time)` + the state's shape with 4 * filters
        channels (gates i, f, c, o)."""
        masks = self.get_dropout_mask(sequences[:, 0]) if training else None
        if masks is None:
            return self._project_all(sequences, (self.kernel, self.bias))
        axis = -1 if self.data_format == "channels_last" else 2
        return manip.concat([self._project_all(sequences * manip.expand_dims(mask, 1), w)
                             for mask, w in zip(masks, self._split_weights())], axis)

    def _split_weights(self):
        kernels = manip.split(self.kernel, 4, axis=-1)
        biases = manip.split(self.bias, 4) if self.bias is not None else [None] * 4
        return list(zip(kernels, biases))

    def _project_all(self, sequences, weights):
        """One input convolution of all time steps with `weights = (kernel, bias or None)`."""
        kernel, bias = weights
        static = sequences.shape.as_list()
        folded = array_ops.reshape(sequences, [-1] + static[2:])
        outputs = self._conv(folded, kernel, self.strides, self.padding, self.dilation_rate)
        if bias is not None:
            outputs = nn_ops.bias_add(outputs, utils.cast_like(bias, outputs),
                                      data_format=self._tf_format())
        out_dims = outputs.shape.as_list()[1:]
        batch_time = [utils.dim_value(sequences, 0), utils.dim_value(sequences, 1)]
        outputs = array_ops.reshape(outputs, utils.stack_shape(batch_time + out_dims))
        return utils.refine_shape(outputs, static[:2] + out_dims)

    def step(self, projected, states, training=None):
        """The recurrent half of a step, from this step's `projected` input convolutions."""
        h_tm1, c_tm1 = states[0], states[1]
        masks = self.get_recurrent_dropout_mask(h_tm1) if training else None
        z = projected + self._gate_convs(h_tm1, masks, self.recurrent_kernel, 1, "same", 1,
                                         self._channel_axis())
        z_i, z_f, z_c, z_o = manip.split(z, 4, axis=self._channel_axis())
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def call(self, inputs, states, training=None):
        masks = self.get_dropout_mask(inputs) if training else None
        return self.step(self._input_conv(inputs, masks), list(states), training=training)

    def get_config(self):
        config = super().get_config()
        serialize = utils.serialize_or_none
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
            padding=self.padding, data_format=self.data_format,
            dilation_rate=self.dilation_rate, activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            unit_forget_bias=self.unit_forget_bias,
            kernel_regularizer=serialize(regularizers.serialize, self.kernel_regularizer),
            recurrent_regularizer=serialize(regularizers.serialize,
                                            self.recurrent_regularizer),
            bias_regularizer=serialize(regularizers.serialize, self.bias_regularizer),
            kernel_constraint=serialize(constraints.serialize, self.kernel_constraint),
            recurrent_constraint=serialize(constraints.serialize, self.recurrent_constraint),
            bias_constraint=serialize(constraints.serialize, self.bias_constraint),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed)
        return config


class _ConvLSTM(recurrent._CellLayer):
    """An RNN over one ConvLSTMCell of `rank` spatial dims, the cell's arguments its own."""

    rank = None
    _CELL_NAME = "conv_lstm_cell"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        super().__init__(
            filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def _CELL(self, filters, **kwargs):  # _CellLayer builds its cell with self._CELL(units, ...)
        return ConvLSTMCell(self.rank, filters, **kwargs)

    def build(self, sequences_shape, initial_state_shape=None):
        shape = sequences_shape
        if isinstance(shape, (list, tuple)) and shape and isinstance(
                shape[0], (list, tuple, TensorShape)):
            shape = shape[0]
        shape = TensorShape(shape)
        if shape.rank != self.rank + 3:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 3} (batch, time, *spatial, channels), got input "
                             f"shape {utils.shape_text(shape.as_list())}")
        dims = shape.as_list()
        step = dims[:1] + dims[2:]
        spatial = utils.spatial_dims(step, self.cell.data_format)
        channels = step[self.cell._channel_axis()]
        if None in spatial or channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs static spatial and "
                             f"channel dimensions, got input shape {utils.shape_text(dims)}")
        super().build(sequences_shape, initial_state_shape)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        batch, steps = sequences_shape[0], sequences_shape[1]
        state = self.cell.compute_output_shape((batch,) + sequences_shape[2:])[0]
        output = (batch, steps) + state[1:] if self.return_sequences else state
        if self.return_state:
            return output, state, state
        return output

    _projects_time_major = False  # the cell projects the batch-major sequence

    def _step_function(self, sequences, training):
        cell = self.cell
        return cell.project(sequences, training), lambda x, states: cell.step(x, states,
                                                                               training)

    def _while(self, inputs, states, mask, step):
        # RNN._while starts its output slot as a (batch, units) zero state; here the output
        # is a feature map shaped like `h`.
        length = array_ops.shape(inputs)[0]
        xs = tensor_array.TensorArray(inputs.dtype, size=length).unstack(inputs)
        ms = None if mask is None else tensor_array.TensorArray(mask.dtype, size=length).unstack(
            mask)
        first = array_ops.zeros_like(states[0])
        outputs = tensor_array.TensorArray(first.dtype, size=length)

        def body(t, output, flat_states, outputs):
            mask_t = None if ms is None else ms.read(t)
            output, new_states = self._masked(step, xs.read(t), mask_t, list(flat_states),
                                              output)
            return t + 1, output, list(new_states), outputs.write(t, output)

        _, last, flat, outputs = control_flow.while_loop(
            lambda t, *rest: t < length, body,
            [array_ops.constant(0), first, list(states), outputs])
        stacked = recurrent._batch_major(outputs.stack()) if self.return_sequences else None
        return last, stacked, list(flat)

    def get_config(self):
        config = super().get_config()
        config.setdefault("activity_regularizer", None)  # Keras writes it even when None
        return config


class ConvLSTM1D(_ConvLSTM):
    """1D convolutional LSTM over `(batch, time, steps, channels)` (`keras.layers.ConvLSTM1D`).

    Args:
      filters: number of output channels of the convolutions (and of `h` and `c`).
      kernel_size, strides, padding, data_format, dilation_rate: as for Conv1D; the
        recurrent convolution always uses stride 1 and "same" padding.
      activation, recurrent_activation, use_bias, *_initializer, unit_forget_bias,
        *_regularizer, *_constraint, dropout, recurrent_dropout, seed: as for LSTM.
      return_sequences, return_state, go_backwards, stateful: as for every RNN layer.
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """2D convolutional LSTM over `(batch, time, rows, cols, channels)`
    (`keras.layers.ConvLSTM2D`); arguments as for ConvLSTM1D, with 2-d windows."""

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """3D convolutional LSTM over `(batch, time, dim1, dim2, dim3, channels)`
    (`keras.layers.ConvLSTM3D`); arguments as for ConvLSTM1D, with 3-d windows."""

    rank = 3
