"""Finding, verifying and reading the built-in datasets' files.

Lookup order for every dataset: (1) Keras' own cache file (`$KERAS_HOME` or `~/.keras`, then
`datasets/`), accepted only when it matches Keras' published hash; (2) where a dataset has
them, its authors' original distribution files in `datasets/<dataset name>/`, checked against
the checksums the authors publish; (3) the download Keras does (`get_file`). Offline with
nothing usable, `DatasetNotFoundError` says where to put which file.

Files that hold pickles (IMDB/Reuters object arrays, CIFAR batches) are read only when their
hash matches Keras' published hash, and then with an unpickler that can build NumPy arrays,
lists and dicts and nothing else, so a tampered file cannot run code.
"""

import gzip
import hashlib
import io
import os
import pickle
import warnings
import zipfile

import numpy as np

from ndflow.keras.utils import file_utils

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DatasetNotFoundError(FileNotFoundError):
    """No verified copy of a dataset is on disk and it could not be downloaded."""


def datasets_dir():
    """`<KERAS_HOME or ~/.keras>/datasets`, read when called (tests point KERAS_HOME)."""
    return os.path.join(file_utils.keras_home(), "datasets")


def file_digest(path, algorithm):
    hasher = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def matches(path, *hashes):
    """Whether the file at `path` has one of `hashes` (64 hex digits: sha256, 32: md5)."""
    if not os.path.isfile(path):
        return False
    digests = {}
    for expected in hashes:
        algorithm = "sha256" if len(expected) == 64 else "md5"
        if algorithm not in digests:
            digests[algorithm] = file_digest(path, algorithm)
        if digests[algorithm] == expected.lower():
            return True
    return False


def verified(path, *hashes):
    """`path` if it exists and matches; warns (and returns None) on a mismatching file."""
    if not os.path.exists(path):
        return None
    if matches(path, *hashes):
        return path
    warnings.warn(f"{path} does not match its published checksum (corrupt, truncated or a "
                  f"different file); it is ignored.", stacklevel=3)
    return None


def download(fname, origin, file_hash, places, cache_subdir="datasets"):
    """`get_file` from Keras' origin; offline, raises DatasetNotFoundError naming `places`
    (a list of "what to put where" lines)."""
    try:
        return file_utils.get_file(fname, origin=origin, file_hash=file_hash,
                                   cache_subdir=cache_subdir)
    except OSError as error:
        lines = "\n".join(f"  - {place}" for place in places)
        raise DatasetNotFoundError(
            f"Dataset file not found and the download failed ({error}).\nPut one of these in "
            f"place and call again:\n{lines}") from error


def read_idx_gz(path, offset):
    """The uint8 payload of a gzipped IDX file (header of `offset` bytes), as MNIST ships."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    return np.frombuffer(data, np.uint8, offset=offset)


_ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and plain containers only; any other global is refused."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Refusing to deserialize `{module}.{name}` while loading "
                                     f"a dataset: the file may be corrupted or malicious.")


def restricted_loads(data, encoding="ASCII"):
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def _read_npy_member(buffer):
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:  # an object array: a pickle after the .npy header
        buffer.seek(0)
        version = np.lib.format.read_magic(buffer)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(buffer)
        else:
            np.lib.format.read_array_header_2_0(buffer)
        return RestrictedUnpickler(buffer).load()


def load_npz(path, sha256=None):
    """The arrays of an .npz as a dict. Numeric members load with pickling disabled; object
    members only if the file matches `sha256`, and then through `RestrictedUnpickler`."""
    arrays = {}
    trusted = sha256 is not None and matches(path, sha256)
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            buffer = io.BytesIO(archive.read(member))
            try:
                arrays[member[:-4]] = np.lib.format.read_array(buffer, allow_pickle=False)
                continue
            except ValueError:
                if not trusted:
                    raise ValueError(f"{path} holds pickled object arrays and does not match "
                                     f"Keras' published sha256 {sha256}: refusing to unpickle "
                                     f"it.") from None
            buffer.seek(0)
            arrays[member[:-4]] = _read_npy_member(buffer)
    return arrays


def remove_long_seq(maxlen, sequences, labels):
    """The (sequence, label) pairs with `len(sequence) < maxlen`, as Keras filters them."""
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def index_words(xs, num_words, skip_top, oov_char):
    """Keras' vocabulary cut: words outside [skip_top, num_words) become `oov_char`
    (or are dropped when it is None)."""
    if not num_words:
        num_words = max(max(x) for x in xs if len(x))
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def shift_words(xs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]
