"""`keras.datasets`: the built-in datasets, as NumPy arrays in Keras' layout.

Each `load_data()` first looks for a verified copy on disk (Keras' cache under `$KERAS_HOME`
or `~/.keras`, and for MNIST, Fashion-MNIST and CIFAR the authors' original files in
`datasets/<name>/`), then downloads as Keras does; see `_common.py`.
"""

from ndflow.keras.datasets import (
    boston_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from ndflow.keras.datasets._common import DatasetNotFoundError

__all__ = ["DatasetNotFoundError", "boston_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
