"""The op registry and the one dispatcher, `execute`.

An op is registered once with three parts (DESIGN.md): a kernel over backend arrays, an
inference rule (output dtypes/shapes, and all validation), and a gradient written in ndflow ops.
`execute` runs every op: eagerly it converts inputs, runs the kernel and, only while a tape is
recording, hands the op to the tapes; while a graph is being built it hands the op to the graph.

Eager mode does not call `infer` on the happy path (that is per-op overhead); dtype checks come
from the declared dtype sets, and when a kernel fails, `infer` runs on the concrete shapes to
raise the same message graph mode gives.
"""

from ndflow.framework import context, dtypes, errors
from ndflow.framework.device import array_namespace
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor, is_variable

_REGISTRY = {}
_state = context.state
_FROM_NUMPY = dtypes._FROM_NUMPY
_XP = array_namespace()
_ALL_DTYPES = dtypes.ANY | {dtypes.resource, dtypes.variant}
_graph_execute = None  # installed by the graph module: fn(opdef, inputs, attrs, name)


class Spec:
    """Static description of a tensor for inference: shape (tuple with None dims, or None for
    unknown rank), dtype, and the constant value when it is known (a NumPy array) or None."""

    __slots__ = ("shape", "dtype", "value", "partial")

    def __init__(self, shape, dtype, value=None, partial=None):
        self.shape = None if shape is None else tuple(shape)
        self.dtype = dtype
        self.value = value
        # For int vectors used as shapes: the entries known while building the graph (a tuple
        # with None for unknown ones), e.g. from tf.stack([tf.shape(x)[0], 4]).
        self.partial = partial

    @property
    def rank(self):
        return None if self.shape is None else len(self.shape)

    def __repr__(self):
        return f"Spec(shape={self.shape}, dtype={self.dtype.name})"


class OpDef:
    """One registered primitive. `same_dtype` lists the input positions that share the type
    attribute T (checked and used to convert Python values); `dtypes` is T's allowed set."""

    __slots__ = ("name", "kernel", "infer", "grad", "dtypes", "same_dtype", "num_outputs",
                 "stateful", "input_dtypes", "dtype_names", "ufunc", "quiet", "side_effects",
                 "kernel_into", "fresh_output")

    def __init__(self, name, kernel, infer=None, grad=None, dtypes=None, same_dtype=True,
                 num_outputs=1, stateful=False, input_dtypes=None, ufunc=None,
                 side_effects=None):
        self.name = name
        self.kernel = kernel
        self.infer = infer
        self.grad = grad
        self.dtypes = dtypes
        self.same_dtype = same_dtype
        self.num_outputs = num_outputs
        self.stateful = stateful
        self.input_dtypes = input_dtypes or {}
        # Name of the `xp` ufunc the kernel is equivalent to, for element-wise ops: lets the
        # fusion pass chain them into one buffer with `out=` (function/passes.py).
        self.ufunc = ufunc
        # Kernels marked quiet produce inf/nan silently (as TF): they run under np.errstate.
        self.quiet = getattr(kernel, "quiet", False)
        # Stateful ops keep program order; those with side effects also always run (a variable
        # read is stateful but may be dropped when nothing uses its value).
        self.side_effects = stateful if side_effects is None else side_effects
        # Optional in-place variant kernel_into(xp, *arrays, **attrs) that writes its result into
        # its first input (the executor uses it when that buffer is dead), and whether the
        # kernel always returns freshly allocated memory that aliases no input.
        self.kernel_into = None
        self.fresh_output = ufunc is not None
        # Names, not DType objects: a str set lookup is 4x faster than DType.__hash__.
        self.dtype_names = frozenset(d.name for d in (dtypes or _ALL_DTYPES))

    def __repr__(self):
        return f"<OpDef {self.name}>"


def register(opdef):
    if opdef.name in _REGISTRY:
        raise ValueError(f"Op {opdef.name!r} is already registered")
    _REGISTRY[opdef.name] = opdef
    return opdef


def get(op_type):
    """The OpDef registered under a TF op type name."""
    try:
        return _REGISTRY[op_type]
    except KeyError:
        raise errors.NotFoundError(f"Op type not registered: {op_type!r}") from None


def registered_ops():
    return dict(_REGISTRY)


def primitive(name, *, dtypes=None, same_dtype=True, num_outputs=1, stateful=False,
              input_dtypes=None, side_effects=None):
    """Class decorator registering `infer`, `kernel` and `grad` defined side by side.

    `kernel(xp, *arrays, **attrs)` returns an array (or a tuple for several outputs);
    `infer(*specs, **attrs)` returns a Spec (or a tuple); `grad(op, *dys)` returns one gradient
    per input (None where the input is not differentiable). A class without `grad` is not
    differentiable (TF's NotDifferentiable).
    """

    def wrap(cls):
        opdef = register(OpDef(name, cls.kernel, getattr(cls, "infer", None),
                               getattr(cls, "grad", None), dtypes, same_dtype, num_outputs,
                               stateful, input_dtypes, side_effects=side_effects))
        opdef.kernel_into = getattr(cls, "kernel_into", None)
        opdef.fresh_output = opdef.fresh_output or getattr(cls, "fresh_output", False)
        return cls

    return wrap


class EagerOp:
    """An op that ran eagerly while a tape recorded: what a gradient function sees as `op`.

    Graph `Operation`s offer the same `type`, `inputs`, `outputs` and `get_attr`, so a gradient
    function is written once for both modes.
    """

    __slots__ = ("opdef", "inputs", "outputs", "attrs", "grad_fn")

    def __init__(self, opdef, inputs, outputs, attrs, grad_fn=None):
        self.opdef = opdef
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.grad_fn = grad_fn if grad_fn is not None else opdef.grad

    @property
    def type(self):
        return self.opdef.name if self.opdef is not None else "CustomGradient"

    @property
    def name(self):
        return self.type

    def get_attr(self, name):
        return self.attrs[name]

    def __repr__(self):
        return f"<EagerOp {self.type}>"


def _dtype_error(message):
    """TF raises InvalidArgumentError eagerly and TypeError while tracing a graph."""
    if _state.graph is not None:
        return TypeError(message)
    return errors.InvalidArgumentError(message)


def _check_dtype(opdef, dtype):
    allowed = opdef.dtypes
    if allowed is not None and dtype not in allowed:
        names = ", ".join(sorted(d.name for d in allowed))
        raise _dtype_error(f"{opdef.name}: dtype {dtype.name} is not supported; expected one "
                           f"of {names}")


def convert_inputs(opdef, inputs):
    """Converts op inputs to tensors: the inputs in `same_dtype` share the first tensor's dtype
    and Python values among them adopt it; other Python values use TF's default dtypes."""
    same = opdef.same_dtype
    if same is True:
        same = range(len(inputs))
    elif not same:
        same = ()
    shared = None
    for index in same:
        value = inputs[index]
        if isinstance(value, Tensor):
            shared = value.dtype
            break
        if hasattr(type(value), "__tf_tensor__"):
            shared = value.dtype
            break
    hints = opdef.input_dtypes
    tensors = []
    for index, value in enumerate(inputs):
        in_group = index in same
        if in_group and shared is not None:
            tensor = _convert_shared(opdef, value, shared)
        else:
            tensor = convert_to_tensor(value, dtype_hint=hints.get(index))
            if in_group:
                shared = tensor.dtype
        tensors.append(tensor)
    if shared is not None:
        _check_dtype(opdef, shared)
    elif tensors and opdef.dtypes is not None and not same:
        _check_dtype(opdef, tensors[0].dtype)
    return tensors


def _convert_shared(opdef, value, dtype):
    if isinstance(value, Tensor) or hasattr(type(value), "__tf_tensor__"):
        tensor = value if isinstance(value, Tensor) else convert_to_tensor(value)
        if tensor.dtype is not dtype:
            raise _dtype_error(
                f"{opdef.name}: cannot mix dtypes {dtype.name} and {tensor.dtype.name} (ndflow "
                f"does not promote); cast one input with ndflow.cast"
            )
        return tensor
    try:
        return convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise _dtype_error(f"{opdef.name}: {error}") from None


def _wrap(array):
    try:
        return EagerTensor(array, _FROM_NUMPY[array.dtype])
    except KeyError:
        return EagerTensor(array, dtypes.from_numpy(array.dtype))


class _Slow(Exception):
    """Raised inside `execute`'s fast path to fall back to _slow_inputs."""


_new = object.__new__


def _slow_inputs(opdef, inputs):
    """Inputs off the fast path as tensors. Variables are read first, as conversion reads them,
    so `matmul(x, layer.kernel)` needs no general conversion."""
    tensors = []
    eager = True
    for value in inputs:
        if type(value) is not EagerTensor:
            if is_variable(value):
                value = value.__tf_tensor__()
            else:
                eager = False
        tensors.append(value)
    if eager and tensors and _dtypes_fit(opdef, tensors):
        return tensors
    return convert_inputs(opdef, tensors)


def _dtypes_fit(opdef, tensors):
    """execute's fast-path dtype rule for eager tensors: one allowed dtype for the shared group
    (every input), or only the first input's dtype for ops without a shared group."""
    same = opdef.same_dtype
    dtype = tensors[0].dtype
    if same is True:
        if any(tensor.dtype is not dtype for tensor in tensors):
            return False
    elif not (same is False or same == ()):
        return False
    return dtype.name in opdef.dtype_names


def execute(op_type, *inputs, name=None, **attrs):
    """Runs (or, while building a graph, adds) op `op_type` on `inputs` with static `attrs`.

    Returns one Tensor, or a tuple of Tensors for ops with several outputs.
    """
    try:
        opdef = _REGISTRY[op_type]
    except KeyError:
        raise errors.NotFoundError(f"Op type not registered: {op_type!r}") from None
    state = _state
    if state.graph is not None:
        return _graph_execute(opdef, inputs, attrs, name)
    # Fast path: every input an eager tensor of one allowed dtype (inline: this is per op).
    # Anything else (Python values, variables, mixed dtypes, symbolic tensors) goes through
    # _slow_inputs, which also raises.
    try:
        same = opdef.same_dtype
        dtype = inputs[0]._dtype
        if same is True:
            for tensor in inputs:
                if tensor._dtype is not dtype:
                    raise _Slow
        elif same is False or same == ():
            for tensor in inputs:  # only the first input's dtype is constrained
                if type(tensor) is not EagerTensor:
                    raise _Slow
        else:
            raise _Slow
        if dtype._name not in opdef.dtype_names:
            raise _Slow
        arrays = [tensor._value for tensor in inputs]  # AttributeError: not eager
        tensors = inputs
    except (_Slow, AttributeError, IndexError):
        tensors = _slow_inputs(opdef, inputs)
        for tensor in tensors:
            if not isinstance(tensor, EagerTensor):
                return _graph_execute(opdef, tensors, attrs, name)
        arrays = [tensor._value for tensor in tensors]
    try:
        if opdef.quiet:
            with _XP.errstate(all="ignore"):
                result = opdef.kernel(_XP, *arrays, **attrs)
        else:
            result = opdef.kernel(_XP, *arrays, **attrs)
    except errors.OpError:
        raise
    except Exception as error:  # noqa: BLE001 - turned into TF's error with the op's message
        raise _kernel_error(opdef, tensors, attrs, error) from error
    if opdef.num_outputs == 1:
        output = _new(EagerTensor)
        output._value = result
        try:
            output._dtype = _FROM_NUMPY[result.dtype]
        except KeyError:
            output._dtype = dtypes.from_numpy(result.dtype)
        if state.tapes and opdef.grad is not None:
            _record(opdef, tensors, (output,), attrs)
        return output
    outputs = tuple(_wrap(array) for array in result)
    if state.tapes and opdef.grad is not None:
        _record(opdef, tensors, outputs, attrs)
    return outputs


def _record(opdef, inputs, outputs, attrs):
    for tape in _state.tapes:
        tape._record_operation(opdef, inputs, outputs, attrs)


def record_custom(inputs, outputs, grad_fn):
    """Records on the active tapes an op whose gradient is `grad_fn(*dys)` (custom_gradient)."""
    for tape in _state.tapes:
        tape._record_operation(None, tuple(inputs), tuple(outputs), {}, grad_fn)


def _kernel_error(opdef, tensors, attrs, error):
    return kernel_error(opdef, [t._value for t in tensors], attrs, error)


def kernel_error(opdef, arrays, attrs, error):
    """The error for a failed kernel: infer's message when infer rejects the concrete inputs,
    else InvalidArgumentError naming the op and the input shapes."""
    if isinstance(error, errors.OpError):
        return error
    if opdef.infer is not None:
        specs = [Spec(getattr(a, "shape", ()), _dtype_of(a), a) for a in arrays]
        try:
            opdef.infer(*specs, **attrs)
        except (errors.OpError, ValueError, TypeError, IndexError) as inferred:
            if isinstance(inferred, errors.OpError):
                return inferred
            return errors.InvalidArgumentError(str(inferred))
    shapes = ", ".join(str(tuple(getattr(a, "shape", ()))) for a in arrays)
    return errors.InvalidArgumentError(f"{opdef.name}: {error} (input shapes: {shapes})")


def _dtype_of(array):
    try:
        return dtypes.from_numpy(array.dtype)
    except (AttributeError, TypeError):
        return dtypes.resource


def set_graph_executor(func):
    """Installs the function that adds an op to the current graph (called by the graph module)."""
    global _graph_execute
    _graph_execute = func


def _no_graph(opdef, inputs, attrs, name):
    raise TypeError(
        f"{opdef.name}: got a symbolic tensor but no graph is being built; symbolic tensors can "
        f"only be used inside tf.function or a tf.compat.v1 Graph"
    )


_graph_execute = _no_graph
