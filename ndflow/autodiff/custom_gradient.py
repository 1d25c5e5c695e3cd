"""`tf.custom_gradient` and `tf.recompute_grad`: functions that bring their own gradient.

The decorated function runs normally (its ops are recorded, so a gradient function that uses
its intermediate results can itself be differentiated by an outer tape, as in TF); then one
extra op is recorded from its inputs to fresh copies of its outputs, whose gradient is the
user's `grad_fn`. The target depends on those copies only, so backprop takes the custom path.
"""

import contextlib
import functools
import inspect

from ndflow.framework import context
from ndflow.framework.op_registry import record_custom
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.ops import array as array_ops
from ndflow.util import nest


class _VariableWatcher:
    """Sits among the active tapes while the function runs and collects the variables it
    reads (TF's VariableWatcher); records no operations."""

    def __init__(self):
        self.variables = {}

    def _variable_accessed(self, variable, read_tensor):
        self.variables.setdefault(id(variable), variable)

    def _record_operation(self, opdef, inputs, outputs, attrs, grad_fn=None):
        pass


@contextlib.contextmanager
def _watching_variables():
    watcher = _VariableWatcher()
    context.push_tape(watcher)
    try:
        yield watcher
    finally:
        context.pop_tape(watcher)


@contextlib.contextmanager
def _tapes_paused():
    """Stops every tape recording (variable watchers keep watching)."""
    saved = context.state.tapes
    context.state.tapes = tuple(t for t in saved if isinstance(t, _VariableWatcher))
    try:
        yield
    finally:
        context.state.tapes = saved


def _accepts_variables(func):
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "variables" or p.kind is inspect.Parameter.VAR_KEYWORD
               for p in parameters)



def _call_with_custom_gradient(f, args, kwargs):
    if not context.state.tapes:
        result, _ = f(*args, **kwargs)
        return result
    with _watching_variables() as watcher:
        result, grad_fn = f(*args, **kwargs)
    flat_args = nest.flatten(args)
    flat_kwargs = nest.flatten(kwargs)
    variables = [v for v in watcher.variables.values()
                 if not any(v is item for item in flat_args + flat_kwargs)]
    if variables and not _accepts_variables(grad_fn):
        names = ", ".join(repr(v.name) for v in variables)
        raise TypeError(f"@tf.custom_gradient grad_fn must accept keyword argument "
                        f"'variables', since function uses variables: {names}")
    flat_result = nest.flatten(result)
    with _tapes_paused():
        outputs = [array_ops.identity(y) for y in flat_result]
    inputs = [convert_to_tensor(x) for x in flat_args] + [v.value() for v in variables]
    arg_count = len(flat_args)

    def actual_grad_fn(*dys):
        result_grads = list(dys[:len(outputs)])
        if variables:
            input_grads, variable_grads = grad_fn(*result_grads, variables=variables)
            variable_grads = list(variable_grads)
            if len(variable_grads) != len(variables):
                raise ValueError("Must return gradient for each variable from @custom_gradient "
                                 "grad_fn.")
        else:
            input_grads = grad_fn(*result_grads)
            variable_grads = []
        flat_grads = _flatten_grads(input_grads)
        if len(flat_grads) != arg_count:
            raise ValueError(f"custom_gradient function expected to return {arg_count} "
                             f"gradients, but returned {len(flat_grads)} instead.")
        return flat_grads + variable_grads

    record_custom(inputs, outputs, actual_grad_fn)
    return nest.pack_sequence_as(result, outputs)


def _flatten_grads(grads):
    if grads is None or isinstance(grads, Tensor) or hasattr(type(grads), "__tf_tensor__"):
        return [grads]
    if isinstance(grads, (list, tuple)):
        flat = []
        for grad in grads:
            flat.extend(_flatten_grads(grad) if isinstance(grad, (list, tuple)) else [grad])
        return flat
    return nest.flatten(grads)


class _Decorated:
    """The decorated function; binds like a function, so methods work (`self` is not an input)."""

    def __init__(self, func):
        self._func = func
        functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        return _call_with_custom_gradient(self._func, args, kwargs)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return _Decorated(self._func.__get__(instance, owner))


def custom_gradient(f=None):
    """Decorator defining a function's gradient (`tf.custom_gradient`).

    `f(*args)` returns `(y, grad_fn)`. `grad_fn(*dys)` returns the gradients of the inputs
    (one per positional argument). If `f` reads variables that are not inputs, `grad_fn` takes
    a keyword argument `variables` and returns `(input_grads, variable_grads)`.

    >>> @custom_gradient
    ... def clip_gradient(x):
    ...     def grad_fn(dy):
    ...         return dy * 0.5
    ...     return x * 1.0, grad_fn
    """
    if f is None:
        return custom_gradient
    return _Decorated(f)


def recompute_grad(f):
    """Runs `f` without keeping its intermediate results and recomputes them for the gradient
    (`tf.recompute_grad`): less memory for more compute."""

    @custom_gradient
    def inner(*args, **kwargs):
        with _tapes_paused():
            result = f(*args, **kwargs)

        def grad_fn(*dresult, variables=None):
            from ndflow.autodiff.tape import GradientTape, UnconnectedGradients  # noqa: PLC0415

            uses_variables = variables is not None
            variables = list(variables or [])
            with GradientTape(watch_accessed_variables=False) as tape:
                fresh = [array_ops.identity(a) if isinstance(a, Tensor) or _is_variable(a)
                         else a for a in args]
                tape.watch([a for a in fresh if isinstance(a, Tensor)])
                tape.watch(variables)
                recomputed = f(*fresh, **kwargs)
            sources = [a for a in fresh if isinstance(a, Tensor)] + variables
            grads = tape.gradient(recomputed, sources, output_gradients=list(dresult),
                                  unconnected_gradients=UnconnectedGradients.ZERO)
            tensor_grads = iter(grads[:len(sources) - len(variables)])
            input_grads = [next(tensor_grads) if isinstance(a, Tensor) else None for a in fresh]
            if not uses_variables:
                return input_grads
            return input_grads, grads[len(sources) - len(variables):]

        return result, grad_fn

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return inner(*args, **kwargs)

    return wrapper
