"""Per-thread execution state: recording tapes, the graph being built, the current device.

Kept in one `threading.local` so that the dispatcher reads one object per op. Tapes and
graph-building are per thread, as in TensorFlow.
"""

import threading


class _State(threading.local):
    tapes = ()  # active gradient tapes, innermost last; replaced, never mutated in place
    graph = None  # the graph being built, or None in eager mode (see framework.graph hooks)
    device_stack = ()  # device names from `tf.device` scopes, innermost last
    name_scope = ""  # current name scope prefix ("outer/inner/") for ops and variables


state = _State()


def executing_eagerly():
    """True when ops run immediately (no graph is being built on this thread)."""
    return state.graph is None


def push_tape(tape):
    state.tapes = state.tapes + (tape,)


def pop_tape(tape):
    tapes = list(state.tapes)
    # Remove the last occurrence: nested `with tape:` blocks of the same tape are allowed.
    for index in range(len(tapes) - 1, -1, -1):
        if tapes[index] is tape:
            del tapes[index]
            break
    state.tapes = tuple(tapes)


class init_scope:  # noqa: N801 - TF's public name is a function-like context manager
    """Leaves graph building and pauses tapes (`tf.init_scope`): variable creation and layer
    building inside tf.function run eagerly, once, as TF lifts them out of the function. A TF1
    graph (not a function graph) stays the default, as in TF."""

    def __enter__(self):
        self._graph = state.graph
        self._tapes = state.tapes
        self._scope = state.name_scope
        if self._graph is not None and getattr(self._graph, "_building_function", False):
            outer = self._graph
            while outer is not None and getattr(outer, "_building_function", False):
                outer = getattr(outer, "outer_graph", None)
            state.graph = outer
        state.tapes = ()
        return None

    def __exit__(self, *exc_info):
        state.graph = self._graph
        state.tapes = self._tapes
        state.name_scope = self._scope
        return False
