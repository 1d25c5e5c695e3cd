"""`tf.Variable`: a mutable tensor that training updates in place.

A variable holds a backend array. Reading it (any op on it, `value()`, `read_value()`) gives an
eager tensor of the current value and tells the recording tapes, which is how trainable variables
are watched automatically. Assignment swaps in a new array, so a tensor read earlier keeps the
value it had (TF's value semantics) without copying on every read.
"""

import enum
import itertools

import numpy as np

from ndflow.framework import context, dtypes, errors, op_registry
from ndflow.framework.device import CPU_NAME
from ndflow.framework.tensor import (EagerTensor, Tensor, _numpy_text, constant_array,
                                     convert_to_tensor)
from ndflow.framework.tensor_shape import TensorShape, as_shape
from ndflow.ops import array as array_ops

_uid = itertools.count(1)
_created = 0


def creation_count():
    """How many variables have been created so far (tf.function checks it between calls)."""
    return _created


class VariableSynchronization(enum.Enum):
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


def _as_array(value, dtype, what):
    """The array for an initial or assigned value, converted to `dtype` (TF's casting rules)."""
    if isinstance(value, Variable):
        value = value.value()
    if isinstance(value, Tensor) or hasattr(type(value), "__tf_tensor__"):
        tensor = convert_to_tensor(value)
        if dtype is not None and tensor.dtype is not dtype:
            raise ValueError(f"{what}: Tensor conversion requested dtype {dtype.name} for Tensor "
                             f"with dtype {tensor.dtype.name} (ndflow does not cast; use "
                             f"tf.cast)")
        return tensor._value, tensor.dtype
    array, out_dtype = constant_array(value, dtype)
    return array, out_dtype


class Variable:
    """A mutable, named tensor (`tf.Variable`).

    Args:
      initial_value: a tensor, array, Python value, or a callable returning one.
      trainable: watched by GradientTape automatically (default True).
      validate_shape: kept for TF compatibility; eagerly the initial value's shape is always
        known, so (as in TF) only `shape` with None dimensions lets assignments change it.
      name: the variable's name (`name:0` is reported, as in TF).
      dtype: converts the initial value to this dtype.
      constraint: a function applied after optimizer updates (Keras uses it).
      shape: the static shape; may have None dimensions to allow changing shape.
    """

    _is_ndflow_variable = True
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 import_scope=None, constraint=None,
                 synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None,
                 experimental_enable_variable_lifting=True):
        if initial_value is None:
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified except "
                             "when you are not providing a `variable_def`. You provided neither.")
        graph = context.state.graph
        tf1_graph = graph is not None and not getattr(graph, "_building_function", False)
        if callable(initial_value):
            if tf1_graph:
                initial_value = initial_value()
            else:
                # Inside tf.function, creation is lifted out of the trace and runs once.
                with context.init_scope():
                    initial_value = initial_value()
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
        self._graph = None
        self._initializer_op = None
        if tf1_graph:
            array = self._graph_initial_value(graph, initial_value, dtype)
        else:
            if isinstance(initial_value, Tensor) and not isinstance(initial_value, EagerTensor):
                raise ValueError(
                    f"Variable '{name or 'Variable'}' created inside tf.function with an initial "
                    f"value that depends on the traced graph ({initial_value!r}). Pass a "
                    f"callable (e.g. lambda: tf.zeros(shape)) or a value known at trace time, "
                    f"or create the variable outside the function.")
            array, self._dtype = _as_array(initial_value, dtype, "Variable initial_value")
            self._array = np.array(array, copy=True)
        if constraint is not None and not callable(constraint):
            raise ValueError(f"Argument `constraint` must be None or a callable. Got a "
                             f"{type(constraint)}: {constraint!r}")
        if synchronization == VariableSynchronization.ON_READ and trainable:
            raise ValueError("Synchronization value can be set to VariableSynchronization."
                             "ON_READ only for non-trainable variables.")
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._validate_shape = validate_shape
        initial_shape = array.shape if self._graph is None else self._graph_shape
        if shape is not None:
            shape = as_shape(shape)
            if not shape.is_compatible_with(initial_shape):
                raise ValueError(f"Variable: initial value shape {initial_shape} is not "
                                 f"compatible with shape {shape}")
            self._shape = shape
        else:
            # Eagerly the initial value's shape is known, so TF fixes it even when
            # validate_shape=False; only an explicit `shape` with None dims lets it change.
            self._shape = TensorShape(initial_shape)
        base = name if name is not None else "Variable"
        self._name = context.state.name_scope + base  # TF keeps a given ':0' ('x:0:0')
        global _created
        _created += 1
        self._unique_id = next(_uid)
        if self._graph is None:
            self._initial_value = EagerTensor(self._array, self._dtype)
        else:
            self._finish_graph_variable()

    def _graph_initial_value(self, graph, initial_value, dtype):
        """TF1 graph variables start uninitialized; their initializer op assigns the value."""
        self._graph = graph
        if isinstance(initial_value, Variable):
            initial_value = initial_value.value()
        value = convert_to_tensor(initial_value, dtype=dtype) if isinstance(
            initial_value, Tensor) else convert_to_tensor(initial_value, dtype_hint=dtype)
        if dtype is not None and value.dtype is not dtype:
            value = array_ops.cast(value, dtype)
        self._dtype = value.dtype
        self._array = None
        self._initial_value = value
        self._graph_shape = tuple(value.shape.as_list()) if value.shape.rank is not None \
            else ()
        return None

    def _finish_graph_variable(self):
        from ndflow.ops import state as state_ops  # noqa: PLC0415 - graph-mode only

        with self._graph.control_dependencies(None):
            assigned = state_ops.assign_variable(self, self._initial_value, "AssignVariableOp")
        self._initializer_op = assigned.op
        self._graph.add_to_collection("variables", self)
        if self._trainable:
            self._graph.add_to_collection("trainable_variables", self)

    @property
    def initializer(self):
        """The op that initializes a TF1 graph variable (None eagerly)."""
        return self._initializer_op

    def initialized_value(self):
        return self.value()

    def eval(self, session=None):
        from ndflow.compat.v1.session import get_default_session  # noqa: PLC0415

        session = session or get_default_session()
        if session is None:
            raise ValueError("Variable.eval(): no default session; pass `session=`")
        return session.run(self.value())

    def load(self, value, session=None):
        self._set_array(value)

    # --- reading -----------------------------------------------------------------------------

    def value(self):
        """The current value as a tensor; recorded by active tapes. While a graph is built,
        a ReadVariableOp, so the read happens when the graph runs."""
        if context.state.graph is not None:
            from ndflow.ops import state as state_ops  # noqa: PLC0415 - graph-mode only

            tensor = state_ops.read_variable(self)
        else:
            tensor = EagerTensor(self._array, self._dtype)
        tapes = context.state.tapes
        if tapes:
            for tape in tapes:
                tape._variable_accessed(self, tensor)
        return tensor

    def read_value(self):
        """The current value, as a tensor (`Variable.read_value`)."""
        return array_ops.identity(self.value())

    def __tf_tensor__(self, dtype=None, name=None):
        return self.value()

    def numpy(self):
        """A copy of the current value as a NumPy array."""
        value = np.array(self._array, copy=True)
        return value[()] if value.ndim == 0 else value

    def __array__(self, dtype=None, copy=None):
        array = np.array(self._array, copy=True)
        return array if dtype is None else array.astype(dtype)

    # --- properties --------------------------------------------------------------------------

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self.shape

    @property
    def ndim(self):
        return self.shape.rank  # also for an uninitialized TF1 graph variable

    @property
    def name(self):
        return self._name + ":0"

    @property
    def trainable(self):
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def synchronization(self):
        return self._synchronization

    @property
    def aggregation(self):
        return self._aggregation

    @property
    def device(self):
        return CPU_NAME

    @property
    def initial_value(self):
        return self._initial_value

    @property
    def handle(self):
        return self

    @property
    def op(self):
        raise AttributeError("Variable.op is undefined when eager execution is enabled.")

    @property
    def graph(self):
        if self._graph is not None:
            return self._graph
        raise AttributeError("Variable.graph is undefined when eager execution is enabled.")

    def ref(self):
        """A hashable reference to this variable (`variable.ref()`)."""
        return _VariableRef(self)

    def experimental_ref(self):
        return self.ref()

    def __hash__(self):
        raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key.")

    # --- assignment --------------------------------------------------------------------------

    def _checked(self, value, what):
        array, _ = _as_array(value, self._dtype, f"{what} to variable '{self.name}'")
        if not self._shape.is_compatible_with(array.shape):
            raise ValueError(
                f"Cannot assign value to variable '{self.name}': Shape mismatch. The variable "
                f"shape {self._shape}, and the assigned value shape {tuple(array.shape)} are "
                f"incompatible.")
        return array

    def _set_array(self, array, fresh=False):
        """Replaces the value with `array`; used by the graph-mode assign ops. The variable
        gets its own array (earlier reads keep their value); `fresh` says `array` was just
        computed and is referenced nowhere else, so it need not be copied."""
        current = self._array
        if (current is not None and type(array) is np.ndarray and array.dtype == current.dtype
                and array.shape == current.shape):
            self._array = array if fresh else array.copy()
            return
        self._array = np.array(self._checked(array, "assign"), copy=True)

    def _updated(self, delta, what, update):
        delta, _ = _as_array(delta, self._dtype, f"{what} to variable '{self.name}'")
        if delta.shape != self._array.shape:
            raise errors.InvalidArgumentError(
                f"{what}: Cannot update variable '{self.name}' with shape "
                f"{list(self._array.shape)} using a Tensor with shape {list(delta.shape)}, "
                f"shapes must be equal.")
        return update(self._array, delta).astype(self._array.dtype, copy=False)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Sets the variable to `value` (same dtype, a shape compatible with `shape`); returns
        the variable (None with read_value=False)."""
        if context.state.graph is not None:
            return self._graph_assign(value, "AssignVariableOp", read_value)
        self._array = np.array(self._checked(value, "assign"), copy=True)
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds `delta` (same shape and dtype) to the variable; returns the variable."""
        if context.state.graph is not None:
            return self._graph_assign(delta, "AssignAddVariableOp", read_value)
        self._array = self._updated(delta, "assign_add", np.add)
        return self if read_value else None

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts `delta` (same shape and dtype) from the variable; returns the variable."""
        if context.state.graph is not None:
            return self._graph_assign(delta, "AssignSubVariableOp", read_value)
        self._array = self._updated(delta, "assign_sub", np.subtract)
        return self if read_value else None

    def _graph_assign(self, value, op_type, read_value):
        """While a graph is built, an assignment is a stateful op run in program order."""
        from ndflow.ops import state as state_ops  # noqa: PLC0415 - graph-mode only

        if not isinstance(value, Tensor):
            value = convert_to_tensor(value, dtype=self._dtype)
        if value.dtype is not self._dtype:
            raise TypeError(f"{op_type}: cannot assign a {value.dtype.name} value to variable "
                            f"'{self.name}' of dtype {self._dtype.name}")
        assigned = state_ops.assign_variable(self, value, op_type)
        # As in TF1 graphs: the assigned value, whose evaluation runs the assignment.
        return assigned if read_value else assigned.op

    def _assign_slice(self, key, value):
        """`var[key].assign(value)`: writes a NumPy-style slice of the variable."""
        array = np.array(self._array, copy=True)
        update, _ = _as_array(value, self._dtype, f"sliced assign to variable '{self._name}'")
        try:
            array[key] = update
        except (ValueError, IndexError) as error:
            raise errors.InvalidArgumentError(
                f"sliced assign to variable '{self._name}' of shape {self.shape}: {error}"
            ) from None
        self._array = array
        return self

    def scatter_nd_update(self, indices, updates, use_locking=None, name=None):
        """Writes `updates` at the index tuples `indices` (`tf.Variable.scatter_nd_update`)."""
        index = np.asarray(convert_to_tensor(indices))
        key = tuple(np.moveaxis(index, -1, 0))
        return self._assign_slice(key, updates)

    def scatter_update(self, sparse_delta, use_locking=None, name=None):
        """Writes the rows of an IndexedSlices into the variable."""
        index = np.asarray(convert_to_tensor(sparse_delta.indices))
        return self._assign_slice(index, sparse_delta.values)

    def set_shape(self, shape):
        self._shape = self._shape.merge_with(shape)

    def __getitem__(self, key):
        if context.state.graph is not None:
            return self.value()[key]
        sliced = self.value()[key]
        result = _SlicedValue(sliced, self, _numpy_key(key))
        if context.state.tapes:  # keep the slice differentiable: result = identity(sliced)
            op_registry._record(op_registry.get("Identity"), (sliced,), (result,), {})
        return result

    # --- Python protocol ---------------------------------------------------------------------

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return iter(self.value())

    def __bool__(self):
        return bool(self._array)

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __index__(self):
        return self.value().__index__()

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        copied = Variable(np.array(self._array, copy=True), trainable=self._trainable,
                          name=self._name, constraint=self._constraint, shape=self._shape,
                          validate_shape=self._validate_shape)
        copied._name = self._name  # not re-prefixed by the current name scope
        memo[id(self)] = copied
        return copied

    def __repr__(self):
        value = _numpy_text(self._array, self._dtype, is_repr=True)
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self._dtype.name}, "
                f"numpy={value}>")

    def __str__(self):
        return self.__repr__()


def _numpy_key(key):
    """A tensor index (ints, slices, tensors, newaxis) as a NumPy index."""
    if isinstance(key, tuple):
        return tuple(_numpy_key(k) for k in key)
    if isinstance(key, (Tensor, Variable)):
        return np.asarray(key)
    return key


class _SlicedValue(EagerTensor):
    """`var[...]`: a tensor of the slice that can also `.assign(...)` into the variable."""

    __slots__ = ("_variable", "_key")

    def __init__(self, tensor, variable, key):
        super().__init__(tensor._value, tensor._dtype)
        self._variable = variable
        self._key = key

    def assign(self, value, use_locking=None, name=None, read_value=True):
        return self._variable._assign_slice(self._key, value)


class _VariableRef:
    __slots__ = ("_variable",)

    def __init__(self, variable):
        self._variable = variable

    def deref(self):
        return self._variable

    def __hash__(self):
        return id(self._variable)

    def __eq__(self, other):
        return isinstance(other, _VariableRef) and other._variable is self._variable


def _delegate(operator):
    def method(self, *args):
        return getattr(self.value(), operator)(*args)

    method.__name__ = operator
    return method


for _operator in Tensor.OVERLOADABLE_OPERATORS - {"__getitem__"}:
    setattr(Variable, _operator, _delegate(_operator))
