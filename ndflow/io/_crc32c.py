"""CRC-32C (Castagnoli), the checksum of TFRecord framing, with TF's mask.

The `google-crc32c` package (the `data` extra) computes it in C. Without it, a NumPy version
uses CRC linearity: with a zero initial state the checksum is the XOR of one table entry per
byte, chosen by the byte's distance from the end of the message. Bytes are grouped in blocks
of 256 (one (256, 256) table), and each block's result is moved to its place by a second table
indexed by block distance, so a record costs a handful of array operations, not a byte loop.
"""

import numpy as np

_POLY = 0x82F63B78
_BLOCK = 256
_MASK_DELTA = 0xA282EAD8

try:  # optional fast path: the `data` extra
    import google_crc32c as _google  # noqa: PLC0415
except ImportError:  # pragma: no cover - depends on the environment
    _google = None


def _byte_table():
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1)
    return table.astype(np.uint32)


_TABLE = _byte_table()


def _distance_tables(count):
    """tables[d, b]: raw CRC of byte b followed by d zero bytes."""
    tables = np.empty((count, 256), dtype=np.uint32)
    tables[0] = _TABLE
    for distance in range(1, count):
        previous = tables[distance - 1]
        tables[distance] = _TABLE[previous & 0xFF] ^ (previous >> 8)
    return tables


_tables = {}
_initial = {}


def _level_tables():
    if not _tables:
        near = _distance_tables(_BLOCK)
        _tables["near"] = near
        _tables["far"] = [near[_BLOCK - 1:_BLOCK - 5:-1]]
    return _tables["near"]


def _far_table(blocks):
    """far[k, r, b]: raw CRC of byte b at distance k * 256 + 255 - r from the end (byte r of
    a block result that must move k + 1 blocks)."""
    stacked = _tables.get("stacked")
    if stacked is not None and len(stacked) >= blocks:
        return stacked
    far = _tables["far"]
    first = far[0]
    target = max(blocks, 2 * len(far))
    while len(far) < target:
        # Moving a state 256 bytes further is the block move itself: one lookup per byte.
        previous = far[-1]
        shifted = first[0][previous & 0xFF]
        for r in range(1, 4):
            shifted = shifted ^ first[r][(previous >> (8 * r)) & 0xFF]
        far.append(shifted)
    _tables["stacked"] = np.stack(far)
    return _tables["stacked"]


def _raw(data):
    """Raw CRC (zero initial state, no final XOR) of a uint8 array, vectorised."""
    near = _level_tables()
    size = data.size
    blocks = -(-size // _BLOCK)
    padded = np.zeros(blocks * _BLOCK, dtype=np.uint8)  # leading zeros add nothing
    padded[padded.size - size:] = data
    rows = padded.reshape(blocks, _BLOCK)
    distance = np.arange(_BLOCK - 1, -1, -1)
    per_block = np.bitwise_xor.reduce(near[distance, rows], axis=1)
    if blocks == 1:
        return int(per_block[0])
    far = _far_table(blocks - 1)[:blocks - 1]
    pieces = np.ascontiguousarray(per_block[-2::-1]).view(np.uint8).reshape(blocks - 1, 4)
    contributions = far[np.arange(blocks - 1)[:, None], np.arange(4)[None, :], pieces]
    return int(per_block[-1]) ^ int(np.bitwise_xor.reduce(contributions, axis=None))


def _python_crc(data, crc=0xFFFFFFFF):
    table = _TABLE
    for byte in data:
        crc = int(table[(crc ^ byte) & 0xFF]) ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def value(data):
    """CRC-32C of `data` (bytes-like)."""
    if _google is not None:
        return _google.value(bytes(data))
    if len(data) < 64:
        return _python_crc(bytes(data))
    array = np.frombuffer(data, dtype=np.uint8)
    # The initial state 0xFFFFFFFF acts like 0xFF in the first four bytes (raw linearity).
    start = _initial.get(array.size)
    if start is None:
        ones = np.zeros(array.size, dtype=np.uint8)
        ones[:4] = 0xFF
        start = _raw(ones)
        if len(_initial) < 4096:
            _initial[array.size] = start
    return _raw(array) ^ start ^ 0xFFFFFFFF


def masker():
    """A fast `masked` bound to the C implementation when it is installed."""
    if _google is None:
        return masked
    crc_of = _google.value

    def fast_masked(data):
        crc = crc_of(data)
        return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF

    return fast_masked


def masked(data):
    """TF's masked CRC: rotate right by 15 bits and add a constant (record_writer.h)."""
    crc = value(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF
