"""Random numbers (`tf.random`): seeded ops, stateless ops, and `tf.random.Generator`.

Normal, uniform, integer and truncated-normal draws use Philox4x32-10 exactly as TensorFlow's
CPU kernels do (`_philox.py`), so the same seeds give TF's numbers. Gamma, Poisson, binomial,
categorical and shuffle draw from a NumPy generator seeded by the Philox stream: deterministic
for given seeds, but not TF's sequences. Seed rules live in `framework/random_seed.py`.

Stateful ops carry their seed pair as attributes and keep a per-(op, seeds) stream offset, like
TF's eager kernels; stateless ops take a key and counter derived from a `[2]` seed tensor.
"""

import random as _py_random
import types

from ndflow.framework import dtypes, errors, random_seed
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.ops import _philox
from ndflow.ops import array as array_ops

FLOATS = dtypes.FLOATS
_INT_DTYPES = frozenset([dtypes.int32, dtypes.int64])
_SHAPE_DTYPES = frozenset([dtypes.int32, dtypes.int64])
_system_random = _py_random.SystemRandom()


# --- shared helpers (also used by random_generator.py) ---------------------------------------------------------------------------

def _shape_tensor(shape):
    """A shape argument as an int32 (or int64) vector tensor."""
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, Tensor):
        return shape
    return convert_to_tensor(shape, dtype_hint=dtypes.int32)


def _static_dims(op_name, spec):
    """The output dims a shape input describes (None entries unknown), or None."""
    if spec.dtype not in _SHAPE_DTYPES:
        raise errors.InvalidArgumentError(
            f"{op_name}: shape must be int32 or int64, got {spec.dtype.name}")
    if spec.rank is not None and spec.rank != 1:
        raise errors.InvalidArgumentError(
            f"{op_name}: shape must be a vector, got a tensor of shape {list(spec.shape)}")
    if spec.value is not None:
        dims = tuple(int(d) for d in spec.value.reshape(-1))
        if any(d < 0 for d in dims):
            raise errors.InvalidArgumentError(
                f"{op_name}: shape must have non-negative dimensions, got {list(dims)}")
        return dims
    if spec.shape is not None and spec.shape[0] is not None:
        return (None,) * spec.shape[0]
    return None


def _concat_shapes(first, second):
    return None if first is None or second is None else tuple(first) + tuple(second)


def _dims(xp, shape):
    dims = tuple(int(d) for d in shape.tolist())
    size = 1
    for d in dims:
        size *= d
    return dims, size


def _check_float(op_name, dtype):
    if dtype not in FLOATS:
        raise errors.InvalidArgumentError(
            f"{op_name}: dtype must be a floating point type, got {dtype.name}")


def _seeded_stream(xp, op_name, attrs_key, seed, seed2, blocks):
    """The Philox stream and start block for a stateful kernel call (TF's GuardedPhiloxRandom).

    Seeds (0, 0) mean non-deterministic: fresh seeds every call."""
    if seed == 0 and seed2 == 0:
        seed, seed2 = _system_random.getrandbits(63), _system_random.getrandbits(63)
        return _philox.Stream.from_seeds(xp, seed, seed2), 0
    start = random_seed.reserve((op_name, attrs_key, seed, seed2), blocks)
    return _philox.Stream.from_seeds(xp, seed, seed2), start


def _numpy_generator(xp, stream, start=0):
    """A NumPy-style generator seeded by four words of a Philox stream."""
    words = _philox.full_int(stream, 4, xp.uint32, start)
    return xp.random.default_rng([int(w) for w in words.tolist()])


def _seed_attrs(seed):
    seed1, seed2 = random_seed.get_seed(seed)
    if seed1 is None:
        return {"seed": 0, "seed2": 0}
    return {"seed": seed1, "seed2": seed2}


# --- stateful seeded ops ----------------------------------------------------------------------

def _float_draw_op(op_name, draw):
    """Registers a stateful op `op_name(shape; dtype, seed, seed2)` drawing with `draw`."""

    def infer(shape, *, dtype, seed, seed2):
        _check_float(op_name, dtype)
        return Spec(_static_dims(op_name, shape), dtype)

    def kernel(xp, shape, *, dtype, seed, seed2):
        dims, size = _dims(xp, shape)
        blocks = _philox.RESERVED_BLOCKS_PER_OUTPUT * size
        stream, start = _seeded_stream(xp, op_name, dtype.name, seed, seed2, blocks)
        return draw(stream, size, dtype._np, start).reshape(dims)

    primitive(op_name, same_dtype=False, stateful=True)(
        type(op_name, (), {"infer": staticmethod(infer), "kernel": staticmethod(kernel)}))


_float_draw_op("RandomStandardNormal", _philox.normal)
_float_draw_op("RandomUniform", _philox.uniform)
_float_draw_op("TruncatedNormal", _philox.truncated_normal)


def _scale_and_shift(values, scale, shift, dtype):
    scale = convert_to_tensor(scale, dtype=dtype)
    shift = convert_to_tensor(shift, dtype=dtype)
    return values * scale + shift


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Draws from a normal distribution (`tf.random.normal`).

    Args:
      shape: 1-D integer tensor or list, the output shape.
      mean: the mean (a scalar or a tensor broadcastable to `shape`).
      stddev: the standard deviation.
      dtype: a floating point dtype.
      seed: op seed; see `tf.random.set_seed`.
      name: optional op name.

    Returns:
      A tensor of `shape` and `dtype`.
    """
    dtype = dtypes.as_dtype(dtype)
    values = execute("RandomStandardNormal", _shape_tensor(shape), dtype=dtype,
                     **_seed_attrs(seed), name=name)
    return _scale_and_shift(values, stddev, mean, dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal draws, redrawn when more than 2 standard deviations from the mean
    (`tf.random.truncated_normal`)."""
    dtype = dtypes.as_dtype(dtype)
    values = execute("TruncatedNormal", _shape_tensor(shape), dtype=dtype,
                     **_seed_attrs(seed), name=name)
    return _scale_and_shift(values, stddev, mean, dtype)


@primitive("RandomUniformInt", same_dtype=False, stateful=True)
class RandomUniformInt:
    def infer(shape, minval, maxval, *, seed, seed2):
        _check_bounds("RandomUniformInt", minval, maxval)
        return Spec(_static_dims("RandomUniformInt", shape), minval.dtype)

    def kernel(xp, shape, minval, maxval, *, seed, seed2):
        dims, size = _dims(xp, shape)
        _check_range("RandomUniformInt", minval, maxval)
        blocks = _philox.RESERVED_BLOCKS_PER_OUTPUT * size
        stream, start = _seeded_stream(xp, "RandomUniformInt", minval.dtype.name, seed, seed2,
                                       blocks)
        values = _philox.uniform_int(stream, size, minval.dtype, minval, maxval, start)
        return values.reshape(dims)


def _check_bounds(op_name, minval, maxval):
    if minval.dtype not in _INT_DTYPES or maxval.dtype is not minval.dtype:
        raise errors.InvalidArgumentError(
            f"{op_name}: minval and maxval must be both int32 or both int64, got "
            f"{minval.dtype.name} and {maxval.dtype.name}")
    for what, spec in (("minval", minval), ("maxval", maxval)):
        if spec.rank not in (None, 0):
            raise errors.InvalidArgumentError(
                f"{op_name}: {what} must be a scalar, got shape {list(spec.shape)}")
    if minval.value is not None and maxval.value is not None:
        _check_range(op_name, minval.value, maxval.value)


def _check_range(op_name, minval, maxval):
    if not int(minval) < int(maxval):
        raise errors.InvalidArgumentError(
            f"{op_name}: need minval < maxval, got {int(minval)} >= {int(maxval)}")


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Draws from a uniform distribution on [minval, maxval) (`tf.random.uniform`).

    Floats default to [0, 1); integer dtypes (int32, int64) need `maxval`.

    Raises:
      ValueError: for an integer dtype without `maxval`.
    """
    dtype = dtypes.as_dtype(dtype)
    if dtype not in FLOATS and dtype not in _INT_DTYPES:
        raise ValueError(f"Invalid dtype {dtype!r}. Expected one of float16, bfloat16, "
                         f"float32, float64, int32, int64.")
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    shape = _shape_tensor(shape)
    attrs = _seed_attrs(seed)
    if dtype.is_integer:
        minval = convert_to_tensor(minval, dtype=dtype)
        maxval = convert_to_tensor(maxval, dtype=dtype)
        return execute("RandomUniformInt", shape, minval, maxval, **attrs, name=name)
    minval_is_zero = isinstance(minval, int) and minval == 0
    maxval_is_one = isinstance(maxval, int) and maxval == 1
    result = execute("RandomUniform", shape, dtype=dtype, **attrs, name=name)
    if minval_is_zero:
        return result if maxval_is_one else result * convert_to_tensor(maxval, dtype=dtype)
    minval = convert_to_tensor(minval, dtype=dtype)
    maxval = convert_to_tensor(maxval, dtype=dtype)
    return result * (maxval - minval) + minval


@primitive("RandomGamma", same_dtype=False, stateful=True)
class RandomGamma:
    def infer(shape, alpha, *, seed, seed2):
        _check_float("RandomGamma", alpha.dtype)
        return Spec(_concat_shapes(_static_dims("RandomGamma", shape), alpha.shape), alpha.dtype)

    def kernel(xp, shape, alpha, *, seed, seed2):
        dims, size = _dims(xp, shape)
        blocks = _philox.RESERVED_BLOCKS_PER_OUTPUT * size * max(alpha.size, 1)
        stream, start = _seeded_stream(xp, "RandomGamma", alpha.dtype.name, seed, seed2, blocks)
        return _gamma_draw(xp, _numpy_generator(xp, stream, start), dims, alpha)


def _gamma_draw(xp, generator, dims, alpha):
    tiny = xp.finfo(alpha.dtype).tiny
    shape = dims + alpha.shape
    draws = generator.standard_gamma(xp.broadcast_to(alpha.astype(xp.float64), shape))
    return xp.maximum(draws, tiny).astype(alpha.dtype)


def _broadcast_alpha_beta(alpha, beta, dtype):
    alpha = convert_to_tensor(alpha, dtype=dtype)
    if beta is None:
        return alpha, None
    beta = convert_to_tensor(beta, dtype=dtype)
    alpha = alpha + array_ops.zeros_like(beta)
    return alpha, beta


def gamma(shape, alpha, beta=None, dtype=dtypes.float32, seed=None, name=None):
    """Draws `shape` samples from each Gamma(alpha, beta) (`tf.random.gamma`).

    The output shape is `shape + broadcast(alpha, beta).shape`; `beta` is the rate (inverse
    scale). Not differentiable in ndflow (TF differentiates with respect to alpha).
    """
    dtype = dtypes.as_dtype(dtype)
    alpha, beta = _broadcast_alpha_beta(alpha, beta, dtype)
    draws = execute("RandomGamma", _shape_tensor(shape), alpha, **_seed_attrs(seed), name=name)
    return draws if beta is None else draws / beta


@primitive("RandomPoissonV2", same_dtype=False, stateful=True)
class RandomPoissonV2:
    def infer(shape, rate, *, dtype, seed, seed2):
        if rate.dtype not in FLOATS | _INT_DTYPES:
            raise errors.InvalidArgumentError(
                f"RandomPoissonV2: rate must be a float or int32/int64 tensor, got "
                f"{rate.dtype.name}")
        dims = _static_dims("RandomPoissonV2", shape)
        return Spec(_concat_shapes(dims, rate.shape), dtype)

    def kernel(xp, shape, rate, *, dtype, seed, seed2):
        dims, size = _dims(xp, shape)
        blocks = _philox.RESERVED_BLOCKS_PER_OUTPUT * size * max(rate.size, 1)
        stream, start = _seeded_stream(xp, "RandomPoissonV2", dtype.name, seed, seed2, blocks)
        generator = _numpy_generator(xp, stream, start)
        return _poisson_draw(xp, generator, dims, rate, dtype)


def _poisson_draw(xp, generator, dims, rate, dtype):
    shape = dims + rate.shape
    return generator.poisson(xp.broadcast_to(rate.astype(xp.float64), shape)).astype(dtype._np)


def poisson(shape, lam, dtype=dtypes.float32, seed=None, name=None):
    """Draws `shape` samples from each Poisson(lam) (`tf.random.poisson`); the output shape is
    `shape + lam.shape`."""
    dtype = dtypes.as_dtype(dtype)
    lam = convert_to_tensor(lam, dtype_hint=dtypes.float32)
    return execute("RandomPoissonV2", _shape_tensor(shape), lam, dtype=dtype,
                   **_seed_attrs(seed), name=name)


@primitive("Multinomial", same_dtype=False, stateful=True, input_dtypes={1: dtypes.int32})
class Multinomial:
    def infer(logits, num_samples, *, output_dtype, seed, seed2):
        return _multinomial_infer("Multinomial", logits, num_samples, output_dtype)

    def kernel(xp, logits, num_samples, *, output_dtype, seed, seed2):
        count = int(num_samples)
        blocks = _philox.RESERVED_BLOCKS_PER_OUTPUT * logits.shape[0] * count
        stream, start = _seeded_stream(xp, "Multinomial", output_dtype.name, seed, seed2, blocks)
        generator = _numpy_generator(xp, stream, start)
        return _categorical_draw(xp, generator, logits, count, output_dtype)


def _multinomial_infer(op_name, logits, num_samples, output_dtype):
    if logits.dtype not in dtypes.REAL:
        raise errors.InvalidArgumentError(
            f"{op_name}: logits must be a real tensor, got {logits.dtype.name}")
    if logits.rank not in (None, 2):
        raise errors.InvalidArgumentError(
            f"{op_name}: logits must be 2-D [batch_size, num_classes], got shape "
            f"{list(logits.shape)}")
    if output_dtype not in _INT_DTYPES:
        raise errors.InvalidArgumentError(
            f"{op_name}: output dtype must be int32 or int64, got {output_dtype.name}")
    count = None if num_samples.value is None else int(num_samples.value)
    if count is not None and count < 0:
        raise errors.InvalidArgumentError(
            f"{op_name}: num_samples must be non-negative, got {count}")
    batch = None if logits.shape is None else logits.shape[0]
    return Spec((batch, count), output_dtype)


def _categorical_draw(xp, generator, logits, count, output_dtype):
    """Inverse-CDF sampling of each row, all rows in one searchsorted (rows offset by 2)."""
    batch, classes = logits.shape
    if batch == 0 or count == 0:
        return xp.zeros((batch, count), output_dtype._np)
    logits = logits.astype(xp.float64)
    with xp.errstate(invalid="ignore", over="ignore"):
        weights = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
    weights = xp.where(xp.isfinite(weights), weights, 0.0)
    cdf = xp.cumsum(weights, axis=1)
    cdf = cdf / xp.maximum(cdf[:, -1:], 1e-300)
    rows = 2.0 * xp.arange(batch)[:, None]
    draws = generator.random((batch, count))
    flat = xp.searchsorted((cdf + rows).reshape(-1), (draws + rows).reshape(-1), side="right")
    indices = flat.reshape(batch, count) - classes * xp.arange(batch)[:, None]
    return xp.minimum(indices, classes - 1).astype(output_dtype._np)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Draws class indices from the categorical distributions given by each row of `logits`
    (`tf.random.categorical`): `[batch_size, num_samples]`, int64 by default."""
    dtype = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    return execute("Multinomial", logits, num_samples, output_dtype=dtype,
                   **_seed_attrs(seed), name=name)


@primitive("RandomShuffle", same_dtype=False, stateful=True)
class RandomShuffle:
    def infer(value, *, seed, seed2):
        return Spec(value.shape, value.dtype)

    def kernel(xp, value, *, seed, seed2):
        if value.ndim == 0:
            return value
        blocks = _philox.RESERVED_BLOCKS_PER_OUTPUT * value.shape[0]
        stream, start = _seeded_stream(xp, "RandomShuffle", str(value.dtype), seed, seed2, blocks)
        return value[_numpy_generator(xp, stream, start).permutation(value.shape[0])]


def shuffle(value, seed=None, name=None):
    """Randomly shuffles a tensor along its first dimension (`tf.random.shuffle`)."""
    return execute("RandomShuffle", value, **_seed_attrs(seed), name=name)


def set_seed(seed):
    """Sets the global random seed (`tf.random.set_seed`).

    With a global seed and no op seed, each op draws its op seed from a sequence the global
    seed determines, so a program repeats its numbers in a fresh process; calling `set_seed`
    again restarts that sequence. With an op seed only, the default global seed is used.
    """
    random_seed.set_seed(seed)


# --- stateless ops: TF's v2 ops on a (key, counter) pair derived from a [2] seed ---------------

_PHILOX_ALG = 1
_AUTO_SELECT_ALG = 3  # TF picks Philox on CPU
_SCRAMBLE_KEY = (0x3EC8F720, 0x02461E29)


def _seed_words(xp, seed):
    first, second = (int(s) & (2**64 - 1) for s in seed.astype(xp.int64).tolist())
    return first, second


@primitive("StatelessRandomGetKeyCounter", same_dtype=False, num_outputs=2)
class StatelessRandomGetKeyCounter:
    def infer(seed):
        _check_seed("StatelessRandomGetKeyCounter", seed)
        return Spec((1,), dtypes.uint64), Spec((2,), dtypes.uint64)

    def kernel(xp, seed):
        # TF scrambles the seed with one Philox round under a fixed key, so that either half of
        # the seed may be weak.
        first, second = _seed_words(xp, seed)
        words = _philox.split_words(first | second << 64, 4)
        mixed = _philox.philox(xp, xp.asarray([words], dtype=xp.uint32), _SCRAMBLE_KEY)[0]
        mixed = [int(w) for w in mixed.tolist()]
        key = xp.asarray([mixed[0] | mixed[1] << 32], dtype=xp.uint64)
        counter = xp.asarray([0, mixed[2] | mixed[3] << 32], dtype=xp.uint64)
        return key, counter


def _check_seed(op_name, seed):
    if seed.dtype not in _INT_DTYPES:
        raise errors.InvalidArgumentError(
            f"{op_name}: seed must be int32 or int64, got {seed.dtype.name}")
    if seed.shape is not None and (len(seed.shape) != 1 or seed.shape[0] not in (None, 2)):
        raise errors.InvalidArgumentError(
            f"{op_name}: seed must have shape [2], got {list(seed.shape)}")


def _key_counter_stream(xp, key, counter):
    low, high = (int(c) for c in counter.tolist())
    return _philox.Stream(xp, int(key.tolist()[0]), low | high << 64)


def _check_key_counter(op_name, key, counter):
    if key.dtype is not dtypes.uint64 or counter.dtype is not dtypes.uint64:
        raise errors.InvalidArgumentError(
            f"{op_name}: key and counter must be uint64, got {key.dtype.name} and "
            f"{counter.dtype.name}")


def _stateless_float_op(op_name, draw):
    """Registers `op_name(shape, key, counter; dtype, alg)` drawing with `draw`."""

    def infer(shape, key, counter, *, dtype, alg):
        _check_float(op_name, dtype)
        _check_key_counter(op_name, key, counter)
        return Spec(_static_dims(op_name, shape), dtype)

    def kernel(xp, shape, key, counter, *, dtype, alg):
        dims, size = _dims(xp, shape)
        return draw(_key_counter_stream(xp, key, counter), size, dtype._np).reshape(dims)

    primitive(op_name, same_dtype=False)(
        type(op_name, (), {"infer": staticmethod(infer), "kernel": staticmethod(kernel)}))


_stateless_float_op("StatelessRandomNormalV2", _philox.normal)
_stateless_float_op("StatelessRandomUniformV2", _philox.uniform)
_stateless_float_op("StatelessTruncatedNormalV2", _philox.truncated_normal)


@primitive("StatelessRandomUniformIntV2", same_dtype=False)
class StatelessRandomUniformIntV2:
    def infer(shape, key, counter, minval, maxval, *, alg):
        _check_key_counter("StatelessRandomUniformIntV2", key, counter)
        _check_bounds("StatelessRandomUniformIntV2", minval, maxval)
        return Spec(_static_dims("StatelessRandomUniformIntV2", shape), minval.dtype)

    def kernel(xp, shape, key, counter, minval, maxval, *, alg):
        dims, size = _dims(xp, shape)
        _check_range("StatelessRandomUniformIntV2", minval, maxval)
        stream = _key_counter_stream(xp, key, counter)
        return _philox.uniform_int(stream, size, minval.dtype, minval, maxval).reshape(dims)


_FULL_INT_DTYPES = frozenset([dtypes.int32, dtypes.int64, dtypes.uint32, dtypes.uint64])


@primitive("StatelessRandomUniformFullIntV2", same_dtype=False)
class StatelessRandomUniformFullIntV2:
    def infer(shape, key, counter, *, dtype, alg):
        _check_key_counter("StatelessRandomUniformFullIntV2", key, counter)
        if dtype not in _FULL_INT_DTYPES:
            raise errors.InvalidArgumentError(
                f"StatelessRandomUniformFullIntV2: dtype must be int32, int64, uint32 or "
                f"uint64, got {dtype.name}")
        return Spec(_static_dims("StatelessRandomUniformFullIntV2", shape), dtype)

    def kernel(xp, shape, key, counter, *, dtype, alg):
        dims, size = _dims(xp, shape)
        stream = _key_counter_stream(xp, key, counter)
        return _philox.full_int(stream, size, dtype._np).reshape(dims)


def _seed_stream(xp, seed):
    """The stream of `StatelessRandomGetKeyCounter(seed)`, for the NumPy-backed stateless ops."""
    key, counter = StatelessRandomGetKeyCounter.kernel(xp, seed)
    return _key_counter_stream(xp, key, counter)


@primitive("StatelessMultinomial", same_dtype=False, input_dtypes={1: dtypes.int32})
class StatelessMultinomial:
    def infer(logits, num_samples, seed, *, output_dtype):
        _check_seed("StatelessMultinomial", seed)
        return _multinomial_infer("StatelessMultinomial", logits, num_samples, output_dtype)

    def kernel(xp, logits, num_samples, seed, *, output_dtype):
        generator = _numpy_generator(xp, _seed_stream(xp, seed))
        return _categorical_draw(xp, generator, logits, int(num_samples), output_dtype)


@primitive("StatelessRandomGammaV2", same_dtype=False)
class StatelessRandomGammaV2:
    def infer(shape, seed, alpha):
        _check_seed("StatelessRandomGammaV2", seed)
        _check_float("StatelessRandomGammaV2", alpha.dtype)
        return Spec(_static_dims("StatelessRandomGammaV2", shape), alpha.dtype)

    def kernel(xp, shape, seed, alpha):
        dims, _ = _dims(xp, shape)
        generator = _numpy_generator(xp, _seed_stream(xp, seed))
        batch = dims[:len(dims) - alpha.ndim]
        return _gamma_draw(xp, generator, batch, xp.broadcast_to(alpha, dims[len(batch):]))


@primitive("StatelessRandomPoisson", same_dtype=False)
class StatelessRandomPoisson:
    def infer(shape, seed, lam, *, dtype):
        _check_seed("StatelessRandomPoisson", seed)
        return Spec(_static_dims("StatelessRandomPoisson", shape), dtype)

    def kernel(xp, shape, seed, lam, *, dtype):
        dims, _ = _dims(xp, shape)
        generator = _numpy_generator(xp, _seed_stream(xp, seed))
        return _poisson_draw(xp, generator, (), xp.broadcast_to(lam, dims), dtype)


@primitive("StatelessRandomBinomial", same_dtype=False)
class StatelessRandomBinomial:
    def infer(shape, seed, counts, probs, *, dtype):
        _check_seed("StatelessRandomBinomial", seed)
        if counts.dtype is not probs.dtype or counts.dtype not in FLOATS | _INT_DTYPES:
            raise errors.InvalidArgumentError(
                f"StatelessRandomBinomial: counts and probs must share a float or int dtype, "
                f"got {counts.dtype.name} and {probs.dtype.name}")
        return Spec(_static_dims("StatelessRandomBinomial", shape), dtype)

    def kernel(xp, shape, seed, counts, probs, *, dtype):
        dims, _ = _dims(xp, shape)
        generator = _numpy_generator(xp, _seed_stream(xp, seed))
        counts = xp.broadcast_to(counts, dims).astype(xp.int64)
        probs = xp.clip(xp.broadcast_to(probs, dims).astype(xp.float64), 0.0, 1.0)
        return generator.binomial(counts, probs).astype(dtype._np)


def _key_counter(seed):
    seed = convert_to_tensor(seed, dtype_hint=dtypes.int32)
    return execute("StatelessRandomGetKeyCounter", seed)


def _check_alg(alg):
    value = getattr(alg, "value", alg)
    value = value.lower() if isinstance(value, str) else value
    if value not in ("auto_select", "philox", _PHILOX_ALG, _AUTO_SELECT_ALG):
        raise ValueError(f"Unsupported RNG algorithm {alg!r}; ndflow implements Philox "
                         f"('philox' or 'auto_select')")
    return _PHILOX_ALG


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                     alg="auto_select"):
    """Normal draws determined by `seed`, a `[2]` int tensor (`tf.random.stateless_normal`).

    Gives TensorFlow's numbers for the same seed (Philox, as TF's CPU kernels).
    """
    dtype = dtypes.as_dtype(dtype)
    key, counter = _key_counter(seed)
    values = execute("StatelessRandomNormalV2", _shape_tensor(shape), key, counter, dtype=dtype,
                     alg=_check_alg(alg), name=name)
    return _scale_and_shift(values, stddev, mean, dtype)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                               name=None, alg="auto_select"):
    """Truncated normal draws determined by `seed` (`tf.random.stateless_truncated_normal`)."""
    dtype = dtypes.as_dtype(dtype)
    key, counter = _key_counter(seed)
    values = execute("StatelessTruncatedNormalV2", _shape_tensor(shape), key, counter,
                     dtype=dtype, alg=_check_alg(alg), name=name)
    return _scale_and_shift(values, stddev, mean, dtype)


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None,
                      alg="auto_select"):
    """Uniform draws on [minval, maxval) determined by `seed` (`tf.random.stateless_uniform`).

    For integer dtypes pass both bounds, or both as None for the full range of the dtype.

    Raises:
      ValueError: for an integer dtype with only one bound given.
    """
    dtype = dtypes.as_dtype(dtype)
    alg = _check_alg(alg)
    if dtype.is_integer and (minval is None) != (maxval is None):
        raise ValueError(f"For integer dtype {dtype!r}, minval and maxval must be both `None` "
                         f"or both non-`None`; got minval={minval} and maxval={maxval}")
    if maxval is None and not dtype.is_integer:
        maxval = 1
    shape = _shape_tensor(shape)
    key, counter = _key_counter(seed)
    if dtype.is_integer and minval is None:
        return execute("StatelessRandomUniformFullIntV2", shape, key, counter, dtype=dtype,
                       alg=alg, name=name)
    minval = convert_to_tensor(minval, dtype=dtype)
    maxval = convert_to_tensor(maxval, dtype=dtype)
    if dtype.is_integer:
        return execute("StatelessRandomUniformIntV2", shape, key, counter, minval, maxval,
                       alg=alg, name=name)
    values = execute("StatelessRandomUniformV2", shape, key, counter, dtype=dtype, alg=alg)
    return values * (maxval - minval) + minval


def stateless_categorical(logits, num_samples, seed, dtype=dtypes.int64, name=None):
    """Categorical draws determined by `seed` (`tf.random.stateless_categorical`)."""
    seed = convert_to_tensor(seed, dtype_hint=dtypes.int32)
    return execute("StatelessMultinomial", logits, num_samples, seed,
                   output_dtype=dtypes.as_dtype(dtype), name=name)


def stateless_gamma(shape, seed, alpha, beta=None, dtype=dtypes.float32, name=None):
    """Gamma draws determined by `seed` (`tf.random.stateless_gamma`); `shape` must end with
    the broadcast shape of alpha and beta."""
    dtype = dtypes.as_dtype(dtype)
    alpha, beta = _broadcast_alpha_beta(alpha, beta, dtype)
    seed = convert_to_tensor(seed, dtype_hint=dtypes.int32)
    draws = execute("StatelessRandomGammaV2", _shape_tensor(shape), seed, alpha, name=name)
    return draws if beta is None else draws / beta


def stateless_poisson(shape, seed, lam, dtype=dtypes.int32, name=None):
    """Poisson draws determined by `seed` (`tf.random.stateless_poisson`)."""
    lam = convert_to_tensor(lam, dtype_hint=dtypes.float32)
    seed = convert_to_tensor(seed, dtype_hint=dtypes.int32)
    return execute("StatelessRandomPoisson", _shape_tensor(shape), seed, lam,
                   dtype=dtypes.as_dtype(dtype), name=name)


def stateless_binomial(shape, seed, counts, probs, output_dtype=dtypes.int32, name=None):
    """Binomial draws determined by `seed` (`tf.random.stateless_binomial`)."""
    probs = convert_to_tensor(probs, dtype_hint=dtypes.float32)
    counts = convert_to_tensor(counts, dtype=probs.dtype)
    seed = convert_to_tensor(seed, dtype_hint=dtypes.int32)
    return execute("StatelessRandomBinomial", _shape_tensor(shape), seed, counts, probs,
                   dtype=dtypes.as_dtype(output_dtype), name=name)


def split(seed, num=2, alg="auto_select"):
    """Splits a `[2]` seed into `num` new seeds, shape `[num, 2]` (`tf.random.split`)."""
    seed = convert_to_tensor(seed, dtype_hint=dtypes.int32)
    return stateless_uniform([num, 2], seed, minval=None, maxval=None, dtype=seed.dtype,
                             alg=alg)


def fold_in(seed, data, alg="auto_select"):
    """Folds the integer `data` into a `[2]` seed, giving a new seed (`tf.random.fold_in`)."""
    from ndflow.ops import manip as manip_ops  # noqa: PLC0415 - manip imports array only

    data = convert_to_tensor(data, dtype_hint=dtypes.int32)
    first = stateless_uniform([], seed, minval=None, maxval=None, dtype=data.dtype, alg=alg)
    return manip_ops.stack([first, data])


from ndflow.ops.random_generator import (  # noqa: E402 - needs this module's ops at call time
    Algorithm,
    Generator,
    create_rng_state,
    get_global_generator,
    set_global_generator,
)

experimental = types.SimpleNamespace(
    Algorithm=Algorithm, Generator=Generator, create_rng_state=create_rng_state,
    get_global_generator=get_global_generator, set_global_generator=set_global_generator,
    stateless_split=split, stateless_fold_in=fold_in,
)

API = {
    "random": [
        "set_seed", "normal", "uniform", "truncated_normal", "gamma", "poisson", "categorical",
        "shuffle", "stateless_normal", "stateless_uniform", "stateless_truncated_normal",
        "stateless_categorical", "stateless_binomial", "stateless_gamma", "stateless_poisson",
        "split", "fold_in", "Generator", "Algorithm", "create_rng_state", "get_global_generator",
        "set_global_generator", "experimental",
    ],
}
