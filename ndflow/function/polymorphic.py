"""`tf.function`: trace a Python function into a graph once per input signature, run it fast.

Calling a `Function` computes a cache key from its arguments (tensor dtypes and shapes, Python
values, nested structure), traces the Python function into a FuncGraph the first time a key is
seen, and runs the traced graph through a compiled executor Plan afterwards. Retracing follows
TF: a new tensor dtype or shape, or a new Python value, traces again; `input_signature` and
`reduce_retracing` generalise shapes so fewer traces happen.
"""

import functools
import weakref

import numpy as np

from ndflow.framework import context
from ndflow.framework.graph import SymbolicTensor, placeholder
from ndflow.framework.tensor import EagerTensor, IndexedSlices, Tensor, convert_to_tensor
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.function.func_graph import FuncGraph
from ndflow.util import nest

_EMPTY = object()



def _encode(value, tensors, relaxed):
    """A hashable key for one argument; tensors found are appended to `tensors`."""
    if type(value) is EagerTensor:  # the common case, without building a TensorShape
        tensors.append(value)
        shape = value._value.shape
        return ("T", value._dtype.name, (len(shape),) if relaxed is not None else shape)
    if isinstance(value, (Tensor, np.ndarray)):
        if not isinstance(value, Tensor):
            value = convert_to_tensor(value)
        tensors.append(value)
        shape = value.shape.as_tuple()
        if relaxed is not None and shape is not None:
            shape = (len(shape),)
        return ("T", value.dtype.name, shape)
    if _is_variable(value):
        return ("V", id(value))
    if isinstance(value, dict):
        return ("D", tuple((k, _encode(value[k], tensors, relaxed))
                           for k in sorted(value, key=repr)))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_encode(v, tensors, relaxed) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("I", id(value))
    return ("P", type(value), value)


class Function:
    """A Python function compiled to graphs on demand (what `tf.function` returns)."""

    def __init__(self, python_function, input_signature=None, autograph=True,
                 jit_compile=None, reduce_retracing=False, name=None):
        self._python_function = python_function
        self._input_signature = (None if input_signature is None
                                 else tuple(nest.flatten(input_signature)))
        self._signature_structure = input_signature
        self._autograph = autograph
        self._jit_compile = jit_compile
        self._reduce_retracing = reduce_retracing
        self._name = name or getattr(python_function, "__name__", "function")
        self._cache = {}
        self._fast_cache = {}  # (dtype, shape) per eager-tensor argument -> traced function
        self._concretes = []
        self._tracing_count = 0
        self._created_variables = False
        self._instances = weakref.WeakKeyDictionary()
        self._converted = None
        functools.update_wrapper(self, python_function, updated=())

    # --- descriptors (tf.function on methods) ------------------------------------------------

    def __get__(self, instance, owner):
        if instance is None:
            return self
        try:
            bound = self._instances.get(instance)
        except TypeError:
            bound = None
        if bound is None:
            bound = Function(functools.partial(self._python_function, instance),
                             self._signature_structure, self._autograph, self._jit_compile,
                             self._reduce_retracing, self._name)
            bound._original = self._python_function
            try:
                self._instances[instance] = bound
            except TypeError:
                pass
        return bound

    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return self._signature_structure

    def experimental_get_tracing_count(self):
        """How many times the Python function has been traced."""
        return self._tracing_count

    # --- calling -----------------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        state = context.state
        if state.graph is not None or state.tapes:
            # Inside another trace the function is inlined; under a recording tape it runs
            # eagerly so the tape sees (and can differentiate) every op.
            return self._callable()(*args, **kwargs)
        if not kwargs and self._input_signature is None:
            # The common call: only eager tensors, keyed by dtypes and shapes alone.
            key = []
            for value in args:
                if type(value) is not EagerTensor:
                    break
                key.append((value._dtype, value._value.shape))
            else:
                concrete = self._fast_cache.get(tuple(key))
                if concrete is not None:
                    return concrete._call_flat(args)
        concrete, tensors = self._lookup(args, kwargs)
        if not kwargs and len(tensors) == len(args) and all(
                type(value) is EagerTensor for value in args):
            self._fast_cache[tuple((v._dtype, v._value.shape) for v in args)] = concrete
        return concrete._call_flat(tensors)

    def _callable(self):
        if not self._autograph:
            return self._python_function
        if self._converted is None:
            from ndflow.function import autograph  # noqa: PLC0415 - imported on first trace

            self._converted = autograph.convert(self._python_function)
        return self._converted

    def _lookup(self, args, kwargs):
        if self._input_signature is not None:
            tensors = self._signature_tensors(args, kwargs)
            key = ("signature",)
        else:
            tensors = []
            key = (_encode(args, tensors, None), _encode(kwargs, tensors, None))
        concrete = self._cache.get(key)
        if concrete is None:
            concrete = self._compatible(key, tensors, args, kwargs)
            self._cache[key] = concrete
        return concrete, tensors

    def _compatible(self, key, tensors, args, kwargs):
        """A traced function whose input specs accept `tensors` (or a new trace)."""
        structure = None
        if self._input_signature is None:
            structure = (_encode(args, [], True), _encode(kwargs, [], True))
            for concrete in self._concretes:
                if concrete._structure_key == structure and concrete._accepts(tensors):
                    return concrete
        specs = self._specs_for(tensors, structure)
        concrete = self._trace(args, kwargs, specs)
        concrete._structure_key = structure
        self._concretes.append(concrete)
        return concrete

    def _specs_for(self, tensors, structure):
        if self._input_signature is not None:
            return [TensorSpec(s.shape, s.dtype, getattr(s, "name", None))
                    for s in self._input_signature]
        specs = [TensorSpec(t.shape, t.dtype) for t in tensors]
        if self._reduce_retracing:
            for concrete in self._concretes:
                if concrete._structure_key == structure:
                    specs = [s.most_specific_compatible_type(TensorSpec(c.shape, c.dtype))
                             if s.dtype is c.dtype else s
                             for s, c in zip(specs, concrete.inputs)]
        return specs

    def _signature_tensors(self, args, kwargs):
        if kwargs:
            raise TypeError(f"{self._name}: keyword arguments are not supported with an "
                            f"input_signature, got {sorted(kwargs)}")
        flat = nest.flatten(list(args))
        if len(flat) != len(self._input_signature):
            raise TypeError(f"{self._name}: expected {len(self._input_signature)} arguments "
                            f"for input_signature {list(self._input_signature)}, got "
                            f"{len(flat)}")
        tensors = []
        for value, spec in zip(flat, self._input_signature):
            tensor = convert_to_tensor(value, dtype=spec.dtype) if not isinstance(
                value, Tensor) else value
            if not spec.is_compatible_with(tensor):
                raise TypeError(
                    f"{self._name}: Python inputs incompatible with input_signature: got a "
                    f"tensor of shape {tensor.shape} and dtype {tensor.dtype.name}, expected "
                    f"{spec}")
            tensors.append(tensor)
        return tensors

    # --- tracing -----------------------------------------------------------------------------

    def _trace(self, args, kwargs, specs):
        from ndflow import variables as variables_module  # noqa: PLC0415

        graph = FuncGraph(self._name)
        created_before = _creation_count(variables_module)
        with graph.as_default():
            placeholders = [placeholder(graph, s.dtype, s.shape, name=s.name or "input")
                            for s in specs]
            if self._input_signature is not None:
                traced_args = nest.pack_sequence_as(list(self._signature_structure),
                                                    placeholders)
                traced_kwargs = {}
            else:
                feed = iter(placeholders)
                traced_args = _replace_tensors(args, feed)
                traced_kwargs = _replace_tensors(kwargs, feed)
            outputs = self._callable()(*traced_args, **traced_kwargs)
            flat_outputs = [_graph_output(graph, v) for v in nest.flatten(outputs)]
        created = _creation_count(variables_module) - created_before
        if created and self._created_variables:
            raise ValueError(
                f"tf.function '{self._name}' only supports singleton tf.Variables created on "
                f"the first call; this trace created {created} new variable(s). Create "
                f"variables outside the function or only on the first call.")
        self._created_variables = self._created_variables or bool(created)
        self._tracing_count += 1
        from ndflow.function.concrete import ConcreteFunction  # noqa: PLC0415

        return ConcreteFunction(graph, placeholders, flat_outputs, outputs,
                                fuse=bool(self._jit_compile), name=self._name)

    def get_concrete_function(self, *args, **kwargs):
        """The traced function for these arguments (tensors or TensorSpecs), tracing if needed.
        """
        if self._input_signature is not None and not args and not kwargs:
            args = tuple(nest.pack_sequence_as(list(self._signature_structure),
                                               list(self._input_signature)))
        spec_args = nest.map_structure(_spec_to_placeholder_value, args)
        spec_kwargs = nest.map_structure(_spec_to_placeholder_value, kwargs)
        if self._input_signature is not None:
            return self._lookup(spec_args, spec_kwargs)[0]
        tensors = []
        key = (_encode(spec_args, tensors, None), _encode(spec_kwargs, tensors, None))
        concrete = self._cache.get(key)
        if concrete is None:
            specs = [getattr(t, "_spec", None) or TensorSpec(t.shape, t.dtype) for t in tensors]
            concrete = self._trace(spec_args, spec_kwargs, specs)
            concrete._structure_key = (_encode(spec_args, [], True),
                                       _encode(spec_kwargs, [], True))
            self._concretes.append(concrete)
            self._cache[key] = concrete
        return concrete

    def __repr__(self):
        return f"<ndflow.function.Function {self._name}>"


class _SpecValue(Tensor):
    """Stands for a TensorSpec argument of get_concrete_function while computing the key."""

    __slots__ = ("_spec",)

    def __init__(self, spec):
        self._spec = spec

    @property
    def shape(self):
        return self._spec.shape

    @property
    def dtype(self):
        return self._spec.dtype


def _spec_to_placeholder_value(value):
    return _SpecValue(value) if isinstance(value, TensorSpec) else value


def _replace_tensors(structure, feed):
    """Rebuilds args with each tensor (or array) replaced by the next placeholder."""
    if isinstance(structure, (Tensor, np.ndarray)):
        return next(feed)
    if isinstance(structure, dict):
        replaced = {k: _replace_tensors(structure[k], feed) for k in sorted(structure, key=repr)}
        return {k: replaced[k] for k in structure}
    if isinstance(structure, tuple) and hasattr(type(structure), "_fields"):
        return type(structure)(*[_replace_tensors(v, feed) for v in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_replace_tensors(v, feed) for v in structure)
    return structure


def _graph_output(graph, value):
    if isinstance(value, SymbolicTensor):
        if value.graph is not graph:
            raise ValueError(f"tf.function returned the tensor {value.name}, which belongs to "
                             f"another graph")
        return value
    if isinstance(value, EagerTensor):
        return graph.capture(value)
    if isinstance(value, IndexedSlices):
        return _graph_output(graph, convert_to_tensor(value))
    if _is_variable(value):
        return value.value()
    return value


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_relax_shapes=None,
             experimental_compile=None, experimental_follow_type_hints=None, name=None):
    """Compiles a Python function into a callable graph (`tf.function`).

    Usable as `@tf.function`, `@tf.function(input_signature=...)` or `tf.function(f)`.
    `jit_compile=True` turns on kernel fusion of the traced graph.
    """
    if experimental_relax_shapes:
        reduce_retracing = True
    if experimental_compile is not None and jit_compile is None:
        jit_compile = experimental_compile

    def decorate(f):
        return Function(f, input_signature, autograph, jit_compile, reduce_retracing, name)

    return decorate if func is None else decorate(func)




def _creation_count(variables_module):
    return variables_module.creation_count()
