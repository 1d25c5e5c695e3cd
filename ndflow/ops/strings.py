"""`tf.strings`: element-wise string ops on string tensors (object arrays of bytes).

lower/upper, regex_replace, length, as_string, to_number, join, and to_hash_bucket_fast (TF's
FarmHash Fingerprint64, written here in Python so the buckets equal TF's and Keras' Hashing).
String kernels work element by element in Python: NumPy has no vectorised path for bytes
objects, and the text layers that use them run on small batches of short strings.
Not differentiable.
"""

import re

import numpy as np

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import convert_to_tensor

_STRING = frozenset([dtypes.string])
_NUMBERS = frozenset([dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64])


def _as_bytes(value):
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _map_strings(xp, array, func, dtype=object):
    flat = [func(_as_bytes(v)) for v in array.ravel().tolist()]
    out = np.empty(len(flat), dtype=dtype) if dtype is object else np.array(flat, dtype=dtype)
    if dtype is object:
        out[:] = flat
    return xp.asarray(out.reshape(array.shape))


def _string_input(op_name, spec):
    if spec.dtype is not dtypes.string:
        raise TypeError(f"{op_name}: input must be a string tensor, got {spec.dtype.name}")


# --- FarmHash Fingerprint64 (farmhashna::Hash64), as TF's Fingerprint64 ---------------------

_MASK = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _fetch64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _fetch32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _rotate(value, shift):
    return ((value >> shift) | (value << (64 - shift))) & _MASK if shift else value


def _shift_mix(value):
    return value ^ (value >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & _MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK
    b ^= b >> 47
    return (b * mul) & _MASK


def _hash_len0to16(s):
    length = len(s)
    if length >= 8:
        mul = _K2 + length * 2
        a = (_fetch64(s, 0) + _K2) & _MASK
        b = _fetch64(s, length - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _hash_len16(c, d, mul)
    if length >= 4:
        mul = _K2 + length * 2
        a = _fetch32(s, 0)
        return _hash_len16((length + (a << 3)) & _MASK, _fetch32(s, length - 4), mul)
    if length > 0:
        y = (s[0] + (s[length >> 1] << 8)) & 0xFFFFFFFF
        z = (length + (s[length - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _hash_len17to32(s):
    length = len(s)
    mul = _K2 + length * 2
    a = (_fetch64(s, 0) * _K1) & _MASK
    b = _fetch64(s, 8)
    c = (_fetch64(s, length - 8) * mul) & _MASK
    d = (_fetch64(s, length - 16) * _K2) & _MASK
    return _hash_len16((_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK,
                       (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _hash_len33to64(s):
    length = len(s)
    mul = _K2 + length * 2
    a = (_fetch64(s, 0) * _K2) & _MASK
    b = _fetch64(s, 8)
    c = (_fetch64(s, length - 8) * mul) & _MASK
    d = (_fetch64(s, length - 16) * _K2) & _MASK
    y = (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK
    z = _hash_len16(y, (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_fetch64(s, 16) * mul) & _MASK
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, length - 32)) * mul) & _MASK
    h = ((z + _fetch64(s, length - 24)) * mul) & _MASK
    return _hash_len16((_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
                       (e + _rotate((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak_hash32(s, i, a, b):
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(data):
    """FarmHash Fingerprint64 of `data` (bytes) as a Python int in [0, 2**64)."""
    length = len(data)
    if length <= 16:
        return _hash_len0to16(data)
    if length <= 32:
        return _hash_len17to32(data)
    if length <= 64:
        return _hash_len33to64(data)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _fetch64(data, 0)) & _MASK
    end = ((length - 1) // 64) * 64
    last64 = end + ((length - 1) & 63) - 63
    pos = 0
    while True:
        x = (_rotate((x + y + v[0] + _fetch64(data, pos + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v[1] + _fetch64(data, pos + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(data, pos + 40)) & _MASK
        z = (_rotate((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak_hash32(data, pos, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak_hash32(data, pos + 32, (z + w[1]) & _MASK,
                         (y + _fetch64(data, pos + 16)) & _MASK)
        z, x = x, z
        pos += 64
        if pos == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    pos = last64
    w = ((w[0] + ((length - 1) & 63)) & _MASK, w[1])
    v = ((v[0] + w[0]) & _MASK, v[1])
    w = ((w[0] + v[0]) & _MASK, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(data, pos + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v[1] + _fetch64(data, pos + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v[0] * 9 + _fetch64(data, pos + 40)) & _MASK
    z = (_rotate((z + w[0]) & _MASK, 33) * mul) & _MASK
    v = _weak_hash32(data, pos, (v[1] * mul) & _MASK, (x + w[0]) & _MASK)
    w = _weak_hash32(data, pos + 32, (z + w[1]) & _MASK, (y + _fetch64(data, pos + 16)) & _MASK)
    z, x = x, z
    return _hash_len16((_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
                       (_hash_len16(v[1], w[1], mul) + x) & _MASK, mul)


# --- primitives ------------------------------------------------------------------------------

@primitive("StringToHashBucketFast", dtypes=_STRING)
class StringToHashBucketFast:
    def infer(x, num_buckets):
        _string_input("StringToHashBucketFast", x)
        if num_buckets < 1:
            raise errors.InvalidArgumentError(
                f"StringToHashBucketFast: num_buckets must be >= 1, got {num_buckets}")
        return Spec(x.shape, dtypes.int64)

    def kernel(xp, x, num_buckets):
        return _map_strings(xp, x, lambda s: fingerprint64(s) % num_buckets, dtype=np.int64)


@primitive("StringLower", dtypes=_STRING)
class StringLower:
    def infer(x, encoding):
        _string_input("StringLower", x)
        return Spec(x.shape, dtypes.string)

    def kernel(xp, x, encoding):
        if encoding:
            return _map_strings(xp, x, lambda s: s.decode(encoding).lower().encode(encoding))
        return _map_strings(xp, x, bytes.lower)


@primitive("StringUpper", dtypes=_STRING)
class StringUpper:
    def infer(x, encoding):
        _string_input("StringUpper", x)
        return Spec(x.shape, dtypes.string)

    def kernel(xp, x, encoding):
        if encoding:
            return _map_strings(xp, x, lambda s: s.decode(encoding).upper().encode(encoding))
        return _map_strings(xp, x, bytes.upper)


_PUNCTUATION = "!-/:-@\\[-`{-~\u00a1-\u00bf\u2010-\u2027\u2030-\u205e\u3000-\u303f"


def _re2_to_python(pattern):
    """RE2 and Python `re` agree on the patterns text layers use; `\\pP` (Unicode
    punctuation) has no `re` spelling and becomes explicit ranges."""
    pattern = pattern.replace("[\\pP]", f"[{_PUNCTUATION}]")
    return pattern.replace("\\pP", f"[{_PUNCTUATION}]")


@primitive("StaticRegexReplace", dtypes=_STRING)
class StaticRegexReplace:
    def infer(x, pattern, rewrite, replace_global):
        _string_input("StaticRegexReplace", x)
        try:
            re.compile(_re2_to_python(pattern))
        except re.error as error:
            raise errors.InvalidArgumentError(
                f"StaticRegexReplace: invalid pattern {pattern!r}: {error}") from None
        return Spec(x.shape, dtypes.string)

    def kernel(xp, x, pattern, rewrite, replace_global):
        compiled = re.compile(_re2_to_python(pattern))
        # RE2 writes groups as \1; Python's re accepts the same in its replacement syntax
        count = 0 if replace_global else 1
        return _map_strings(xp, x, lambda s: compiled.sub(
            rewrite, s.decode("utf-8"), count=count).encode("utf-8"))


@primitive("StringLength", dtypes=_STRING)
class StringLength:
    def infer(x, unit):
        _string_input("StringLength", x)
        if unit not in ("BYTE", "UTF8_CHAR"):
            raise errors.InvalidArgumentError(
                f"StringLength: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
        return Spec(x.shape, dtypes.int32)

    def kernel(xp, x, unit):
        if unit == "BYTE":
            return _map_strings(xp, x, len, dtype=np.int32)
        return _map_strings(xp, x, lambda s: len(s.decode("utf-8")), dtype=np.int32)


@primitive("AsString", dtypes=dtypes.NUMERIC_BOOL)
class AsString:
    def infer(x, precision, scientific, shortest, width, fill):
        if x.dtype is dtypes.string:
            raise TypeError("AsString: input must be numeric or bool, got string")
        return Spec(x.shape, dtypes.string)

    def kernel(xp, x, precision, scientific, shortest, width, fill):
        array = np.asarray(x)
        if array.dtype.kind == "b":
            def fmt(v):
                return "true" if v else "false"
        elif array.dtype.kind in "iu":
            def fmt(v):
                return str(int(v))
        else:
            spec = "e" if scientific else ("g" if shortest else "f")
            digits = 6 if precision < 0 else precision

            def fmt(v):
                return format(float(v), f".{digits}{spec}")
        flat = [fmt(v).rjust(width, fill or " ") if width > 0 else fmt(v)
                for v in array.ravel().tolist()]
        out = np.empty(len(flat), dtype=object)
        out[:] = [s.encode("utf-8") for s in flat]
        return xp.asarray(out.reshape(array.shape))


@primitive("StringToNumber", dtypes=_STRING)
class StringToNumber:
    def infer(x, out_type):
        _string_input("StringToNumber", x)
        if out_type not in _NUMBERS:
            raise TypeError(f"StringToNumber: out_type must be float32, float64, int32 or "
                            f"int64, got {out_type.name}")
        return Spec(x.shape, out_type)

    def kernel(xp, x, out_type):
        convert = float if out_type.is_floating else int

        def parse(s):
            try:
                return convert(s.decode("utf-8").strip())
            except ValueError:
                raise errors.InvalidArgumentError(
                    f"StringToNumber could not correctly convert string: {s.decode()}") from None

        return _map_strings(xp, x, parse, dtype=out_type.as_numpy_dtype)


# --- public functions ------------------------------------------------------------------------

def _strings(value):
    return convert_to_tensor(value, dtype=dtypes.string) if not hasattr(value, "dtype") else (
        convert_to_tensor(value))


def to_hash_bucket_fast(input, num_buckets, name=None):
    """FarmHash Fingerprint64 of each string modulo `num_buckets` (int64), as TF."""
    return execute("StringToHashBucketFast", _strings(input), num_buckets=int(num_buckets),
                   name=name)


def lower(input, encoding="", name=None):
    """Lower-cases each string (ASCII bytes, or Unicode with `encoding="utf-8"`)."""
    return execute("StringLower", _strings(input), encoding=encoding, name=name)


def upper(input, encoding="", name=None):
    """Upper-cases each string (ASCII bytes, or Unicode with `encoding="utf-8"`)."""
    return execute("StringUpper", _strings(input), encoding=encoding, name=name)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    """Replaces matches of the regular expression `pattern` with `rewrite` (`\\1` for groups)."""
    return execute("StaticRegexReplace", _strings(input), pattern=str(pattern),
                   rewrite=str(rewrite), replace_global=bool(replace_global), name=name)


def length(input, unit="BYTE", name=None):
    """Length of each string in bytes (`unit="BYTE"`) or characters (`"UTF8_CHAR"`)."""
    return execute("StringLength", _strings(input), unit=unit, name=name)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="",
              name=None):
    """Formats each number (or bool) as a string, as `tf.strings.as_string`."""
    return execute("AsString", convert_to_tensor(input), precision=int(precision),
                   scientific=bool(scientific), shortest=bool(shortest), width=int(width),
                   fill=fill, name=name)


def to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Parses each string as a number of `out_type`; InvalidArgumentError when it is not one."""
    return execute("StringToNumber", _strings(string_tensor),
                   out_type=dtypes.as_dtype(out_type), name=name)


API = {
    "strings": ["to_hash_bucket_fast", "lower", "upper", "regex_replace", "length", "as_string",
                "to_number"],
    "": ["as_string", "string_to_number"],
}


def string_to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Alias of `tf.strings.to_number` (TF1 name)."""
    return to_number(string_tensor, out_type, name)
