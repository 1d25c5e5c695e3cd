"""MNIST handwritten digits (`keras.datasets.mnist`)."""

import os

import numpy as np

from ndflow.keras.datasets import _common

KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# The original distribution (LeCun, Cortes, Burges) with the MD5s its authors publish.
ORIGINAL_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def load_idx_folder(folder, hashes):
    """`((x_train, y_train), (x_test, y_test))` from the four IDX .gz files in `folder`
    when all match `hashes`, else None."""
    paths = [_common.verified(os.path.join(folder, name), digest)
             for name, digest in hashes.items()]
    if not all(paths):
        return None
    x_train = _common.read_idx_gz(paths[0], 16).reshape(-1, 28, 28)
    y_train = _common.read_idx_gz(paths[1], 8)
    x_test = _common.read_idx_gz(paths[2], 16).reshape(-1, 28, 28)
    y_test = _common.read_idx_gz(paths[3], 8)
    return (x_train, y_train), (x_test, y_test)


def load_data(path="mnist.npz"):
    """Loads MNIST: `(x_train, y_train), (x_test, y_test)`.

    `x_*` are uint8 arrays of shape (60000, 28, 28) / (10000, 28, 28) with pixels 0..255;
    `y_*` are uint8 labels 0..9. Looked up in this order: Keras' cache file
    `~/.keras/datasets/mnist.npz` (`$KERAS_HOME` replaces `~/.keras`; checked against Keras'
    sha256), the four original files in `~/.keras/datasets/mnist/` (checked against the
    authors' MD5s), then Keras' download.

    Args:
      path: the cache file name under `datasets/`.

    Raises:
      DatasetNotFoundError: nothing usable on disk and the download failed.
    """
    directory = _common.datasets_dir()
    cached = _common.verified(os.path.join(directory, path), KERAS_SHA256)
    if cached is None:
        found = load_idx_folder(os.path.join(directory, "mnist"), ORIGINAL_FILES)
        if found is not None:
            return found
        places = [f"Keras' cache file {os.path.join(directory, path)} (sha256 {KERAS_SHA256})",
                  (f"or the four original MNIST files {', '.join(ORIGINAL_FILES)} in "
                   f"{os.path.join(directory, 'mnist')}")]
        cached = _common.download(path, _common.ORIGIN + "mnist.npz", KERAS_SHA256, places)
    with np.load(cached, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
