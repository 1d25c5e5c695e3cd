"""Element-wise and batching transformations: map, filter, batch, padded_batch, unbatch,
scan, unique, take_while, ignore_errors, reduce, and options/cardinality assertions."""

import collections
import concurrent.futures
import os

import numpy as np

from ndflow.data import _functions, structure
from ndflow.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset
from ndflow.data.pipeline import (  # noqa: F401 - re-exported for Dataset's methods
    CacheDataset,
    PrefetchDataset,
    RepeatDataset,
    ShardDataset,
    ShuffleDataset,
    SkipDataset,
    TakeDataset,
)
from ndflow.framework import dtypes, errors
from ndflow.framework.tensor_shape import TensorShape
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.util import nest


def _thread_count(value):
    if value is None:
        return 1
    value = int(value)
    if value == AUTOTUNE:
        return max(2, os.cpu_count() or 2)
    if value < 1:
        raise ValueError(f"num_parallel_calls must be positive or AUTOTUNE, got {value}")
    return value


class _Unary(Dataset):
    def __init__(self, dataset):
        self._input = dataset
        self._structure = dataset.element_spec

    def _inputs(self):
        return [self._input]

    def _cardinality(self):
        return self._input._cardinality()


class MapDataset(_Unary):
    """`map`: a traced function per element, optionally on a thread pool."""

    def __init__(self, dataset, map_func, num_parallel_calls=None, deterministic=None):
        super().__init__(dataset)
        self._function = _functions.TracedFunction(map_func, dataset.element_spec,
                                                   "Dataset.map")
        self._structure = self._function.output_structure
        self._threads = _thread_count(num_parallel_calls)
        self._deterministic = deterministic

    def _apply(self, index, flat):
        try:
            return self._function(flat)
        except Exception as error:  # noqa: BLE001 - reported with the element index
            raise _functions.element_error("Dataset.map", index, error) from error

    def _iterate(self):
        if self._threads == 1:
            apply = self._function
            for index, flat in enumerate(self._input._iterate()):
                try:
                    yield apply(flat)
                except Exception as error:  # noqa: BLE001
                    raise _functions.element_error("Dataset.map", index, error) from error
            return
        yield from _parallel(self._apply, self._input._iterate(), self._threads,
                             self._is_deterministic())

    def _is_deterministic(self):
        if self._deterministic is not None:
            return self._deterministic
        return self.options().deterministic is not False

    def _iterate_tolerant(self):
        for flat in self._input._iterate_tolerant():
            try:
                yield self._function(flat)
            except Exception:  # noqa: BLE001, S112 - ignore_errors drops the element
                continue


def _parallel(apply, source, threads, deterministic):
    """Applies `apply(index, element)` on a thread pool, `threads` elements in flight."""
    pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="ndflow-map")
    pending = collections.deque()
    try:
        for index, flat in enumerate(source):
            pending.append(pool.submit(apply, index, flat))
            if len(pending) >= 2 * threads:
                yield _next_result(pending, deterministic)
        while pending:
            yield _next_result(pending, deterministic)
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False)


def _next_result(pending, deterministic):
    if deterministic:
        return pending.popleft().result()
    done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
    for future in list(pending):
        if future in done:
            pending.remove(future)
            return future.result()
    return pending.popleft().result()  # pragma: no cover - wait returned something


def _predicate(func, spec, name):
    function = _functions.TracedFunction(func, spec, name)
    out = function.output_structure
    if not isinstance(out, TensorSpec) or out.dtype is not dtypes.bool or out.shape.rank not in (
            None, 0):
        raise ValueError(f"{name}: the predicate must return a scalar bool tensor, got {out!r}")
    return function


class FilterDataset(_Unary):
    """`filter`: keeps elements whose traced predicate is True."""

    def __init__(self, dataset, predicate):
        super().__init__(dataset)
        self._predicate = _predicate(predicate, dataset.element_spec, "Dataset.filter")

    def _cardinality(self):
        count = self._input._cardinality()
        return INFINITE if count == INFINITE else UNKNOWN

    def _iterate(self):
        predicate = self._predicate
        for index, flat in enumerate(self._input._iterate()):
            try:
                keep = predicate(flat)[0]
            except Exception as error:  # noqa: BLE001
                raise _functions.element_error("Dataset.filter", index, error) from error
            if keep:
                yield flat

    def _iterate_tolerant(self):
        for flat in self._input._iterate_tolerant():
            try:
                keep = self._predicate(flat)[0]
            except Exception:  # noqa: BLE001, S112
                continue
            if keep:
                yield flat


class TakeWhileDataset(_Unary):
    """`take_while`: elements until the predicate is first False."""

    def __init__(self, dataset, predicate):
        super().__init__(dataset)
        self._predicate = _predicate(predicate, dataset.element_spec, "Dataset.take_while")

    def _cardinality(self):
        return UNKNOWN

    def _iterate(self):
        for flat in self._input._iterate():
            if not self._predicate(flat)[0]:
                return
            yield flat


def _positive(value, name, what="batch_size"):
    value = int(value)
    if value <= 0:
        raise errors.InvalidArgumentError(f"{name}: {what} must be greater than zero, got "
                                          f"{value}")
    return value


def _batched_cardinality(count, batch_size, drop_remainder):
    if count < 0:
        return count
    return count // batch_size if drop_remainder else -(-count // batch_size)


class BatchDataset(_Unary):
    """`batch`: stacks consecutive elements (slices them when the input allows)."""

    def __init__(self, dataset, batch_size, drop_remainder=False):
        super().__init__(dataset)
        self._batch_size = _positive(batch_size, "Dataset.batch")
        self._drop = bool(drop_remainder)
        count = dataset._cardinality()
        static = self._batch_size if self._drop or (
            count >= 0 and count % self._batch_size == 0 and count > 0) else None
        if count == INFINITE:
            static = self._batch_size
        self._structure = nest.map_structure(lambda s: structure.batched_spec(s, static),
                                             dataset.element_spec)
        self._specs = structure.leaf_specs(dataset.element_spec)

    def _cardinality(self):
        return _batched_cardinality(self._input._cardinality(), self._batch_size, self._drop)

    def _iterate(self):
        fast = self._input._batches(self._batch_size, self._drop)
        if fast is not None:
            yield from fast
            return
        size, specs = self._batch_size, self._specs
        buffer = []
        for flat in self._input._iterate():
            buffer.append(flat)
            if len(buffer) == size:
                yield _stack_elements(buffer, specs)
                buffer = []
        if buffer and not self._drop:
            yield _stack_elements(buffer, specs)


def _stack_elements(buffer, specs):
    return tuple(structure.stack([flat[i] for flat in buffer], spec)
                 for i, spec in enumerate(specs))


class PaddedBatchDataset(_Unary):
    """`padded_batch`: batches, padding each component to `padded_shapes` (None: longest)."""

    def __init__(self, dataset, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(dataset)
        self._batch_size = _positive(batch_size, "Dataset.padded_batch")
        self._drop = bool(drop_remainder)
        spec = dataset.element_spec
        leaves = structure.leaf_specs(spec)
        if padded_shapes is None:
            shapes = [TensorShape([None] * s.shape.rank) if s.shape.rank is not None else None
                      for s in leaves]
            if any(s is None for s in shapes):
                raise ValueError("padded_batch: padded_shapes is required when a component "
                                 "has unknown rank")
        else:
            from ndflow.data.sources import _flatten_like  # noqa: PLC0415

            shapes = [TensorShape(_shape_list(s)) for s in _flatten_like(spec, padded_shapes)]
        if len(shapes) != len(leaves):
            raise ValueError(f"padded_batch: padded_shapes {padded_shapes!r} does not match "
                             f"the element structure {spec!r}")
        for leaf, shape in zip(leaves, shapes):
            if leaf.shape.rank is not None and shape.rank != leaf.shape.rank:
                raise ValueError(f"padded_batch: padded shape {shape} has the wrong rank for "
                                 f"component of shape {leaf.shape}")
        if padding_values is None or not nest.is_nested(padding_values):
            values = [padding_values] * len(leaves)
        else:
            values = nest.flatten(padding_values)
        self._pad_values = [_pad_value(v, leaf) for v, leaf in zip(values, leaves)]
        self._shapes = [tuple(s.as_list()) for s in shapes]
        static = self._batch_size if self._drop else None
        self._structure = nest.pack_sequence_as(spec, [
            TensorSpec(TensorShape([static]).concatenate(s), leaf.dtype)
            for s, leaf in zip(shapes, leaves)])

    def _cardinality(self):
        return _batched_cardinality(self._input._cardinality(), self._batch_size, self._drop)

    def _iterate(self):
        buffer = []
        for flat in self._input._iterate():
            buffer.append(flat)
            if len(buffer) == self._batch_size:
                yield self._pad(buffer)
                buffer = []
        if buffer and not self._drop:
            yield self._pad(buffer)

    def _pad(self, buffer):
        out = []
        for i, (shape, value) in enumerate(zip(self._shapes, self._pad_values)):
            parts = [flat[i] for flat in buffer]
            longest = np.max([p.shape for p in parts], axis=0) if parts[0].ndim else ()
            target = tuple(int(m) if d is None else d for d, m in zip(shape, longest))
            for p in parts:
                if any(a > b for a, b in zip(p.shape, target)):
                    raise errors.InvalidArgumentError(
                        f"padded_batch: attempted to pad to a smaller size than the input "
                        f"element, got element shape {p.shape} and padded shape {target}")
            batch = np.full((len(parts),) + target, value, dtype=parts[0].dtype)
            for row, p in enumerate(parts):
                batch[(row,) + tuple(slice(0, d) for d in p.shape)] = p
            out.append(batch)
        return tuple(out)


def _shape_list(shape):
    if shape is None:
        return None
    if isinstance(shape, TensorShape):
        return shape.as_list()
    if hasattr(shape, "numpy"):
        return [None if d == -1 else int(d) for d in np.asarray(shape.numpy()).reshape(-1)]
    return [None if d is None or d == -1 else int(d) for d in shape]


def _pad_value(value, spec):
    if value is None:
        return b"" if spec.dtype is dtypes.string else np.zeros((), spec.dtype.as_numpy_dtype)
    if hasattr(value, "numpy"):
        value = value.numpy()
    if spec.dtype is dtypes.string:
        return value.encode() if isinstance(value, str) else value
    return np.asarray(value, dtype=spec.dtype.as_numpy_dtype)


class UnbatchDataset(_Unary):
    """`unbatch`: splits elements along their first dimension."""

    def __init__(self, dataset):
        super().__init__(dataset)
        self._structure = nest.map_structure(structure.unbatched_spec, dataset.element_spec)

    def _cardinality(self):
        return INFINITE if self._input._cardinality() == INFINITE else UNKNOWN

    def _iterate(self):
        for flat in self._input._iterate():
            sizes = {p.shape[0] for p in flat}
            if len(sizes) != 1:
                raise errors.InvalidArgumentError(
                    f"unbatch: input element components have different batch sizes "
                    f"{sorted(sizes)}")
            if len(flat) == 1:
                yield from ((row,) for row in structure.rows(flat[0]))
            else:
                yield from zip(*[structure.rows(p) for p in flat])


class ScanDataset(_Unary):
    """`scan`: `scan_func(state, element) -> (new_state, output)`, traced once."""

    def __init__(self, dataset, initial_state, scan_func):
        super().__init__(dataset)
        self._state_spec, self._initial = structure.to_components(initial_state)
        self._function = _functions.TracedFunction(
            lambda *args: scan_func(*args), dataset.element_spec, "Dataset.scan",
            extra_structures=(self._state_spec,))
        out = self._function.output_structure
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError(f"Dataset.scan: scan_func must return (new_state, output), got "
                            f"{out!r}")
        state_leaves = structure.leaf_specs(self._state_spec)
        new_leaves = structure.leaf_specs(out[0])
        if [s.dtype for s in state_leaves] != [s.dtype for s in new_leaves]:
            raise TypeError(f"Dataset.scan: the new state {out[0]!r} must have the dtypes of "
                            f"the initial state {self._state_spec!r}")
        self._state_count = len(state_leaves)
        self._structure = out[1]

    def _iterate(self):
        state = self._initial
        count = self._state_count
        for flat in self._input._iterate():
            result = self._function(tuple(state) + tuple(flat))
            state, output = result[:count], result[count:]
            yield output


class UniqueDataset(_Unary):
    """`unique`: the first occurrence of each scalar value."""

    def __init__(self, dataset):
        super().__init__(dataset)
        spec = dataset.element_spec
        if not isinstance(spec, TensorSpec) or spec.dtype not in (
                dtypes.int32, dtypes.int64, dtypes.string):
            raise TypeError(f"Dataset.unique: elements must be int32, int64 or string tensors, "
                            f"got {spec!r}")

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iterate(self):
        seen = set()
        for flat in self._input._iterate():
            key = flat[0].tobytes() if flat[0].dtype != object else tuple(flat[0].reshape(-1))
            if key not in seen:
                seen.add(key)
                yield flat


class IgnoreErrorsDataset(_Unary):
    """`ignore_errors`: elements whose computation failed are dropped."""

    def __init__(self, dataset, log_warning=False):
        super().__init__(dataset)
        self._log = log_warning

    def _cardinality(self):
        return UNKNOWN

    def _iterate(self):
        return self._input._iterate_tolerant()


class OptionsDataset(_Unary):
    """`with_options`: the same elements, with options attached."""

    def __init__(self, dataset, options):
        super().__init__(dataset)
        self._own_options = options

    def _iterate(self):
        return self._input._iterate()

    def _batches(self, batch_size, drop_remainder):
        return self._input._batches(batch_size, drop_remainder)


class AssertCardinalityDataset(_Unary):
    """`tf.data.experimental.assert_cardinality`: fails when the count differs."""

    def __init__(self, dataset, expected):
        super().__init__(dataset)
        self._expected = int(expected)

    def _cardinality(self):
        return self._expected

    def _iterate(self):
        count = 0
        for flat in self._input._iterate():
            count += 1
            if self._expected != INFINITE and count > self._expected:
                raise errors.FailedPreconditionError(
                    f"Input dataset was expected to contain {self._expected} elements but "
                    f"contained at least {count} elements.")
            yield flat
        if self._expected == INFINITE or count != self._expected:
            raise errors.FailedPreconditionError(
                f"Input dataset was expected to contain {_count_text(self._expected)} but "
                f"contained only {count} elements.")


def _count_text(count):
    return "an infinite number of elements" if count == INFINITE else f"{count} elements"


def reduce_dataset(dataset, initial_state, reduce_func):
    """`Dataset.reduce`: folds elements with a traced `reduce_func(state, element)`."""
    state_spec, state = structure.to_components(initial_state)
    function = _functions.TracedFunction(lambda *args: reduce_func(*args),
                                         dataset.element_spec, "Dataset.reduce",
                                         extra_structures=(state_spec,))
    out_leaves = structure.leaf_specs(function.output_structure)
    if [s.dtype for s in out_leaves] != [s.dtype for s in structure.leaf_specs(state_spec)]:
        raise TypeError(f"Dataset.reduce: reduce_func must return a state of the initial "
                        f"state's structure and dtypes {state_spec!r}, got "
                        f"{function.output_structure!r}")
    if any(not s.shape.is_compatible_with(o.shape)
           for s, o in zip(structure.leaf_specs(state_spec), out_leaves)):
        # The state changes shape: trace without fixing it (TF relaxes the shape likewise).
        function = None
    for flat in dataset._iterate():
        if function is None:
            packed = structure.packer(state_spec)(state)
            element = structure.packer(dataset.element_spec)(flat)
            result = reduce_func(packed, element)
            state = structure.to_components(result)[1]
        else:
            state = function(tuple(state) + tuple(flat))
    return structure.packer(state_spec)(state)
