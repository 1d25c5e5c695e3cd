"""Compiled kernels (numba) for the jobs NumPy cannot do well: many passes over memory, or
many calls on small arrays.

- pooling with each window's first-maximum tap, and the max-pool gradient from those taps
  (NumPy: one call per window tap and per mask, a dozen passes over the seed CNN's 5.5 MB
  activation; here one pass each);
- the convolution input gradient's col2im (NumPy: a read-modify-write pass per filter tap);
- the Adam update (one pass instead of twelve), Philox (one loop instead of ~100 array
  operations), an embedding gradient's scatter-add (instead of a sort and a pass per repeat);
- the LSTM cell and its gradient around their products (fourteen NumPy calls on 64 x 256
  arrays become one or two passes; float32 with `exp32`, a vectorizing exp within 1 ulp).

The kernels' source is `_compiled_kernels.py`. numba is optional (the `fast` extra): it and
that module are imported on the first kernel call, not with ndflow, and compiled kernels are
cached on disk, so only the first process pays the compilation (about a second per kernel). Without numba, or with `NDFLOW_NUMBA=0` in the environment when ndflow
first asks, `kernels()` is None and callers use their NumPy code; tests compare the two
(`_state["enabled"]` switches between them). Results are bit-identical to NumPy's except the
float32 LSTM cell's, which differ by a few ulps (exp32); float64 cells run NumPy's code.

Kernels release the GIL (`nogil`), so the fused convolution's chunks run on ndflow's threads.
Kernels index one-dimensional row slices in their inner loops: with 2-D indexing at computed
offsets LLVM cannot tell stores from loads and does not vectorize (measured 6x slower).
"""

import os

_state = {"kernels": None, "checked": False, "enabled": None}


def enabled():
    flag = _state["enabled"]
    if flag is None:  # read once: kernels() runs on every call of many kernels
        flag = _state["enabled"] = os.environ.get("NDFLOW_NUMBA", "1").strip().lower() not in (
            "0", "false", "no")
    return flag


def kernels(xp=None):
    """The compiled kernels (a namespace), or None without numba, when disabled, or when `xp`
    is not NumPy (CuPy arrays stay on their device)."""
    if not (_state["enabled"] if _state["enabled"] is not None else enabled()) or (
            xp is not None and xp.__name__ != "numpy"):
        return None
    if not _state["checked"]:
        _state["checked"] = True
        try:
            import numba  # noqa: PLC0415 - optional and heavy: imported on first use
        except ImportError:
            return None
        from ndflow.ops import _compiled_kernels  # noqa: PLC0415 - the kernels' source

        _state["kernels"] = _compiled_kernels.build(numba)
    return _state["kernels"]
