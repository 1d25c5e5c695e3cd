"""`tf.compat.v1`: the TensorFlow 1.x API — graphs with placeholders run by a Session,
variable scopes, v1 optimizers and losses — on the same ops and graphs as TF2 code.

The namespace holds every TF2 name too (`tf.compat.v1.reduce_sum` ...), plus TF1's own names
and TF1 spellings of arguments (`keep_dims`, `reduction_indices`, `dimension`).
"""

import sys
import types

import ndflow as _tf
from ndflow.compat.v1 import initializers as _init
from ndflow.compat.v1 import losses, train  # noqa: F401 - public submodules
from ndflow.compat.v1.session import InteractiveSession, Session, get_default_session
from ndflow.compat.v1.variable_scope import (  # noqa: F401 - public names
    AUTO_REUSE, GraphKeys, VariableScope, get_variable, get_variable_scope, global_variables,
    local_variables, trainable_variables, variable_scope,
)
from ndflow.framework import context as _context
from ndflow.framework import graph as _graph
from ndflow.ops import state as _state

for _name, _value in list(vars(_tf).items()):
    if not _name.startswith("_") and _name not in ("compat",) and _name not in globals():
        globals()[_name] = _value



def placeholder(dtype, shape=None, name=None):
    """A graph input whose value is given in Session.run's feed_dict (`tf.compat.v1.placeholder`).

    Raises RuntimeError when eager execution is enabled, as TF does.
    """
    graph = _context.state.graph
    if graph is None:
        raise RuntimeError("tf.placeholder() is not compatible with eager execution.")
    return _graph.placeholder(graph, _tf.as_dtype(dtype), shape, name=name or "Placeholder")


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    """A placeholder that yields `input` when it is not fed."""
    value = _tf.convert_to_tensor(input)
    return _tf.identity(value, name=name or "PlaceholderWithDefault")


def _initializer_for(variables, name):
    graph = _context.state.graph
    if graph is None:
        return None
    ops = [v.initializer for v in variables if getattr(v, "initializer", None) is not None]
    with graph.control_dependencies(ops):
        return _state.no_op(name=name)


def global_variables_initializer():
    """An op that initializes every global variable of the default graph."""
    return _initializer_for(global_variables(), "init")


initialize_all_variables = global_variables_initializer


def local_variables_initializer():
    return _initializer_for(local_variables(), "init_1")


def variables_initializer(var_list, name="init"):
    return _initializer_for(var_list, name)


def is_variable_initialized(variable):
    return _tf.constant(variable._array is not None)


def disable_eager_execution():
    """Makes graph building the default: ops go to the global default graph, run by a Session.
    """
    graph = _graph.get_default_graph()
    type(_context.state).graph = graph
    _context.state.graph = graph


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    type(_context.state).graph = None
    _context.state.graph = None


def disable_v2_behavior():
    disable_eager_execution()


def enable_v2_behavior():
    enable_eager_execution()


def executing_eagerly():
    return _context.state.graph is None


def reset_default_graph():
    """Clears the default graph (it must not be inside a `with graph.as_default()` block)."""
    eager_disabled = type(_context.state).graph is not None
    if _context.state.graph is not None and not eager_disabled:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs.")
    _graph._default_graph = _graph.Graph()
    if eager_disabled:
        type(_context.state).graph = _graph._default_graph
        _context.state.graph = _graph._default_graph


get_default_graph = _graph.get_default_graph


def add_to_collection(name, value):
    _graph.get_default_graph().add_to_collection(name, value)


def get_collection(key, scope=None):
    return _graph.get_default_graph().get_collection(key, scope)


def set_random_seed(seed):
    _tf.random.set_seed(seed)


def _keep_dims(function):
    def wrapper(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
        if axis is None:
            axis = reduction_indices
        if keepdims is None:
            keepdims = keep_dims is True or (keep_dims is not None and keep_dims != 0)
        return function(input_tensor, axis=axis, keepdims=keepdims, name=name)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


for _name in ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
              "reduce_any", "reduce_all", "reduce_logsumexp"]:
    if hasattr(_tf, _name):
        globals()[_name] = _keep_dims(getattr(_tf, _name))


def argmax(input, axis=None, name=None, dimension=None, output_type=_tf.int64):  # noqa: A002
    return _tf.argmax(input, axis if axis is not None else (dimension or 0),
                      output_type=output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=_tf.int64):  # noqa: A002
    return _tf.argmin(input, axis if axis is not None else (dimension or 0),
                      output_type=output_type)


def to_float(x, name="ToFloat"):
    return _tf.cast(x, _tf.float32)


def to_int32(x, name="ToInt32"):
    return _tf.cast(x, _tf.int32)


def to_int64(x, name="ToInt64"):
    return _tf.cast(x, _tf.int64)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_tf.float32, seed=None, name=None):
    return _tf.random.normal(shape, mean, stddev, dtype, seed)


def random_uniform(shape, minval=0, maxval=None, dtype=_tf.float32, seed=None, name=None):
    return _tf.random.uniform(shape, minval, maxval, dtype, seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_tf.float32, seed=None, name=None):
    return _tf.random.truncated_normal(shape, mean, stddev, dtype, seed)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    return ref.assign(value)


def assign_add(ref, value, use_locking=None, name=None):
    return ref.assign_add(value)


def assign_sub(ref, value, use_locking=None, name=None):
    return ref.assign_sub(value)


class ConfigProto:
    """Session configuration; accepted and ignored (there is one CPU device)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)
        self.gpu_options = GPUOptions()


class GPUOptions:
    def __init__(self, **kwargs):
        self.allow_growth = False
        self.__dict__.update(kwargs)


class RunOptions:
    FULL_TRACE = 3
    NO_TRACE = 0

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class RunMetadata:
    pass


initializers = types.SimpleNamespace(
    zeros=_init.Zeros, ones=_init.Ones, constant=_init.Constant,
    random_normal=_init.RandomNormal, truncated_normal=_init.TruncatedNormal,
    random_uniform=_init.RandomUniform, glorot_uniform=_init.GlorotUniform,
    glorot_normal=_init.GlorotNormal, global_variables=global_variables_initializer,
    local_variables=local_variables_initializer, variables=variables_initializer,
)
zeros_initializer = _init.Zeros
ones_initializer = _init.Ones
constant_initializer = _init.Constant
random_normal_initializer = _init.RandomNormal
truncated_normal_initializer = _init.TruncatedNormal
random_uniform_initializer = _init.RandomUniform
glorot_uniform_initializer = _init.GlorotUniform
glorot_normal_initializer = _init.GlorotNormal


logging = types.SimpleNamespace(
    set_verbosity=lambda level: None, INFO=20, WARN=30, ERROR=40, DEBUG=10, FATAL=50,
    info=lambda *a, **k: None, warning=lambda *a, **k: None, warn=lambda *a, **k: None,
    error=lambda *a, **k: None, debug=lambda *a, **k: None,
)

sys.modules[__name__ + ".train"] = train
sys.modules[__name__ + ".losses"] = losses
