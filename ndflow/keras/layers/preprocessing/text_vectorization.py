"""`keras.layers.TextVectorization`: strings to token indices or bag-of-words vectors.

Standardize (lower-case, strip punctuation), split (whitespace or characters), form n-grams,
then look the tokens up in a vocabulary learned by `adapt` (most frequent first). Tokenising
runs in Python inside `numpy_function`, the way TF runs it in its string kernels: per string.
Index layout in "int" mode: 0 is padding (the mask token ""), 1 is OOV ("[UNK]").
"""

import numpy as np

from ndflow.framework import dtypes
from ndflow.framework.tensor import convert_to_tensor
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.layers.preprocessing.lookup import StringLookup, _plain
from ndflow.keras.layers.preprocessing.normalization import _batches
from ndflow.ops import array as array_ops
from ndflow.ops import script, strings

# Keras' DEFAULT_STRIP_REGEX
_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = (None, "whitespace", "character")
_MODES = ("int", "multi_hot", "count", "tf_idf")


class TextVectorization(Layer):
    """Turns strings into sequences of token indices or into token-count vectors.

    Args:
      max_tokens: vocabulary size limit (including the padding and OOV tokens).
      standardize: None, "lower_and_strip_punctuation" (default), "lower",
        "strip_punctuation", or a callable on string tensors.
      split: None, "whitespace" (default), "character", or a callable.
      ngrams: None, an int n (all n-grams up to n), or a tuple of n-gram sizes.
      output_mode: "int" (default), "multi_hot", "count" or "tf_idf".
      output_sequence_length: pad or truncate "int" outputs to this length.
      pad_to_max_tokens: make bag-of-words outputs `max_tokens` wide.
      vocabulary / idf_weights: a fixed vocabulary instead of `adapt`.
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        if not kwargs.get("dtype"):
            kwargs["dtype"] = "float32" if output_mode == "tf_idf" else "int64"
        super().__init__(name=name, **kwargs)
        if output_mode not in _MODES:
            raise ValueError(f"TextVectorization: unknown output_mode {output_mode!r}; expected "
                             f"one of {_MODES}")
        if not callable(standardize) and standardize not in _STANDARDIZE:
            raise ValueError(f"TextVectorization: unknown standardize {standardize!r}")
        if not callable(split) and split not in _SPLIT:
            raise ValueError(f"TextVectorization: unknown split {split!r}")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}")
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse = sparse
        self.ragged = ragged
        self.encoding = encoding
        self._autocast = False
        self._lookup = StringLookup(
            max_tokens=max_tokens, mask_token="" if output_mode == "int" else None,
            output_mode=output_mode if output_mode != "int" else "int",
            vocabulary=vocabulary, idf_weights=idf_weights, name=f"{self.name}_lookup")

    # --- tokenising ----------------------------------------------------------------------------

    def _standardized(self, inputs):
        if callable(self.standardize):
            return self.standardize(inputs)
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            inputs = strings.lower(inputs, encoding="utf-8")
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            inputs = strings.regex_replace(inputs, _STRIP_REGEX, "")
        return inputs

    def _ngram_sizes(self):
        if self.ngrams is None:
            return (1,)
        if isinstance(self.ngrams, int):
            return tuple(range(1, self.ngrams + 1))
        return tuple(self.ngrams)

    def _tokens(self, text):
        """The tokens (with n-grams) of one standardized string."""
        if self.split == "whitespace":
            words = text.split()
        elif self.split == "character":
            words = list(text)
        else:
            words = [text]
        tokens = []
        for size in self._ngram_sizes():
            tokens.extend(" ".join(words[i:i + size]) for i in range(len(words) - size + 1))
        return tokens

    def _documents(self, array):
        flat = np.asarray(array, dtype=object).reshape(-1).tolist()
        return [self._tokens(_plain(text)) for text in flat]

    def _prepare(self, inputs):
        inputs = convert_to_tensor(inputs, dtype_hint=dtypes.string)
        if inputs.shape.rank == 2 and inputs.shape[-1] == 1:
            inputs = array_ops.reshape(inputs, [-1])
        return self._standardized(inputs)

    # --- vocabulary ----------------------------------------------------------------------------

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary (and IDF weights) from strings: array, tensor or dataset."""
        documents = []
        for batch in _batches(data, steps):
            standardized = self._prepare(batch).numpy()
            documents.extend(self._documents(standardized))
        counts = {}
        doc_counts = {}
        for tokens in documents:
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
            for token in set(tokens):
                doc_counts[token] = doc_counts.get(token, 0) + 1
        for special in ("", "[UNK]"):
            counts.pop(special, None)
        ordered = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:max(0, self.max_tokens - len(self._lookup._special_tokens()))]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [np.log(1 + len(documents) / (1 + doc_counts[t])) for t in ordered]
        self._lookup.set_vocabulary(ordered, idf)

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup.get_vocabulary(include_special_tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    def vocabulary_size(self):
        return self._lookup.vocabulary_size()

    # --- the call ------------------------------------------------------------------------------

    def _encode(self, array):
        documents = self._documents(array)
        indices = [self._lookup._lookup(np.asarray(tokens + [""], dtype=object))[:-1]
                   for tokens in documents]
        if self.output_mode == "int":
            length = self.output_sequence_length
            if length is None:
                length = max((len(row) for row in indices), default=0)
            result = np.zeros((len(indices), length), np.int64)
            for row, values in enumerate(indices):
                values = values[:length]
                result[row, :len(values)] = values
            return result
        width = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else (
            self._lookup.vocabulary_size())
        counts = np.zeros((len(indices), width), np.float64)
        for row, values in enumerate(indices):
            np.add.at(counts[row], values[values < width], 1)
        if self.output_mode == "multi_hot":
            counts = np.minimum(counts, 1)
        elif self.output_mode == "tf_idf":
            weights = np.zeros(width)
            idf = self._lookup.idf_weights
            weights[:len(idf)] = idf[:width]
            counts = counts * weights
        return counts.astype(self.compute_dtype.as_numpy_dtype)

    def call(self, inputs):
        standardized = self._prepare(inputs)
        result = script.numpy_function(self._encode, [standardized], self.compute_dtype,
                                       stateful=False)
        if self.output_mode == "int":
            width = self.output_sequence_length
        else:
            width = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else (
                self._lookup.vocabulary_size())
        if width is not None:
            return array_ops.reshape(result, [-1, width])
        return result

    def compute_output_shape(self, input_shape):
        batch = next(iter(input_shape)) if input_shape else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        return (batch, self.max_tokens if self.pad_to_max_tokens and self.max_tokens else
                self._lookup.vocabulary_size())

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        config.update(
            max_tokens=self.max_tokens,
            standardize=self.standardize if not callable(self.standardize) else None,
            split=self.split if not callable(self.split) else None, ngrams=self.ngrams,
            output_mode=self.output_mode, output_sequence_length=self.output_sequence_length,
            pad_to_max_tokens=self.pad_to_max_tokens, sparse=self.sparse, ragged=self.ragged,
            encoding=self.encoding,
            vocabulary=self.get_vocabulary(include_special_tokens=False) or None,
            idf_weights=None if self._lookup.idf_weights is None else
            self._lookup.idf_weights[len(self._lookup._special_tokens()):].tolist(),
        )
        return config

