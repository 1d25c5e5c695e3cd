"""TF1 `Session`: runs fetches of a graph with a feed_dict, through compiled executor plans."""

import collections
import contextlib
import threading

import numpy as np

from ndflow.framework import context, dtypes
from ndflow.framework.graph import Operation, SymbolicTensor, get_default_graph
from ndflow.framework.tensor import EagerTensor, Tensor
from ndflow.function.executor import Plan

_local = threading.local()


def get_default_session():
    """The innermost session entered with `with session.as_default()` (or `with session:`)."""
    stack = getattr(_local, "stack", [])
    return stack[-1] if stack else None


class _FetchMapper:
    """Flattens a fetch structure (tensor, op, name, list, tuple, dict, namedtuple) and
    rebuilds it from the fetched values."""

    def __init__(self, graph, fetches):
        self.graph = graph
        self.leaves = []
        self.structure = self._flatten(fetches)

    def _flatten(self, fetch):
        if isinstance(fetch, dict):
            return ("dict", type(fetch), [(k, self._flatten(v)) for k, v in fetch.items()])
        if isinstance(fetch, tuple) and hasattr(type(fetch), "_fields"):
            return ("namedtuple", type(fetch), [self._flatten(v) for v in fetch])
        if isinstance(fetch, (list, tuple)):
            return ("seq", type(fetch), [self._flatten(v) for v in fetch])
        if fetch is None:
            raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
        element = self.graph.as_graph_element(fetch) if isinstance(fetch, str) else fetch
        if hasattr(element, "__tf_tensor__") and not isinstance(element, Tensor):
            element = element.value()
        if not isinstance(element, (Tensor, Operation)):
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be "
                            f"a string or Tensor. (Can not convert a {type(fetch).__name__} "
                            f"into a Tensor or Operation.)")
        self.leaves.append(element)
        return ("leaf", len(self.leaves) - 1)

    def build(self, values):
        return self._build(self.structure, values)

    def _build(self, node, values):
        kind = node[0]
        if kind == "leaf":
            return values[node[1]]
        if kind == "dict":
            return node[1]((k, self._build(v, values)) for k, v in node[2])
        if kind == "namedtuple":
            return node[1](*[self._build(v, values) for v in node[2]])
        return node[1](self._build(v, values) for v in node[2])


class Session:
    """Runs operations of a graph (`tf.compat.v1.Session`).

    Args:
      target: ignored (no distributed runtime).
      graph: the graph to run (default: the default graph).
      config: a ConfigProto, accepted and ignored.
    """

    def __init__(self, target="", graph=None, config=None):
        self.graph = graph if graph is not None else get_default_graph()
        self._closed = False
        self._plans = collections.OrderedDict()
        self._default_stack = []

    # --- lifetime ----------------------------------------------------------------------------

    def close(self):
        self._closed = True
        self._plans.clear()

    def __enter__(self):
        manager = self.as_default()
        self._default_stack.append(manager)
        manager.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._default_stack.pop().__exit__(*exc_info)
        self.close()

    @contextlib.contextmanager
    def as_default(self):
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append(self)
        graph_scope = self.graph.as_default() if context.state.graph is not self.graph else None
        if graph_scope is not None:
            graph_scope.__enter__()
        try:
            yield self
        finally:
            if graph_scope is not None:
                graph_scope.__exit__(None, None, None)
            stack.pop()

    # --- running -----------------------------------------------------------------------------

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the ops needed for `fetches` and returns their values as NumPy arrays.

        `fetches` may be a tensor, an op, a tensor name, or a list/tuple/dict/namedtuple of
        them; ops fetch as None. `feed_dict` maps tensors (or names) to values; a fed value
        must match the tensor's dtype and static shape.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        mapper = _FetchMapper(self.graph, fetches)
        feeds = self._feeds(feed_dict or {})
        fed_tensors = list(feeds)
        tensors = [leaf for leaf in mapper.leaves if isinstance(leaf, SymbolicTensor)]
        targets = [leaf for leaf in mapper.leaves if isinstance(leaf, Operation)]
        plan = self._plan(fed_tensors, tensors, targets)
        arrays = plan.run([feeds[t] for t in fed_tensors])
        values = iter(arrays)
        results = []
        for leaf in mapper.leaves:
            if isinstance(leaf, Operation):
                results.append(None)
            elif isinstance(leaf, EagerTensor):
                results.append(leaf.numpy())
            else:
                array = next(values)
                results.append(array[()] if isinstance(array, np.ndarray) and array.ndim == 0
                               else array)
        return mapper.build(results)

    def _plan(self, fed, tensors, targets):
        symbolic = [t for t in tensors if isinstance(t, SymbolicTensor)]
        for tensor in symbolic:
            if tensor.graph is not self.graph:
                raise ValueError(f"Tensor {tensor.name} is not an element of this graph.")
        key = (tuple(id(t) for t in fed), tuple(id(t) for t in symbolic),
               tuple(id(op) for op in targets), self.graph._version)
        plan = self._plans.get(key)
        if plan is None:
            plan = Plan(self.graph, fed, symbolic, keep_stateful=False, targets=targets)
            self._plans[key] = plan
            if len(self._plans) > 64:
                self._plans.popitem(last=False)
        return plan

    def _feeds(self, feed_dict):
        feeds = {}
        for key, value in feed_dict.items():
            tensor = self.graph.as_graph_element(key) if isinstance(key, str) else key
            if not isinstance(tensor, SymbolicTensor):
                raise TypeError(f"The value of a feed cannot be a tf.Tensor object. Acceptable "
                                f"feed keys are graph tensors; got {key!r}")
            feeds[tensor] = _feed_array(tensor, value)
        return feeds

    def list_devices(self):
        return []

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function running `fetches` with positional values for `feed_list`."""
        feed_list = list(feed_list or [])

        def run(*values):
            return self.run(fetches, dict(zip(feed_list, values)))

        return run


def _feed_array(tensor, value):
    if isinstance(value, Tensor) and not isinstance(value, EagerTensor):
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object. Acceptable feed "
                        f"values include Python scalars, strings, lists, numpy ndarrays, or "
                        f"TensorHandles. (fed to {tensor.name})")
    dtype = tensor.dtype
    array = np.asarray(value.numpy() if isinstance(value, EagerTensor) else value)
    if dtype is dtypes.string:
        array = array.astype(object)
    else:
        if array.dtype.kind == "f" and dtype.is_integer:
            if not np.all(np.mod(array, 1) == 0):
                raise ValueError(f"Cannot feed value {value!r} with fractional parts to the "
                                 f"integer tensor {tensor.name}")
        array = array.astype(dtype.as_numpy_dtype, copy=False)
    if not tensor.shape.is_compatible_with(array.shape):
        shape = "(" + ", ".join("?" if d is None else str(d) for d in tensor.shape) + ")" \
            if tensor.shape.rank is not None else "<unknown>"
        raise ValueError(f"Cannot feed value of shape {array.shape} for Tensor "
                         f"'{tensor.name}', which has shape '{shape}'")
    return array


class InteractiveSession(Session):
    """A Session that installs itself as the default session on creation."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._interactive = self.as_default()
        self._interactive.__enter__()

    def close(self):
        if getattr(self, "_interactive", None) is not None:
            self._interactive.__exit__(None, None, None)
            self._interactive = None
        super().close()


