"""FuncGraph: the graph a tf.function traces into, with its inputs, captures and outputs."""

from ndflow.framework import dtypes
from ndflow.framework.graph import Graph, placeholder


class FuncGraph(Graph):
    """A Graph built by tracing a Python function.

    Placeholders stand for the function's tensor (and variable) arguments. Eager tensors used
    inside become constants (tensors are immutable); variables from the closure become resource
    constants holding the Variable object, read and written by stateful ops; tensors of an outer
    graph (a function traced inside another trace) become extra placeholder inputs fed from the
    outer graph at call time.
    """

    def __init__(self, name, outer_graph=None):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.inputs = []
        self.outputs = []
        self.structured_outputs = None
        self.captured_outer = []  # (outer tensor, inner placeholder)
        self._variable_handles = {}
        self.variables = []
        self._building_function = True

    def capture(self, eager_tensor):
        return self.constant(eager_tensor._value, eager_tensor._dtype)

    def capture_variable(self, variable):
        handle = self._variable_handles.get(id(variable))
        if handle is None:
            handle = self.constant(variable, dtypes.resource, name="VarHandleOp")
            self._variable_handles[id(variable)] = handle
            self.variables.append(variable)
        return handle

    def capture_symbolic(self, outer_tensor):
        for outer, inner in self.captured_outer:
            if outer is outer_tensor:
                return inner
        inner = placeholder(self, outer_tensor.dtype, outer_tensor.shape, name="capture")
        self.captured_outer.append((outer_tensor, inner))
        return inner
