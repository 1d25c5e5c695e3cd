"""The global random seed (`tf.random.set_seed`) and how op seeds derive from it.

TensorFlow's rules, kept exactly (python/framework/random_seed.py and the eager context):

- no global seed and no op seed: a fresh random seed for every op call;
- a global seed only: each op takes its op seed from `random.Random(global_seed)`, so the same
  program gives the same numbers in a fresh process, and `set_seed` restarts the sequence;
- an op seed only: the op seed is paired with the default global seed 87654321;
- both: used as given.

Random kernels are stateful as TF's eager kernels are: the same (op, seed pair) called twice
continues one stream instead of repeating it. That state lives here, keyed by the op and its
seeds, and `set_seed` clears it (TF clears its kernel cache).
"""

import random
import threading

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1

_lock = threading.Lock()
_global_seed = None
_op_seed_source = random.Random()
_kernel_offsets = {}


def set_seed(seed):
    """Sets the global random seed; `None` goes back to non-deterministic seeds.

    Args:
      seed: a Python integer, or None.
    """
    global _global_seed, _op_seed_source
    if seed is not None:
        seed = int(seed)
    with _lock:
        _global_seed = seed
        _op_seed_source = random.Random(seed)
        _kernel_offsets.clear()


def global_seed():
    """The global seed set by `set_seed`, or None."""
    return _global_seed


def _truncate(seed):
    return int(seed) % _MAXINT32


def get_seed(op_seed):
    """The (seed, seed2) pair an op uses for `op_seed` (TF's `random_seed.get_seed`).

    Returns (None, None) when neither seed is set: the kernel then draws fresh seeds itself.
    """
    if _global_seed is not None:
        if op_seed is None:
            with _lock:
                op_seed = _op_seed_source.randint(0, _MAXINT32)
        seeds = _truncate(_global_seed), _truncate(op_seed)
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, _truncate(op_seed)
    else:
        return None, None
    if seeds == (0, 0):
        return 0, _MAXINT32  # (0, 0) means "non-deterministic" to the kernels
    return seeds


def reserve(key, blocks):
    """Advances the stream of the stateful kernel `key` by `blocks`; returns the old offset."""
    with _lock:
        offset = _kernel_offsets.get(key, 0)
        _kernel_offsets[key] = offset + blocks
    return offset
