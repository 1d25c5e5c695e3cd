"""Order and flow transformations: shuffle (TF's buffer and seeds), repeat, take, skip,
shard, cache (memory or file) and prefetch (a background thread)."""

import os
import queue
import threading

import numpy as np

from ndflow.data import _shuffle
from ndflow.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset
from ndflow.framework import errors


class _Unary(Dataset):
    def __init__(self, dataset):
        self._input = dataset
        self._structure = dataset.element_spec

    def _inputs(self):
        return [self._input]

    def _cardinality(self):
        return self._input._cardinality()


class ShuffleDataset(_Unary):
    """`shuffle`: TF's circular buffer draw with Philox words, so a seed gives TF's order."""

    def __init__(self, dataset, buffer_size, seed=None, reshuffle_each_iteration=None):
        super().__init__(dataset)
        buffer_size = int(buffer_size)
        if buffer_size == AUTOTUNE:
            buffer_size = max(dataset._cardinality(), 1) if dataset._cardinality() > 0 else 1024
        if buffer_size <= 0:
            raise errors.InvalidArgumentError(f"Dataset.shuffle: buffer_size must be greater "
                                              f"than zero, got {buffer_size}")
        self._buffer_size = buffer_size
        reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        self._seeds = _shuffle.SeedGenerator(*_shuffle.dataset_seeds(seed), reshuffle)

    def _iterate(self):
        seeds = self._seeds.next_seeds()
        return _shuffle.shuffled(self._input._iterate(), self._buffer_size, seeds)

    def _batches(self, batch_size, drop_remainder):
        source = self._input
        if not hasattr(source, "_gather"):
            return None
        # Shuffle indices with the same algorithm, then gather each batch in one NumPy call.
        seeds = self._seeds.next_seeds()
        order = np.fromiter(_shuffle.shuffled(iter(range(source._size)), self._buffer_size,
                                              seeds), dtype=np.int64, count=source._size)
        stop = order.size - order.size % batch_size if drop_remainder else order.size
        return (source._gather(order[start:start + batch_size])
                for start in range(0, stop, batch_size))


class RepeatDataset(_Unary):
    """`repeat`: `count` passes over the input (forever when None or -1)."""

    def __init__(self, dataset, count=None):
        super().__init__(dataset)
        self._count = -1 if count is None else int(count)

    def _cardinality(self):
        inner = self._input._cardinality()
        if self._count == 0 or inner == 0:
            return 0
        if self._count < 0:
            return INFINITE if inner != UNKNOWN else UNKNOWN
        return inner * self._count if inner >= 0 else inner

    def _iterate(self):
        passes = 0
        while self._count < 0 or passes < self._count:
            produced = False
            for flat in self._input._iterate():
                produced = True
                yield flat
            passes += 1
            if not produced:
                return  # repeating an empty dataset ends, as in TF


class TakeDataset(_Unary):
    """`take`: the first `count` elements."""

    def __init__(self, dataset, count):
        super().__init__(dataset)
        self._count = int(count)

    def _cardinality(self):
        inner = self._input._cardinality()
        if self._count < 0:
            return inner
        if inner == INFINITE:
            return self._count
        return min(inner, self._count) if inner >= 0 else UNKNOWN

    def _iterate(self):
        if self._count < 0:
            yield from self._input._iterate()
            return
        if self._count == 0:
            return
        for index, flat in enumerate(self._input._iterate(), 1):
            yield flat
            if index >= self._count:
                return

    def _batches(self, batch_size, drop_remainder):
        source = self._input
        if not hasattr(source, "_slice") or self._count < 0 or source._size is None:
            return None
        size = min(self._count, source._size)
        stop = size - size % batch_size if drop_remainder else size
        return (source._slice(start, min(start + batch_size, stop))
                for start in range(0, stop, batch_size))


class SkipDataset(_Unary):
    """`skip`: all but the first `count` elements."""

    def __init__(self, dataset, count):
        super().__init__(dataset)
        self._count = int(count)

    def _cardinality(self):
        inner = self._input._cardinality()
        if inner < 0:
            return inner
        return 0 if self._count < 0 else max(inner - self._count, 0)

    def _iterate(self):
        if self._count < 0:
            return
        iterator = self._input._iterate()
        for _ in range(self._count):
            if next(iterator, None) is None:
                return
        yield from iterator


class ShardDataset(_Unary):
    """`shard`: elements `index`, `index + num_shards`, ..."""

    def __init__(self, dataset, num_shards, index):
        super().__init__(dataset)
        self._shards, self._index = int(num_shards), int(index)
        if self._shards <= 0:
            raise errors.InvalidArgumentError(f"Dataset.shard: num_shards must be positive, "
                                              f"got {self._shards}")
        if not 0 <= self._index < self._shards:
            raise errors.InvalidArgumentError(f"Dataset.shard: index must be in [0, "
                                              f"{self._shards}), got {self._index}")

    def _cardinality(self):
        inner = self._input._cardinality()
        if inner < 0:
            return inner
        return inner // self._shards + (1 if inner % self._shards > self._index else 0)

    def _iterate(self):
        for position, flat in enumerate(self._input._iterate()):
            if position % self._shards == self._index:
                yield flat


class CacheDataset(_Unary):
    """`cache`: the first complete pass is kept (in memory, or in a file of records) and
    later passes replay it."""

    def __init__(self, dataset, filename=""):
        super().__init__(dataset)
        self._filename = os.fspath(filename) if filename else ""
        self._memory = None
        self._lock = threading.Lock()

    def _iterate(self):
        if self._memory is not None:
            return iter(self._memory)
        if self._filename:
            return self._file_iterate()
        return self._fill_memory()

    def _fill_memory(self):
        kept = []
        for flat in self._input._iterate():
            kept.append(flat)
            yield flat
        with self._lock:
            self._memory = kept

    def _file_iterate(self):
        from ndflow.data import saving  # noqa: PLC0415

        path = self._filename + ".ndflow-cache"
        if os.path.exists(path):
            yield from saving.read_elements(path, self._structure)
            return
        partial = path + f".tmp-{os.getpid()}-{id(self)}"
        with saving.ElementWriter(partial) as writer:
            for flat in self._input._iterate():
                writer.write(flat)
                yield flat
        os.replace(partial, path)


class PrefetchDataset(_Unary):
    """`prefetch`: a background thread keeps up to `buffer_size` elements ready."""

    def __init__(self, dataset, buffer_size):
        super().__init__(dataset)
        buffer_size = int(buffer_size)
        if buffer_size < AUTOTUNE:
            raise errors.InvalidArgumentError(f"Dataset.prefetch: buffer_size must be >= 0 or "
                                              f"AUTOTUNE, got {buffer_size}")
        self._buffer_size = 2 if buffer_size == AUTOTUNE else buffer_size

    def _iterate(self):
        if self._buffer_size == 0:
            return self._input._iterate()
        return _prefetched(self._input._iterate(), self._buffer_size)

    def _iterate_tolerant(self):
        return self._input._iterate_tolerant()


_END = object()


class _Failure:
    def __init__(self, error):
        self.error = error


def _produce(source, channel, stop):
    try:
        for item in source:
            while not stop.is_set():
                try:
                    channel.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        channel.put(_END)
    except BaseException as error:  # noqa: BLE001 - handed to the consumer
        channel.put(_Failure(error))


def _prefetched(source, buffer_size):
    channel = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(source, channel, stop), daemon=True,
                              name="ndflow-prefetch")
    thread.start()
    try:
        while True:
            item = channel.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()


