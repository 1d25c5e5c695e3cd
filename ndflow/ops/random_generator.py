"""`tf.random.Generator`: a random-number generator whose state lives in a variable.

The state is TF's Philox state: a 128-bit counter and a 64-bit key in an int64 `[3]` variable.
Each draw reads the key and counter, advances the counter by 256 blocks per output element (TF's
RngReadAndSkip), then runs the stateless op on that key and counter, so a generator seeded like
TF's gives TF's numbers. The ops themselves live in `random.py`.
"""

import numpy as np

from ndflow.framework import dtypes
from ndflow.framework.op_registry import execute
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import _philox
from ndflow.ops import array as array_ops


def _random_ops():
    """`ndflow.ops.random`, imported at call time (it re-exports this module's names)."""
    from ndflow.ops import random as random_ops  # noqa: PLC0415

    return random_ops


class _AlgorithmValue:
    def __init__(self, name, value):
        self.name = name
        self.value = value

    def __repr__(self):
        return f"<Algorithm.{self.name}: {self.value}>"


PHILOX_ALG = 1


class Algorithm:
    """RNG algorithms (`tf.random.Algorithm`); ndflow implements Philox."""

    PHILOX = _AlgorithmValue(name="PHILOX", value=PHILOX_ALG)
    AUTO_SELECT = _AlgorithmValue(name="AUTO_SELECT", value=3)


_STATE_SIZE = 3  # Philox: 128-bit counter (two int64) and 64-bit key (one int64)


def create_rng_state(seed, alg):
    """An RNG state (an int64 `[3]` tensor for Philox) from an integer or a 1-D array
    (`tf.random.create_rng_state`): the seed's 64-bit words, lowest first."""
    _random_ops()._check_alg(alg)
    import numpy as np  # noqa: PLC0415 - host-side state bookkeeping, not a kernel

    if isinstance(seed, int):
        words = [((seed >> (64 * i)) & (2**64 - 1)) for i in range(_STATE_SIZE)]
        words = np.array(words, dtype=np.uint64).view(np.int64)
    else:
        words = np.asarray(seed).astype(np.int64).reshape(-1)[:_STATE_SIZE]
        words = np.concatenate([np.zeros(_STATE_SIZE - words.size, np.int64), words])
    return convert_to_tensor(words, dtype=dtypes.int64)


class Generator:
    """A random-number generator with its state in a variable (`tf.random.Generator`).

    The state is a 128-bit counter and a 64-bit key; each draw reads the key and counter, then
    advances the counter by 256 blocks per output element (TF's RngReadAndSkip), and the draw
    itself is the stateless op on that key and counter, so numbers match TF's generator.
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        from ndflow.variables import Variable  # noqa: PLC0415 - variables imports ops

        if copy_from is not None:
            state = copy_from.state.numpy()
            alg = copy_from.algorithm
        self._alg = _random_ops()._check_alg(PHILOX_ALG if alg is None else alg)
        state = create_rng_state(state, self._alg) if isinstance(state, int) else state
        self._state_var = Variable(convert_to_tensor(state, dtype=dtypes.int64),
                                   trainable=False, name="StateVar")

    @classmethod
    def from_seed(cls, seed, alg=None):
        """A generator whose state is made from the integer `seed`."""
        return cls(state=create_rng_state(int(seed), alg or PHILOX_ALG), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A generator with a state from the operating system's entropy."""
        words = [_random_ops()._system_random.getrandbits(64) for _ in range(_STATE_SIZE)]
        state = sum(word << (64 * i) for i, word in enumerate(words))
        return cls(state=create_rng_state(state, alg or PHILOX_ALG), alg=alg)

    @classmethod
    def from_state(cls, state, alg):
        """A generator with the given state tensor."""
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg):
        """A generator from a key (int) and a counter (two ints)."""
        counter = np.asarray(counter, dtype=np.int64).reshape(-1)
        return cls(state=[int(counter[0]), int(counter[1]), int(key)], alg=alg)

    @property
    def state(self):
        """The state variable (int64 `[3]`)."""
        return self._state_var

    @property
    def algorithm(self):
        return self._alg

    @property
    def key(self):
        """The key part of the state."""
        return self._state_var.value()[-1]

    def reset(self, state):
        """Sets the state."""
        self._state_var.assign(convert_to_tensor(state, dtype=dtypes.int64))

    def reset_from_seed(self, seed):
        """Sets the state as `from_seed(seed)` would."""
        self.reset(create_rng_state(int(seed), self._alg))

    def reset_from_key_counter(self, key, counter):
        self.reset(Generator.from_key_counter(key, counter, self._alg).state.value())

    def skip(self, delta):
        """Advances the counter by `delta` outputs (256 blocks each); returns the old state."""
        old = self._state_var.numpy()
        words = old.view(np.uint64)
        counter = int(words[0]) | int(words[1]) << 64
        counter = (counter + _philox.RESERVED_BLOCKS_PER_OUTPUT * int(delta)) % (1 << 128)
        new = np.array([counter & (2**64 - 1), counter >> 64, int(words[2])], dtype=np.uint64)
        self._state_var.assign(convert_to_tensor(new.view(np.int64), dtype=dtypes.int64))
        return old

    def _key_counter(self, shape):
        dims = [int(d) for d in np.asarray(_random_ops()._shape_tensor(shape)).reshape(-1)]
        old = self.skip(int(np.prod(dims, dtype=np.int64)))
        words = old.view(np.uint64)
        key = convert_to_tensor(words[2:3], dtype=dtypes.uint64)
        counter = convert_to_tensor(words[0:2], dtype=dtypes.uint64)
        return key, counter

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        """Normal draws."""
        dtype = dtypes.as_dtype(dtype)
        key, counter = self._key_counter(shape)
        values = execute("StatelessRandomNormalV2", _random_ops()._shape_tensor(shape), key, counter,
                         dtype=dtype, alg=self._alg, name=name)
        return _random_ops()._scale_and_shift(values, stddev, mean, dtype)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        """Normal draws redrawn beyond two standard deviations."""
        dtype = dtypes.as_dtype(dtype)
        key, counter = self._key_counter(shape)
        values = execute("StatelessTruncatedNormalV2", _random_ops()._shape_tensor(shape), key, counter,
                         dtype=dtype, alg=self._alg, name=name)
        return _random_ops()._scale_and_shift(values, stddev, mean, dtype)

    def uniform(self, shape, minval=0, maxval=None, dtype=dtypes.float32, name=None):
        """Uniform draws on [minval, maxval); integers need both bounds or neither."""
        dtype = dtypes.as_dtype(dtype)
        if dtype.is_integer and (minval is None) != (maxval is None):
            raise ValueError(f"For integer dtype {dtype}, minval and maxval must be both "
                             f"`None` or both non-`None`; got minval={minval} and "
                             f"maxval={maxval}")
        if dtype.is_integer and minval is None:
            return self.uniform_full_int(shape, dtype, name=name)
        maxval = 1 if maxval is None else maxval
        key, counter = self._key_counter(shape)
        minval = convert_to_tensor(minval, dtype=dtype)
        maxval = convert_to_tensor(maxval, dtype=dtype)
        if dtype.is_integer:
            return execute("StatelessRandomUniformIntV2", _random_ops()._shape_tensor(shape), key, counter,
                           minval, maxval, alg=self._alg, name=name)
        values = execute("StatelessRandomUniformV2", _random_ops()._shape_tensor(shape), key, counter,
                         dtype=dtype, alg=self._alg)
        return values * (maxval - minval) + minval

    def uniform_full_int(self, shape, dtype=dtypes.uint64, name=None):
        """Integers over the whole range of `dtype`."""
        key, counter = self._key_counter(shape)
        return execute("StatelessRandomUniformFullIntV2", _random_ops()._shape_tensor(shape), key, counter,
                       dtype=dtypes.as_dtype(dtype), alg=self._alg, name=name)

    def make_seeds(self, count=1):
        """`count` seeds for stateless ops, as an int64 `[2, count]` tensor."""
        from ndflow.ops import manip as manip_ops  # noqa: PLC0415 - manip imports array only

        keys = self.uniform_full_int([count], dtypes.int64)
        return manip_ops.stack([keys, array_ops.zeros_like(keys)])

    def split(self, count=1):
        """`count` new independent generators; advances this one."""
        keys = self.uniform_full_int([count], dtypes.int64).numpy()
        return [Generator(state=[0, 0, int(key)], alg=self._alg) for key in keys]


_global_generator = None


def get_global_generator():
    """The global generator, created from non-deterministic state on first use."""
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


def set_global_generator(generator):
    """Replaces the global generator."""
    global _global_generator
    _global_generator = generator
