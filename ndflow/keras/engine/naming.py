"""Unique layer/model names per Keras session (`dense`, `dense_1`, ...); reset by
`keras.backend.clear_session()`."""

import collections
import threading

_lock = threading.Lock()
_counts = collections.defaultdict(int)


def unique_name(base):
    """`base` the first time, then `base_1`, `base_2`, ... as Keras numbers layers."""
    with _lock:
        count = _counts[base]
        _counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def reset():
    with _lock:
        _counts.clear()
