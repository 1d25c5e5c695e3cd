"""`keras.activations`: activation functions by name, built on ndflow.nn and ndflow.math."""

from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.ops import nn as nn_ops


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with Keras' leaky slope, cap and threshold options."""
    x = convert_to_tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn_ops.relu(x)
    if max_value == 6.0 and negative_slope == 0.0 and threshold == 0.0:
        return nn_ops.relu6(x)
    positive = x if threshold == 0.0 else x * array_ops.cast(math_ops.greater(x, threshold),
                                                              x.dtype)
    positive = math_ops.maximum(positive, 0.0)
    if max_value is not None:
        positive = math_ops.minimum(positive, float(max_value))
    if negative_slope:
        return positive - negative_slope * nn_ops.relu(threshold - x)
    return positive


def relu6(x):
    return nn_ops.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    return nn_ops.leaky_relu(x, alpha=negative_slope)


def elu(x, alpha=1.0):
    result = nn_ops.elu(x)
    return result if alpha == 1.0 else math_ops.maximum(x, 0.0) + alpha * math_ops.minimum(
        result, 0.0)


def selu(x):
    return nn_ops.selu(x)


def gelu(x, approximate=False):
    return nn_ops.gelu(x, approximate=approximate)


def sigmoid(x):
    return math_ops.sigmoid(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3's definition)."""
    return nn_ops.relu6(x + 3.0) / 6.0


def hard_silu(x):
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def silu(x):
    return nn_ops.silu(x)


swish = silu


def softplus(x):
    return math_ops.softplus(x)


def softsign(x):
    return nn_ops.softsign(x)


def tanh(x):
    return math_ops.tanh(x)


def exponential(x):
    return math_ops.exp(x)


def linear(x):
    return x


def mish(x):
    return x * math_ops.tanh(math_ops.softplus(x))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) over `axis`, computed stably."""
    return nn_ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return nn_ops.log_softmax(x, axis=axis)


_FUNCTIONS = {f.__name__: f for f in [
    relu, relu6, leaky_relu, elu, selu, gelu, sigmoid, hard_sigmoid, hard_silu, silu,
    softplus, softsign, tanh, exponential, linear, mish, softmax, log_softmax]}
_FUNCTIONS.update(swish=silu, hard_swish=hard_silu)


def serialize(activation):
    name = getattr(activation, "__name__", None)
    if name in _FUNCTIONS and _FUNCTIONS[name] is activation:
        return name
    for key, function in _FUNCTIONS.items():
        if function is activation:
            return key
    if hasattr(activation, "get_config"):
        return {"module": None, "class_name": type(activation).__name__,
                "config": activation.get_config(), "registered_name": None}
    return name


def deserialize(name, custom_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name not in _FUNCTIONS:
        raise ValueError(f"Unknown activation function '{name}'. Available: "
                         f"{sorted(_FUNCTIONS)}")
    return _FUNCTIONS[name]


def get(identifier):
    """An activation function from None (linear), a name, or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return deserialize(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier.get("config", identifier).get("name", ""))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")
