"""Recurrent layers: RNN (any cell), SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed.

The time loop: built-in cells project the inputs of all time steps with one matmul before the
loop, so each step only does the recurrent matmul and the gates. With a static number of time
steps the loop is unrolled in Python (eagerly that is the only way; while tracing it gives a
flat graph the executor runs without per-iteration overhead); with an unknown number of steps
it is a `while_loop` over TensorArrays. Masked time steps keep the previous state and output
(or a zero output with `zero_output_for_mask`), as Keras does.
"""

from ndflow.framework.tensor import EagerTensor, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers import rnn_cells
from ndflow.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ndflow.ops import array as array_ops
from ndflow.ops import control_flow, indexing, manip, tensor_array
from ndflow.util import nest


def _time_major(tensor):
    rank = tensor.shape.rank
    return manip.transpose(tensor, [1, 0] + list(range(2, rank)))


def _batch_major(tensor):
    return _time_major(tensor)


def _keep_masked(mask_t, new, old):
    """`new` where the time step is unmasked, else `old` (mask_t has shape (batch,))."""
    mask = array_ops.reshape(mask_t, [-1] + [1] * (new.shape.rank - 1))
    return indexing.where(mask, new, old)


def _flat_sizes(state_size):
    return [s for s in nest.flatten(state_size)]


class RNN(Layer):
    """Runs a cell over the time axis of `(batch, time, ...)` inputs (`keras.layers.RNN`).

    Args:
      cell: an RNN cell (`call(inputs, states) -> (output, new_states)` and `state_size`), or
        a list of cells (stacked).
      return_sequences: return the output of every step, else only the last.
      return_state: also return the final states.
      go_backwards: process the sequence in reverse (outputs stay in processing order).
      stateful: the final states of a batch are the initial states of the next batch.
      unroll: accepted; the loop is unrolled whenever the number of steps is static.
      zero_output_for_mask: output zeros (instead of the previous output) at masked steps.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: "
                             f"cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(f"The RNN cell should have a `state_size` attribute (single "
                             f"integer or list of integers, one integer per RNN state). "
                             f"Received: cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self._state_variables = None
        size = cell.state_size
        self.state_size = [size] if isinstance(size, int) else list(size)

    @property
    def states(self):
        return self._state_variables

    # --- shapes and masks ----------------------------------------------------------------------

    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        if size is None:
            first = self.state_size[0]
            size = first[0] if isinstance(first, (list, tuple)) else first
        return size

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        batch, length = sequences_shape[0], sequences_shape[1]
        size = self._output_size()
        output = (batch, length, size) if self.return_sequences else (batch, size)
        if not self.return_state:
            return output
        return (output,) + tuple((batch, s) for s in _flat_sizes(self.state_size))

    def compute_mask(self, inputs, mask=None):
        mask = nest.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_flat_sizes(self.state_size))
        return output_mask

    # --- building and states -------------------------------------------------------------------

    def build(self, sequences_shape, initial_state_shape=None):
        if isinstance(sequences_shape, (list, tuple)) and sequences_shape and isinstance(
                sequences_shape[0], (list, tuple, TensorShape)):
            sequences_shape = sequences_shape[0]
        shape = tuple(TensorShape(sequences_shape).as_list())
        if len(shape) < 3:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank at "
                             f"least 3 (batch, time, features), got input shape {shape}")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_with_shape(TensorShape((shape[0],) + shape[2:]))
        if self.stateful:
            if shape[0] is None:
                raise ValueError(f"{type(self).__name__} '{self.name}': when using "
                                 f"`stateful=True` the batch size must be static, got input "
                                 f"shape {shape}")
            self._create_state_variables(shape[0])
        self.built = True

    def _create_state_variables(self, batch_size):
        from ndflow.variables import Variable

        self._state_variables = [
            Variable(state, trainable=False, name="rnn_state")
            for state in nest.flatten(self.get_initial_state(batch_size))]

    def get_initial_state(self, batch_size):
        initial = getattr(self.cell, "get_initial_state", None)
        if initial is not None:
            states = initial(batch_size=batch_size)
            return list(states) if nest.is_nested(states) else [states]
        return [rnn_cells.zeros_state(batch_size, size, self.cell.compute_dtype)
                for size in self.state_size]

    def reset_states(self, states=None):
        """Zeroes the states of a stateful RNN (or sets them to `states`)."""
        if self._state_variables is None:
            return
        values = [None] * len(self._state_variables) if states is None else nest.flatten(states)
        for variable, value in zip(self._state_variables, values):
            variable.assign(array_ops.zeros_like(variable) if value is None else value)

    def reset_state(self):
        self.reset_states()

    # --- the call ------------------------------------------------------------------------------

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(sequences, (list, tuple)):
            sequences, initial_state = sequences[0], list(sequences[1:]) or initial_state
        if mask is not None:
            mask = nest.flatten(mask)[0]
            mask = None if mask is None else convert_to_tensor(mask, dtype_hint="bool")
        if initial_state is None:
            if self.stateful:
                initial_state = [v.value() for v in self._state_variables]
                initial_state = nest.pack_sequence_as(self.state_size, initial_state)
            else:
                static = sequences.shape[0]
                batch = static if static is not None else array_ops.shape(sequences)[0]
                initial_state = self.get_initial_state(batch)
        initial_state = list(initial_state) if nest.is_nested(initial_state) else [
            initial_state]
        last_output, outputs, states = self._loop(sequences, initial_state, mask, training)
        if self.stateful:
            for variable, state in zip(self._state_variables, nest.flatten(states)):
                variable.assign(state)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + nest.flatten(states)
        return output

    # Built-in gated cells project the sequence time-major: the transpose moves the (B, T, D)
    # inputs rather than the 4x wider (B, T, 4 * units) projection, the per-step slices are
    # contiguous, and in the gradient the stacked per-step gradients need no transpose copy
    # (measured on the lstm_fit benchmark: ~2 ms of a ~40 ms step).
    _projects_time_major = True

    def _step_function(self, sequences, training):
        """(per-step inputs, step(x_t, states) -> (output, new_states)) for this cell;
        `sequences` are time-major (T, B, ...)."""
        cell = self.cell
        if isinstance(cell, rnn_cells._GatedCell):
            mask = cell.get_dropout_mask(sequences[0]) if training else None
            if mask is not None:
                sequences = sequences * manip.expand_dims(mask, 0)
            return cell.project(sequences), lambda x, states: cell.step(x, states, training)

        kwargs = {"training": training} if getattr(cell, "_call_has_training", False) else {}

        def step(x, states):
            output, new_states = cell(x, states, **kwargs)
            return output, list(new_states) if nest.is_nested(new_states) else [new_states]

        return sequences, step

    def _loop(self, sequences, initial_state, mask, training):
        if self._projects_time_major:
            inputs, step = self._step_function(_time_major(sequences), training)
        else:
            inputs, step = self._step_function(sequences, training)
            inputs = _time_major(inputs)
        mask = None if mask is None else _time_major(mask)
        if self.go_backwards:
            inputs = manip.reverse(inputs, [0])
            mask = None if mask is None else manip.reverse(mask, [0])
        try:
            if sequences.shape[1] is not None:
                return self._unrolled(inputs, initial_state, mask, step)
            return self._while(inputs, initial_state, mask, step)
        finally:
            for cell in getattr(self.cell, "cells", [self.cell]):
                if isinstance(cell, rnn_cells.DropoutRNNCell):
                    cell.reset_dropout_mask()
                    cell.reset_recurrent_dropout_mask()

    def _masked(self, step, x_t, mask_t, states, previous):
        output, new_states = step(x_t, states)
        if mask_t is None:
            return output, new_states
        if previous is None:
            previous = array_ops.zeros_like(output)
        kept = nest.map_structure(lambda new, old: _keep_masked(mask_t, new, old),
                                  list(new_states), list(states))
        fallback = array_ops.zeros_like(output) if self.zero_output_for_mask else previous
        return _keep_masked(mask_t, output, fallback), kept

    def _unrolled(self, inputs, states, mask, step):
        steps = manip.unstack(inputs, axis=0)
        masks = [None] * len(steps) if mask is None else manip.unstack(mask, axis=0)
        outputs = []
        output = None
        for x_t, mask_t in zip(steps, masks):
            output, states = self._masked(step, x_t, mask_t, states, output)
            outputs.append(output)
        stacked = manip.stack(outputs, axis=1) if self.return_sequences else None
        return output, stacked, states

    def _while(self, inputs, states, mask, step):
        length = array_ops.shape(inputs)[0]
        dtype = inputs.dtype
        xs = tensor_array.TensorArray(dtype, size=length).unstack(inputs)
        ms = None if mask is None else tensor_array.TensorArray(mask.dtype, size=length).unstack(
            mask)
        batch = array_ops.shape(inputs)[1]
        first = rnn_cells.zeros_state(batch, self._output_size(), self.cell.compute_dtype)
        outputs = tensor_array.TensorArray(first.dtype, size=length)
        flat = nest.flatten(states)

        def body(t, output, flat_states, outputs):
            current = nest.pack_sequence_as(states, flat_states)
            mask_t = None if ms is None else ms.read(t)
            output, new_states = self._masked(step, xs.read(t), mask_t, current, output)
            return t + 1, output, nest.flatten(new_states), outputs.write(t, output)

        _, last, flat, outputs = control_flow.while_loop(
            lambda t, *rest: t < length, body,
            [array_ops.constant(0), first, flat, outputs])
        stacked = _batch_major(outputs.stack()) if self.return_sequences else None
        return last, stacked, nest.pack_sequence_as(states, flat)

    # --- configuration -------------------------------------------------------------------------

    def _rnn_config(self):
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self):
        from ndflow.keras import layers

        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = layers.serialize(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ndflow.keras import layers

        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, dict):
            cell = layers.deserialize(cell, custom_objects)
        return cls(cell, **config)


class _CellLayer(RNN):
    """An RNN over one built-in cell, with the cell's arguments as its own (SimpleRNN, ...)."""

    _CELL = None
    _CELL_NAME = None

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, activity_regularizer=None, use_cudnn="auto",
                 zero_output_for_mask=False, **kwargs):
        layer_keys = {"name", "trainable", "dtype", "input_shape", "batch_input_shape",
                      "batch_size", "input_dim", "input_length", "weights", "input_dtype"}
        layer_kwargs = {k: v for k, v in kwargs.items() if k in layer_keys}
        cell_kwargs = {k: v for k, v in kwargs.items() if k not in layer_keys}
        cell = self._CELL(units, name=self._CELL_NAME, dtype=kwargs.get("dtype"),
                          trainable=kwargs.get("trainable", True), **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask,
                         activity_regularizer=activity_regularizer, **layer_kwargs)
        self.use_cudnn = use_cudnn
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name):
        # units, activation, kernel_initializer, ... live on the cell, as in Keras
        if name.startswith("_") or name in ("cell",):
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and hasattr(cell, name):
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_config(self):
        config = Layer.get_config(self)
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config.update(self._rnn_config())
        if self._activity_regularizer is not None:
            from ndflow.keras import regularizers

            config["activity_regularizer"] = regularizers.serialize(self._activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("cell", None)
        return Layer.from_config.__func__(cls, config)


class SimpleRNN(_CellLayer):
    """Fully-connected RNN whose output is fed back as its state (`keras.layers.SimpleRNN`)."""

    _CELL = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"


class LSTM(_CellLayer):
    """Long Short-Term Memory layer (`keras.layers.LSTM`); states `[h, c]`."""

    _CELL = LSTMCell
    _CELL_NAME = "lstm_cell"


class GRU(_CellLayer):
    """Gated Recurrent Unit layer (`keras.layers.GRU`); `reset_after=True` by default."""

    _CELL = GRUCell
    _CELL_NAME = "gru_cell"


def _clone(layer, **overrides):
    """A fresh layer of `layer`'s class and config (and a fresh cell), with `overrides`."""
    config = layer.get_config()
    config.update(overrides)
    if "cell" in config and hasattr(layer, "cell") and type(layer) is RNN:
        config["cell"] = type(layer.cell).from_config(layer.cell.get_config())
    return type(layer).from_config(config)


_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards and merges their outputs.

    Args:
      layer: an RNN layer (LSTM, GRU, SimpleRNN, RNN) to copy for the forward direction.
      merge_mode: "concat" (default), "sum", "mul", "ave", or None for a list of both.
      weights: optional initial weights (forward then backward).
      backward_layer: optional layer for the backward direction.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            message = f"Please initialize `Bidirectional` layer with a `Layer` instance. " \
                f"Received: {layer}"
            raise ValueError(message)  # noqa: TRY004 - Keras raises ValueError here
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             f"be one of {_MERGE_MODES}")
        super().__init__(**kwargs)
        base = layer.name.removeprefix("forward_")
        self.forward_layer = _clone(layer, name="forward_" + base)
        if backward_layer is None:
            backward_layer = _clone(layer, name="backward_" + base,
                                    go_backwards=not layer.go_backwards)
        elif backward_layer.go_backwards == layer.go_backwards:
            raise ValueError(f"Bidirectional: forward layer and backward layer must have "
                             f"different `go_backwards` values, got {layer.go_backwards} for "
                             f"both")
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.supports_masking = True
        if weights is not None:
            self._initial_weights = list(weights)

    def build(self, sequences_shape, initial_state_shape=None):
        self.forward_layer._build_with_shape(sequences_shape)
        self.backward_layer._build_with_shape(sequences_shape)
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {"mask": mask, "training": training}
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = manip.reverse(y_rev, [1])
        if self.merge_mode == "concat":
            output = manip.concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = []
        if self.return_state:
            shape, state_shapes = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        outputs = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state:
            return outputs + state_shapes * 2
        return outputs if self.merge_mode is None else shape

    def compute_mask(self, inputs, mask=None):
        mask = nest.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            states = len(_flat_sizes(self.forward_layer.state_size)) * 2
            return masks + [None] * states
        return masks if self.merge_mode is None else output_mask

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        from ndflow.keras import layers

        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = layers.serialize(self.forward_layer)
        config["backward_layer"] = layers.serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ndflow.keras import layers

        config = dict(config)
        config["layer"] = layers.deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = layers.deserialize(config["backward_layer"],
                                                          custom_objects)
        return cls(**config)


class TimeDistributed(Layer):
    """Applies `layer` to every time step of `(batch, time, ...)` inputs.

    The time axis is folded into the batch axis, so the wrapped layer runs once on
    `(batch * time, ...)`.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            message = f"Please initialize `TimeDistributed` layer with a `Layer` instance. " \
                f"Received: {layer}"
            raise ValueError(message)  # noqa: TRY004 - Keras raises ValueError here
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def build(self, input_shape):
        shape = tuple(TensorShape(input_shape).as_list())
        if len(shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects an input of rank at least "
                             f"3 (batch, time, ...), got input shape {shape}")
        if not self.layer.built:
            self.layer._build_with_shape(TensorShape((None,) + shape[2:]))
        self.built = True

    def call(self, inputs, training=None):
        steps = inputs.shape[1]
        inner = inputs.shape.as_list()[2:]
        if None in inner:
            inner_shape = manip.concat([[-1], array_ops.shape(inputs)[2:]], 0)
        else:
            inner_shape = [-1] + inner
        kwargs = {"training": training} if self.layer._call_has_training else {}
        outputs = self.layer(array_ops.reshape(inputs, inner_shape), **kwargs)
        out_dims = outputs.shape.as_list()[1:]
        if steps is not None and None not in out_dims:
            return array_ops.reshape(outputs, [-1, steps] + out_dims)
        shape = array_ops.shape(inputs)
        result = array_ops.reshape(outputs, manip.concat(
            [shape[:2], array_ops.shape(outputs)[1:]], 0))
        if not isinstance(result, EagerTensor):
            result.set_shape(inputs.shape.as_list()[:2] + out_dims)  # symbolic: keep known dims
        return result

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        inner = self.layer.compute_output_shape((None,) + shape[2:])
        return (shape[0], shape[1]) + tuple(inner[1:])

    def get_config(self):
        from ndflow.keras import layers

        config = super().get_config()
        config["layer"] = layers.serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ndflow.keras import layers

        config = dict(config)
        config["layer"] = layers.deserialize(config["layer"], custom_objects)
        return cls(**config)
