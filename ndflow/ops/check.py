"""Run-time checks (`tf.debugging`): the `Assert` and `CheckNumerics` ops and the assert_*
functions built on them.

Asserts are stateful ops, so inside `tf.function` they run in program order and fail at run
time with the user's line; eagerly they raise at once. Element-wise asserts pass the unreduced
condition to `Assert`, whose kernel reports the first failing indices and values when (and only
when) the check fails. Static facts (rank, dtype, shapes known while tracing) are checked at
once with `ValueError` / `TypeError`, as TF does.
"""

import numpy as np

from ndflow.framework import context, dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops import logging as logging_ops

_DEFAULT_SUMMARIZE = 3


def _host(xp, array):
    """A NumPy copy of a backend array, for error messages only."""
    return np.asarray(xp.asnumpy(array) if hasattr(xp, "asnumpy") else array)


def _failure_message(condition, data, message, condition_text, names, summarize):
    """TF's eager assert message: the condition, the first failing indices and values, and
    the first elements of each input."""
    lines = [message] if message else []
    if condition_text is None:
        parts = [logging_ops.format_value(d, summarize) for d in data]
        return "\n".join(lines + ["assertion failed: " + " ".join(f"[{p}]" for p in parts)])
    lines.append(f"Condition {condition_text} did not hold.")
    if condition.ndim:
        failing = np.argwhere(~condition.astype(bool))[:summarize]
        lines += [f"Indices of first {len(failing)} different values:", str(failing)]
        for name, value in zip(names, data):
            spread = np.broadcast_to(value, condition.shape)
            lines += [f"Corresponding {name} values:", str(spread[tuple(failing.T)])]
    for name, value in zip(names, data):
        first = value.reshape(-1)[:summarize]
        lines += [f"First {first.size} elements of {name}:", str(first)]
    return "\n".join(lines)


@primitive("Assert", dtypes=None, same_dtype=False, num_outputs=0, stateful=True)
class AssertOp:
    """Raises InvalidArgumentError when any element of `condition` is false; `data` are shown.
    TF's Assert takes a scalar condition; an element-wise one lets the message name indices."""

    def infer(condition, *data, summarize, message, condition_text, names):
        if condition.dtype is not dtypes.bool:
            raise errors.InvalidArgumentError(
                f"Assert: condition must be a bool tensor, got dtype {condition.dtype.name}")
        return ()

    def kernel(xp, condition, *data, summarize, message, condition_text, names):
        if bool(xp.all(condition)):
            return ()
        hosts = [_host(xp, d) for d in data]
        raise errors.InvalidArgumentError(_failure_message(
            _host(xp, condition), hosts, message, condition_text, names, summarize))


@primitive("CheckNumerics", dtypes=dtypes.FLOATS, stateful=True)
class CheckNumerics:
    def infer(tensor, message):
        return Spec(tensor.shape, tensor.dtype)

    def kernel(xp, tensor, message):
        has_nan = bool(xp.isnan(tensor).any())
        has_inf = bool(xp.isinf(tensor).any())
        if has_nan or has_inf:
            found = "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
            raise errors.InvalidArgumentError(f"{message} : Tensor had {found} values")
        return tensor

    def grad(op, dy):
        message = op.get_attr("message")
        return [check_numerics(dy, "Not a number (NaN) or infinity (Inf) values detected in "
                                   f"gradient. {message}")]


def _last_op():
    """The op just added to the graph being built (what TF returns for a no-output op)."""
    graph = context.state.graph
    return graph._operations[-1] if graph is not None else None


def _assert(condition, data, message, condition_text=None, names=(), summarize=None, name=None):
    summarize = _DEFAULT_SUMMARIZE if summarize is None else int(summarize)
    execute("Assert", condition, *data, summarize=summarize, message=message or "",
            condition_text=condition_text, names=tuple(names), name=name or "Assert")
    return _last_op()


def Assert(condition, data, summarize=None, name=None):
    """Asserts that `condition` is true; if not, raises InvalidArgumentError showing `data`.

    Args:
      condition: a bool scalar tensor (or Python bool).
      data: tensors and Python strings printed when the condition is false.
      summarize: how many entries of each tensor to print.
      name: name for the op.

    Returns:
      None eagerly; the Assert operation inside a graph.
    """
    strings = [d for d in data if isinstance(d, (str, bytes))]
    tensors = [convert_to_tensor(d) for d in data if not isinstance(d, (str, bytes))]
    header = " ".join(s.decode() if isinstance(s, bytes) else s for s in strings)
    return _assert(convert_to_tensor(condition, dtype_hint=dtypes.bool), tensors, header or None,
                   None, summarize=summarize, name=name)


def _pair(x, y):
    x = x.value() if getattr(x, "_is_ndflow_variable", False) else x
    y = y.value() if getattr(y, "_is_ndflow_variable", False) else y
    if not isinstance(x, Tensor):
        x = convert_to_tensor(x, dtype=y.dtype if isinstance(y, Tensor) else None)
    if not isinstance(y, Tensor):
        y = convert_to_tensor(y, dtype=x.dtype)
    return x, y


def _compare(fn_name, symbol):
    def check(x, y, message=None, summarize=None, name=None):
        import ndflow

        x, y = _pair(x, y)
        condition = getattr(ndflow.math, fn_name)(x, y)
        return _assert(condition, [x, y], message, f"x {symbol} y", ("x", "y"), summarize,
                       name)

    check.__name__ = f"assert_{fn_name}"
    check.__doc__ = (f"Asserts `x {symbol} y` element-wise (`tf.debugging.assert_{fn_name}`).\n\n"
                     f"Raises InvalidArgumentError naming the first failing indices and values;"
                     f"\ninside tf.function the check runs when the graph runs.")
    return check


assert_equal = _compare("equal", "==")
assert_none_equal = _compare("not_equal", "!=")
assert_less = _compare("less", "<")
assert_less_equal = _compare("less_equal", "<=")
assert_greater = _compare("greater", ">")
assert_greater_equal = _compare("greater_equal", ">=")


def _sign_check(fn_name, symbol):
    def check(x, message=None, summarize=None, name=None):
        import ndflow

        x, _ = _pair(x, 0)
        zero = convert_to_tensor(0, dtype=x.dtype)
        condition = getattr(ndflow.math, fn_name)(x, zero)
        return _assert(condition, [x], message, f"x {symbol} 0", ("x",), summarize, name)

    check.__doc__ = f"Asserts `x {symbol} 0` element-wise (raises InvalidArgumentError)."
    return check


assert_positive = _sign_check("greater", ">")
assert_negative = _sign_check("less", "<")
assert_non_negative = _sign_check("greater_equal", ">=")
assert_non_positive = _sign_check("less_equal", "<=")


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Asserts `|x - y| <= atol + rtol * |y|` element-wise (`tf.debugging.assert_near`).

    The default tolerances are 10 * eps of the dtype, as in TF.
    """
    import ndflow

    x, y = _pair(x, y)
    eps = float(np.finfo(x.dtype.as_numpy_dtype).eps) if x.dtype.is_floating else 0.0
    rtol = 10 * eps if rtol is None else rtol
    atol = 10 * eps if atol is None else atol
    tolerance = ndflow.cast(atol, x.dtype) + ndflow.cast(rtol, x.dtype) * ndflow.abs(y)
    condition = ndflow.math.less_equal(ndflow.abs(x - y), tolerance)
    text = f"|x - y| <= atol + rtol * |y| (rtol = {rtol:g}, atol = {atol:g})"
    return _assert(condition, [x, y], message, text, ("x", "y"), summarize, name)


def _prefix(message):
    return f"{message}.  " if message else ""


def _static_rank(x):
    return x.shape.rank


def assert_rank(x, rank, message=None, name=None):
    """Asserts that `x` has rank `rank`: ValueError when the static rank differs, otherwise a
    run-time check when the rank is unknown while tracing."""
    x = convert_to_tensor(x)
    rank = int(rank)
    static = _static_rank(x)
    if static is not None:
        if static != rank:
            raise ValueError(f"{_prefix(message)}Tensor {_name(x)} must have rank {rank}.  "
                             f"Received rank {static}, shape {x.shape}")
        return None
    import ndflow

    actual = ndflow.rank(x)
    return _assert(ndflow.math.equal(actual, rank), [actual], message, f"rank(x) == {rank}",
                   ("rank(x)",), None, name)


def assert_rank_at_least(x, rank, message=None, name=None):
    """Asserts that `x` has rank `rank` or more (ValueError when known statically)."""
    x = convert_to_tensor(x)
    rank = int(rank)
    static = _static_rank(x)
    if static is not None:
        if static < rank:
            raise ValueError(f"{_prefix(message)}Tensor {_name(x)} must have rank at least "
                             f"{rank}.  Received rank {static}, shape {x.shape}")
        return None
    import ndflow

    actual = ndflow.rank(x)
    return _assert(ndflow.math.greater_equal(actual, rank), [actual], message,
                   f"rank(x) >= {rank}", ("rank(x)",), None, name)


def _name(x):
    try:
        return x.name
    except (AttributeError, ValueError):
        return ""


def assert_type(tensor, tf_type, message=None, name=None):
    """Raises TypeError unless `tensor` has dtype `tf_type` (`tf.debugging.assert_type`)."""
    tf_type = dtypes.as_dtype(tf_type)
    dtype = getattr(tensor, "dtype", None)
    if dtype is None:
        dtype = convert_to_tensor(tensor).dtype
    if dtype is not tf_type:
        raise TypeError(f"{_prefix(message)}{_name(tensor) or 'tensor'} must be of type "
                        f"tf.{tf_type.name}; got tf.{dtype.name}")


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Checks the static shapes of several tensors against symbolic or fixed sizes
    (`tf.debugging.assert_shapes`, static part): `[(x, ('N', 'Q')), (y, ('Q',))]`.

    A string names a size shared by all tensors; an int is an exact size; `...` (or '*')
    as the first entry allows any leading dimensions. Dimensions unknown while tracing are
    not checked. Raises ValueError on a mismatch.
    """
    items = shapes.items() if isinstance(shapes, dict) else shapes
    sizes = {}
    for tensor, spec in items:
        tensor = convert_to_tensor(tensor)
        spec = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        dims = tensor.shape.as_list() if tensor.shape.rank is not None else None
        if dims is None:
            continue
        described = f"Tensor shape={tensor.shape} dtype={tensor.dtype.name}"
        if spec and spec[0] in (Ellipsis, "...", "*"):
            spec = spec[1:]
            dims = dims[len(dims) - len(spec):] if len(dims) >= len(spec) else None
        if dims is None or len(dims) != len(spec):
            raise ValueError(f"{_prefix(message)}{described} must have rank {len(spec)}.  "
                             f"Received rank {tensor.shape.rank}, shape {tensor.shape}")
        offset = tensor.shape.rank - len(spec)
        for index, (want, got) in enumerate(zip(spec, dims)):
            if got is None:
                continue
            if isinstance(want, str):
                source, source_dim, expected = sizes.setdefault(want, (described, index + offset,
                                                                       got))
                origin = f"Specified by {source} dimension {source_dim}"
            else:
                expected, origin = int(want), "Specified explicitly"
            if got != expected:
                raise ValueError(f"{_prefix(message)}{origin}.  {described} dimension "
                                 f"{index + offset} must have size {expected}.  Received size "
                                 f"{got}, shape {tensor.shape}")


def assert_all_finite(x, message, name=None):
    """Returns `x` after checking it has no NaN or Inf (InvalidArgumentError naming which)."""
    return check_numerics(x, message, name=name)


def check_numerics(tensor, message, name=None):
    """Returns `tensor`, raising InvalidArgumentError `"<message> : Tensor had NaN values"`
    (or Inf) if it has any; the gradient passes through with the same check."""
    return execute("CheckNumerics", tensor, message=message, name=name)


_DEBUGGING = ["Assert", "assert_equal", "assert_none_equal", "assert_less", "assert_less_equal",
              "assert_greater", "assert_greater_equal", "assert_near", "assert_positive",
              "assert_negative", "assert_non_negative", "assert_non_positive", "assert_rank",
              "assert_rank_at_least", "assert_shapes", "assert_type", "assert_all_finite",
              "check_numerics"]

API = {
    "": ["Assert", "assert_equal", "assert_greater", "assert_less", "assert_rank"],
    "debugging": _DEBUGGING,
}
