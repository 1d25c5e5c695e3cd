"""Source datasets: tensors, slices, ranges, Python generators, and the combinators that
draw from several datasets (zip, concatenate, choose_from/sample_from_datasets)."""

import numpy as np

from ndflow.data import structure
from ndflow.data.dataset import INFINITE, UNKNOWN, Dataset
from ndflow.framework import dtypes, errors
from ndflow.framework.tensor_spec import TensorSpec


class RandomAccess:
    """Mixin of datasets whose elements can be read by index: subclasses define `_size` and
    `_gather(indices)`."""

    def _batches(self, batch_size, drop_remainder):
        size = self._size
        stop = size - size % batch_size if drop_remainder else size
        return (self._slice(start, min(start + batch_size, stop))
                for start in range(0, stop, batch_size))


class TensorSliceDataset(RandomAccess, Dataset):
    """Slices of tensors along the first dimension (`from_tensor_slices`)."""

    def __init__(self, tensors):
        specs, flat = structure.to_components(tensors)
        if not flat:
            raise ValueError("from_tensor_slices: the structure of tensors is empty")
        sizes = set()
        for part in flat:
            if not isinstance(part, np.ndarray) or part.ndim == 0:
                raise errors.InvalidArgumentError(
                    f"from_tensor_slices: every component must have rank at least 1, got a "
                    f"scalar in {tensors!r}")
            sizes.add(part.shape[0])
        if len(sizes) > 1:
            shapes = [p.shape for p in flat]
            raise errors.InvalidArgumentError(
                f"from_tensor_slices: all components must have the same size in the first "
                f"dimension, got shapes {shapes}")
        # A private read-only copy: slices handed out are views of it, never of user memory.
        self._flat = tuple(_frozen(p) for p in flat)
        self._size = sizes.pop()
        self._structure = structure.nest.map_structure(
            lambda s: TensorSpec(s.shape[1:], s.dtype), specs)

    def _cardinality(self):
        return self._size

    def _iterate(self):
        flat = self._flat
        if len(flat) == 1:
            return ((row,) for row in structure.rows(flat[0]))
        return zip(*[structure.rows(p) for p in flat])

    def _slice(self, start, stop):
        return tuple(p[start:stop] for p in self._flat)

    def _gather(self, indices):
        return tuple(p[indices] for p in self._flat)


def _frozen(array):
    copy = np.array(array, copy=True)
    copy.flags.writeable = False
    return copy


class TensorDataset(Dataset):
    """One element (`from_tensors`)."""

    def __init__(self, tensors):
        self._structure, self._flat = structure.to_components(tensors)

    def _cardinality(self):
        return 1

    def _iterate(self):
        yield self._flat


class RangeDataset(RandomAccess, Dataset):
    """`Dataset.range` (and the endless counter when `stop` is None)."""

    def __init__(self, *args, output_type=dtypes.int64):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Dataset.range takes 1 to 3 arguments, got {len(args)}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (tuple(args) + (1,))[:3]
        self._start, self._stop, self._step = (int(start), None if stop is None else int(stop),
                                               int(step))
        if self._step == 0:
            raise errors.InvalidArgumentError("Dataset.range: step must not be 0, got 0")
        self._dtype = dtypes.as_dtype(output_type)
        self._structure = TensorSpec([], self._dtype)
        self._size = None if stop is None else len(range(self._start, self._stop, self._step))

    def _cardinality(self):
        return INFINITE if self._size is None else self._size

    def _iterate(self):
        numpy_type = self._dtype.as_numpy_dtype
        if self._size is None:
            value = self._start
            while True:
                yield (np.array(value, dtype=numpy_type),)
                value += self._step
        values = np.arange(self._start, self._stop, self._step, dtype=numpy_type)
        yield from ((np.asarray(v),) for v in values)

    def _batches(self, batch_size, drop_remainder):
        if self._size is None:
            return None
        return RandomAccess._batches(self, batch_size, drop_remainder)

    def _slice(self, start, stop):
        first = self._start + start * self._step
        return (np.arange(first, first + (stop - start) * self._step, self._step,
                          dtype=self._dtype.as_numpy_dtype),)

    def _gather(self, indices):
        values = self._start + np.asarray(indices, dtype=np.int64) * self._step
        return (values.astype(self._dtype.as_numpy_dtype),)


class GeneratorDataset(Dataset):
    """Elements from a Python generator function (`from_generator`)."""

    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError(f"from_generator: generator must be callable, got {generator!r}")
        if output_signature is None:
            if output_types is None:
                raise TypeError("from_generator: give output_signature (or output_types)")
            if output_shapes is None:
                output_shapes = structure.nest.map_structure(lambda _: None, output_types)
            output_signature = structure.nest.map_structure(
                lambda t, s: TensorSpec(s, t), output_types, output_shapes)
        self._structure = output_signature
        self._specs = structure.leaf_specs(output_signature)
        self._generator = generator
        self._args = tuple(args or ())

    def _iterate(self):
        args = [structure.normalize(a) for a in self._args]
        for index, value in enumerate(self._generator(*args)):
            try:
                flat = _flatten_like(self._structure, value)
            except (TypeError, ValueError) as error:
                raise TypeError(f"from_generator: element {index} {value!r} does not match "
                                f"the structure {self._structure!r}: {error}") from None
            yield tuple(_checked(part, spec, index) for part, spec in zip(flat, self._specs))


def _flatten_like(spec_structure, value):
    from ndflow.util import nest  # noqa: PLC0415

    if not nest.is_nested(spec_structure):
        return [value]
    if isinstance(spec_structure, dict):
        return [v for k in sorted(spec_structure) for v in _flatten_like(spec_structure[k],
                                                                          value[k])]
    if len(spec_structure) != len(value):
        raise ValueError(f"expected {len(spec_structure)} values, got {len(value)}")
    return [v for s, item in zip(spec_structure, value) for v in _flatten_like(s, item)]


def _checked(value, spec, index):
    try:
        array, dtype = structure._leaf_array(value) if spec.dtype is dtypes.string or not (
            isinstance(value, np.ndarray)) else (value, dtypes.from_numpy(value.dtype))
        if dtype is not spec.dtype:
            array, dtype = structure._leaf_array(value if not hasattr(value, "numpy")
                                                 else value.numpy())
            array = np.asarray(array, dtype=spec.dtype.as_numpy_dtype)
            if not _same_values(value, array):
                raise TypeError(f"value {value!r} is not {spec.dtype.name}")
    except (TypeError, ValueError) as error:
        raise errors.InvalidArgumentError(
            f"from_generator: element {index} does not match the expected type "
            f"{spec.dtype.name}: {error}") from None
    if not spec.shape.is_compatible_with(array.shape):
        raise errors.InvalidArgumentError(
            f"from_generator: `generator` yielded an element of shape {array.shape} where an "
            f"element of shape {spec.shape} was expected (element {index})")
    return array


def _same_values(value, array):
    original = np.asarray(value)
    if original.dtype.kind in "fc" and array.dtype.kind in "iub":
        return bool(np.all(original == array))
    return True


class ZipDataset(Dataset):
    """Elements of several datasets side by side (`Dataset.zip`)."""

    def __init__(self, datasets):
        leaves = structure.nest.flatten(datasets)
        if not leaves or not all(isinstance(d, Dataset) for d in leaves):
            raise TypeError(f"Dataset.zip: expected a (nested) structure of datasets, got "
                            f"{datasets!r}")
        self._datasets = leaves
        self._structure = structure.nest.pack_sequence_as(
            datasets, [d.element_spec for d in leaves])

    def _inputs(self):
        return self._datasets

    def _cardinality(self):
        counts = [d._cardinality() for d in self._datasets]
        finite = [c for c in counts if c >= 0]
        if finite:
            return min(finite)
        return UNKNOWN if UNKNOWN in counts else INFINITE

    def _iterate(self):
        for parts in zip(*[d._iterate() for d in self._datasets]):
            yield tuple(p for part in parts for p in part)


class ConcatenateDataset(Dataset):
    """One dataset's elements followed by another's (`concatenate`)."""

    def __init__(self, first, second):
        first_specs = structure.leaf_specs(first.element_spec)
        second_specs = structure.leaf_specs(second.element_spec)
        if len(first_specs) != len(second_specs) or any(
                a.dtype is not b.dtype for a, b in zip(first_specs, second_specs)):
            raise TypeError(f"concatenate: incompatible element specs {first.element_spec!r} "
                            f"and {second.element_spec!r}")
        self._first, self._second = first, second
        self._structure = structure.nest.pack_sequence_as(
            first.element_spec, [structure.relaxed(a, b)
                                 for a, b in zip(first_specs, second_specs)])

    def _inputs(self):
        return [self._first, self._second]

    def _cardinality(self):
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE in (a, b):
            return INFINITE
        return UNKNOWN if UNKNOWN in (a, b) else a + b

    def _iterate(self):
        yield from self._first._iterate()
        yield from self._second._iterate()


class ChooseDataset(Dataset):
    """`choose_from_datasets`: the next element of `datasets[choice]` for each choice."""

    def __init__(self, datasets, choice_dataset, stop_on_empty_dataset=True):
        datasets = list(datasets)
        if not datasets:
            raise ValueError("choose_from_datasets: datasets must be a non-empty list")
        spec = choice_dataset.element_spec
        if not isinstance(spec, TensorSpec) or spec.dtype is not dtypes.int64 or (
                spec.shape.rank not in (None, 0)):
            raise TypeError(f"choose_from_datasets: choice_dataset must be a dataset of int64 "
                            f"scalars, got {spec!r}")
        self._datasets = datasets
        self._choice = choice_dataset
        self._stop = stop_on_empty_dataset
        self._structure = datasets[0].element_spec

    def _inputs(self):
        return self._datasets + [self._choice]

    def _iterate(self):
        iterators = [d._iterate() for d in self._datasets]
        finished = [False] * len(iterators)
        for (choice,) in self._choice._iterate():
            index = int(choice)
            if not 0 <= index < len(iterators):
                raise errors.InvalidArgumentError(
                    f"choose_from_datasets: selector index {index} is out of range for "
                    f"{len(iterators)} datasets")
            if finished[index]:
                continue
            try:
                yield next(iterators[index])
            except StopIteration:
                finished[index] = True
                if self._stop or all(finished):
                    return


class _SampleChoices(Dataset):
    """Endless int64 choices drawn with `weights`, seeded like TF's random ops."""

    def __init__(self, weights, seed):
        from ndflow.data import _shuffle  # noqa: PLC0415

        self._weights = weights
        self._seeds = _shuffle.SeedGenerator(*_shuffle.dataset_seeds(seed), True)
        self._structure = TensorSpec([], dtypes.int64)

    def _cardinality(self):
        return INFINITE

    def _iterate(self):
        seed, seed2 = self._seeds.next_seeds()
        rng = np.random.default_rng([seed, seed2])
        cumulative = np.cumsum(np.asarray(self._weights, dtype=np.float64))
        cumulative /= cumulative[-1]
        while True:
            draws = np.searchsorted(cumulative, rng.random(1024), side="right")
            for value in np.minimum(draws, len(cumulative) - 1):
                yield (np.array(value, dtype=np.int64),)


def sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset):
    """`Dataset.sample_from_datasets`. The draws use NumPy's generator seeded from TF's seed
    pair: reproducible with a seed, but not TF's exact sequence."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("sample_from_datasets: datasets must be a non-empty list")
    if weights is None:
        weights = [1.0] * len(datasets)
    if isinstance(weights, Dataset):
        raise TypeError("sample_from_datasets: a dataset of weights is not supported; pass a "
                        "list of floats")
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if weights.size != len(datasets) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(f"sample_from_datasets: weights must be {len(datasets)} non-negative "
                         f"numbers with a positive sum, got {weights.tolist()}")
    return ChooseDataset(datasets, _SampleChoices(weights, seed), stop_on_empty_dataset)
