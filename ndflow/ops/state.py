"""Variable ops for graphs: read and assign a variable through its resource handle.

Eagerly, `tf.Variable` reads and writes its array directly (no dispatch cost). While a graph is
built, the same actions become these stateful ops, so they run in program order when the graph
runs. A handle is a tensor of dtype `resource` whose value is the Variable object itself.
"""

from ndflow.framework import context, dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive

RESOURCE = frozenset([dtypes.resource])


def handle_of(variable):
    """The graph tensor standing for `variable` in the current graph (one per graph)."""
    graph = context.state.graph
    return graph.capture_variable(variable) if hasattr(graph, "capture_variable") else (
        graph.constant(variable, dtypes.resource, name="VarHandleOp"))


@primitive("ReadVariableOp", dtypes=RESOURCE, same_dtype=False, stateful=True)
class ReadVariableOp:
    def infer(handle, dtype, shape):
        return Spec(shape, dtype)

    def kernel(xp, handle, dtype, shape):
        array = handle._array
        if array is None:
            raise errors.FailedPreconditionError(
                f"ReadVariableOp: could not read variable '{handle._name}': it is uninitialized "
                f"(run its initializer, e.g. tf.compat.v1.global_variables_initializer())")
        return array


def read_variable(variable):
    shape = variable.shape.as_tuple()
    return execute("ReadVariableOp", handle_of(variable), dtype=variable.dtype, shape=shape,
                   name="ReadVariableOp")


def _assign_kernel(mode):
    def kernel(xp, handle, value):
        if mode == "add":
            value = handle._array + value
        elif mode == "sub":
            value = handle._array - value
        handle._set_array(value)
        return handle._array

    return kernel


def _assign_infer(op_name):
    def infer(handle, value):
        return Spec(value.shape, value.dtype)

    return infer


for _name, _mode in (("AssignVariableOp", "set"), ("AssignAddVariableOp", "add"),
                     ("AssignSubVariableOp", "sub")):
    primitive(_name, dtypes=None, same_dtype=False, stateful=True)(
        type(_name, (), {"infer": staticmethod(_assign_infer(_name)),
                         "kernel": staticmethod(_assign_kernel(_mode))}))


def assign_variable(variable, value, op_type="AssignVariableOp"):
    """Adds an assignment to the graph; returns the assigned value tensor."""
    return execute(op_type, handle_of(variable), value, name=op_type)


API = {}
