"""The objects `tf.saved_model.load` returns: restored functions, signatures, user objects.

A `RestoredFunction` holds the ConcreteFunctions rebuilt from one saved tf.function and runs
the first whose saved call structure (tensors, Python constants, nesting) and input specs
accept the arguments. A `SignatureFunction` takes keyword arguments and returns a dict of
tensors, as TF's `loaded.signatures["serving_default"]`. `UserObject` stands in for the
original class: its attributes are the saved functions, sub-objects and variables.
"""

from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.saved_model import codec
from ndflow.util import nest


def _concrete_function(record, decoder):
    from ndflow.function.concrete import ConcreteFunction

    graph, inputs, outputs = decoder.graph(record["graph"])
    tensors = iter(outputs)

    def leaf(item):
        if "tensor" in item:
            return next(tensors)
        return None

    structured = codec.decode_structure(record["outputs"], leaf)
    flat = nest.flatten(structured)
    concrete = ConcreteFunction(graph, inputs, flat, structured,
                                name=str(record.get("name", "function")))
    concrete._saved_call = record["call"]
    concrete._input_names = list(record.get("input_names", []))
    return concrete


def _bind(structure, value, tensors):
    """Matches a call argument against a saved structure, collecting tensor leaves."""
    if "tensor" in structure:
        if not isinstance(value, Tensor) and not _is_array_like(value):
            return False
        tensors.append((structure["tensor"], value))
        return True
    if "list" in structure or "tuple" in structure:
        items = structure.get("list", structure.get("tuple"))
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            return False
        return all(_bind(s, v, tensors) for s, v in zip(items, value))
    if "dict" in structure:
        pairs = structure["dict"]
        if not isinstance(value, dict) or set(value) != {k for k, _ in pairs}:
            return False
        return all(_bind(s, value[k], tensors) for k, s in pairs)
    return type(value) is type(structure.get("value")) and value == structure.get("value")


def _is_array_like(value):
    return hasattr(value, "__array__") or getattr(value, "_is_ndflow_variable", False) or (
        isinstance(value, (int, float, list)) and not isinstance(value, bool))


def _match(concrete, args, kwargs):
    """The graph input tensors for this call, or None when the function does not accept it."""
    call = concrete._saved_call
    names = concrete._input_names
    positional = call["args"].get("list", [])
    if kwargs and not call["kwargs"].get("dict") and len(args) < len(positional):
        # An input_signature function called with keywords: bind them by parameter name.
        by_name = {}
        for index, item in enumerate(positional):
            if "tensor" in item and item["tensor"] < len(names):
                by_name[names[item["tensor"]]] = index
        extra = list(args) + [None] * (len(positional) - len(args))
        for key, value in kwargs.items():
            if key not in by_name or extra[by_name[key]] is not None:
                return None
            extra[by_name[key]] = value
        args, kwargs = tuple(extra), {}
    found = []
    if not _bind(call["args"], list(args), found) or not _bind(call["kwargs"], dict(kwargs),
                                                               found):
        return None
    found.sort(key=lambda pair: pair[0])
    tensors = []
    for (_, value), placeholder in zip(found, concrete.inputs):
        try:
            tensor = convert_to_tensor(value, dtype=placeholder.dtype)
        except (TypeError, ValueError):
            return None
        tensors.append(tensor)
    if len(tensors) != len(concrete.inputs) or not concrete._accepts(tensors):
        return None
    return tensors


class RestoredFunction:
    """A saved tf.function: calls the first traced graph that accepts the arguments."""

    def __init__(self, name, concretes):
        self.__name__ = name
        self.concrete_functions = list(concretes)

    def __call__(self, *args, **kwargs):
        for concrete in self.concrete_functions:
            tensors = _match(concrete, args, kwargs)
            if tensors is not None:
                return concrete._call_flat(tensors)
        options = "\n".join(f"  Option {i + 1}: {c.pretty_printed_signature()}"
                            for i, c in enumerate(self.concrete_functions))
        got = ", ".join([_describe(a) for a in args]
                        + [f"{k}={_describe(v)}" for k, v in kwargs.items()])
        raise ValueError(f"Could not find matching concrete function to call loaded from the "
                         f"SavedModel. Got:\n  {self.__name__}({got})\nExpected one of:\n"
                         f"{options}")

    def get_concrete_function(self, *args, **kwargs):
        """The first traced graph that accepts arguments (tensors or TensorSpecs)."""
        if not args and not kwargs and len(self.concrete_functions) == 1:
            return self.concrete_functions[0]
        for concrete in self.concrete_functions:
            specs = [TensorSpec(p.shape, p.dtype) for p in concrete.inputs]
            flat = nest.flatten((list(args), kwargs))
            if len(flat) == len(specs) and all(
                    isinstance(v, (TensorSpec, Tensor)) and s.is_compatible_with(v)
                    for v, s in zip(flat, specs)):
                return concrete
        raise ValueError(f"{self.__name__}: no saved concrete function matches {args} "
                         f"{kwargs}")

    def __repr__(self):
        return f"<RestoredFunction {self.__name__} ({len(self.concrete_functions)} traced)>"


def _describe(value):
    if isinstance(value, Tensor):
        return f"Tensor(shape={value.shape}, dtype={value.dtype.name})"
    return repr(value)


class SignatureFunction:
    """A serving signature: keyword tensors in, a dict of named tensors out."""

    def __init__(self, key, concrete, inputs, outputs):
        self.name = key
        self._concrete = concrete
        self._inputs = inputs  # [(name, TensorSpec)] in graph input order
        self._outputs = outputs  # [(name, flat output index, TensorSpec)]

    @property
    def structured_input_signature(self):
        return ((), {name: spec for name, spec in self._inputs})

    @property
    def structured_outputs(self):
        return {name: spec for name, _, spec in self._outputs}

    @property
    def inputs(self):
        return list(self._concrete.inputs)

    @property
    def outputs(self):
        return list(self._concrete._tensor_outputs)

    @property
    def variables(self):
        return self._concrete.variables

    @property
    def graph(self):
        return self._concrete.graph

    def __call__(self, *args, **kwargs):
        if args:
            names = ", ".join(name for name, _ in self._inputs)
            raise TypeError(f"signature_wrapper({names}) takes keyword arguments only, got "
                            f"{len(args)} positional argument(s)")
        expected = {name for name, _ in self._inputs}
        if set(kwargs) != expected:
            raise TypeError(f"signature_wrapper: expected keyword arguments {sorted(expected)},"
                            f" got {sorted(kwargs)}")
        tensors = []
        for name, spec in self._inputs:
            tensor = kwargs[name]
            if not isinstance(tensor, Tensor):
                tensor = convert_to_tensor(tensor, dtype=spec.dtype)
            if not spec.is_compatible_with(tensor):
                raise ValueError(f"signature_wrapper: input '{name}' must be {spec}, got a "
                                 f"tensor of shape {tensor.shape} and dtype "
                                 f"{tensor.dtype.name}")
            tensors.append(tensor)
        result = self._concrete._call_flat(tensors)
        flat = [v for v in nest.flatten(result) if isinstance(v, Tensor)]
        return {name: flat[index] for name, index, _ in self._outputs}

    def pretty_printed_signature(self):
        inputs = ", ".join(f"{name}: {spec}" for name, spec in self._inputs)
        outputs = ", ".join(f"'{name}': {spec}" for name, _, spec in self._outputs)
        return f"{self.name}(*, {inputs}) -> {{{outputs}}}"

    def __repr__(self):
        return f"<SignatureFunction {self.pretty_printed_signature()}>"


class SignatureMap(dict):
    """`loaded.signatures`: signature key -> SignatureFunction."""


class UserObject:
    """A restored object: the saved functions, sub-objects and variables as attributes."""

    def __init__(self, class_name):
        self._saved_class = class_name
        self._all_variables = []
        self._functions = {}

    @property
    def variables(self):
        return tuple(self._all_variables)

    @property
    def trainable_variables(self):
        return tuple(v for v in self._all_variables if v.trainable)

    @property
    def non_trainable_variables(self):
        return tuple(v for v in self._all_variables if not v.trainable)

    def __call__(self, *args, **kwargs):
        function = self._functions.get("__call__")
        if function is None:
            raise TypeError(f"The restored '{self._saved_class}' object is not callable: no "
                            f"traced __call__ was saved")
        return function(*args, **kwargs)

    def __repr__(self):
        return f"<restored {self._saved_class} object>"


def _spec(record):
    return TensorSpec(codec._shape(record["shape"]), codec._dtype(record["dtype"]),
                      record.get("name"))


def _assign_path(tree, name, value):
    """Stores `value` under a child name like `layers/0`, building nested containers."""
    parts = name.split("/")
    for part in parts[:-1]:
        tree = tree.setdefault(part, {})
        if not isinstance(tree, dict):
            return
    tree[parts[-1]] = value


def _containers(tree):
    """Nested dicts whose keys are 0..n-1 become lists (TF restores tracked lists)."""
    if not isinstance(tree, dict):
        return tree
    converted = {k: _containers(v) for k, v in tree.items()}
    if converted and all(k.isdigit() for k in converted) and sorted(
            int(k) for k in converted) == list(range(len(converted))):
        return [converted[str(i)] for i in range(len(converted))]
    return converted


def build(document, constants, variables):
    """The root UserObject of a parsed SavedModel document."""
    decoder = codec.GraphDecoder(constants, variables)
    concretes = [_concrete_function(r, decoder) for r in document["concrete_functions"]]
    records = document["objects"]
    objects = [UserObject(str(r.get("class", "object"))) for r in records]
    for obj, record in zip(objects, records):
        tree = {}
        for name, index in record.get("variables", {}).items():
            _assign_path(tree, name, variables[index])
        for name, index in record.get("children", {}).items():
            _assign_path(tree, name, objects[index])
        for name, indexes in record.get("functions", {}).items():
            function = RestoredFunction(name, [concretes[i] for i in indexes])
            obj._functions[name] = function
            if name != "__call__":
                tree[name] = function
        for name, value in _containers(tree).items():
            if not hasattr(type(obj), name):
                setattr(obj, name, value)
    _collect_variables(objects, records, variables)
    root = objects[0]
    signatures = SignatureMap()
    for key, record in document.get("signatures", {}).items():
        concrete = concretes[record["function"]]
        inputs = [(r["name"], _spec(r)) for r in record["inputs"]]
        outputs = [(r["name"], int(r["index"]), _spec(r)) for r in record["outputs"]]
        signatures[key] = SignatureFunction(key, concrete, inputs, outputs)
    root.signatures = signatures
    root._all_variables = list(variables)  # untracked variables used by functions too
    return root


def _collect_variables(objects, records, variables):
    """Each object's `variables`: those of its own record and of every object below it."""
    def walk(index, seen, found):
        if index in seen:
            return
        seen.add(index)
        for position in records[index].get("variables", {}).values():
            if all(v is not variables[position] for v in found):
                found.append(variables[position])
        for child in records[index].get("children", {}).values():
            walk(child, seen, found)

    for index, obj in enumerate(objects):
        found = []
        walk(index, set(), found)
        obj._all_variables = found
