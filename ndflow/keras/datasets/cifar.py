"""CIFAR-10 and CIFAR-100 archives: finding the verified .tar.gz and reading its batches
straight from the archive (no extraction)."""

import os
import tarfile

import numpy as np

from ndflow.keras import backend
from ndflow.keras.datasets import _common


def find_archive(keras_name, dataset_folder, original_name, sha256, md5, origin):
    """The verified archive: Keras 3's cache (`datasets/<keras_name>_archive`), Keras 2's
    (`datasets/<keras_name without -target>.tar.gz`), the authors' file in
    `datasets/<dataset_folder>/`, else Keras' download."""
    directory = _common.datasets_dir()
    original = os.path.join(directory, dataset_folder, original_name)
    candidates = [os.path.join(directory, f"{keras_name}_archive"),
                  os.path.join(directory, keras_name.removesuffix("-target") + ".tar.gz"),
                  original]
    for path in candidates:
        if _common.verified(path, sha256, md5):
            return path
    places = [f"Keras' cache file {candidates[0]} (sha256 {sha256})",
              f"or the original {original_name} (MD5 {md5}) at {original}"]
    return _common.download(f"{keras_name}_archive", origin, sha256, places)


def read_batches(archive_path, members, label_key):
    """(data NCHW uint8, labels uint8) of the pickled batches `members` of the archive."""
    images, labels = [], []
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in members:
            handle = archive.extractfile(member)
            if handle is None:
                raise ValueError(f"{archive_path}: {member} is not a file in the archive")
            batch = _common.restricted_loads(handle.read(), encoding="bytes")
            batch = {key.decode("utf8"): value for key, value in batch.items()}
            images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(batch[label_key], dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def to_layout(x):
    return x.transpose(0, 2, 3, 1) if backend.image_data_format() == "channels_last" else x
