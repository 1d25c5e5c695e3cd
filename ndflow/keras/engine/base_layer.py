"""`keras.layers.Layer`: weights, lazy build, the call contract, masks, losses, configs.

`Layer.__call__` does, in order: notice symbolic (functional-API) inputs and record a node;
otherwise convert and autocast the inputs, check them against `input_spec`, build on first call
(eagerly, even inside tf.function), call `call()` with `training`/`mask` filled in when its
signature takes them, and attach output masks. Everything a layer computes goes through public
ndflow ops, so it runs eagerly, inside tf.function, and under GradientTape alike.
"""

import collections
import inspect
import re
import threading

from ndflow.framework import context, dtypes
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.keras.engine import naming
from ndflow.keras.engine.keras_tensor import KerasTensor
from ndflow.keras.engine.input_spec import InputSpec, assert_input_compatibility
from ndflow.ops import array as array_ops
from ndflow.util import nest
from ndflow.variables import Variable


class _CallContext(threading.local):
    """Per thread: the `training` value of the enclosing layer call, for nested layers."""

    training = None


_call_context = _CallContext()


def _camel_to_snake(name):
    """Keras' to_snake_case: ConvLSTM2D -> conv_lstm2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_tensor_like(value):
    return isinstance(value, Tensor) or hasattr(value, "__array__") and not isinstance(
        value, (str, bytes))


class Layer:
    """Base class of all Keras layers (`keras.layers.Layer`).

    Args:
      trainable: whether the layer's weights are updated by training.
      name: unique layer name (default: snake_case class name, numbered like `dense_1`).
      dtype: a dtype or mixed-precision policy name (`"mixed_float16"`).
      input_shape / batch_input_shape / input_dim: Keras 2 ways to give the first layer of a
        Sequential model its input shape.
    """

    _SYMBOLIC_OK = True

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False,
                 activity_regularizer=None, autocast=True, **kwargs):
        object.__setattr__(self, "_tracking", False)
        allowed = {"input_shape", "batch_input_shape", "batch_size", "input_dim", "weights",
                   "input_length", "input_dtype"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments "
                            f"{sorted(unknown)}")
        self._own_weights = []
        self._layers = []
        self._losses = []
        self._metrics = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self.built = False
        self._trainable = trainable
        self._name = name or naming.unique_name(_camel_to_snake(type(self).__name__))
        self._name_given = name is not None
        from ndflow.keras import mixed_precision  # noqa: PLC0415 - keras imports engine

        self._dtype_policy = mixed_precision.get_policy_for(dtype)
        self._autocast = autocast
        self.supports_masking = getattr(self, "supports_masking", False)
        self.input_spec = None
        self._activity_regularizer = None
        if activity_regularizer is not None:
            from ndflow.keras import regularizers  # noqa: PLC0415

            self._activity_regularizer = regularizers.get(activity_regularizer)
        self._batch_input_shape = _batch_input_shape(kwargs)
        self._initial_weights = kwargs.get("weights")
        self._call_signature = inspect.signature(self.call)
        self._call_has_training = "training" in self._call_signature.parameters
        self._call_has_mask = "mask" in self._call_signature.parameters
        self._stateful_functions = {}
        object.__setattr__(self, "_tracking", True)

    # --- attribute tracking ------------------------------------------------------------------

    def __setattr__(self, name, value):
        if getattr(self, "_tracking", False) and not name.startswith("_"):
            self._track(value)
        elif getattr(self, "_tracking", False) and name.startswith("_") and isinstance(
                value, Layer):
            self._track(value)
        object.__setattr__(self, name, value)

    def _track(self, value):
        from ndflow.keras.metrics.base import Metric  # noqa: PLC0415

        if isinstance(value, Metric):
            if all(m is not value for m in self._metrics):
                self._metrics.append(value)
            return
        if isinstance(value, Layer):
            if value is not self and all(layer is not value for layer in self._layers):
                self._layers.append(value)
            return
        if isinstance(value, Variable):
            if all(w is not value for w in self._own_weights):
                self._own_weights.append(value)
            return
        if isinstance(value, (list, tuple)) and len(value) < 10000:
            for item in value:
                if isinstance(item, (Layer, Variable, list, tuple, dict)):
                    self._track(item)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, (Layer, Variable, list, tuple, dict)):
                    self._track(item)

    # --- properties --------------------------------------------------------------------------

    @property
    def name(self):
        return self._name

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    @property
    def dtype(self):
        """The variable dtype (Keras 3: `layer.dtype` is the variable dtype of the policy)."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @property
    def layers(self):
        return list(self._layers)

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = [w for w in self._own_weights if w.trainable]
        return _unique(own + [w for layer in self._layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        if self._trainable:
            own = [w for w in self._own_weights if not w.trainable]
        else:
            own = list(self._own_weights)
        nested = [w for layer in self._layers for w in layer.non_trainable_weights]
        if not self._trainable:
            nested = [w for layer in self._layers for w in layer.weights]
        return _unique(own + nested)

    @property
    def weights(self):
        own = ([w for w in self._own_weights if w.trainable]
               + [w for w in self._own_weights if not w.trainable])
        return _unique(own + [w for layer in self._layers for w in layer.weights])

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def variables(self):
        return self.weights

    @property
    def losses(self):
        """Losses added by `add_loss` in the last call and by weight regularizers."""
        collected = list(self._losses)
        for layer in self._layers:
            collected.extend(layer.losses)
        for weight, regularizer in getattr(self, "_weight_regularizers", []):
            collected.append(regularizer(weight))
        return collected

    @property
    def metrics(self):
        return list(self._metrics)

    @property
    def activity_regularizer(self):
        return self._activity_regularizer

    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self._name} has never been called and thus has no "
                                 f"defined input.")
        return self._inbound_nodes[0].input_tensors_structure

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self._name} has never been called and thus has no "
                                 f"defined output.")
        return self._inbound_nodes[0].output_structure

    @property
    def input_shape(self):
        return nest.map_structure(lambda t: tuple(t.shape.as_list()), self.input)

    @property
    def output_shape(self):
        return nest.map_structure(lambda t: tuple(t.shape.as_list()), self.output)

    # --- weights -----------------------------------------------------------------------------

    def add_weight(self, *args, **kwargs):
        """Creates a weight variable of this layer.

        Keras 3 order is `add_weight(shape, initializer, dtype, trainable, autocast,
        regularizer, constraint, aggregation, name)`; Keras 2 code passes `name` first.
        """
        params = _weight_params(args, kwargs)
        from ndflow.keras import constraints, initializers, regularizers  # noqa: PLC0415

        shape = tuple(params["shape"] or ())
        dtype = dtypes.as_dtype(params["dtype"] or self.variable_dtype)
        initializer = initializers.get(params["initializer"] or (
            "glorot_uniform" if dtype.is_floating else "zeros"))
        name = params["name"] or f"variable_{len(self._own_weights)}"
        with context.init_scope():
            value = initializer(shape, dtype=dtype)
            variable = Variable(value, trainable=params["trainable"], dtype=dtype, name=name,
                                constraint=constraints.get(params["constraint"]))
        variable._layer_path = f"{self._name}/{name}"
        self._own_weights.append(variable)
        # Restore-on-create: a checkpoint restored before this weight existed assigns it now.
        from ndflow.train import checkpoint  # noqa: PLC0415 - ndflow/train/checkpoint.py

        checkpoint._restore_on_create(self, variable)
        regularizer = regularizers.get(params["regularizer"])
        if regularizer is not None:
            if not hasattr(self, "_weight_regularizers"):
                object.__setattr__(self, "_weight_regularizers", [])
            self._weight_regularizers.append((variable, regularizer))
        return variable

    def add_variable(self, *args, **kwargs):
        return self.add_weight(*args, **kwargs)

    def get_weights(self):
        """The weights' values as a list of NumPy arrays."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays, in the order of `layer.weights`."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self._name} weight shape mismatch: you called `set_weights(weights)` "
                f"with a list of length {len(weights)}, but the layer was expecting "
                f"{len(params)} weights.")
        for variable, value in zip(params, weights):
            shape = tuple(getattr(value, "shape", ()))
            if tuple(variable.shape.as_list()) != shape:
                raise ValueError(
                    f"Layer {self._name} weight shape {tuple(variable.shape.as_list())} is not "
                    f"compatible with provided weight shape {shape}.")
        for variable, value in zip(params, weights):
            variable.assign(value)

    def count_params(self):
        """The number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self._name}', but "
                             f"the layer isn't built. You can build it manually via: "
                             f"`layer.build(input_shape)`.")
        total = 0
        for weight in self.weights:
            size = 1
            for dim in weight.shape.as_list():
                size *= dim
            total += size
        return total

    # --- the call contract -------------------------------------------------------------------

    def build(self, input_shape):
        """Creates the weights; the default only records that the layer is built."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        """Output shape for an input shape, found by tracing `call` on placeholders."""
        from ndflow.keras.engine import functional_call  # noqa: PLC0415

        return functional_call.output_shape_by_tracing(self, input_shape)

    def compute_output_spec(self, *args, **kwargs):
        from ndflow.keras.engine import functional_call  # noqa: PLC0415

        return functional_call.output_spec(self, args, kwargs)

    def compute_mask(self, inputs, mask=None):
        if not self.supports_masking:
            return None
        return mask

    def add_loss(self, loss):
        """Adds a loss tensor (or a zero-argument callable) to `layer.losses`."""
        if callable(loss) and not isinstance(loss, Tensor):
            loss = loss()
        self._losses.append(loss)

    def __call__(self, *args, **kwargs):
        if not args:
            raise ValueError(f"Layer {self._name}: expected at least one input argument")
        # One eager tensor and nothing else, the usual eager call, cannot be symbolic.
        if (kwargs or len(args) > 1 or type(args[0]) is not EagerTensor) and _has_keras_tensor(
                args, kwargs):
            from ndflow.keras.engine import functional_call  # noqa: PLC0415

            return functional_call.symbolic_call(self, args, kwargs)
        inputs = self._convert_inputs(args[0])
        args = (inputs,) + args[1:]
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, inputs, self._name, type(self).__name__)
        if not self.built:
            self._build_from_inputs(inputs, args, kwargs)
        training = kwargs.get("training")
        if not self._call_has_training:
            # `call` does not take it: pass it on to nested layers through the call context.
            kwargs.pop("training", None)
        elif training is None:
            kwargs["training"] = _call_context.training
        if self._call_has_mask and "mask" not in kwargs:
            masks = ([getattr(inputs, "_keras_mask", None)] if isinstance(inputs, Tensor)
                     else [getattr(t, "_keras_mask", None) for t in nest.flatten(inputs)])
            if any(m is not None for m in masks):
                kwargs["mask"] = masks[0] if len(masks) == 1 else nest.pack_sequence_as(
                    inputs, masks)
        self._losses.clear()
        if training is None:
            outputs = self.call(*args, **kwargs)
        else:
            outer_training = _call_context.training
            _call_context.training = training
            try:
                outputs = self.call(*args, **kwargs)
            finally:
                _call_context.training = outer_training
        if self.supports_masking or type(self).compute_mask is not Layer.compute_mask:
            self._set_masks(inputs, outputs, kwargs.get("mask"))
        if self._activity_regularizer is not None:
            for output in nest.flatten(outputs):
                self.add_loss(self._activity_regularizer(output))
        return outputs

    def _convert_inputs(self, inputs):
        compute = self._dtype_policy.compute_dtype
        if type(inputs) is EagerTensor and (inputs._dtype is compute or not self._autocast
                                            or not inputs._dtype.is_floating):
            return inputs  # the common case: nothing to convert or cast

        def convert(value):
            if isinstance(value, Variable):
                value = value.value()
            if not isinstance(value, Tensor):
                if value is None or isinstance(value, (str, bytes)) or not _is_tensor_like(value):
                    return value
                value = convert_to_tensor(value)
            if (self._autocast and value.dtype.is_floating and value.dtype is not compute
                    and compute.is_floating):
                mask = getattr(value, "_keras_mask", None)
                value = array_ops.cast(value, compute)
                if mask is not None:
                    _set_mask(value, mask)
            return value

        if isinstance(inputs, (Tensor, Variable)) or hasattr(inputs, "__array__"):
            return convert(inputs)
        if nest.is_nested(inputs):
            return nest.map_structure(convert, inputs)
        return inputs

    def _build_from_inputs(self, inputs, args, kwargs):
        shapes = nest.map_structure(
            lambda t: TensorShape(t.shape) if isinstance(t, Tensor) else None, inputs)
        if not nest.is_nested(shapes):
            shapes = shapes
        self._build_with_shape(shapes)

    def _build_with_shape(self, shapes):
        if _single_shape_build(type(self)):
            object.__setattr__(self, "_build_input_shape", shapes)  # Keras' build_config
        with context.init_scope():
            if not nest.is_nested(shapes) and shapes is not None:
                self.build(shapes)
            else:
                self.build(shapes)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _set_masks(self, inputs, outputs, mask):
        if (mask is None and type(self).compute_mask is Layer.compute_mask
                and type(inputs) is EagerTensor and getattr(inputs, "_keras_mask", None) is None):
            return  # the usual eager call: no mask in, none out
        if mask is None:
            masks = [getattr(t, "_keras_mask", None) for t in nest.flatten(inputs)]
            mask = masks[0] if len(masks) == 1 else (
                nest.pack_sequence_as(inputs, masks) if any(m is not None for m in masks)
                else None)
        output_mask = self.compute_mask(inputs, mask)
        if output_mask is None:
            return
        flat_outputs = nest.flatten(outputs)
        flat_masks = nest.flatten(output_mask) if nest.is_nested(output_mask) else (
            [output_mask] * len(flat_outputs))
        for output, out_mask in zip(flat_outputs, flat_masks):
            _set_mask(output, out_mask)

    # --- configuration -----------------------------------------------------------------------

    def get_config(self):
        """The layer's constructor arguments as a JSON-friendly dict."""
        config = {"name": self._name, "trainable": self._trainable,
                  "dtype": self._dtype_policy.get_config_entry()}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        own = inspect.signature(type(self).__init__).parameters
        base = inspect.signature(Layer.__init__).parameters
        extra = [p for p, param in own.items()
                 if p not in base and p not in ("self", "args", "kwargs")
                 and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)]
        if type(self).get_config is Layer.get_config and extra and type(self) is not Layer:
            missing = [p for p in extra if not hasattr(self, p)]
            if missing:
                raise _GetConfigNotImplemented(
                    f"Layer {type(self).__name__} has arguments {extra} in `__init__` and "
                    f"therefore must override `get_config()`.")
            for p in extra:
                config[p] = getattr(self, p)
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from `get_config()`'s output."""
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            from ndflow.keras import mixed_precision  # noqa: PLC0415

            config["dtype"] = mixed_precision.policy_from_config(config["dtype"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self._name}, built={self.built}>"


def _single_shape_build(cls):
    """True when `build` takes one input shape (multi-input builds, like MultiHeadAttention's
    build(query_shape, value_shape), keep their own build config)."""
    parameters = list(inspect.signature(cls.build).parameters.values())[1:]
    required = [p for p in parameters if p.default is p.empty and p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    shapes = [p for p in parameters if p.name.endswith("_shape")]
    return len(required) <= 1 and len(shapes) <= 1


class _GetConfigNotImplemented(NotImplementedError):
    """Keras raises NotImplementedError when a layer with custom __init__ arguments has no
    get_config: it cannot be re-created from its config."""


def _has_keras_tensor(args, kwargs):
    """Whether any argument is a symbolic KerasTensor (then the call records a node)."""
    if len(args) == 1 and not kwargs:
        first = args[0]
        if isinstance(first, Tensor):
            return isinstance(first, KerasTensor)
        if not nest.is_nested(first):
            return False  # one NumPy array or Python value
    return any(isinstance(t, KerasTensor) for t in nest.flatten((args, kwargs)))


def _set_mask(tensor, mask):
    try:
        tensor._keras_mask = mask
    except AttributeError:
        pass


def _unique(items):
    seen = set()
    result = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            result.append(item)
    return result


def _batch_input_shape(kwargs):
    if kwargs.get("batch_input_shape") is not None:
        return tuple(kwargs["batch_input_shape"])
    if kwargs.get("input_shape") is not None:
        return (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
    if kwargs.get("input_dim") is not None:
        length = kwargs.get("input_length")
        if length is not None:
            return (kwargs.get("batch_size"), length, kwargs["input_dim"])
        return (kwargs.get("batch_size"), kwargs["input_dim"])
    return None


_WEIGHT_KEYS = ["shape", "initializer", "dtype", "trainable", "autocast", "regularizer",
                "constraint", "aggregation", "name"]


def _weight_params(args, kwargs):
    params = dict.fromkeys(_WEIGHT_KEYS)
    params["trainable"] = True
    if args and isinstance(args[0], str):
        keras2 = ["name", "shape", "dtype", "initializer", "regularizer", "trainable",
                  "constraint"]
        params.update(zip(keras2, args))
    else:
        params.update(zip(_WEIGHT_KEYS, args))
    for key, value in kwargs.items():
        if key in ("use_resource", "synchronization", "partitioner", "experimental_autocast",
                   "caching_device", "getter"):
            continue
        if key not in params:
            raise TypeError(f"add_weight() got an unexpected keyword argument '{key}'")
        params[key] = value
    if params["trainable"] is None:
        params["trainable"] = True
    return params


__all__ = ["Layer", "InputSpec", "collections", "EagerTensor"]
