"""Sequence data helpers of `keras.utils`: PyDataset/Sequence (indexable batch sources fit
reads), pad_sequences, split_dataset."""

import random

import numpy as np

from ndflow.util import nest


class PyDataset:
    """Base class of Python data sources for `fit` (`keras.utils.PyDataset`, Keras 2's
    `Sequence`).

    Subclasses implement `__getitem__(index)` (the batch at `index`, e.g. `(x, y)`) and
    `__len__()` (batches per epoch); `on_epoch_end()` runs after every epoch (reshuffle there).
    `workers`, `use_multiprocessing` and `max_queue_size` are accepted and kept; ndflow reads
    batches in the training thread.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __len__(self):
        num_batches = self.num_batches
        if num_batches is None:
            raise TypeError(f"{type(self).__name__} has no length: it defines neither "
                            f"__len__ nor num_batches")
        return num_batches

    @property
    def num_batches(self):
        """The number of batches per epoch (`len(self)` when `__len__` is overridden)."""
        if type(self).__len__ is not PyDataset.__len__:
            return len(self)
        return None

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]


Sequence = PyDataset


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads sequences to the same length (`keras.utils.pad_sequences`).

    Args:
      sequences: a list of sequences (lists or arrays; items may themselves be arrays).
      maxlen: the output length (default: the longest sequence).
      dtype: the output dtype (`object` or a string dtype for strings).
      padding: "pre" or "post": where to pad.
      truncating: "pre" or "post": where to cut sequences longer than `maxlen`.
      value: the padding value.

    Returns:
      A NumPy array of shape `(len(sequences), maxlen) + item_shape`.

    >>> pad_sequences([[1, 2], [3]])
    array([[1, 2],
           [0, 3]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths = []
    sample_shape = ()
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as error:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: "
                             f"{x}") from error
        if not sample_shape and len(x):
            sample_shape = np.asarray(x).shape[1:]
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_string_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_string_dtype:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         f"strings.")
    x = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or maxlen == 0:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position "
                             f"{index} is different from expected shape {tuple(sample_shape)}")
        if padding == "post":
            x[index, :len(kept)] = kept
        else:
            x[index, -len(kept):] = kept
    return x


def _split_sizes(left_size, right_size, total):
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, "
                            f"Received: type({name})={type(size)}.")
        if (type(size) is int and not 0 < size < total) or (
                type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. Received: "
                             f"{name}={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the "
                         f"{total}. Received: left_size + right_size = {left + right} and "
                         f"total_length = {total}")
    if left == 0 or right == 0:
        raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and "
                         f"`right_size`={right}. Resulting {'left' if left == 0 else 'right'} "
                         f"side dataset split will be empty. Adjust any of the aforementioned "
                         f"parameters")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits arrays (or a tuple/dict of arrays of equal length) into a left and right part
    (`keras.utils.split_dataset`).

    Sizes are sample counts (int) or fractions (float). The parts are `ndflow.data.Dataset`s
    of single samples when `ndflow.data` is available, as in Keras; otherwise they are the
    split arrays in the input's structure. Shuffling uses `random.Random(seed)`, the same
    order Keras' `random.seed(seed); random.shuffle(...)` gives, without touching the global
    generator.

    Returns:
      `(left, right)`.
    """
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    if hasattr(dataset, "element_spec"):
        samples = [nest.map_structure(_as_numpy, s) for s in dataset]
        dataset = nest.map_structure(lambda *xs: np.stack(xs), *samples)
    flat = [np.asarray(a) for a in nest.flatten(dataset)]
    if not flat or any(a.ndim == 0 for a in flat) or len({len(a) for a in flat}) != 1:
        raise ValueError(f"split_dataset: `dataset` must be arrays of the same length (or a "
                         f"tuple/list/dict of them), got shapes {[a.shape for a in flat]}")
    total = len(flat[0])
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    order = np.asarray(order, dtype=np.int64)
    parts = []
    for indices in (order[:left], order[total - right:]):
        arrays = [a[indices] for a in flat]
        parts.append(nest.pack_sequence_as(dataset, arrays) if not isinstance(
            dataset, np.ndarray) else arrays[0])
    return tuple(_to_dataset(p) for p in parts)


def _as_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _to_dataset(part):
    try:
        from ndflow.data import Dataset
    except ImportError:
        return part
    return Dataset.from_tensor_slices(tuple(part) if isinstance(part, list) else part)
