"""ConcreteFunction: one traced graph of a tf.function, compiled to a Plan and callable."""

from ndflow.framework import dtypes
from ndflow.framework.op_registry import _FROM_NUMPY
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.function.executor import Plan
from ndflow.util import nest

_new = object.__new__


class ConcreteFunction:
    """A traced function: its graph, input placeholders, outputs, and compiled plan."""

    def __init__(self, graph, inputs, flat_outputs, structured_outputs, fuse=False,
                 name="function"):
        self.graph = graph
        self.inputs = list(inputs)
        self.name = name
        self._flat_outputs = flat_outputs
        self.structured_outputs = structured_outputs
        graph.inputs = self.inputs
        graph.structured_outputs = structured_outputs
        self._tensor_outputs = [v for v in flat_outputs if isinstance(v, Tensor)]
        graph.outputs = self._tensor_outputs
        self._fuse = fuse
        self._single_output = (isinstance(structured_outputs, Tensor)
                               and len(self._tensor_outputs) == 1)
        self._structure_key = None
        self._plan = None

    def _compile(self):
        from ndflow.function import passes  # noqa: PLC0415 - optimisation on first call

        graph, inputs, outputs = passes.optimize(self.graph, self.inputs, self._tensor_outputs,
                                                 fuse=self._fuse)
        self.optimized_graph = graph
        self._plan = Plan(graph, inputs, outputs, keep_stateful=True)
        return self._plan

    @property
    def variables(self):
        return tuple(self.graph.variables)

    @property
    def trainable_variables(self):
        return tuple(v for v in self.graph.variables if v.trainable)

    @property
    def structured_input_signature(self):
        return (tuple(TensorSpec(t.shape, t.dtype, t.op.name) for t in self.inputs), {})

    @property
    def output_shapes(self):
        return nest.map_structure(lambda t: t.shape if isinstance(t, Tensor) else None,
                                  self.structured_outputs)

    @property
    def output_dtypes(self):
        return nest.map_structure(lambda t: t.dtype if isinstance(t, Tensor) else None,
                                  self.structured_outputs)

    def _accepts(self, tensors):
        if len(tensors) != len(self.inputs):
            return False
        return all(t.dtype is p.dtype and p.shape.is_compatible_with(t.shape)
                   for t, p in zip(tensors, self.inputs))

    def __call__(self, *args, **kwargs):
        flat = nest.flatten((list(args), kwargs))
        tensors = [convert_to_tensor(v, dtype=p.dtype) for v, p in zip(flat, self.inputs)]
        if len(flat) != len(self.inputs) or not self._accepts(tensors):
            specs = [TensorSpec(p.shape, p.dtype) for p in self.inputs]
            got = [TensorSpec(getattr(t, "shape", None), getattr(t, "dtype", dtypes.float32))
                   for t in tensors]
            raise TypeError(f"ConcreteFunction {self.name}: expected inputs {specs}, got {got}")
        return self._call_flat(tensors)

    def _call_flat(self, tensors):
        plan = self._plan or self._compile()
        arrays = plan.run([t._value for t in tensors])
        if self._single_output:
            array = arrays[0]
            tensor = _new(EagerTensor)
            tensor._value = array
            tensor._dtype = _FROM_NUMPY.get(getattr(array, "dtype", None)) or \
                self._flat_outputs[0].dtype
            return tensor
        results = iter(arrays)
        flat = []
        for value in self._flat_outputs:
            if isinstance(value, Tensor):
                array = next(results)
                tensor = _new(EagerTensor)
                tensor._value = array
                tensor._dtype = _FROM_NUMPY.get(getattr(array, "dtype", None)) or value.dtype
                flat.append(tensor)
            else:
                flat.append(value)
        return nest.pack_sequence_as(self.structured_outputs, flat)

    def pretty_printed_signature(self):
        inputs = ", ".join(f"{p.op.name}: {TensorSpec(p.shape, p.dtype)}" for p in self.inputs)
        return f"{self.name}({inputs})"

    def __repr__(self):
        return f"<ConcreteFunction {self.pretty_printed_signature()}>"
