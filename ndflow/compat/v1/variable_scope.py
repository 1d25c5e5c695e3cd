"""TF1 variable sharing: `variable_scope`, `get_variable`, graph collections of variables."""

import contextlib
import threading

from ndflow.compat.v1 import initializers as init_ops
from ndflow.framework import context, dtypes
from ndflow.framework.graph import get_default_graph
from ndflow.variables import Variable


class GraphKeys:
    """Standard names of graph collections (`tf.compat.v1.GraphKeys`)."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MODEL_VARIABLES = "model_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    SUMMARIES = "summaries"
    TRAIN_OP = "train_op"


class _Store:
    """Variables created by get_variable, by full name (one store per graph, or eager)."""

    def __init__(self):
        self.variables = {}


_eager_store = _Store()
_local = threading.local()


def _store():
    graph = context.state.graph
    if graph is None:
        return _eager_store
    store = getattr(graph, "_variable_store", None)
    if store is None:
        store = graph._variable_store = _Store()
    return store


class VariableScope:
    """A named scope for get_variable with reuse, default initializer and regularizer."""

    def __init__(self, name, reuse=False, initializer=None, regularizer=None, dtype=None):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype

    @property
    def original_name_scope(self):
        return self.name + "/" if self.name else ""

    def reuse_variables(self):
        self.reuse = True

    def get_variable(self, name, *args, **kwargs):
        return get_variable(name, *args, **kwargs)


def get_variable_scope():
    stack = getattr(_local, "scopes", None)
    if not stack:
        _local.scopes = stack = [VariableScope("")]
    return stack[-1]


AUTO_REUSE = "AUTO_REUSE"


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, reuse=None, dtype=None, auxiliary_name_scope=True,
                   **kwargs):
    """Opens a scope for get_variable names (`tf.compat.v1.variable_scope`)."""
    parent = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        full = name_or_scope.name
    else:
        base = name_or_scope if name_or_scope is not None else default_name
        if base is None:
            raise ValueError("variable_scope: name_or_scope or default_name is required")
        full = parent.original_name_scope + base
    if reuse is True or reuse == AUTO_REUSE:
        inherited = reuse
    elif parent.reuse:
        inherited = parent.reuse
    else:
        inherited = False
    scope = VariableScope(full, inherited, initializer or parent.initializer,
                          regularizer or parent.regularizer, dtype or parent.dtype)
    _local.scopes.append(scope)
    previous_name_scope = context.state.name_scope
    context.state.name_scope = scope.original_name_scope
    try:
        yield scope
    finally:
        context.state.name_scope = previous_name_scope
        _local.scopes.pop()


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """Gets an existing variable of the current scope or creates a new one (TF1 sharing).

    Raises ValueError when the variable exists and the scope does not allow reuse, or when
    reuse is requested for a variable that does not exist, as TF1 does.
    """
    scope = get_variable_scope()
    full = scope.original_name_scope + name
    store = _store()
    existing = store.variables.get(full)
    if existing is not None:
        if not scope.reuse:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set "
                             f"reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and not existing.shape.is_compatible_with(shape):
            raise ValueError(f"Trying to share variable {full}, but specified shape {shape} "
                             f"and found shape {existing.shape}.")
        return existing
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with "
                         f"tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         f"VarScope?")
    dtype = dtypes.as_dtype(dtype or scope.dtype or dtypes.float32)
    initializer = initializer or scope.initializer
    if initializer is None:
        initializer = (init_ops.GlorotUniform() if dtype.is_floating else init_ops.Zeros())
    if isinstance(initializer, type):
        initializer = initializer()
    if callable(initializer):
        shape_list = list(shape) if shape is not None else None
        variable = Variable(lambda: initializer(shape_list, dtype=dtype), name=name,
                            dtype=dtype, trainable=trainable, constraint=constraint,
                            validate_shape=validate_shape)
    else:
        variable = Variable(initializer, name=name, dtype=dtype, trainable=trainable,
                            constraint=constraint, validate_shape=validate_shape)
    store.variables[full] = variable
    regularizer = regularizer or scope.regularizer
    if regularizer is not None:
        loss = regularizer(variable)
        if loss is not None:
            get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return variable


def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)
