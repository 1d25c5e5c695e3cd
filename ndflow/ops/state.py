"""Variable ops for graphs: read and assign a variable through its resource handle.

Eagerly, `tf.Variable` reads and writes its array directly (no dispatch cost). While a graph is
built, the same actions become these stateful ops, so they run in program order when the graph
runs. A handle is a tensor of dtype `resource` whose value is the Variable object itself.
"""

import contextlib

from ndflow.framework import context, dtypes, errors, op_registry
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.util import nest

RESOURCE = frozenset([dtypes.resource])


def handle_of(variable):
    """The graph tensor standing for `variable` in the current graph (one per graph)."""
    graph = context.state.graph
    return graph.capture_variable(variable) if hasattr(graph, "capture_variable") else (
        graph.constant(variable, dtypes.resource, name="VarHandleOp"))


@primitive("ReadVariableOp", dtypes=RESOURCE, same_dtype=False, stateful=True,
           side_effects=False)
class ReadVariableOp:
    def infer(handle, dtype, shape):
        return Spec(shape, dtype)

    def kernel(xp, handle, dtype, shape):
        return initialized_array(handle, "ReadVariableOp")


def initialized_array(handle, op_name):
    """The array of the variable behind a resource handle; TF's error when it has no value."""
    array = handle._array
    if array is None:
        raise errors.FailedPreconditionError(
            f"{op_name}: could not read variable '{handle._name}': it is uninitialized "
            f"(run its initializer, e.g. tf.compat.v1.global_variables_initializer())")
    return array


def read_variable(variable):
    shape = variable.shape.as_tuple()
    return execute("ReadVariableOp", handle_of(variable), dtype=variable.dtype, shape=shape,
                   name="ReadVariableOp")


def _assign_kernel(mode):
    def kernel(xp, handle, value):
        if mode == "set":
            handle._set_array(value)
        else:
            update = xp.add if mode == "add" else xp.subtract
            handle._set_array(update(handle._array, value).astype(handle._array.dtype,
                                                                  copy=False), fresh=True)
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


def no_op(name=None):
    """An op that does nothing (`tf.no_op`); None when executing eagerly."""
    if context.state.graph is None:
        return None
    return context.state.graph.create_op(op_registry.get("NoOp"), (), {}, name=name or "NoOp")


def group(*inputs, name=None):
    """An op that runs all `inputs` (`tf.group`); None when executing eagerly."""
    graph = context.state.graph
    if graph is None:
        return None
    with graph.control_dependencies(_flat_ops(inputs)):
        return no_op(name=name or "group_deps")


def _flat_ops(inputs):
    found = []
    for item in nest.flatten(list(inputs)):
        if item is None:
            continue
        op = item if hasattr(item, "control_inputs") else getattr(item, "op", None)
        if op is not None:
            found.append(op)
    return found


def control_dependencies(control_inputs):
    """`tf.control_dependencies`: ops created in the block run after `control_inputs`.

    Eagerly, ops already run in program order, so this is a plain context manager (as in TF2).
    """
    graph = context.state.graph
    if graph is None:
        return contextlib.nullcontext()
    return graph.control_dependencies(None if control_inputs is None
                                      else _flat_ops(control_inputs))


API = {"": ["no_op", "group", "control_dependencies"]}
