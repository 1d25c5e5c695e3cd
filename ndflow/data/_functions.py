"""User functions of transformations (map, filter, scan, ...), traced with tf.function.

As in TF, a function is converted by AutoGraph and traced once into a graph with the input
element's spec (None dims stay unknown); Python side effects happen at trace time only and
`tf.print` prints per element. Each call then runs the compiled graph on the element's arrays.
Functions that take or return datasets (flat_map, interleave, group_by_window's reduce) run
eagerly instead, since a graph cannot hold a Python dataset object.
"""

from ndflow.data import structure
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.io.sparse import SparseTensor
from ndflow.util import nest

_TRACE_NOTE = ("tf.data traces this function with tf.function, as TensorFlow does: it receives "
               "symbolic tensors, so `.numpy()`, NumPy calls on tensors and Python `if` on "
               "tensor values that AutoGraph cannot convert fail here; use tf ops, or wrap "
               "Python code in tf.py_function.")


def call_with_element(func, element, extra=()):
    """TF's convention: a tuple element is spread over the function's arguments; with a
    state first (scan, reduce) the arguments are (state, element), unspread."""
    if extra:
        return func(*extra, element)
    if type(element) is tuple:
        return func(*element)
    return func(element)


def _flatten_outputs(value):
    """(nested spec, flat tensor list, counts per leaf) of a traced function's result."""
    normalized = _normalize_output(value)
    leaves = nest.flatten(normalized)
    specs, flat = [], []
    for leaf in leaves:
        if isinstance(leaf, SparseTensor):
            specs.append(structure.SparseTensorSpec(None, leaf.dtype))
            flat += [leaf.indices, leaf.values, leaf.dense_shape]
        else:
            specs.append(TensorSpec(leaf.shape, leaf.dtype))
            flat.append(leaf)
    return nest.pack_sequence_as(normalized, specs), flat


def _normalize_output(value):
    if isinstance(value, dict):
        return type(value)((k, _normalize_output(v)) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return type(value)(*[_normalize_output(v) for v in value])
    if isinstance(value, (list, tuple)):
        return tuple(_normalize_output(v) for v in value)
    if isinstance(value, (Tensor, SparseTensor)):
        return value
    if hasattr(value, "_is_ndflow_variable"):
        return value.value()
    if isinstance(value, (bytes, str)):
        array, dtype = structure._leaf_array(value)
        return structure.make_tensor(array, dtype)
    return convert_to_tensor(value)


class TracedFunction:
    """`func` traced for elements of `input_structure`; `(flat arrays) -> flat arrays`."""

    def __init__(self, func, input_structure, transformation, extra_structures=()):
        from ndflow.function import autograph  # noqa: PLC0415
        from ndflow.function.polymorphic import Function  # noqa: PLC0415

        self._transformation = transformation
        self.input_structure = input_structure
        try:
            converted = autograph.convert(func)
        except autograph.AutoGraphError:
            converted = func
        structures = list(extra_structures) + [input_structure]
        flat_specs = [s for item in structures for s in structure.leaf_specs(item)]
        if not all(isinstance(s, TensorSpec) for s in flat_specs):
            raise TypeError(f"{transformation}: elements with nested datasets or sparse tensors "
                            f"cannot be passed to a traced function, got {input_structure!r}")
        counts = [len(structure.leaf_specs(item)) for item in structures]
        self.output_structure = None

        def traced(*flat):
            parts, start = [], 0
            for item, count in zip(structures, counts):
                parts.append(nest.pack_sequence_as(item, list(flat[start:start + count])))
                start += count
            result = call_with_element(converted, parts[-1], tuple(parts[:-1]))
            self.output_structure, outputs = _flatten_outputs(result)
            return outputs

        function = Function(traced, input_signature=flat_specs, autograph=False,
                            name=getattr(func, "__name__", transformation))
        try:
            self._concrete = function.get_concrete_function()
        except Exception as error:
            if hasattr(error, "add_note"):
                error.add_note(f"{transformation}: {_TRACE_NOTE}")
            raise
        self._concrete._plan or self._concrete._compile()
        self._counts = [3 if isinstance(s, structure.SparseTensorSpec) else 1
                        for s in structure.leaf_specs(self.output_structure)]
        self._grouped = any(count != 1 for count in self._counts)
        self._input_dtypes = [s.dtype for s in flat_specs]

    def __call__(self, flat):
        """Flat output components for flat input components (NumPy arrays)."""
        tensors = [structure.make_tensor(a, d) for a, d in zip(flat, self._input_dtypes)]
        outputs = [t._value for t in self._concrete._call_flat(tensors)]
        if not self._grouped:
            return tuple(outputs)
        grouped, start = [], 0
        for count in self._counts:
            grouped.append(outputs[start] if count == 1 else tuple(outputs[start:start + count]))
            start += count
        return tuple(grouped)


class EagerFunction:
    """`func` called eagerly on packed eager tensors (for functions of datasets)."""

    def __init__(self, func, input_structure):
        self._func = func
        self._pack = structure.packer(input_structure)

    def __call__(self, flat, extra=()):
        return call_with_element(self._func, self._pack(flat), extra)


def element_error(transformation, index, error):
    """The error for a user function failing on element `index`: same class, with the index
    and the original message (the original stays chained as the cause)."""
    message = (f"{transformation}: the function failed on element {index}: "
               f"{type(error).__name__}: {error}")
    from ndflow.framework import errors  # noqa: PLC0415

    if isinstance(error, errors.OpError):
        return type(error)(None, None, message)
    try:
        return type(error)(message)
    except Exception:  # noqa: BLE001 - exception classes with unusual constructors
        return errors.UnknownError(None, None, message)
