"""Graphs: `Graph`, `Operation` and symbolic tensors, and the graph branch of `execute`.

While a graph is the default (`with graph.as_default():`, or while `tf.function` traces), every
op call adds an `Operation` whose outputs are `SymbolicTensor`s with static shapes from the op's
`infer`. Nothing runs until an executor (function/executor.py) runs the graph. Each operation
remembers the user's source line that created it, so run-time errors can point there.
"""

import contextlib
import os
import sys

import numpy as np

from ndflow.framework import context, dtypes, errors, op_registry
from ndflow.framework.op_registry import Spec
from ndflow.framework.tensor import EagerTensor, Tensor
from ndflow.framework.tensor_shape import TensorShape, as_shape

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_frame():
    """(filename, line, function) of the innermost caller outside the ndflow package."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and "importlib" not in filename:
            return (filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


class SymbolicValueError(NotImplementedError):
    """Raised by `numpy()` on a symbolic tensor (TF raises NotImplementedError there too)."""


class SymbolicTensor(Tensor):
    """An output of an Operation in a Graph: known only by dtype and (partial) static shape."""

    __slots__ = ("_op", "_index", "_dtype", "_shape", "_keras_mask", "__weakref__")

    def __init__(self, op, index, dtype, shape):
        self._op = op
        self._index = index
        self._dtype = dtype
        self._shape = as_shape(shape)

    @property
    def op(self):
        return self._op

    @property
    def value_index(self):
        return self._index

    @property
    def graph(self):
        return self._op.graph

    @property
    def name(self):
        return f"{self._op.name}:{self._index}"

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def ndim(self):
        return self._shape.rank

    @property
    def device(self):
        return self._op.device

    def set_shape(self, shape):
        """Refines the static shape (`Tensor.set_shape`); ValueError if incompatible."""
        self._shape = self._shape.merge_with(shape)

    def consumers(self):
        return [op for op in self._op.graph._operations if self in op.inputs]

    def eval(self, feed_dict=None, session=None):
        from ndflow.compat.v1.session import get_default_session  # noqa: PLC0415

        session = session or get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass a session.")
        return session.run(self, feed_dict)

    def numpy(self):
        raise SymbolicValueError(
            f"Tensor {self.name} is symbolic: it has no value until the graph runs. Inside "
            f"tf.function, return it (or use tf.print); in TF1 code, fetch it with Session.run")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"Cannot convert the symbolic tensor {self.name} (shape {self._shape}, dtype "
            f"{self._dtype.name}) to a NumPy array: it has no value while the graph is built. "
            f"Use ndflow ops instead of NumPy functions inside tf.function.")

    def __len__(self):
        if self._shape.rank is None or self._shape[0] is None:
            raise TypeError(f"len is not well defined for the symbolic tensor {self.name} of "
                            f"shape {self._shape}")
        return self._shape[0]

    def __iter__(self):
        if self._shape.rank is None or self._shape[0] is None:
            raise TypeError(
                f"Iterating over the symbolic tensor {self.name} of shape {self._shape} is not "
                f"allowed: its first dimension is unknown. Use tf.range / tf.unstack / "
                f"tf.map_fn instead.")
        return (self[i] for i in range(self._shape[0]))

    def __bool__(self):
        raise TypeError(
            f"Using the symbolic tensor {self.name} as a Python bool is not allowed: its value "
            f"is not known while the graph is built. Inside tf.function, write the condition "
            f"with tf.cond (AutoGraph converts `if` statements on tensors for you).")

    def __index__(self):
        raise TypeError(f"The symbolic tensor {self.name} cannot be used as a Python index")

    def __hash__(self):
        # Graph tensors are hashable (feed_dict keys, sets of fetches), as in TF.
        return id(self)

    def __eq__(self, other):
        # TF1 graphs compare tensors by identity; inside tf.function `==` is element-wise.
        if self._op.graph._building_function:
            return Tensor.__eq__(self, other)
        return self is other

    def __ne__(self, other):
        if self._op.graph._building_function:
            return Tensor.__ne__(self, other)
        return self is not other

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    def __str__(self):
        return f"Tensor(\"{self.name}\", shape={self._shape}, dtype={self._dtype.name})"


class Operation:
    """A node of a Graph: an op type, its inputs, attributes, outputs and control inputs."""

    def __init__(self, graph, opdef, name, inputs, attrs, output_specs, control_inputs, source):
        self.graph = graph
        self.opdef = opdef
        self.name = name
        self.inputs = tuple(inputs)
        self.attrs = attrs
        self.control_inputs = list(control_inputs)
        self.source = source
        self.device = ""
        self.outputs = tuple(SymbolicTensor(self, i, spec.dtype, TensorShape(spec.shape))
                             for i, spec in enumerate(output_specs))

    @property
    def type(self):
        return self.opdef.name

    @property
    def grad_fn(self):
        return self.opdef.grad

    @property
    def node_def(self):
        return {"name": self.name, "op": self.type, "input": [t.name for t in self.inputs],
                "attr": dict(self.attrs)}

    def get_attr(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.name}' ({self.type}) has no attr named "
                             f"'{name}'") from None

    def _add_control_input(self, op):
        if op not in self.control_inputs:
            self.control_inputs.append(op)

    def where(self):
        """'file:line (function)' of the user code that created this op, if known."""
        if self.source is None:
            return "unknown location"
        filename, line, function = self.source
        return f"{filename}:{line} ({function})"

    def run(self):
        from ndflow.compat.v1.session import get_default_session  # noqa: PLC0415

        get_default_session().run(self)

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"


class Graph:
    """A dataflow graph of Operations (`tf.Graph`)."""

    def __init__(self):
        self._operations = []
        self._names = {}
        self._by_name = {}
        self._collections = {}
        self._control_stack = []
        self._name_stack = ""
        self._finalized = False
        self._constant_cache = {}
        self.seed = None
        self._building_function = False
        self._version = 0

    # --- construction ------------------------------------------------------------------------

    @contextlib.contextmanager
    def as_default(self):
        """Makes this graph the default in the block: ops called inside are added to it."""
        state = context.state
        previous_graph, previous_scope = state.graph, state.name_scope
        state.graph = self
        state.name_scope = self._name_stack
        try:
            yield self
        finally:
            state.graph = previous_graph
            state.name_scope = previous_scope

    def unique_name(self, name, mark_as_used=True):
        """'name', then 'name_1', 'name_2' ... within the current name scope."""
        scope = context.state.name_scope if context.state.graph is self else self._name_stack
        full = scope + name
        key = full.lower()
        count = self._names.get(key, 0)
        result = full if count == 0 else f"{full}_{count}"
        while result.lower() in self._names and count:
            count += 1
            result = f"{full}_{count}"
        if mark_as_used:
            self._names[key] = count + 1
            self._names.setdefault(result.lower(), 1)
        return result

    def create_op(self, opdef, inputs, attrs, name=None, output_specs=None):
        """Adds an Operation; `output_specs` default to the op's inference rule."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        if output_specs is None:
            output_specs = infer_specs(opdef, inputs, attrs)
        op_name = self.unique_name(name or opdef.name)
        control = [op for frame in self._control_stack for op in frame]
        op = Operation(self, opdef, op_name, inputs, attrs, output_specs, control, _user_frame())
        self._operations.append(op)
        self._by_name[op_name] = op
        self._version += 1
        return op

    def constant(self, array, dtype, name="Const"):
        """A Const op holding `array` (cached per array object, so a captured eager tensor
        becomes one node however often it is used)."""
        key = id(array)
        cached = self._constant_cache.get(key)
        if cached is not None and cached[0] is array:
            return cached[1]
        shape = () if dtype is dtypes.resource else np.shape(array)
        op = self.create_op(op_registry.get("Const"), (), {"value": array, "dtype": dtype},
                            name=name, output_specs=[Spec(shape, dtype)])
        self._constant_cache[key] = (array, op.outputs[0])
        return op.outputs[0]

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created in the block run after `control_inputs` (None clears the stack)."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = []
        for item in control_inputs:
            if isinstance(item, Operation):
                ops.append(item)
            elif isinstance(item, SymbolicTensor):
                ops.append(item.op)
            elif item is not None and not isinstance(item, EagerTensor):
                raise TypeError(f"Control input must be an Operation or a Tensor, got {item!r}")
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextlib.contextmanager
    def name_scope(self, name):
        state = context.state
        previous = state.name_scope
        if name is None or name == "":
            state.name_scope = ""
        elif name.endswith("/"):
            state.name_scope = name
        else:
            state.name_scope = self.unique_name(name) + "/"
        try:
            yield state.name_scope
        finally:
            state.name_scope = previous

    def finalize(self):
        self._finalized = True

    @property
    def finalized(self):
        return self._finalized

    # --- queries -----------------------------------------------------------------------------

    def get_operations(self):
        return list(self._operations)

    def get_operation_by_name(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name):
        op_name, _, index = name.rpartition(":")
        if not op_name:
            raise ValueError(f"The name '{name}' looks like an Operation name, not a Tensor "
                             f"name (expected 'op_name:output_index').")
        op = self.get_operation_by_name(op_name)
        try:
            return op.outputs[int(index)]
        except (IndexError, ValueError):
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. The "
                           f"operation '{op_name}' has {len(op.outputs)} outputs.") from None

    def as_graph_element(self, obj):
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else self.get_operation_by_name(obj)
        return obj

    # --- collections (TF1) -------------------------------------------------------------------

    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for name in [names] if isinstance(names, str) else names:
            self.add_to_collection(name, value)

    def get_collection(self, name, scope=None):
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        return [item for item in items if getattr(item, "name", "").startswith(scope)]

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self):
        return [k for k, v in self._collections.items() if v]

    def clear_collection(self, name):
        self._collections.pop(name, None)

    # --- debugging ---------------------------------------------------------------------------

    def to_text(self):
        """A readable listing: one line per op with its inputs, output shapes and dtypes."""
        lines = []
        for op in self._operations:
            inputs = ", ".join(t.name for t in op.inputs)
            outputs = ", ".join(f"{t.shape}:{t.dtype.name}" for t in op.outputs)
            control = ""
            if op.control_inputs:
                control = "  ^" + ", ^".join(c.name for c in op.control_inputs)
            lines.append(f"{op.name} = {op.type}({inputs}) -> {outputs or '()'}{control}")
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()


def infer_specs(opdef, inputs, attrs):
    """Output Specs of an op from its inputs' static shapes and known constant values."""
    specs = [Spec(t.shape.as_tuple(), t.dtype, constant_value(t), partial_shape_value(t))
             for t in inputs]
    try:
        result = opdef.infer(*specs, **attrs)
    except errors.InvalidArgumentError as error:
        raise ValueError(str(error)) from None
    return result if isinstance(result, (tuple, list)) else (result,)


def constant_value(tensor):
    """The value of a tensor if it is known while building the graph (a Const), else None."""
    if isinstance(tensor, EagerTensor):
        return np.asarray(tensor._value)
    op = getattr(tensor, "_op", None)
    if op is not None and op.type == "Const":
        return np.asarray(op.attrs["value"])
    if op is not None and op.type == "Shape":
        shape = op.inputs[0].shape
        if shape.is_fully_defined():
            return np.asarray(shape.as_list(), dtype=op.attrs["out_type"].as_numpy_dtype)
    return None


def partial_shape_value(tensor):
    """For an int vector built while tracing (Pack of scalars, Shape, ConcatV2 of those): its
    entries known now, None for the others; None when nothing is known (TF's
    constant_value_as_shape)."""
    if not tensor.dtype.is_integer or tensor.shape.rank != 1:
        return None
    value = constant_value(tensor)
    if value is not None:
        return tuple(int(v) for v in value)
    op = getattr(tensor, "_op", None)
    if op is None:
        return None
    if op.type == "Shape":
        return op.inputs[0].shape.as_tuple()
    if op.type == "Pack":
        return tuple(_scalar_value(t) for t in op.inputs)
    if op.type == "ConcatV2":
        parts = [partial_shape_value(t) for t in op.inputs]
        return None if any(p is None for p in parts) else sum(parts, ())
    return None


def _scalar_value(tensor):
    """An int scalar known now: a constant, or an element of a known static shape."""
    value = constant_value(tensor)
    if value is not None and np.ndim(value) == 0:
        return int(value)
    op = getattr(tensor, "_op", None)
    if op is not None and op.type == "StridedSlice" and op.inputs[0].op.type == "Shape":
        begin = constant_value(op.inputs[1]) if len(op.inputs) > 1 else None
        dims = op.inputs[0].op.inputs[0].shape.as_tuple()
        if begin is not None and dims is not None and np.size(begin) == 1 and \
                op.attrs.get("shrink_axis_mask", 0) == 1:
            index = int(np.asarray(begin).reshape(-1)[0])
            if -len(dims) <= index < len(dims):
                return dims[index]
    return None


@op_registry.primitive("Const", dtypes=None, same_dtype=False)
class Const:
    def infer(value, dtype):
        return Spec(() if dtype is dtypes.resource else np.shape(value), dtype)

    def kernel(xp, value, dtype):
        return value


_symbolic_handlers = {}


def set_symbolic_handler(tensor_type, handler):
    """Lets a higher layer own ops on its symbolic tensors outside graphs (Keras's functional
    API records an op on KerasTensors as a layer): `handler(opdef, inputs, attrs, name)`."""
    _symbolic_handlers[tensor_type] = handler


def _graph_execute(opdef, inputs, attrs, name):
    """The graph branch of `execute`: converts inputs to this graph's tensors and adds the op."""
    graph = context.state.graph
    if graph is None:
        for value in inputs:
            handler = _symbolic_handlers.get(type(value))
            if handler is not None:
                return handler(opdef, inputs, attrs, name)
        return op_registry._no_graph(opdef, inputs, attrs, name)
    tensors = op_registry.convert_inputs(opdef, inputs)
    converted = []
    for tensor in tensors:
        if isinstance(tensor, EagerTensor):
            tensor = graph.capture(tensor) if hasattr(graph, "capture") else graph.constant(
                tensor._value, tensor._dtype)
        elif isinstance(tensor, SymbolicTensor) and tensor.graph is not graph:
            tensor = _outer_tensor(graph, tensor)
        converted.append(tensor)
    if opdef.infer is None:
        raise TypeError(f"{opdef.name} cannot be used in a graph: it has no inference rule")
    op = graph.create_op(opdef, converted, attrs, name=name)
    outputs = op.outputs
    if context.state.tapes and opdef.grad is not None:
        op_registry._record(opdef, converted, outputs, attrs)
    if opdef.num_outputs == 1:
        return outputs[0]
    if opdef.num_outputs == 0:
        return op  # ops without outputs (print, asserts, NoOp) are used for their Operation
    return outputs


def _outer_tensor(graph, tensor):
    """A tensor of an enclosing graph used inside a function graph becomes a captured input."""
    capture = getattr(graph, "capture_symbolic", None)
    if capture is not None:
        return capture(tensor)
    raise ValueError(f"Tensor {tensor.name} must be from the same graph as the op that uses it "
                     f"(it belongs to another graph).")


op_registry.set_graph_executor(_graph_execute)


_default_graph = None


def get_default_graph():
    """The graph ops are added to: the current `as_default` graph, else a global graph."""
    graph = context.state.graph
    if graph is not None:
        return graph
    global _default_graph
    if _default_graph is None:
        _default_graph = Graph()
    return _default_graph


def reset_default_graph():
    global _default_graph
    if context.state.graph is not None:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs.")
    _default_graph = Graph()


__all__ = ["Graph", "Operation", "SymbolicTensor", "get_default_graph", "constant_value",
           "dtypes"]


@op_registry.primitive("Placeholder", dtypes=None, same_dtype=False)
class Placeholder:
    def infer(dtype, shape):
        return Spec(shape, dtype)

    def kernel(xp, dtype, shape):
        raise errors.InvalidArgumentError(
            f"You must feed a value for placeholder tensor with dtype {dtype.name} and shape "
            f"{shape}")


def placeholder(graph, dtype, shape, name="Placeholder"):
    """A Placeholder op in `graph`: a graph input whose value is fed when the graph runs."""
    shape = as_shape(shape)
    op = graph.create_op(op_registry.get("Placeholder"), (),
                         {"dtype": dtype, "shape": shape.as_tuple()}, name=name,
                         output_specs=[Spec(shape.as_tuple(), dtype)])
    return op.outputs[0]


@op_registry.primitive("NoOp", dtypes=None, same_dtype=False, num_outputs=0, stateful=True)
class NoOp:
    """Does nothing; used for its control inputs (`tf.group`, initializers, train ops)."""

    def infer():
        return ()

    def kernel(xp):
        return ()
