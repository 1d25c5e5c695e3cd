"""TensorFlow's shuffle buffer and seeds, so the same seed gives TensorFlow's element order.

From tensorflow/core/kernels/data/shuffle_dataset_op.cc: the buffer is a circular array of
`buffer_size` slots filled in input order; each output draws a 32-bit Philox word `r`, takes
the element at `(start + r % count) % buffer_size`, and moves the oldest element (at `start`)
into the freed slot. Each new iterator takes its (seed, seed2) from a Philox seed generator
keyed by the dataset's seeds when `reshuffle_each_iteration`, else uses the seeds as given.
"""

import os
import threading

import numpy as np

from ndflow.framework import random_seed
from ndflow.ops import _philox

_WORDS_PER_DRAW = 4096


class PhiloxWords:
    """TF's `SingleSampleAdapter<PhiloxRandom>(seed, seed2)`: 32-bit words one at a time."""

    def __init__(self, seed, seed2):
        self._stream = _philox.Stream.from_seeds(np, seed, seed2)
        self._block = 0
        self._words = []
        self._index = 0

    def next(self):
        if self._index == len(self._words):
            count = _WORDS_PER_DRAW // 4
            self._words = self._stream.blocks(self._block, count).reshape(-1).tolist()
            self._block += count
            self._index = 0
        word = self._words[self._index]
        self._index += 1
        return word


def dataset_seeds(seed):
    """(seed, seed2) as tf.data's `random_seed.get_seed` gives them; (0, 0) means random."""
    seed, seed2 = random_seed.get_seed(seed)
    if seed is None:
        return 0, 0
    if seed == 0 and seed2 == 0:
        return 0, 2**31 - 1
    return seed, seed2


class SeedGenerator:
    """Per-iterator seeds: fixed, or drawn from Philox(seed, seed2) each time (reshuffle)."""

    def __init__(self, seed, seed2, reshuffle):
        if seed == 0 and seed2 == 0:
            seed, seed2 = (int.from_bytes(os.urandom(8), "little") for _ in range(2))
        self._seeds = (seed, seed2)
        self._reshuffle = reshuffle
        self._words = PhiloxWords(seed, seed2) if reshuffle else None
        self._lock = threading.Lock()

    def next_seeds(self):
        if not self._reshuffle:
            return self._seeds
        with self._lock:
            return self._words.next(), self._words.next()


def shuffled(source, buffer_size, seeds):
    """Yields the items of iterator `source` in TF's shuffle order."""
    words = PhiloxWords(*seeds)
    size = buffer_size
    buffer = [None] * size
    start = end = 0
    exhausted = False
    draw = words.next
    while True:
        while not exhausted and end - start < size:
            try:
                buffer[end % size] = next(source)
            except StopIteration:
                exhausted = True
                break
            end += 1
        if start == end:
            return
        index = (start + draw() % (end - start)) % size
        element = buffer[index]
        oldest = start % size
        buffer[index] = buffer[oldest]
        buffer[oldest] = None
        start += 1
        yield element
