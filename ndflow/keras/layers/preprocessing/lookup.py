"""Categorical preprocessing: CategoryEncoding, Hashing, StringLookup and IntegerLookup.

Lookups map tokens to indices with a Python dict inside `numpy_function` (string tensors are
object arrays, and NumPy has no vectorised dictionary lookup). Index layout as in Keras:
`[mask_token] + [OOV indices] + vocabulary`; out-of-vocabulary tokens share the OOV indices
by hash (FarmHash for strings, floormod for integers).
"""

import numpy as np

from ndflow.framework import dtypes
from ndflow.framework.tensor import convert_to_tensor
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.layers.preprocessing.normalization import _batches
from ndflow.ops import array as array_ops
from ndflow.ops import reduce as reduce_ops
from ndflow.ops import script, strings

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def encode_categorical(indices, output_mode, depth, dtype, idf_weights=None):
    """Keras' one_hot / multi_hot / count / tf_idf encodings of integer indices."""
    rank = indices.shape.rank
    if output_mode == "one_hot":
        if rank is not None and rank >= 2 and indices.shape[-1] == 1:
            indices = array_ops.reshape(indices, array_ops.shape(indices)[:-1]) if None in (
                indices.shape.as_list()[:-1]) else array_ops.reshape(
                indices, indices.shape.as_list()[:-1])
        return array_ops.one_hot(indices, depth, dtype=dtype)
    one_hot = array_ops.one_hot(indices, depth, dtype=dtype)
    if rank == 0:
        return one_hot
    if output_mode == "multi_hot":
        return reduce_ops.reduce_max(one_hot, axis=-2)
    counts = reduce_ops.reduce_sum(one_hot, axis=-2)
    if output_mode == "tf_idf":
        return counts * array_ops.constant(np.asarray(idf_weights), dtype=dtype)
    return counts


class CategoryEncoding(Layer):
    """Encodes integer indices in [0, num_tokens) as one-hot, multi-hot or count vectors."""

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode not in ("one_hot", "multi_hot", "count"):
            raise ValueError(f"CategoryEncoding: unknown output_mode {output_mode!r}; expected "
                             f"'one_hot', 'multi_hot' or 'count'")
        if num_tokens is None or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse
        self._autocast = False

    def call(self, inputs, count_weights=None):
        indices = inputs if inputs.dtype.is_integer else array_ops.cast(inputs, "int32")
        return encode_categorical(indices, self.output_mode, self.num_tokens,
                                  self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode,
                      sparse=self.sparse)
        return config


class Hashing(Layer):
    """Hashes strings (or integers, via their decimal text) into `num_bins` buckets with
    FarmHash Fingerprint64, the hash Keras uses; `mask_value` maps to bucket 0."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if salt is not None:
            raise ValueError("Hashing: `salt` (keyed SipHash) is not supported by ndflow; "
                             "use salt=None (FarmHash, Keras' default)")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = sparse
        self._autocast = False

    def call(self, inputs):
        if inputs.dtype is not dtypes.string:
            inputs = strings.as_string(inputs)
        if self.mask_value is None:
            hashed = strings.to_hash_bucket_fast(inputs, self.num_bins)
        else:
            from ndflow.ops import indexing
            from ndflow.ops import math as math_ops

            hashed = strings.to_hash_bucket_fast(inputs, self.num_bins - 1) + 1
            mask = math_ops.equal(inputs, array_ops.constant(str(self.mask_value)))
            hashed = indexing.where(mask, array_ops.zeros_like(hashed), hashed)
        if self.output_mode == "int":
            return hashed
        return encode_categorical(hashed, self.output_mode, self.num_bins, "float32")

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, mask_value=self.mask_value, salt=self.salt,
                      output_mode=self.output_mode, sparse=self.sparse)
        return config


def _plain(value):
    """A token as a Python str or int (bytes decoded)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


class _IndexLookup(Layer):
    """Shared vocabulary logic of StringLookup and IntegerLookup."""

    _TOKEN_DTYPE = None

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        kwargs.pop("encoding", None)
        kwargs.pop("oov_method", None)
        kwargs.pop("vocabulary_size", None)
        super().__init__(**kwargs)
        if output_mode not in _MODES:
            raise ValueError(f"{type(self).__name__}: unknown output_mode {output_mode!r}; "
                             f"expected one of {_MODES}")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be 'int' when `invert` is true. Received: "
                             f"output_mode={output_mode}")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse = sparse
        self._autocast = False
        self.idf_weights = None
        self._vocabulary = []
        self._index = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    def _special_tokens(self):
        specials = [] if self.mask_token is None else [self.mask_token]
        return specials + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens=True):
        if include_special_tokens:
            return self._special_tokens() + list(self._vocabulary)
        return list(self._vocabulary)

    def vocabulary_size(self):
        return len(self._special_tokens()) + len(self._vocabulary)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list, array, or a text file path for StringLookup)."""
        if isinstance(vocabulary, str) and self._TOKEN_DTYPE is dtypes.string:
            with open(vocabulary, encoding="utf-8") as handle:
                vocabulary = [line.rstrip("\n") for line in handle if line.rstrip("\n")]
        tokens = [_plain(t) for t in np.asarray(vocabulary).reshape(-1).tolist()]
        specials = self._special_tokens()
        if tokens[:len(specials)] == specials and specials:
            tokens = tokens[len(specials):]
        if len(set(tokens)) != len(tokens):
            repeated = sorted({t for t in tokens if tokens.count(t) > 1}, key=str)
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are {repeated}")
        for special in (self.mask_token, self.oov_token):
            if special is not None and special in tokens:
                raise ValueError(f"{type(self).__name__}: reserved token {special!r} must not "
                                 f"appear in the vocabulary")
        self._vocabulary = tokens
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'")
            weights = np.asarray(idf_weights, np.float32).reshape(-1)
            front = len(self._special_tokens())
            self.idf_weights = np.concatenate([np.full(front, weights.mean() if weights.size
                                                       else 0.0, np.float32), weights])
        self._index = {token: i + len(specials) for i, token in enumerate(tokens)}

    def adapt(self, data, batch_size=None, steps=None):
        """Builds the vocabulary from the tokens of `data`, most frequent first."""
        counts = {}
        documents = 0
        doc_counts = {}
        for batch in _batches(data, steps):
            for row in np.asarray(batch, dtype=object).reshape(len(batch) if np.ndim(batch)
                                                               else 1, -1).tolist():
                row = [_plain(t) for t in row]
                documents += 1
                for token in set(row):
                    doc_counts[token] = doc_counts.get(token, 0) + 1
                for token in row:
                    counts[token] = counts.get(token, 0) + 1
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ordered = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:max(0, self.max_tokens - len(self._special_tokens()))]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [np.log(1 + documents / (1 + doc_counts[t])) for t in ordered]
        self.set_vocabulary(ordered, idf)

    def _lookup(self, array):
        offset = 0 if self.mask_token is None else 1
        flat = [_plain(v) for v in np.asarray(array, dtype=object).reshape(-1).tolist()]
        result = np.empty(len(flat), np.int64)
        for i, token in enumerate(flat):
            if self.mask_token is not None and token == self.mask_token:
                result[i] = 0
            elif token in self._index:
                result[i] = self._index[token]
            elif self.num_oov_indices == 0:
                raise ValueError(f"{type(self).__name__}: token {token!r} is not in the "
                                 f"vocabulary and num_oov_indices=0")
            else:
                result[i] = offset + self._oov_bucket(token)
        return result.reshape(np.shape(array))

    def _invert(self, array):
        vocabulary = self.get_vocabulary()
        flat = np.asarray(array).reshape(-1)
        out = [vocabulary[i] if 0 <= i < len(vocabulary) else self.oov_token for i in flat]
        return np.asarray(self._to_token_array(out)).reshape(np.shape(array))

    def call(self, inputs):
        inputs = convert_to_tensor(inputs)
        if self.invert:
            result = script.numpy_function(self._invert, [inputs], self._TOKEN_DTYPE,
                                           stateful=False)
            return _like(result, inputs)
        indices = _like(script.numpy_function(self._lookup, [inputs], dtypes.int64,
                                              stateful=False), inputs)
        if self.output_mode == "int":
            return indices
        depth = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else (
            self.vocabulary_size())
        return encode_categorical(indices, self.output_mode, depth, "float32",
                                  self.idf_weights)

    def get_config(self):
        config = super().get_config()
        config.update(
            max_tokens=self.max_tokens, num_oov_indices=self.num_oov_indices,
            mask_token=self.mask_token, oov_token=self.oov_token, invert=self.invert,
            output_mode=self.output_mode, pad_to_max_tokens=self.pad_to_max_tokens,
            sparse=self.sparse, vocabulary=list(self._vocabulary),
            idf_weights=None if self.idf_weights is None else self.idf_weights[
                len(self._special_tokens()):].tolist())
        return config


def _like(result, inputs):
    """`result` with the static shape of `inputs` (numpy_function outputs have none)."""
    dims = inputs.shape.as_list() if inputs.shape.rank is not None else None
    if dims is None:
        return result
    if None not in dims:
        return array_ops.reshape(result, dims)
    if dims.count(None) == 1:
        return array_ops.reshape(result, [-1 if d is None else d for d in dims])
    return array_ops.reshape(result, array_ops.shape(inputs))


class StringLookup(_IndexLookup):
    """Maps strings to integer indices from a vocabulary (`keras.layers.StringLookup`)."""

    _TOKEN_DTYPE = dtypes.string

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", **kwargs):
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, **kwargs)
        self.encoding = encoding

    def _oov_bucket(self, token):
        if self.num_oov_indices == 1:
            return 0
        return strings.fingerprint64(str(token).encode("utf-8")) % self.num_oov_indices

    def _to_token_array(self, tokens):
        out = np.empty(len(tokens), dtype=object)
        out[:] = [str(t).encode("utf-8") for t in tokens]
        return out

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(_IndexLookup):
    """Maps integers to indices from a vocabulary (`keras.layers.IntegerLookup`)."""

    _TOKEN_DTYPE = dtypes.int64

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, **kwargs)

    def _oov_bucket(self, token):
        return int(token) % self.num_oov_indices

    def _to_token_array(self, tokens):
        return np.asarray(tokens, np.int64)
