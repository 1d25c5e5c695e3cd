"""`tf.data.Dataset`: the base class, its iterator, and the method table of transformations.

A dataset is a Python object with an `element_spec` and an `_iterate()` generator of flat
component tuples of NumPy arrays (see structure.py). Transformations are small subclasses in
sources.py, transforms.py, grouping.py and readers.py; the methods here only build them.
Iterating eagerly packs components into eager tensors at the very end, so a pipeline moves
NumPy arrays (and batches by slicing where it can) rather than tensors.
"""

import numpy as np

from ndflow.data import structure
from ndflow.framework import dtypes, errors
from ndflow.framework.tensor import EagerTensor

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2


class Dataset:
    """A sequence of elements, each a nested structure of tensors (`tf.data.Dataset`)."""

    _structure = None

    # --- what subclasses provide ----------------------------------------------------------

    def _iterate(self):
        raise TypeError(f"{type(self).__name__} does not define _iterate")

    def _cardinality(self):
        return UNKNOWN

    def _inputs(self):
        return []

    def _batches(self, batch_size, drop_remainder):
        """Batched flat tuples if this dataset can slice them directly, else None."""
        return

    def _iterate_tolerant(self):
        """Elements, stopping quietly at the first error (`ignore_errors`); element-wise
        transformations override it to skip only the failing elements."""
        iterator = self._iterate()
        while True:
            try:
                element = next(iterator)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 - ignore_errors drops any element error
                return
            yield element

    # --- public properties ------------------------------------------------------------------

    @property
    def element_spec(self):
        """The nested `TensorSpec`s of one element."""
        return self._structure

    def cardinality(self):
        """The number of elements as an int64 scalar tensor; -1 infinite, -2 unknown."""
        return structure.make_tensor(np.array(self._cardinality(), dtype=np.int64),
                                     dtypes.int64)

    def __len__(self):
        count = self._cardinality()
        if count == INFINITE:
            raise TypeError("The dataset is infinite.")
        if count == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return count

    def __bool__(self):
        return True

    def __iter__(self):
        return OwnedIterator(self)

    def as_numpy_iterator(self):
        """Iterates over elements as NumPy values (bytes for scalar strings)."""
        return _NumpyIterator(self)

    def options(self):
        """The merged `tf.data.Options` of this dataset and its inputs."""
        from ndflow.data import options as options_module  # noqa: PLC0415

        merged = options_module.Options()
        for dataset in self._inputs():
            merged = merged.merge(dataset.options())
        own = getattr(self, "_own_options", None)
        return merged.merge(own) if own is not None else merged

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self._structure!r}>"

    # --- sources ---------------------------------------------------------------------------

    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """A dataset of the slices of `tensors` along their first dimension."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset with `tensors` as its single element."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.TensorDataset(tensors)

    @staticmethod
    def range(*args, output_type=dtypes.int64, name=None):
        """Like Python's range, as int64 scalars: `range(stop)`, `range(start, stop, step)`."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.RangeDataset(*args, output_type=output_type)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None):
        """A dataset of what a Python generator function yields, checked against
        `output_signature` (or `output_types`/`output_shapes`)."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.GeneratorDataset(generator, output_types, output_shapes, args,
                                        output_signature)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """The file names matching glob pattern(s), shuffled unless `shuffle=False`."""
        from ndflow.data import readers  # noqa: PLC0415

        return readers.list_files(file_pattern, shuffle, seed)

    @staticmethod
    def zip(*datasets, name=None):
        """Elements of several datasets side by side, as a nested structure."""
        from ndflow.data import sources  # noqa: PLC0415

        if len(datasets) == 1 and not isinstance(datasets[0], Dataset):
            datasets = datasets[0]
        return sources.ZipDataset(datasets)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """Elements taken from `datasets[i]` for each i of `choice_dataset` (int64)."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.ChooseDataset(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None):
        """Elements drawn at random from `datasets` with probabilities `weights`."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)

    @staticmethod
    def load(path, element_spec=None, compression=None, reader_func=None):
        """Loads a dataset written by `Dataset.save`."""
        from ndflow.data import saving  # noqa: PLC0415

        return saving.load(path, element_spec, compression)

    @staticmethod
    def counter(start=0, step=1, dtype=dtypes.int64, name=None):
        """An infinite range from `start` by `step`."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.RangeDataset(start, None, step, output_type=dtype)

    # --- transformations -------------------------------------------------------------------

    def save(self, path, compression=None, shard_func=None, checkpoint_args=None):
        """Writes the elements to directory `path` (read back with `Dataset.load`)."""
        from ndflow.data import saving  # noqa: PLC0415

        saving.save(self, path, compression)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies `map_func` to each element; the function is traced with tf.function.

        Args:
          map_func: takes the element (a tuple element is passed as positional arguments).
          num_parallel_calls: elements processed concurrently on a thread pool (AUTOTUNE
            picks the number of cores); output order is kept unless deterministic=False.
          deterministic: False lets elements come out in completion order.
        """
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.MapDataset(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None):
        """Keeps the elements for which `predicate` returns True."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.FilterDataset(self, predicate)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """Stacks `batch_size` consecutive elements; the last batch may be smaller."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False, name=None):
        """Batches elements of different shapes, padding each component to a common shape."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.PaddedBatchDataset(self, batch_size, padded_shapes, padding_values,
                                             drop_remainder)

    def unbatch(self, name=None):
        """Splits each element along its first dimension into several elements."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.UnbatchDataset(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None):
        """Regroups already batched elements into batches of `batch_size`."""
        return self.unbatch().batch(batch_size, drop_remainder)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Shuffles with a buffer of `buffer_size` elements, in TF's order for a given seed."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None):
        """Repeats the dataset `count` times (forever when None or -1)."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.RepeatDataset(self, count)

    def take(self, count, name=None):
        """The first `count` elements (all when -1)."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.TakeDataset(self, count)

    def skip(self, count, name=None):
        """All but the first `count` elements (none when -1)."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.SkipDataset(self, count)

    def shard(self, num_shards, index, name=None):
        """Every `num_shards`-th element, starting at `index`."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.ShardDataset(self, num_shards, index)

    def cache(self, filename="", name=None):
        """Keeps the elements after the first full pass, in memory or in `filename`."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.CacheDataset(self, filename)

    def prefetch(self, buffer_size, name=None):
        """Produces up to `buffer_size` elements ahead on a background thread."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.PrefetchDataset(self, buffer_size)

    def interleave(self, map_func, cycle_length=None, block_length=None,
                   num_parallel_calls=None, deterministic=None, name=None):
        """Maps each element to a dataset and interleaves `cycle_length` of them, taking
        `block_length` elements from each in turn."""
        from ndflow.data import grouping  # noqa: PLC0415

        return grouping.InterleaveDataset(self, map_func, cycle_length, block_length,
                                          num_parallel_calls, deterministic)

    def flat_map(self, map_func, name=None):
        """Maps each element to a dataset and concatenates them."""
        from ndflow.data import grouping  # noqa: PLC0415

        return grouping.InterleaveDataset(self, map_func, 1, 1, None, None)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Elements grouped into windows, each a nested structure of datasets."""
        from ndflow.data import grouping  # noqa: PLC0415

        return grouping.WindowDataset(self, size, shift, stride, drop_remainder)

    def enumerate(self, start=0, name=None):
        """Pairs each element with its int64 index: (index, element)."""
        from ndflow.data import sources  # noqa: PLC0415

        counter = sources.RangeDataset(start, None, 1, output_type=dtypes.int64)
        return sources.ZipDataset((counter, self))

    def scan(self, initial_state, scan_func, name=None):
        """Carries a state through the elements: `scan_func(state, element) -> (state, out)`.
        """
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.ScanDataset(self, initial_state, scan_func)

    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None,
                        name=None):
        """Groups elements by `key_func` into windows reduced to datasets by `reduce_func`."""
        from ndflow.data import grouping  # noqa: PLC0415

        return grouping.GroupByWindowDataset(self, key_func, reduce_func, window_size,
                                             window_size_func)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries,
                                  bucket_batch_sizes, padded_shapes=None, padding_values=None,
                                  pad_to_bucket_boundary=False, no_padding=False,
                                  drop_remainder=False, name=None):
        """Batches elements of similar length together (padded per bucket)."""
        from ndflow.data import grouping  # noqa: PLC0415

        return grouping.bucket_by_sequence_length(
            self, element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes,
            padding_values, pad_to_bucket_boundary, no_padding, drop_remainder)

    def unique(self, name=None):
        """Drops repeated elements (int32, int64 or string scalars)."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.UniqueDataset(self)

    def ignore_errors(self, log_warning=False, name=None):
        """Drops elements whose computation raised an error."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.IgnoreErrorsDataset(self, log_warning)

    def take_while(self, predicate, name=None):
        """Elements until `predicate` first returns False."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.TakeWhileDataset(self, predicate)

    def concatenate(self, dataset, name=None):
        """This dataset's elements followed by `dataset`'s."""
        from ndflow.data import sources  # noqa: PLC0415

        return sources.ConcatenateDataset(self, dataset)

    def apply(self, transformation_func):
        """`transformation_func(self)`, for chaining custom transformations."""
        return transformation_func(self)

    def with_options(self, options, name=None):
        """This dataset with `tf.data.Options` set."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.OptionsDataset(self, options)

    def reduce(self, initial_state, reduce_func, name=None):
        """Folds the elements into one value: `reduce_func(state, element) -> state`."""
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.reduce_dataset(self, initial_state, reduce_func)

    def assert_cardinality(self, expected_cardinality):
        from ndflow.data import transforms  # noqa: PLC0415

        return transforms.AssertCardinalityDataset(self, expected_cardinality)


class OwnedIterator:
    """An iterator over a dataset (`tf.data.Iterator`): `next()` raises StopIteration at the
    end, `get_next()` raises `OutOfRangeError` as TF's does."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._generator = dataset._iterate()
        self._pack = structure.packer(dataset.element_spec)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        return self._pack(next(self._generator))

    next = __next__

    def get_next(self, name=None):
        try:
            return self._pack(next(self._generator))
        except StopIteration:
            raise errors.OutOfRangeError(None, None, "End of sequence") from None

    def get_next_as_optional(self):
        from ndflow.data import options as options_module  # noqa: PLC0415

        try:
            return options_module.Optional(self._pack(next(self._generator)),
                                           self.element_spec)
        except StopIteration:
            return options_module.Optional(None, self.element_spec)


class _NumpyIterator:
    def __init__(self, dataset):
        self._generator = dataset._iterate()
        specs = structure.leaf_specs(dataset.element_spec)
        self._structure = dataset.element_spec
        self._nested = len(specs) != 1 or isinstance(dataset.element_spec, (tuple, dict))
        self._convert = [_numpy_value for _ in specs]

    def __iter__(self):
        return self

    def __next__(self):
        flat = next(self._generator)
        values = [_numpy_value(part) for part in flat]
        if not self._nested:
            return values[0]
        from ndflow.util import nest  # noqa: PLC0415

        return nest.pack_sequence_as(self._structure, values)


def _numpy_value(part):
    if isinstance(part, np.ndarray) and part.ndim == 0:
        return part[()]
    if isinstance(part, Dataset):
        return part.as_numpy_iterator()
    if isinstance(part, EagerTensor):
        return part.numpy()
    return part
