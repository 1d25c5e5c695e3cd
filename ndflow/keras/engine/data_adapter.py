"""Turning fit/evaluate/predict inputs into batches: arrays and tensors (sliced, shuffled each
epoch), tf.data datasets, Python generators and `keras.utils.PyDataset`/`Sequence`."""

import math

import numpy as np

from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.util import nest


def _is_array(value):
    return isinstance(value, (np.ndarray, Tensor)) or (
        hasattr(value, "__array__") and hasattr(value, "shape") and not hasattr(value,
                                                                                "element_spec"))


def _as_numpy(value):
    if isinstance(value, EagerTensor):
        return value.numpy()
    if hasattr(value, "_is_ndflow_variable"):
        return value.numpy()
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)) and value and not _is_array(value[0]):
        return np.asarray(value)
    return value


def unpack(data):
    """(x, y, sample_weight) from a batch element, as Keras' unpack_x_y_sample_weight."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data!r}")


def pack(x, y=None, sample_weight=None):
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _num_samples(structure):
    sizes = {int(np.shape(a)[0]) for a in nest.flatten(structure) if a is not None}
    if len(sizes) > 1:
        raise ValueError(f"Data cardinality is ambiguous: the arrays have different numbers of "
                         f"samples {sorted(sizes)}. Make sure all arrays contain the same "
                         f"number of samples.")
    return sizes.pop() if sizes else 0


class ArrayAdapter:
    """Batches of NumPy arrays / tensors, reshuffled each epoch when `shuffle`."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 steps=None):
        self._data = nest.map_structure(_as_numpy, pack(x, y, sample_weight))
        self._size = _num_samples(self._data)
        self._batch_size = batch_size or 32
        self._shuffle = shuffle
        self._steps = steps

    @property
    def steps(self):
        full = math.ceil(self._size / self._batch_size) if self._size else 0
        return min(full, self._steps) if self._steps else full

    @property
    def size(self):
        return self._size

    def epoch(self):
        order = np.random.permutation(self._size) if self._shuffle == "batch" or self._shuffle \
            else None
        for step in range(self.steps):
            start = step * self._batch_size
            stop = min(start + self._batch_size, self._size)
            if order is None:
                yield nest.map_structure(lambda a: convert_to_tensor(a[start:stop]), self._data)
            else:
                index = np.sort(order[start:stop]) if self._shuffle == "batch" else \
                    order[start:stop]
                yield nest.map_structure(lambda a: convert_to_tensor(a[index]), self._data)


class IterableAdapter:
    """Datasets, generators and PyDatasets: one epoch is one pass (or `steps` elements)."""

    def __init__(self, data, steps=None, infinite=False):
        self._data = data
        self._steps = steps
        self._iterator = None
        self._infinite = infinite
        cardinality = _cardinality(data)
        if cardinality is not None and cardinality >= 0:
            self._known = cardinality
        else:
            self._known = None

    @property
    def steps(self):
        if self._steps is not None:
            return self._steps
        return self._known

    def epoch(self):
        if self._steps is not None and (self._known is None or self._steps < self._known):
            # With steps_per_epoch on a longer or endless source, epochs continue where the
            # last one stopped (Keras keeps one iterator across epochs).
            if self._iterator is None:
                self._iterator = iter(_iterable(self._data))
            for _ in range(self._steps):
                try:
                    yield _to_tuple(next(self._iterator))
                except StopIteration:
                    self._iterator = None
                    return
            return
        for element in _iterable(self._data):
            yield _to_tuple(element)
        if hasattr(self._data, "on_epoch_end"):
            self._data.on_epoch_end()


def _to_tuple(element):
    if isinstance(element, list):
        return tuple(element)
    if isinstance(element, tuple):
        return element
    return (element,)


def _iterable(data):
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(
            data, "element_spec") and not isinstance(data, (list, tuple)):
        return (data[i] for i in range(len(data)))
    return data


def _cardinality(data):
    if hasattr(data, "cardinality"):
        try:
            return int(data.cardinality())
        except (TypeError, ValueError):
            return None
    if hasattr(data, "__len__") and not isinstance(data, (list, tuple)):
        return len(data)
    return None


def adapter_for(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None):
    """The adapter for fit/evaluate/predict's `x` (and `y`, `sample_weight`)."""
    if hasattr(x, "element_spec") or hasattr(x, "__next__") or (
            hasattr(x, "__getitem__") and hasattr(x, "__len__") and hasattr(x, "on_epoch_end")):
        if y is not None:
            raise ValueError("`y` argument is not supported when using a dataset, generator or "
                             "PyDataset as input (give the targets inside the dataset).")
        return IterableAdapter(x, steps)
    return ArrayAdapter(x, y, sample_weight, batch_size, shuffle, steps)


def train_validation_split(arrays, validation_split):
    """Splits arrays into (train, validation) taking the last fraction, as Keras does."""
    flat = [a for a in nest.flatten(arrays) if a is not None]
    if not all(_is_array(a) or isinstance(a, list) for a in flat):
        raise ValueError("`validation_split` is only supported for tensors or NumPy arrays, "
                         "not for datasets or generators.")
    size = _num_samples(nest.map_structure(_as_numpy, arrays))
    split = int(math.floor(size * (1.0 - validation_split)))

    def head(a):
        return None if a is None else _as_numpy(a)[:split]

    def tail(a):
        return None if a is None else _as_numpy(a)[split:]

    return nest.map_structure(head, arrays), nest.map_structure(tail, arrays)


def class_weights_to_sample_weights(y, class_weight):
    y = _as_numpy(y)
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else \
        np.asarray(y).reshape(-1).astype(np.int64)
    table = np.ones(max(int(labels.max()) + 1, max(class_weight) + 1), dtype=np.float32)
    for key, value in class_weight.items():
        table[int(key)] = value
    return table[labels]
