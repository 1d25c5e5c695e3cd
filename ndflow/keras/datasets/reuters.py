"""Reuters newswire topics (`keras.datasets.reuters`), Keras' preprocessed word indices."""

import json

import numpy as np

from ndflow.keras.datasets import _common
from ndflow.keras.datasets.imdb import _fetch

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads Reuters: `(x_train, y_train), (x_test, y_test)` over 46 topics, split by
    `test_split` after Keras' shuffle; arguments as `imdb.load_data`. Source: Keras'
    `reuters.npz`, read only when it matches Keras' sha256."""
    data = _common.load_npz(_fetch(path, "reuters.npz", SHA256), SHA256)
    xs, labels = data["x"], data["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = _common.shift_words(xs, start_char, index_from)
    if maxlen:
        xs, labels = _common.remove_long_seq(maxlen, xs, labels)
    xs = _common.index_words(xs, num_words, skip_top, oov_char)
    split = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:split], dtype="object"), np.array(labels[:split])),
            (np.array(xs[split:], dtype="object"), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json"):
    """The dict word -> index of the Reuters data (indices before `index_from` is added)."""
    with open(_fetch(path, "reuters_word_index.json", WORD_INDEX_MD5)) as handle:
        return json.load(handle)


def get_label_names():
    """The 46 topic names, in label order."""
    return _LABELS
