"""`keras.backend`: Keras' global settings (floatx, epsilon, image data format, the session's
layer names) and the small tensor helpers older Keras 2 programs call (`K.int_shape`,
`K.get_value`, `K.mean` ...), written with public ndflow ops.
"""

import threading
import warnings

import numpy as np

import ndflow as nd
from ndflow.keras.engine import naming
from ndflow.keras.engine.keras_tensor import KerasTensor

_EPSILON = 1e-7
_FLOATX = "float32"
_IMAGE_DATA_FORMAT = "channels_last"
_uids = {}
_uid_lock = threading.Lock()


# --- configuration ---------------------------------------------------------------------------

def backend():
    """The name of the backend: "tensorflow" (ndflow plays TensorFlow's part)."""
    return "tensorflow"


def epsilon():
    """The fuzz factor used in numeric expressions (default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor returned by `epsilon()`."""
    global _EPSILON
    _EPSILON = float(value)


def floatx():
    """The default float type, as a string (default "float32")."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type: "bfloat16", "float16", "float32" or "float64".

    Layers created afterwards use it, as in Keras 3 (unless a mixed precision policy is set).
    """
    global _FLOATX
    accepted = ("bfloat16", "float16", "float32", "float64")
    value = str(value)
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {set(accepted)}")
    from ndflow.keras import mixed_precision

    if not mixed_precision.global_policy().name.startswith("mixed_"):
        mixed_precision.set_global_policy(value)
    _FLOATX = value


def image_data_format():
    """The default image layout: "channels_last" (NHWC) or "channels_first"."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the value returned by `image_data_format()`."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    _IMAGE_DATA_FORMAT = str(data_format)


def standardize_dtype(dtype):
    """A dtype (string, NumPy or ndflow) as Keras' dtype string, e.g. "float32"."""
    if dtype is None:
        return floatx()
    if hasattr(dtype, "as_numpy_dtype") and hasattr(dtype, "name"):
        return dtype.name
    if dtype in ("bfloat16",):
        return "bfloat16"
    return nd.as_dtype(np.dtype(dtype) if not isinstance(dtype, str) else dtype).name


def is_float_dtype(dtype):
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype):
    return standardize_dtype(dtype).startswith(("int", "uint"))


def clear_session(free_memory=True):
    """Resets the Keras session state: layer names restart (`dense`, `dense_1` ...) and
    `get_uid` counters are cleared."""
    naming.reset()
    with _uid_lock:
        _uids.clear()


def get_uid(prefix=""):
    """A per-prefix counter starting at 1 (Keras' graph-level uid)."""
    with _uid_lock:
        _uids[prefix] = _uids.get(prefix, 0) + 1
        return _uids[prefix]


def learning_phase():
    """Keras 2's learning phase: always 0 (inference); layers get `training=` from fit."""
    return 0


def set_learning_phase(value):
    """Accepted for Keras 2 programs; has no effect (pass `training=` to layers instead)."""
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    warnings.warn("`set_learning_phase` is deprecated and has no effect: pass `training=True` "
                  "or `training=False` when calling a layer or model.", stacklevel=2)


# --- inspecting tensors and variables --------------------------------------------------------

def is_keras_tensor(x):
    """Whether `x` is a symbolic tensor of the functional API (`keras.Input` or a layer
    output)."""
    return isinstance(x, KerasTensor)


def is_tensor(x):
    return nd.is_tensor(x)


def int_shape(x):
    """The static shape as a tuple of ints and None (`K.int_shape`), or None if unknown."""
    shape = getattr(x, "shape", None)
    if shape is None:
        return np.shape(x)
    if hasattr(shape, "rank"):
        return None if shape.rank is None else tuple(shape.as_list())
    return tuple(shape)


def ndim(x):
    shape = int_shape(x)
    return None if shape is None else len(shape)


def dtype(x):
    """The dtype of a tensor or variable as a string, e.g. "float32"."""
    return standardize_dtype(getattr(x, "dtype", None) or np.asarray(x).dtype)


def count_params(x):
    """The number of scalars in a tensor or variable."""
    return int(np.prod(int_shape(x)))


def get_value(x):
    """The value of a variable or tensor as a NumPy array (`K.get_value`)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "numpy"):
        return x.numpy()
    return np.asarray(x)


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def set_value(x, value):
    """Assigns `value` (NumPy or Python) to the variable `x` (`K.set_value`), e.g. an
    optimizer's learning rate."""
    x.assign(np.asarray(value, dtype=np.dtype(x.dtype.as_numpy_dtype)))


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


# --- creating tensors ------------------------------------------------------------------------

def cast_to_floatx(x):
    """`x` as a NumPy array of `floatx()`."""
    return np.asarray(x, dtype=floatx())


def constant(value, dtype=None, shape=None, name=None):
    return nd.constant(value, dtype=dtype or floatx(), shape=shape, name=name)


def variable(value, dtype=None, name=None, constraint=None):
    """A variable holding `value` (in `floatx()` unless `dtype` is given)."""
    value = value.numpy() if hasattr(value, "numpy") else value
    return nd.Variable(np.asarray(value, dtype=dtype or floatx()), name=name,
                       constraint=constraint)


def zeros(shape, dtype=None, name=None):
    return nd.zeros(shape, dtype=dtype or floatx(), name=name)


def ones(shape, dtype=None, name=None):
    return nd.ones(shape, dtype=dtype or floatx(), name=name)


def eye(size, dtype=None, name=None):
    return nd.eye(size, dtype=dtype or floatx(), name=name)


def zeros_like(x, dtype=None, name=None):
    return nd.zeros_like(x, dtype=dtype, name=name)


def ones_like(x, dtype=None, name=None):
    return nd.ones_like(x, dtype=dtype, name=name)


def cast(x, dtype):
    return nd.cast(x, dtype)


# --- math (Keras 2 signatures) ----------------------------------------------------------------

def sum(x, axis=None, keepdims=False):
    return nd.reduce_sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    x = nd.convert_to_tensor(x)
    if x.dtype.is_bool:
        x = nd.cast(x, floatx())
    return nd.reduce_mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    return nd.reduce_max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    return nd.reduce_min(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    return nd.reduce_prod(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return nd.math.reduce_variance(x, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return nd.math.reduce_std(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return nd.reduce_any(nd.cast(x, nd.bool), axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return nd.reduce_all(nd.cast(x, nd.bool), axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    return nd.argmax(x, axis=axis)


def argmin(x, axis=-1):
    return nd.argmin(x, axis=axis)


def dot(x, y):
    """Keras 2's dot: a matrix product for rank <= 2; for higher ranks the last axis of `x`
    against the second-to-last of `y` (shape `x[:-1] + y[:-2] + y[-1:]`)."""
    x_rank, y_rank = ndim(x), ndim(y)
    if (x_rank is not None and x_rank > 2) or (y_rank is not None and y_rank > 2):
        return nd.tensordot(x, y, [[x_rank - 1], [y_rank - 2 if y_rank > 1 else 0]])
    return nd.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Per-sample dot product of batches (rank 2 and 3 inputs; `axes` as in Keras 2)."""
    x_rank, y_rank = ndim(x), ndim(y)
    if axes is None:
        axes = (x_rank - 1, y_rank - 2 if y_rank > 2 else y_rank - 1)
    if isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = (a % r for a, r in zip(axes, (x_rank, y_rank)))
    if x_rank == 2 and y_rank == 2:
        return nd.reduce_sum(x * y, axis=ax if ax == ay else 1, keepdims=True)
    letters = "bcdefghijklm"
    x_sub = "a" + letters[:x_rank - 1]
    y_sub = "a" + letters[x_rank - 1:x_rank + y_rank - 2]
    y_sub = y_sub[:ay] + x_sub[ax] + y_sub[ay + 1:]
    out = "".join(c for c in x_sub + y_sub if (x_sub + y_sub).count(c) == 1 or c == "a")
    out = "a" + out.replace("a", "")
    return nd.einsum(f"{x_sub},{y_sub}->{out}", x, y)


def transpose(x):
    return nd.transpose(x)


def permute_dimensions(x, pattern):
    return nd.transpose(x, perm=list(pattern))


def reshape(x, shape):
    return nd.reshape(x, shape)


def flatten(x):
    return nd.reshape(x, [-1])


def batch_flatten(x):
    return nd.reshape(x, [nd.shape(x)[0], -1])


def expand_dims(x, axis=-1):
    return nd.expand_dims(x, axis)


def squeeze(x, axis):
    return nd.squeeze(x, [axis])


def concatenate(tensors, axis=-1):
    return nd.concat(list(tensors), axis=axis)


def stack(x, axis=0):
    return nd.stack(x, axis=axis)


def gather(reference, indices):
    return nd.gather(reference, indices)


def one_hot(indices, num_classes):
    return nd.one_hot(indices, num_classes)


def shape(x):
    return nd.shape(x)


def abs(x):
    return nd.abs(x)


def square(x):
    return nd.square(x)


def sqrt(x):
    zero = nd.constant(0, dtype=x.dtype)
    return nd.sqrt(nd.clip_by_value(x, zero, nd.constant(np.inf, dtype=x.dtype)))


def exp(x):
    return nd.exp(x)


def log(x):
    return nd.math.log(x)


def pow(x, a):
    return nd.pow(x, a)


def clip(x, min_value, max_value):
    if max_value is not None and min_value is not None and max_value < min_value:
        max_value = min_value
    return nd.clip_by_value(x, min_value, max_value)


def maximum(x, y):
    return nd.maximum(x, y)


def minimum(x, y):
    return nd.minimum(x, y)


def equal(x, y):
    return nd.equal(x, y)


def not_equal(x, y):
    return nd.not_equal(x, y)


def greater(x, y):
    return nd.greater(x, y)


def less(x, y):
    return nd.less(x, y)


def round(x):
    return nd.round(x)


def sign(x):
    return nd.sign(x)


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [nd.stop_gradient(v) for v in variables]
    return nd.stop_gradient(variables)


def switch(condition, then_expression, else_expression):
    """Elementwise (or scalar) choice between two tensors or callables."""
    then_value = then_expression() if callable(then_expression) else then_expression
    else_value = else_expression() if callable(else_expression) else else_expression
    return nd.where(nd.cast(condition, nd.bool), then_value, else_value)


# --- activations and losses (Keras 2's backend versions) -------------------------------------

def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    from ndflow.keras import activations

    return activations.relu(x, negative_slope=alpha, max_value=max_value, threshold=threshold)


def sigmoid(x):
    return nd.sigmoid(x)


def tanh(x):
    return nd.tanh(x)


def softmax(x, axis=-1):
    return nd.nn.softmax(x, axis=axis)


def softplus(x):
    return nd.math.softplus(x)


def l2_normalize(x, axis=None):
    return nd.math.l2_normalize(x, axis=axis)


def _clip_probabilities(output):
    eps = nd.constant(epsilon(), dtype=output.dtype)
    return nd.clip_by_value(output, eps, 1.0 - eps)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (no reduction), probabilities clipped at epsilon."""
    if from_logits:
        return nd.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    output = _clip_probabilities(output)
    return -(target * nd.math.log(output) + (1.0 - target) * nd.math.log(1.0 - output))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy per sample along `axis`; probabilities are rescaled to sum to 1 and
    clipped at epsilon, as Keras does."""
    if from_logits:
        return nd.nn.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / nd.reduce_sum(output, axis=axis, keepdims=True)
    return -nd.reduce_sum(target * nd.math.log(_clip_probabilities(output)), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy against integer class indices."""
    target = nd.cast(target, nd.int32)
    if ndim(target) == ndim(output):
        target = nd.squeeze(target, [-1])
    if axis not in (-1, ndim(output) - 1):
        perm = [i for i in range(ndim(output)) if i != axis % ndim(output)]
        output = nd.transpose(output, perm + [axis % ndim(output)])
    if not from_logits:
        output = nd.math.log(_clip_probabilities(output))
    return nd.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


# --- random ------------------------------------------------------------------------------------

def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return nd.random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype or floatx(),
                             seed=seed)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return nd.random.normal(shape, mean=mean, stddev=stddev, dtype=dtype or floatx(), seed=seed)


__all__ = [name for name in dir() if not name.startswith("_") and name not in (
    "np", "nd", "naming", "threading", "warnings", "KerasTensor")]
