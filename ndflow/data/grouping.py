"""Transformations that open datasets per element or group elements: interleave and
flat_map, window, group_by_window and bucket_by_sequence_length."""

import collections
import os

import numpy as np

from ndflow.data import _functions, structure
from ndflow.data.dataset import AUTOTUNE, Dataset
from ndflow.framework import dtypes, errors
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.util import nest


def _check_dataset(value, name):
    if not isinstance(value, Dataset):
        raise TypeError(f"{name}: the function must return a Dataset, got "
                        f"{type(value).__name__}")
    return value


class InterleaveDataset(Dataset):
    """`interleave`/`flat_map`: TF's cycle of `cycle_length` open datasets, `block_length`
    elements from each in turn, a finished one replaced by the next input's dataset in place.

    The function runs eagerly (it returns a dataset). `num_parallel_calls` is accepted; the
    output order is the deterministic order either way.
    """

    def __init__(self, dataset, map_func, cycle_length, block_length, num_parallel_calls,
                 deterministic):
        self._input = dataset
        self._function = _functions.EagerFunction(map_func, dataset.element_spec)
        if cycle_length is None or int(cycle_length) == AUTOTUNE:
            cycle_length = os.cpu_count() or 2
        self._cycle = int(cycle_length)
        self._block = 1 if block_length is None else int(block_length)
        if self._cycle <= 0 or self._block <= 0:
            raise errors.InvalidArgumentError(
                f"Dataset.interleave: cycle_length and block_length must be positive, got "
                f"{self._cycle} and {self._block}")
        self._structure = self._first_spec(dataset, map_func)

    def _first_spec(self, dataset, map_func):
        probe = nest.map_structure(_placeholder_for, dataset.element_spec)
        result = _check_dataset(_functions.call_with_element(map_func, probe),
                                "Dataset.interleave")
        return result.element_spec

    def _inputs(self):
        return [self._input]

    def _iterate(self):
        # TF's InterleaveDatasetOp loop: an empty slot is filled from the input only when the
        # cycle reaches it; a finished slot ends its block and the cycle moves on.
        inputs = self._input._iterate()
        slots = [None] * self._cycle
        open_count = 0
        cycle = block = 0
        end_of_input = False
        while not end_of_input or open_count > 0:
            if slots[cycle] is not None:
                element = next(slots[cycle], None)
                if element is not None:
                    yield element
                    block += 1
                    if block == self._block:
                        block, cycle = 0, (cycle + 1) % self._cycle
                    continue
                slots[cycle] = None
                open_count -= 1
                block, cycle = 0, (cycle + 1) % self._cycle
            elif not end_of_input:
                flat = next(inputs, None)
                if flat is None:
                    end_of_input = True
                    continue
                slots[cycle] = _check_dataset(self._function(flat),
                                              "Dataset.interleave")._iterate()
                open_count += 1
            else:
                block, cycle = 0, (cycle + 1) % self._cycle


def _placeholder_for(spec):
    """A zero value of `spec` for discovering the element spec of a function's dataset."""
    if isinstance(spec, structure.DatasetSpec):
        return _ListDataset([], spec.element_spec)
    shape = [1 if d is None else d for d in spec.shape.as_list()] if spec.shape.rank is not None \
        else []
    if spec.dtype is dtypes.string:
        array = np.empty(shape, dtype=object)
        array[...] = b""
        return structure.make_tensor(array, dtypes.string)
    return structure.make_tensor(np.zeros(shape, dtype=spec.dtype.as_numpy_dtype), spec.dtype)


class _ListDataset(Dataset):
    """A finite in-memory list of flat elements (the datasets inside windows and groups)."""

    def __init__(self, elements, spec):
        self._elements = elements
        self._structure = spec

    def _cardinality(self):
        return len(self._elements)

    def _iterate(self):
        return iter(self._elements)


class WindowDataset(Dataset):
    """`window`: windows of `size` elements every `shift`, taking every `stride`-th."""

    def __init__(self, dataset, size, shift, stride, drop_remainder):
        self._input = dataset
        self._size = int(size)
        self._shift = self._size if shift is None else int(shift)
        self._stride = int(stride)
        if min(self._size, self._shift, self._stride) <= 0:
            raise errors.InvalidArgumentError(
                f"Dataset.window: size, shift and stride must be positive, got {self._size}, "
                f"{self._shift} and {self._stride}")
        self._drop = bool(drop_remainder)
        spec = dataset.element_spec
        self._leaves = structure.leaf_specs(spec)
        self._structure = nest.pack_sequence_as(
            spec, [structure.DatasetSpec(leaf) for leaf in self._leaves])

    def _inputs(self):
        return [self._input]

    def _cardinality(self):
        count = self._input._cardinality()
        if count < 0:
            return count
        span = (self._size - 1) * self._stride + 1
        if self._drop:
            return max(0, (count - span) // self._shift + 1) if count >= span else 0
        return -(-count // self._shift)

    def _iterate(self):
        span = (self._size - 1) * self._stride + 1
        buffer = collections.deque()
        iterator = self._input._iterate()
        exhausted = False
        while True:
            while not exhausted and len(buffer) < span:
                flat = next(iterator, None)
                if flat is None:
                    exhausted = True
                else:
                    buffer.append(flat)
            if not buffer or (exhausted and self._drop and len(buffer) < span):
                return
            window = list(buffer)[::self._stride][:self._size]
            yield tuple(_ListDataset([(flat[i],) for flat in window], leaf)
                        for i, leaf in enumerate(self._leaves))
            for _ in range(self._shift):
                if buffer:
                    buffer.popleft()
                elif not exhausted and next(iterator, None) is None:
                    exhausted = True
            if exhausted and not buffer:
                return


class GroupByWindowDataset(Dataset):
    """`group_by_window`: per-key windows, each reduced to a dataset by `reduce_func`."""

    def __init__(self, dataset, key_func, reduce_func, window_size, window_size_func):
        if (window_size is None) == (window_size_func is None):
            raise ValueError("group_by_window: give exactly one of window_size and "
                             "window_size_func")
        self._input = dataset
        self._key = _functions.TracedFunction(key_func, dataset.element_spec,
                                              "Dataset.group_by_window key_func")
        key_spec = self._key.output_structure
        if not isinstance(key_spec, TensorSpec) or key_spec.dtype is not dtypes.int64:
            raise ValueError(f"group_by_window: key_func must return a scalar int64 tensor, "
                             f"got {key_spec!r}")
        self._reduce = reduce_func
        self._window_size = window_size
        self._size_func = window_size_func
        key = structure.make_tensor(np.zeros((), np.int64), dtypes.int64)
        probe = _ListDataset([], dataset.element_spec)
        self._structure = _check_dataset(reduce_func(key, probe),
                                         "group_by_window reduce_func").element_spec

    def _inputs(self):
        return [self._input]

    def _size_for(self, key):
        if self._window_size is not None:
            return int(self._window_size)
        return int(self._size_func(structure.make_tensor(np.array(key, np.int64),
                                                         dtypes.int64)))

    def _emit(self, key, elements):
        key_tensor = structure.make_tensor(np.array(key, dtype=np.int64), dtypes.int64)
        window = _ListDataset(elements, self._input.element_spec)
        return _check_dataset(self._reduce(key_tensor, window),
                              "group_by_window reduce_func")._iterate()

    def _iterate(self):
        groups = {}
        for flat in self._input._iterate():
            key = int(self._key(flat)[0])
            group = groups.setdefault(key, [])
            group.append(flat)
            if len(group) >= self._size_for(key):
                del groups[key]
                yield from self._emit(key, group)
        for key, group in groups.items():
            yield from self._emit(key, group)


def bucket_by_sequence_length(dataset, element_length_func, bucket_boundaries,
                              bucket_batch_sizes, padded_shapes, padding_values,
                              pad_to_bucket_boundary, no_padding, drop_remainder):
    """TF's bucketing: `group_by_window` keyed by length bucket, padded-batched per bucket."""
    boundaries = [int(b) for b in bucket_boundaries]
    sizes = [int(s) for s in bucket_batch_sizes]
    if len(sizes) != len(boundaries) + 1:
        raise ValueError(f"bucket_by_sequence_length: len(bucket_batch_sizes) must equal "
                         f"len(bucket_boundaries) + 1, got {len(sizes)} and {len(boundaries)}")
    if boundaries != sorted(boundaries):
        raise ValueError(f"bucket_by_sequence_length: bucket_boundaries must be sorted, got "
                         f"{boundaries}")
    lower = np.array([np.iinfo(np.int32).min] + boundaries, dtype=np.int64)
    upper = np.array(boundaries + [np.iinfo(np.int32).max], dtype=np.int64)
    import ndflow as tf  # noqa: PLC0415 - public ops, as a user would write them

    def key_func(*args):
        length = tf.cast(element_length_func(*args), tf.int64)
        conditions = tf.logical_and(tf.less_equal(lower, length), tf.less(length, upper))
        return tf.cast(tf.argmax(tf.cast(conditions, tf.int32)), tf.int64)

    def window_size_func(bucket):
        return sizes[int(bucket)]

    def reduce_func(bucket, window):
        if no_padding:
            return window.batch(sizes[int(bucket)], drop_remainder=drop_remainder)
        shapes = padded_shapes
        if pad_to_bucket_boundary:
            boundary = int(upper[int(bucket)]) - 1
            if int(bucket) == len(boundaries):
                raise errors.InvalidArgumentError(
                    "bucket_by_sequence_length: an element is longer than the last bucket "
                    "boundary with pad_to_bucket_boundary=True")
            shapes = nest.map_structure(
                lambda s: [boundary] + [None] * (s.shape.rank - 1), window.element_spec)
        return window.padded_batch(sizes[int(bucket)], shapes, padding_values,
                                    drop_remainder=drop_remainder)

    return dataset.group_by_window(key_func, reduce_func, window_size_func=window_size_func)


