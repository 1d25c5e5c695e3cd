"""IMDB movie review sentiment (`keras.datasets.imdb`), Keras' preprocessed word indices."""

import json
import os

import numpy as np

from ndflow.keras.datasets import _common

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def _fetch(path, origin_name, file_hash):
    cached = _common.verified(os.path.join(_common.datasets_dir(), path), file_hash)
    if cached is not None:
        return cached
    places = [(f"Keras' cache file {os.path.join(_common.datasets_dir(), path)} "
               f"(hash {file_hash})")]
    return _common.download(path, _common.ORIGIN + origin_name, file_hash, places)


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads IMDB: `(x_train, y_train), (x_test, y_test)`; `x_*` are object arrays of lists
    of word indices, `y_*` 0/1 labels (Keras' shuffling, `num_words`, `skip_top`, `maxlen`,
    `start_char`, `oov_char`, `index_from` semantics).

    Keras' `imdb.npz` is the only source (the raw review texts are a different dataset); the
    file's pickled arrays are read only when it matches Keras' sha256.
    """
    data = _common.load_npz(_fetch(path, "imdb.npz", SHA256), SHA256)
    rng = np.random.RandomState(seed)
    parts = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        indices = np.arange(len(data[x_key]))
        rng.shuffle(indices)
        parts.append((data[x_key][indices], data[y_key][indices]))
    (x_train, labels_train), (x_test, labels_test) = parts
    x_train = _common.shift_words(x_train, start_char, index_from)
    x_test = _common.shift_words(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _common.remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _common.remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             f"sequence was kept. Increase maxlen.")
    xs = _common.index_words(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    split = len(x_train)
    return ((np.array(xs[:split], dtype="object"), labels[:split]),
            (np.array(xs[split:], dtype="object"), labels[split:]))


def get_word_index(path="imdb_word_index.json"):
    """The dict word -> index of the IMDB data (indices before `index_from` is added)."""
    with open(_fetch(path, "imdb_word_index.json", WORD_INDEX_MD5)) as handle:
        return json.load(handle)
