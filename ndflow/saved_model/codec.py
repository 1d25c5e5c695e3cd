"""Traced graphs to JSON and back: the function part of the SavedModel-style format.

A graph is a list of ops in creation order (a valid execution order). Each op is its registry
type, the (op index, output index) of its inputs, its control inputs, its output specs, and
its attributes in a typed JSON encoding: DTypes, TensorShapes, tuples, bytes, NumPy arrays
(kept in `constants.npz`, by key), variables (by index into the SavedModel's variables) and
the FuncGraphs of If/While branches (encoded recursively). Python callables and other objects
cannot be saved; the error names the op.

Decoding trusts nothing: op types are looked up only in ndflow's registry, every index is
checked, and arrays come from an `.npz` read with `allow_pickle=False`. Nothing in a file is
ever executed while loading.
"""

import base64
import math

import numpy as np

from ndflow.framework import dtypes, errors, op_registry
from ndflow.framework.op_registry import Spec
from ndflow.framework.tensor import Tensor
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.framework.tensor_shape import TensorShape
from ndflow.util import nest


class FormatError(ValueError):
    """A SavedModel file is malformed or refers to something ndflow does not have."""



def _shape_json(shape):
    dims = shape.as_tuple() if isinstance(shape, TensorShape) else shape
    return None if dims is None else [None if d is None else int(d) for d in dims]


def _strings_json(array):
    flat = [bytes(v) if isinstance(v, (bytes, bytearray)) else str(v).encode()
            for v in np.asarray(array, dtype=object).reshape(-1)]
    return {"__strings__": [base64.b64encode(v).decode("ascii") for v in flat],
            "shape": list(np.shape(array))}


class GraphEncoder:
    """Encodes graphs; collects the constants and the variables they refer to."""

    def __init__(self, variable_index):
        self.constants = {}
        self._variable_index = variable_index  # fn(variable) -> int

    def graph(self, graph, inputs, outputs):
        ops = list(graph._operations)
        position = {id(op): i for i, op in enumerate(ops)}

        def ref(tensor):
            index = position.get(id(tensor.op))
            if index is None:
                raise ValueError(f"saved_model: tensor {tensor.name} is not in graph "
                                 f"{getattr(graph, 'name', '?')}")
            return [index, tensor.value_index]

        records = []
        for op in ops:
            records.append({
                "name": op.name,
                "type": op.type,
                "inputs": [ref(t) for t in op.inputs],
                "control": [position[id(c)] for c in op.control_inputs if id(c) in position],
                "outputs": [[_shape_json(t.shape), t.dtype.name] for t in op.outputs],
                "attrs": {key: self.attr(op, key, value) for key, value in op.attrs.items()},
            })
        return {"name": getattr(graph, "name", "graph"), "ops": records,
                "inputs": [ref(t) for t in inputs], "outputs": [ref(t) for t in outputs]}

    def array(self, array):
        key = f"c{len(self.constants)}"
        self.constants[key] = np.asarray(array, order="C")
        return key

    def attr(self, op, key, value):
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, dtypes.DType):
            return {"__dtype__": value.name}
        if isinstance(value, TensorShape):
            return {"__shape__": _shape_json(value)}
        if isinstance(value, tuple):
            return {"__tuple__": [self.attr(op, key, v) for v in value]}
        if isinstance(value, list):
            return [self.attr(op, key, v) for v in value]
        if isinstance(value, dict):
            return {"__dict__": [[self.attr(op, key, k), self.attr(op, key, v)]
                                 for k, v in value.items()]}
        if isinstance(value, (bytes, bytearray)):
            return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
        if isinstance(value, (np.ndarray, np.generic)):
            return self._array_attr(op, key, value)
        if _is_variable(value):
            return {"__variable__": self._variable_index(value)}
        if type(value).__name__ == "_Branch" and hasattr(value, "positions"):
            return {"__branch__": {"graph": self.graph(value.graph, value.inputs, value.outputs),
                                   "positions": [int(p) for p in value.positions]}}
        what = "a Python callable" if callable(value) else f"a {type(value).__name__}"
        raise ValueError(
            f"saved_model: op '{op.name}' ({op.type}) cannot be saved: its attribute '{key}' is "
            f"{what} ({value!r}), which the SavedModel format cannot store (it never stores "
            f"code). Remove the {op.type} op (e.g. tf.py_function) from the saved function.")

    def _array_attr(self, op, key, value):
        scalar = isinstance(value, np.generic)
        array = np.asarray(value)
        if array.dtype.kind in "OSU":
            encoded = _strings_json(array)
        else:
            name = dtypes.from_numpy(array.dtype).name
            stored = array.view(np.uint16) if name == "bfloat16" else array
            encoded = {"__ndarray__": self.array(stored), "dtype": name}
        return {"__scalar__": encoded} if scalar else encoded


class GraphDecoder:
    """Rebuilds FuncGraphs from their encoding, resolving constants and variables."""

    def __init__(self, constants, variables):
        self._constants = constants
        self._variables = variables

    def graph(self, record, outer_graph=None):
        """(FuncGraph, input tensors, output tensors) from an encoded graph."""
        from ndflow.function.func_graph import FuncGraph

        _check(isinstance(record, dict) and isinstance(record.get("ops"), list),
               "a graph must be an object with an 'ops' list")
        graph = FuncGraph(str(record.get("name", "graph")), outer_graph=outer_graph)
        built = []
        for number, op_record in enumerate(record["ops"]):
            built.append(self._op(graph, built, number, op_record))
        inputs = [_tensor(built, r) for r in record.get("inputs", [])]
        outputs = [_tensor(built, r) for r in record.get("outputs", [])]
        return graph, inputs, outputs

    def _op(self, graph, built, number, record):
        _check(isinstance(record, dict), f"op {number} must be an object")
        op_type = record.get("type")
        try:
            opdef = op_registry.get(op_type)
        except (errors.NotFoundError, TypeError):
            raise FormatError(f"saved_model: op {number} ('{record.get('name')}') has unknown "
                              f"op type {op_type!r}: it is not an ndflow op") from None
        inputs = [_tensor(built, r) for r in record.get("inputs", [])]
        attrs = {str(k): self.attr(v, graph) for k, v in record.get("attrs", {}).items()}
        specs = [Spec(_shape(s), _dtype(d)) for s, d in record.get("outputs", [])]
        op = graph.create_op(opdef, inputs, attrs, name=str(record.get("name", op_type)),
                             output_specs=specs)
        for index in record.get("control", []):
            _check(isinstance(index, int) and 0 <= index < len(built),
                   f"op {number} has a bad control input {index!r}")
            op._add_control_input(built[index])
        if op_type == "Const" and _is_variable(attrs.get("value")):
            variable = attrs["value"]
            graph._variable_handles[id(variable)] = op.outputs[0]
            graph.variables.append(variable)
        return op

    def attr(self, value, graph):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.attr(v, graph) for v in value]
        _check(isinstance(value, dict) and len(value) >= 1, f"bad attribute value {value!r}")
        if "__dtype__" in value:
            return _dtype(value["__dtype__"])
        if "__shape__" in value:
            return TensorShape(_shape(value["__shape__"]))
        if "__tuple__" in value:
            return tuple(self.attr(v, graph) for v in value["__tuple__"])
        if "__dict__" in value:
            return {_hashable(self.attr(k, graph)): self.attr(v, graph)
                    for k, v in value["__dict__"]}
        if "__float__" in value:
            return float(value["__float__"])
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__scalar__" in value:
            return self.attr(value["__scalar__"], graph)[()]
        if "__ndarray__" in value:
            return self._array(value)
        if "__strings__" in value:
            return decode_strings(value)
        if "__variable__" in value:
            index = value["__variable__"]
            _check(isinstance(index, int) and 0 <= index < len(self._variables),
                   f"unknown variable index {index!r}")
            return self._variables[index]
        if "__branch__" in value:
            return self._branch(value["__branch__"], graph)
        raise FormatError(f"saved_model: unknown attribute encoding {sorted(value)}")

    def _array(self, value):
        key = value["__ndarray__"]
        _check(key in self._constants, f"constant {key!r} is missing from constants.npz")
        array = self._constants[key]
        if value.get("dtype") == "bfloat16":
            array = array.view(dtypes.bfloat16.as_numpy_dtype)
        return array

    def _branch(self, record, outer_graph):
        from ndflow.ops import control_flow

        graph, inputs, outputs = self.graph(record["graph"], outer_graph)
        return control_flow._Branch(graph, inputs, [int(p) for p in record["positions"]],
                                    outputs)


def decode_strings(value):
    flat = [base64.b64decode(v) for v in value["__strings__"]]
    array = np.empty(len(flat), dtype=object)
    array[:] = flat
    return array.reshape(tuple(value.get("shape", [len(flat)])))


def _check(condition, message):
    if not condition:
        raise FormatError(f"saved_model: malformed file: {message}")


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _shape(value):
    if value is None:
        return None
    _check(isinstance(value, list) and all(d is None or isinstance(d, int) for d in value),
           f"bad shape {value!r}")
    return tuple(value)


def _dtype(name):
    try:
        return dtypes.as_dtype(name)
    except (TypeError, ValueError):
        raise FormatError(f"saved_model: unknown dtype {name!r}") from None


def _tensor(built, ref):
    _check(isinstance(ref, list) and len(ref) == 2 and all(isinstance(i, int) for i in ref)
           and 0 <= ref[0] < len(built) and 0 <= ref[1] < len(built[ref[0]].outputs),
           f"bad tensor reference {ref!r}")
    return built[ref[0]].outputs[ref[1]]


# --- nested Python structures (function inputs and outputs) --------------------------------


def encode_structure(value, leaf):
    """JSON for a nest of lists, tuples, dicts and Python constants; `leaf(value)` encodes a
    tensor (or spec) leaf, returning None for values that are not leaves."""
    encoded = leaf(value)
    if encoded is not None:
        return encoded
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [encode_structure(v, leaf) for v in value]}
    if isinstance(value, dict):
        # Sorted keys: the order nest.flatten gives the graph's outputs.
        return {"dict": [[k, encode_structure(value[k], leaf)] for k in sorted(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise ValueError(f"saved_model: cannot save the Python value {value!r} of type "
                     f"{type(value).__name__} in a function's inputs or outputs")


def decode_structure(record, leaf):
    """Inverse of `encode_structure`; `leaf(record)` decodes a leaf record or returns None."""
    _check(isinstance(record, dict), f"bad structure {record!r}")
    decoded = leaf(record)
    if decoded is not None:
        return decoded
    if "list" in record:
        return [decode_structure(v, leaf) for v in record["list"]]
    if "tuple" in record:
        return tuple(decode_structure(v, leaf) for v in record["tuple"])
    if "dict" in record:
        return {_hashable(k): decode_structure(v, leaf) for k, v in record["dict"]}
    if "value" in record:
        return record["value"]
    raise FormatError(f"saved_model: unknown structure {sorted(record)}")


def flat_tensors(structure):
    return [v for v in nest.flatten(structure) if isinstance(v, Tensor)]
