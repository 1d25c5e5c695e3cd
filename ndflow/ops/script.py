"""Python functions as ops (`tf.py_function`, `tf.numpy_function`), and the `tf.autograph`
entry points (`to_graph`, `to_code`, `experimental.do_not_convert`).

`py_function` eagerly just calls the function on the eager tensors, so any tape sees (and can
differentiate, to any order) the ops it runs. Inside a graph it is an `EagerPyFunc` op whose
kernel calls the function on eager tensors when the graph runs; its gradient is another
`EagerPyFunc` that reruns the function under a tape. `numpy_function` is a `PyFunc` op (always,
also eagerly) whose function sees NumPy arrays; it is not differentiable. Output shapes are
unknown while tracing, as in TF.
"""

import contextlib
import types

import numpy as np

from ndflow.framework import context, dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor


@contextlib.contextmanager
def _eager_scope():
    """Runs a Python function eagerly from inside a kernel (no graph is being built)."""
    state = context.state
    saved_graph, saved_tapes = state.graph, state.tapes
    state.graph = None
    state.tapes = ()
    try:
        yield
    finally:
        state.graph, state.tapes = saved_graph, saved_tapes


def _func_name(func):
    return getattr(func, "__name__", type(func).__name__)


def _call(func, args):
    """Calls the user's function; its Python errors become TF's (UnknownError, or
    OutOfRangeError for StopIteration, which ends tf.data iteration)."""
    try:
        return func(*args)
    except errors.OpError:
        raise
    except StopIteration as error:
        raise errors.OutOfRangeError(f"{_func_name(func)} raised StopIteration") from error
    except Exception as error:
        raise errors.UnknownError(f"{type(error).__name__}: {error} (raised by the Python "
                                  f"function {_func_name(func)})") from error


def _results(value, count, op_name, func):
    if count == 0:
        return []  # TF ignores what a function with an empty Tout returns
    if count == 1 and not isinstance(value, (list, tuple)):
        return [value]
    if not isinstance(value, (list, tuple)) or len(value) != count:
        got = len(value) if isinstance(value, (list, tuple)) else 1
        raise errors.InvalidArgumentError(
            f"{op_name}: the Python function {_func_name(func)} must return {count} values "
            f"(one per Tout entry), got {got}")
    return list(value)


def _as_output(value, dtype, index, op_name, func):
    """One returned value as a tensor of `dtype` (a tensor of another dtype is an error)."""
    if getattr(value, "_is_ndflow_variable", False):
        value = value.value()
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        got = value.dtype if isinstance(value, Tensor) else dtypes.from_numpy(value.dtype)
        if got is not dtype:
            raise errors.InvalidArgumentError(
                f"{op_name}: value {index} returned by the Python function {_func_name(func)} "
                f"has dtype {got.name}, but Tout says {dtype.name}")
    if isinstance(value, Tensor):
        return value
    try:
        return convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise errors.InvalidArgumentError(
            f"{op_name}: value {index} returned by the Python function {_func_name(func)} "
            f"cannot be converted to {dtype.name}: {error}") from error


def _wrap_array(array):
    return EagerTensor(array, dtypes.from_numpy(array.dtype))


@primitive("EagerPyFunc", dtypes=None, same_dtype=False, num_outputs=None)
class EagerPyFunc:
    """Calls `func` on eager tensors when the op runs; outputs have dtypes `Tout`."""

    def infer(*inputs, func, Tout):
        return tuple(Spec(None, dtype) for dtype in Tout)

    def kernel(xp, *arrays, func, Tout):
        with _eager_scope():
            value = _call(func, [_wrap_array(a) for a in arrays])
            values = _results(value, len(Tout), "EagerPyFunc", func)
            return tuple(_as_output(v, d, i, "EagerPyFunc", func)._value
                         for i, (v, d) in enumerate(zip(values, Tout)))

    def grad(op, *dys):
        inputs = list(op.inputs)
        wrt = [i for i, t in enumerate(inputs) if t.dtype.is_floating or t.dtype.is_complex]
        if not wrt:
            return [None] * len(inputs)
        grad_func = _gradient_function(op.get_attr("func"), len(inputs), wrt)
        grads = py_function(grad_func, inputs + list(dys), [inputs[i].dtype for i in wrt])
        result = [None] * len(inputs)
        for i, grad in zip(wrt, grads):
            if hasattr(grad, "set_shape"):
                grad.set_shape(inputs[i].shape)  # shapes of a graph's gradient are known
            result[i] = grad
        return result


def _gradient_function(func, count, wrt):
    """A Python function computing the input gradients of `func` by rerunning it under a
    tape (TF's EagerPyFunc gradient); itself differentiable the same way."""

    def gradient(*args):
        from ndflow.autodiff.tape import GradientTape, UnconnectedGradients

        inputs, dys = list(args[:count]), list(args[count:])
        with GradientTape() as tape:
            for i in wrt:
                tape.watch(inputs[i])
            outputs = func(*inputs)
        return tape.gradient(list(outputs), [inputs[i] for i in wrt], output_gradients=dys,
                             unconnected_gradients=UnconnectedGradients.ZERO)

    gradient.__name__ = f"{_func_name(func)}_grad"
    return gradient


def _tout_list(Tout):
    if isinstance(Tout, (list, tuple)):
        return tuple(dtypes.as_dtype(d) for d in Tout), False
    return (dtypes.as_dtype(Tout),), True


def _returning_sequence(func, single):
    """`func` adapted to always return a list (one entry per Tout)."""
    if not single:
        return func

    def sequence(*args):
        return [func(*args)]

    sequence.__name__ = _func_name(func)
    return sequence


def py_function(func=None, inp=None, Tout=None, name=None):
    """Wraps a Python function operating on eager tensors into an op (`tf.py_function`).

    Eagerly `func` runs at once (and a tape records what it does); inside tf.function it runs
    each time the graph runs, on eager tensors. The result is differentiable.

    Args:
      func: a Python function taking tensors and returning a tensor, or a list of them.
      inp: the input tensors (a list).
      Tout: a dtype (one output) or a list of dtypes.
      name: name for the op.

    Returns:
      A tensor for a single dtype `Tout`, else a list of tensors (shapes unknown in graphs).
    """
    if func is None:
        return lambda f: py_function(f, inp, Tout, name)
    out_types, single = _tout_list(Tout)
    inputs = [convert_to_tensor(v) for v in (inp or [])]
    if context.state.graph is None and all(isinstance(t, EagerTensor) for t in inputs):
        value = _call(func, inputs)
        values = _results([value] if single else value, len(out_types), "EagerPyFunc", func)
        outputs = [_as_output(v, d, i, "EagerPyFunc", func)
                   for i, (v, d) in enumerate(zip(values, out_types))]
    else:
        outputs = list(execute("EagerPyFunc", *inputs, func=_returning_sequence(func, single),
                               Tout=out_types, name=name))
    return outputs[0] if single else outputs


def _numpy_kernel(op_name):
    def kernel(xp, *arrays, func, Tout):
        hosts = [np.asarray(xp.asnumpy(a) if hasattr(xp, "asnumpy") else a) for a in arrays]
        with _eager_scope():
            value = _call(func, hosts)
            values = _results(value, len(Tout), op_name, func)
            outputs = [_as_output(v, d, i, op_name, func)._value
                       for i, (v, d) in enumerate(zip(values, Tout))]
        return tuple(xp.asarray(o) if isinstance(o, np.ndarray) and o.dtype != object else o
                     for o in outputs)

    return kernel


def _numpy_infer(*inputs, func, Tout):
    return tuple(Spec(None, dtype) for dtype in Tout)


@primitive("PyFunc", dtypes=None, same_dtype=False, num_outputs=None, stateful=True)
class PyFunc:
    infer = _numpy_infer
    kernel = _numpy_kernel("PyFunc")


@primitive("PyFuncStateless", dtypes=None, same_dtype=False, num_outputs=None)
class PyFuncStateless:
    infer = _numpy_infer
    kernel = _numpy_kernel("PyFuncStateless")


def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):
    """Wraps a Python function operating on NumPy arrays into an op (`tf.numpy_function`).

    `func` receives NumPy arrays and returns arrays (or Python values) of the `Tout` dtypes.
    It runs when the op runs, also inside tf.function. Not differentiable.

    Args:
      func: a Python function of NumPy arrays.
      inp: the input tensors (a list).
      Tout: a dtype (one output) or a list of dtypes.
      stateful: False lets graph passes treat the call as a pure function.
      name: name for the op.

    Returns:
      A tensor for a single dtype `Tout`, else a list of tensors.
    """
    if func is None:
        return lambda f: numpy_function(f, inp, Tout, stateful, name)
    out_types, single = _tout_list(Tout)
    inputs = [convert_to_tensor(v) for v in (inp or [])]
    op_type = "PyFunc" if stateful else "PyFuncStateless"
    outputs = execute(op_type, *inputs, func=_returning_sequence(func, single), Tout=out_types,
                      name=name)
    return outputs[0] if single else list(outputs)


def to_graph(entity, recursive=True, experimental_optional_features=None):
    """The AutoGraph-converted version of a Python function (`tf.autograph.to_graph`)."""
    from ndflow.function import autograph

    return autograph.convert(entity)


def to_code(entity, recursive=True, experimental_optional_features=None):
    """The Python source AutoGraph generates for a function (`tf.autograph.to_code`)."""
    from ndflow.function import autograph

    return autograph.to_code(entity)


def do_not_convert(func=None):
    """Marks a function so AutoGraph leaves it unchanged
    (`tf.autograph.experimental.do_not_convert`); usable as a decorator with or without ()."""
    from ndflow.function import autograph

    return autograph.do_not_convert(func)


experimental = types.SimpleNamespace(do_not_convert=do_not_convert)

API = {
    "": ["py_function", "numpy_function"],
    "autograph": ["to_graph", "to_code", "experimental"],
}
