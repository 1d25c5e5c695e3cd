"""AutoGraph: rewrites Python `if`/`while`/`for` (and `and`/`or`/`not`, `x if c else y`) into
calls of run-time helpers that choose at run time: plain Python for Python values and eager
tensors, `ndflow.cond` / `ndflow.while_loop` for tensors while a graph is being built.

`convert(f)` parses f's source, lowers `break`/`continue` to flag variables, moves the rest of
the function into both branches of an `if` that returns, finds for each statement the names it
assigns that are used afterwards (a simple liveness analysis), turns bodies into local functions
taking and returning those names, and compiles the result with f's globals and closure cells.
Line numbers are kept, so tracebacks point at the user's file. Calls inside converted code
convert user functions recursively. Impossible cases raise `AutoGraphError` (a ValueError)
naming the user's file and line and saying what to write instead.
"""

import ast
import builtins
import functools
import inspect
import linecache
import os
import sys
import sysconfig
import textwrap
import types
import warnings
import weakref

from ndflow.framework.graph import SymbolicTensor
from ndflow.function import _autograph_transform
from ndflow.framework.tensor import Tensor, convert_to_tensor

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(filter(None, {sysconfig.get_paths().get(k) for k in
                                    ("stdlib", "platstdlib", "purelib", "platlib")}))
_CACHE = weakref.WeakKeyDictionary()  # function -> converted function (or itself)
_CODE_CACHE = {}  # code object -> (converted code, generated source)


class AutoGraphError(ValueError):
    """A Python construct on tensors that AutoGraph cannot turn into graph control flow."""


class Undefined:
    """The value of a name that has not been assigned yet when a statement starts."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<undefined {self.name!r}>"


NO_RETURN = Undefined("<return value>")


def _ndflow():
    import ndflow

    return ndflow


def _where(site):
    return f"{os.path.basename(site[0])}:{site[1]}"


def _symbolic(value):
    return isinstance(value, SymbolicTensor)


def _error(site, text):
    return AutoGraphError(f"{_where(site)}: {text}")


# --- run-time helpers called by converted code (as `ag__.<name>`) ---------------------------


def get_vars(names, namespace):
    """The current values of `names` (Undefined for names not assigned yet)."""
    return tuple(namespace.get(name, Undefined(name)) for name in names)


def py_bool(test, site, reason):
    """The test of a statement kept as Python: a symbolic tensor is an error saying why."""
    if _symbolic(test):
        raise _error(site, reason)
    return test


def py_iter(iterable, site, reason):
    if _symbolic(iterable):
        raise _error(site, reason)
    return iterable


def not_(value):
    return _ndflow().math.logical_not(value) if _symbolic(value) else not value


def and_(left, right):
    if _symbolic(left):
        return _ndflow().math.logical_and(left, right())
    return left and right()


def or_(left, right):
    if _symbolic(left):
        return _ndflow().math.logical_or(left, right())
    return left or right()


def if_exp(test, body, orelse):
    if _symbolic(test):
        return _ndflow().cond(test, body, orelse)
    return body() if test else orelse()


def _as_branch_output(value):
    if isinstance(value, (bool, int, float)) and not isinstance(value, Undefined):
        return convert_to_tensor(value)
    return value


def if_stmt(test, body, orelse, values, names, live, site):
    """`if test: body else: orelse`; body and orelse take and return the values of `names`."""
    if not _symbolic(test):
        return body(*values) if test else orelse(*values)
    outputs = [i for i, alive in enumerate(live) if alive]
    records = {}

    def branch(function, key):
        def run():
            result = function(*values)
            records[key] = result
            picked = [_branch_value(result[i], values[i]) for i in outputs]
            return tuple(picked) if picked else None

        return run

    try:
        result = _ndflow().cond(test, branch(body, "if"), branch(orelse, "else"))
    except AutoGraphError:
        raise
    except Exception as error:
        _diagnose_if(records, values, names, outputs, site, error)
        raise
    _diagnose_if(records, values, names, outputs, site, None)
    if not outputs:
        return values
    if not isinstance(result, (list, tuple)):
        result = [result]
    merged = list(values)
    for i, value in zip(outputs, result):
        kept = all(records[k][i] is values[i] for k in records)
        merged[i] = values[i] if kept and not isinstance(values[i], Tensor) else value
    return tuple(merged)


def _branch_value(value, incoming):
    """A branch result as a cond output; a placeholder where it cannot be one (an undefined
    name, or an unchanged Python object, restored after the cond)."""
    if isinstance(value, Undefined) or (value is incoming and not isinstance(value, Tensor)
                                        and not isinstance(value, (bool, int, float))):
        return _ndflow().constant(0)
    return _as_branch_output(value)


def _diagnose_if(records, values, names, outputs, site, error):
    """Raises AutoGraphError naming the variable that made a tensor `if` impossible."""
    if len(records) < 2:
        return
    for i in outputs:
        name = names[i]
        then, other = records["if"][i], records["else"][i]
        missing = [k for k, v in (("if", then), ("else", other)) if isinstance(v, Undefined)]
        if len(missing) == 1:
            defined = "else" if missing[0] == "if" else "if"
            raise _error(site, f"'{name}' is defined only in the {defined}-branch of a tensor "
                               f"condition; give it a value before the if, or in the "
                               f"{missing[0]}-branch") from error
        if missing:
            raise _error(site, f"'{name}' is used after this tensor `if` but neither branch "
                               f"gives it a value; define it before the if") from error
        for key, value in (("if", then), ("else", other)):
            if not isinstance(value, Tensor) and value is not values[i] and not isinstance(
                    _as_branch_output(value), Tensor):
                raise _error(site, f"'{name}' is set to a {type(value).__name__} in the "
                                   f"{key}-branch of a tensor condition; both branches must "
                                   f"give it tensors (or leave it unchanged)") from error
        then_out, other_out = _as_branch_output(then), _as_branch_output(other)
        if isinstance(then_out, Tensor) and isinstance(other_out, Tensor) and (
                then_out.dtype is not other_out.dtype):
            raise _error(site, f"'{name}' is a {then_out.dtype.name} tensor in the if-branch "
                               f"but {other_out.dtype.name} in the else-branch of a tensor "
                               f"condition; cast one of them with tf.cast") from error


def if_return(test, body, orelse, values, site):
    """An `if` whose branches end the function: returns what the taken branch returns."""
    if not _symbolic(test):
        result = body(*values) if test else orelse(*values)
        return None if result is NO_RETURN else result

    def branch(function, key):
        def run():
            result = function(*values)
            if result is NO_RETURN:
                other = "else" if key == "if" else "if"
                raise _error(site, f"the {key}-branch of this tensor `if` can end without a "
                                   f"`return` while the {other}-branch returns; return a value "
                                   f"of the same type on every path (add `return ...` at the "
                                   f"end of the {key}-branch or after the if)")
            return result

        return run

    return _ndflow().cond(test, branch(body, "if"), branch(orelse, "else"))


def while_stmt(test, body, values, names, carried, site):
    """`while test: body`; test and body take (and body returns) the values of `names`."""
    values = tuple(values)
    condition = test(*values)
    while not _symbolic(condition):
        if not condition:
            return values
        values = tuple(body(*values))
        condition = test(*values)
    return _tensor_loop(test, body, values, names, carried, site, "while")


def for_stmt(iterable, extra_test, body, values, names, carried, site):
    """`for target in iterable: body` (with `extra_test` from a lowered break)."""
    values = tuple(values)
    if not _symbolic(iterable):
        for item in iterable:
            if extra_test is not None:
                keep_going = extra_test(*values)
                if _symbolic(keep_going):
                    raise _error(site, "a `break` that depends on a tensor cannot stop a loop "
                                       "over a Python iterable; iterate over a tensor "
                                       "(e.g. tf.range) instead")
                if not keep_going:
                    break
            values = tuple(body(item, *values))
        return values
    ndflow = _ndflow()
    if iterable.shape.rank == 0:
        raise _error(site, f"cannot iterate over the scalar tensor {iterable.name}")
    count = iterable.shape[0]
    if count is None:
        count = ndflow.shape(iterable)[0]

    def loop_test(index, *current):
        condition = ndflow.math.less(index, count)
        if extra_test is None:
            return condition
        return ndflow.math.logical_and(condition, extra_test(*current))

    def loop_body(index, *current):
        item = ndflow.gather(iterable, index)
        if iterable.shape.rank is not None:
            item.set_shape(iterable.shape[1:])
        return (index + 1,) + tuple(body(item, *current))

    start = convert_to_tensor(0)
    result = _tensor_loop(loop_test, loop_body, (start,) + values, ("<index>",) + tuple(names),
                          (True,) + tuple(carried), site, "for")
    return result[1:]


def _tensor_loop(test, body, values, names, carried, site, kind):
    ndflow = _ndflow()
    positions = [i for i, keep in enumerate(carried) if keep]
    initial = []
    for i in positions:
        value = values[i]
        if isinstance(value, Undefined):
            raise _error(site, f"'{names[i]}' is assigned in this {kind} loop over a tensor "
                               f"and used after it (or in the next iteration), but has no "
                               f"value before the loop; give it an initial value (a tensor "
                               f"of the same dtype and shape) before the loop")
        initial.append(_loop_value(_as_branch_output(value), names[i], site, kind))
    dummy = not positions
    if dummy:
        initial = [convert_to_tensor(0)]

    def full(loop_values):
        merged = list(values)
        if not dummy:
            for i, value in zip(positions, loop_values):
                merged[i] = value
        return merged

    def loop_test(*loop_values):
        return test(*full(loop_values))

    def loop_body(*loop_values):
        result = body(*full(loop_values))
        if dummy:
            return tuple(loop_values)
        new = []
        for i, before in zip(positions, loop_values):
            value = _as_branch_output(result[i])
            if isinstance(value, Tensor) and not isinstance(value, Undefined):
                value = _same_dtype(value, before, names[i], site, kind)
            new.append(_loop_value(value, names[i], site, kind))
        return tuple(new)

    final = ndflow.while_loop(loop_test, loop_body, initial)
    if not isinstance(final, (list, tuple)):
        final = [final]
    return tuple(full(final))


def _loop_value(value, name, site, kind):
    from ndflow.util import nest

    if isinstance(value, Undefined) or not all(isinstance(v, Tensor) or getattr(
            v, "_is_ndflow_variable", False) for v in nest.flatten(value)):
        raise _error(site, f"'{name}' is a {type(value).__name__} that changes in this {kind} "
                           f"loop over a tensor; loop variables must be tensors (use "
                           f"tf.TensorArray to collect values)")
    return value


def _same_dtype(value, before, name, site, kind):
    if isinstance(before, Tensor) and value.dtype is not before.dtype:
        raise _error(site, f"'{name}' changes dtype from {before.dtype.name} to "
                           f"{value.dtype.name} in this {kind} loop over a tensor; loop "
                           f"variables must keep their dtype (cast with tf.cast, or give "
                           f"it an initial value of dtype {value.dtype.name})")
    return value


def converted_call(function):
    """What a call in converted code calls: user functions converted, `print` and `range`
    turned into tf.print / tf.range when given symbolic tensors, everything else as is."""
    if function is builtins.print:
        return _print
    if function is builtins.range:
        return _range
    return _maybe_convert(function, strict=False)


def _print(*args, **kwargs):
    if any(_symbolic(a) for a in args):
        kwargs.setdefault("output_stream", sys.stdout)
        kwargs.pop("flush", None)
        kwargs.pop("file", None)
        return _ndflow().print(*args, **kwargs)
    return builtins.print(*args, **kwargs)


def _range(*args):
    if any(_symbolic(a) for a in args):
        return _ndflow().range(*args)
    return builtins.range(*args)


# --- conversion --------------------------------------------------------------------------


def do_not_convert(func=None):
    """Marks `func` so AutoGraph calls it unchanged (usable as a decorator)."""
    if func is None:
        return do_not_convert
    try:
        func.__ag_do_not_convert__ = True
        return func
    except (AttributeError, TypeError):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        wrapper.__ag_do_not_convert__ = True
        return wrapper


def convert(function):
    """The AutoGraph version of `function` (itself when it cannot or need not be converted).

    Raises:
      AutoGraphError: for constructs that can never be converted (`yield`).
    """
    return _maybe_convert(function, strict=True)


def to_code(function):
    """The generated Python source of `function`'s conversion."""
    converted = convert(function)
    target = getattr(converted, "func", converted)
    target = getattr(target, "__func__", target)
    code = getattr(target, "__code__", None)
    for entry in _CODE_CACHE.values():
        if entry[0] is code:
            return entry[1]
    return inspect.getsource(function)


def _maybe_convert(function, strict):
    if isinstance(function, functools.partial):
        converted = _maybe_convert(function.func, strict)
        if converted is function.func:
            return function
        return functools.partial(converted, *function.args, **function.keywords)
    if inspect.ismethod(function):
        converted = _maybe_convert(function.__func__, strict)
        if converted is function.__func__:
            return function
        return types.MethodType(converted, function.__self__)
    if not isinstance(function, types.FunctionType) or not _convertible(function):
        return function
    try:
        return _CACHE[function]
    except KeyError:
        pass
    try:
        converted = _convert_function(function, strict)
    except AutoGraphError:
        raise
    except Exception as error:  # noqa: BLE001 - run unconverted, as TF does, with a warning
        warnings.warn(f"AutoGraph could not convert {function.__qualname__} and runs it "
                      f"as-is: {type(error).__name__}: {error}", stacklevel=2)
        converted = function
    _CACHE[function] = converted
    return converted


def _convertible(function):
    if getattr(function, "__ag_do_not_convert__", False):
        return False
    code = function.__code__
    filename = code.co_filename
    if code.co_name == "<lambda>" or filename.startswith("<"):
        return False
    if filename.startswith(_PACKAGE_DIR) or filename.startswith(_LIBRARY_DIRS):
        return False
    return not code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR)


def _convert_function(function, strict):
    code = function.__code__
    if code.co_flags & inspect.CO_GENERATOR:
        if strict:
            raise AutoGraphError(f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}: "
                                 f"'{code.co_name}' is a generator (it uses `yield`), which "
                                 f"cannot be converted to a graph; return a tensor (or a "
                                 f"list of tensors) instead")
        return function
    cached = _CODE_CACHE.get(code)
    if cached is None:
        cached = _transform_code(function)
        _CODE_CACHE[code] = cached
    inner = cached[0]
    if inner is None:
        return function
    cells = dict(zip(code.co_freevars, function.__closure__ or ()))
    closure = []
    for name in inner.co_freevars:
        if name == "ag__":
            closure.append(types.CellType(sys.modules[__name__]))
        else:
            closure.append(cells[name])
    converted = types.FunctionType(inner, function.__globals__, function.__name__,
                                   function.__defaults__, tuple(closure))
    converted.__kwdefaults__ = function.__kwdefaults__
    converted.__qualname__ = function.__qualname__
    converted.__module__ = function.__module__
    converted.__doc__ = function.__doc__
    converted.__dict__.update(function.__dict__)
    return converted


def _transform_code(function):
    """(compiled converted code, generated source), or (None, None) without source."""
    code = function.__code__
    lines = linecache.getlines(code.co_filename, function.__globals__)
    if not lines:
        return None, None
    block = inspect.getblock(lines[code.co_firstlineno - 1:])
    tree = ast.parse(textwrap.dedent("".join(block)))
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or node.name != code.co_name:
        return None, None
    ast.increment_lineno(tree, code.co_firstlineno - 1)
    node.decorator_list = []
    site_file = code.co_filename
    new_node = _autograph_transform._Transformer(site_file).run(node)
    source = ast.unparse(new_node)
    params = [ast.arg(arg=name) for name in ("ag__",) + code.co_freevars]
    factory = ast.FunctionDef(name="ag__factory", args=ast.arguments(
        posonlyargs=[], args=params, vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
        defaults=[]), body=[new_node, ast.Return(ast.Name(node.name, ast.Load()))],
        decorator_list=[], returns=None, type_comment=None)
    module = ast.Module(body=[factory], type_ignores=[])
    ast.copy_location(factory, node)
    ast.fix_missing_locations(module)
    compiled = compile(module, code.co_filename, "exec")
    factory_code = _child(compiled, "ag__factory")
    return _child(factory_code, node.name), source


def _child(code, name):
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            return const
    raise LookupError(f"no code object {name!r}")




# --- source transformation ---------------------------------------------------------------
