"""`tf.Module`: a named container that finds the variables and sub-modules in its attributes."""

import functools
import re

from ndflow.framework import context
from ndflow.framework.tensor import is_variable as _is_variable
from ndflow.util import nest

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # TF: a valid Python identifier


def _camel_to_snake(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class _NameScope:
    """`with module.name_scope:` prefixes names of variables created inside."""

    def __init__(self, scope):
        self._scope = scope
        self._previous = None

    @property
    def name(self):
        return self._scope

    def __enter__(self):
        self._previous = context.state.name_scope
        context.state.name_scope = self._scope
        return self._scope

    def __exit__(self, *exc_info):
        context.state.name_scope = self._previous


class Module:
    """Base class of objects that own variables and other modules (`tf.Module`).

    `variables`, `trainable_variables` and `submodules` walk the object's attributes (and the
    lists, tuples and dicts in them) in attribute-name order, deduplicated, as TF does.
    """

    _TF_MODULE_IGNORED_PROPERTIES = frozenset()

    def __init__(self, name=None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not _NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid "
                             f"Python identifiers (e.g. a valid class name).")
        self._name = name
        self._scope_name = context.state.name_scope + name + "/"

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        return _NameScope(self._scope_name)

    @property
    def variables(self):
        """Every variable owned by this module and its sub-modules."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self):
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and v.trainable))

    @property
    def non_trainable_variables(self):
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and not v.trainable))

    @property
    def submodules(self):
        """Every module reachable from this one (not including itself)."""
        return tuple(self._flatten(predicate=lambda v: isinstance(v, Module)))

    def _flatten(self, recursive=True, predicate=None):
        """The leaves of this module's attributes that satisfy `predicate`, as TF walks them:
        attributes in name order, each leaf once; sub-modules after the module's own leaves."""
        return list(_walk(self, predicate or (lambda _: True), recursive, {id(self)}, []))

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: runs a method inside the module's name scope."""

        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapped

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object named '{self._name}'>"



def _walk(module, predicate, recursive, seen, stack):
    if id(module) in stack:
        recursive = False
    ignored = getattr(module, "_TF_MODULE_IGNORED_PROPERTIES", frozenset())
    attributes = vars(module)
    submodules = []
    for key in sorted(attributes):
        if key in ignored:
            continue
        for leaf in _leaves(attributes[key]):
            if id(leaf) in seen:
                continue
            seen.add(id(leaf))
            if predicate(leaf):
                yield leaf
            if recursive and isinstance(leaf, Module):
                submodules.append(leaf)
    stack.append(id(module))
    for submodule in submodules:
        yield from _walk(submodule, predicate, recursive, seen, stack)
    stack.pop()


def _leaves(value):
    if isinstance(value, Module) or _is_variable(value):
        return [value]
    if nest.is_nested(value):
        try:
            return nest.flatten(value)
        except (TypeError, ValueError):  # unusual containers are not walked
            return []
    return [value]
