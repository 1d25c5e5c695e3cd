"""Philox4x32-10 and TensorFlow's distributions over it, vectorised over `xp` arrays.

TensorFlow's CPU random ops draw 128-bit blocks from Philox4x32-10 (Salmon et al., SC 2011)
keyed by a 64-bit key and a 128-bit counter, and turn the 32-bit words into numbers with fixed
bit tricks (a float32 in [0, 1) is 23 random mantissa bits below exponent 0, minus 1). Doing the
same here gives TF's numbers for the same key and counter, to the last bit for uniform and
integer draws and to about one ulp (the libm's sin/cos/log) for normal draws.

A `Stream` is one key and counter; every distribution reads words from the block `start`
onwards. Everything is uint64 arithmetic on arrays, so the kernels run on NumPy and CuPy alike.
"""

from ndflow.ops import compiled

_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)
# TF reserves this many 128-bit blocks per output element for ops whose samples per output
# vary (truncated normal); it also advances stateful kernels by it per output element.
RESERVED_BLOCKS_PER_OUTPUT = 256


def split_words(value, count):
    """A non-negative Python int as `count` little-endian 32-bit words."""
    return tuple((value >> (32 * i)) & _MASK32 for i in range(count))


_SMALL = 16  # blocks: below this, Python ints beat ~100 tiny array operations


def philox(xp, counters, key):
    """Philox4x32-10 of `counters` ((n, 4) uint32) under `key` (two Python ints)."""
    if counters.shape[0] <= _SMALL:
        return xp.asarray([_philox_block(block, key) for block in counters.tolist()],
                          dtype=xp.uint32).reshape(-1, 4)
    compiled_kernels = compiled.kernels(xp)
    if compiled_kernels is not None:  # one loop instead of ~100 array operations
        out = xp.empty(counters.shape, dtype=xp.uint32)
        compiled_kernels.philox(xp.ascontiguousarray(counters, dtype=xp.uint32),
                                xp.uint64(key[0]), xp.uint64(key[1]), out)
        return out
    mul_a = xp.uint64(_PHILOX_M[0])
    mul_b = xp.uint64(_PHILOX_M[1])
    shift = xp.uint64(32)
    low = xp.uint64(_MASK32)
    c0, c1, c2, c3 = (counters[:, i].astype(xp.uint64) for i in range(4))
    k0, k1 = key
    for _ in range(10):
        product_a = mul_a * c0
        product_b = mul_b * c2
        c0, c1, c2, c3 = ((product_b >> shift) ^ c1 ^ xp.uint64(k0), product_b & low,
                          (product_a >> shift) ^ c3 ^ xp.uint64(k1), product_a & low)
        k0 = (k0 + _PHILOX_W[0]) & _MASK32
        k1 = (k1 + _PHILOX_W[1]) & _MASK32
    return xp.stack([c0, c1, c2, c3], axis=1).astype(xp.uint32)


def _philox_block(block, key):
    """One block of Philox4x32-10 with Python ints (the same rounds as the array version)."""
    c0, c1, c2, c3 = block
    k0, k1 = key
    for _ in range(10):
        product_a = _PHILOX_M[0] * c0
        product_b = _PHILOX_M[1] * c2
        c0, c1, c2, c3 = ((product_b >> 32) ^ c1 ^ k0, product_b & _MASK32,
                          (product_a >> 32) ^ c3 ^ k1, product_a & _MASK32)
        k0 = (k0 + _PHILOX_W[0]) & _MASK32
        k1 = (k1 + _PHILOX_W[1]) & _MASK32
    return c0, c1, c2, c3


class Stream:
    """The words of Philox under one 64-bit key from one 128-bit counter."""

    def __init__(self, xp, key, counter):
        self.xp = xp
        self.key = split_words(key & _MASK64, 2)
        self.counter = counter & ((1 << 128) - 1)

    @classmethod
    def from_seeds(cls, xp, seed, seed2):
        """TF's stateful kernels: PhiloxRandom(seed_lo=seed, seed_hi=seed2)."""
        return cls(xp, seed & _MASK64, (seed2 & _MASK64) << 64)

    def blocks(self, start, count):
        """`count` blocks ((count, 4) uint32) from block `start` (a Python int)."""
        xp = self.xp
        compiled_kernels = compiled.kernels(xp) if count > _SMALL else None
        if compiled_kernels is not None:  # counters made in the loop, not by ~10 array ops
            first = (self.counter + start) & ((1 << 128) - 1)
            out = xp.empty((count, 4), dtype=xp.uint32)
            compiled_kernels.philox_run(xp.uint64(first & _MASK64), xp.uint64(first >> 64),
                                        xp.uint64(self.key[0]), xp.uint64(self.key[1]), out)
            return out
        return self.blocks_at(start, xp.arange(count, dtype=xp.uint64))

    def blocks_at(self, start, index):
        """Blocks at offsets `index` (a uint64 array) from block `start`, in one Philox call."""
        xp = self.xp
        first = (self.counter + start) & ((1 << 128) - 1)
        low = xp.uint64(first & _MASK64) + index
        carry = (low < xp.uint64(first & _MASK64)).astype(xp.uint64)
        high = xp.uint64(first >> 64) + carry
        words = xp.stack([low & xp.uint64(_MASK32), low >> xp.uint64(32),
                          high & xp.uint64(_MASK32), high >> xp.uint64(32)], axis=1)
        return philox(xp, words.astype(xp.uint32), self.key)

    def words(self, count, start=0):
        """The first `count` 32-bit words from block `start`, flat."""
        return self.blocks(start, -(-count // 4)).reshape(-1)[:count]


# --- bits to numbers (random_distributions.h) ------------------------------------------------

def _float32_unit(xp, bits):
    """[0, 1) from the low 23 bits: exponent 0 with random mantissa, minus one."""
    mantissa = (bits & xp.uint32(0x7FFFFF)) | xp.uint32(127 << 23)
    return mantissa.view(xp.float32) - xp.float32(1)


def _float64_unit(xp, high, low):
    bits = ((high & xp.uint32(0xFFFFF)).astype(xp.uint64) << xp.uint64(32)) | low
    return (bits | xp.uint64(1023 << 52)).view(xp.float64) - 1.0


def _float16_unit(xp, bits):
    half = (bits.astype(xp.uint16) & xp.uint16(0x3FF)) | xp.uint16(15 << 10)
    return half.view(xp.float16) - xp.float16(1)


def _bfloat16_unit(xp, bits, dtype):
    raw = (bits.astype(xp.uint16) & xp.uint16(0x7F)) | xp.uint16(127 << 7)
    return raw.view(dtype) - dtype.type(1)


def _box_muller32(xp, x0, x1):
    u1 = xp.maximum(_float32_unit(xp, x0), xp.float32(1e-7))
    # TF computes 2 * M_PI * u in double, then stores it in a float.
    angle = (6.283185307179586 * _float32_unit(xp, x1).astype(xp.float64)).astype(xp.float32)
    radius = xp.sqrt(xp.float32(-2) * xp.log(u1))
    return xp.sin(angle) * radius, xp.cos(angle) * radius


def _box_muller64(xp, x0, x1, x2, x3):
    u1 = xp.maximum(_float64_unit(xp, x0, x1), 1e-7)
    angle = 6.283185307179586 * _float64_unit(xp, x2, x3)
    radius = xp.sqrt(-2.0 * xp.log(u1))
    return xp.sin(angle) * radius, xp.cos(angle) * radius


def _interleave(xp, first, second):
    return xp.stack([first, second], axis=-1).reshape(first.shape[:-1] + (-1,))


def uniform(stream, size, np_dtype, start=0):
    """`size` floats in [0, 1) of `np_dtype` (TF's UniformDistribution)."""
    xp = stream.xp
    if np_dtype == xp.float64:
        words = stream.words(2 * size, start)
        return _float64_unit(xp, words[0::2], words[1::2])
    words = stream.words(size, start)
    if np_dtype == xp.float32:
        return _float32_unit(xp, words)
    if np_dtype == xp.float16:
        return _float16_unit(xp, words)
    return _bfloat16_unit(xp, words, np_dtype)


def normal(stream, size, np_dtype, start=0):
    """`size` standard normal draws (TF's NormalDistribution: Box-Muller on word pairs)."""
    xp = stream.xp
    if np_dtype == xp.float64:
        words = stream.words(4 * (-(-size // 2)), start).reshape(-1, 4)
        pair = _box_muller64(xp, words[:, 0], words[:, 1], words[:, 2], words[:, 3])
    else:
        words = stream.words(2 * (-(-size // 2)), start)
        pair = _box_muller32(xp, words[0::2], words[1::2])
    values = xp.stack(pair, axis=1).reshape(-1)[:size]
    return values.astype(np_dtype)


def truncated_normal(stream, size, np_dtype, start=0):
    """Standard normal draws redrawn beyond 2 (TF's TruncatedNormalDistribution).

    TF fills groups of outputs (4 for floats, 2 for doubles), each from its own generator
    skipped by 256 blocks per output, taking the first accepted Box-Muller values in order.
    """
    xp = stream.xp
    double = np_dtype == xp.float64
    group = 2 if double else 4
    groups = -(-size // group)
    skip = group * RESERVED_BLOCKS_PER_OUTPUT // 4
    blocks_per_group = 2
    while True:
        offsets = xp.arange(groups, dtype=xp.uint64)[:, None] * xp.uint64(skip)
        index = (offsets + xp.arange(blocks_per_group, dtype=xp.uint64)[None, :]).reshape(-1)
        words = stream.blocks_at(start, index).reshape(groups, -1, 4)
        if double:
            first, second = _box_muller64(xp, words[..., 0], words[..., 1], words[..., 2],
                                          words[..., 3])
        else:
            pairs = words.reshape(groups, -1, 2)
            first, second = _box_muller32(xp, pairs[..., 0], pairs[..., 1])
        candidates = _interleave(xp, first, second)
        accepted = xp.abs(candidates) < 2.0
        rank = xp.cumsum(accepted, axis=1)
        if groups == 0 or bool(xp.all(rank[:, -1] >= group)):
            break
        blocks_per_group *= 2
    take = accepted & (rank <= group)
    values = candidates[take].reshape(groups, group).reshape(-1)[:size]
    return values.astype(np_dtype)


def uniform_int(stream, size, np_dtype, low, high, start=0):
    """Integers in [low, high): low + bits % (high - low), as TF (slightly biased likewise)."""
    xp = stream.xp
    if xp.dtype(np_dtype).itemsize == 8:
        span = xp.uint64((int(high) - int(low)) & _MASK64)
        offset = full_int(stream, size, xp.uint64, start) % span
        return (offset + xp.uint64(int(low) & _MASK64)).view(xp.int64).astype(np_dtype)
    span = xp.uint32((int(high) - int(low)) & _MASK32)
    offset = full_int(stream, size, xp.uint32, start) % span
    return (offset.astype(xp.int64) + int(low)).astype(np_dtype)


def full_int(stream, size, np_dtype, start=0):
    """Integers over the whole range of `np_dtype` (TF's UniformFullIntDistribution)."""
    xp = stream.xp
    if xp.dtype(np_dtype).itemsize == 8:
        words = stream.words(2 * size, start).astype(xp.uint64)
        return (words[0::2] | (words[1::2] << xp.uint64(32))).view(np_dtype)
    return stream.words(size, start).view(np_dtype)
