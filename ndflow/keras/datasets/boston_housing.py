"""Boston housing prices (`keras.datasets.boston_housing`)."""

import numpy as np

from ndflow.keras.datasets.imdb import _fetch

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston housing data: `(x_train, y_train), (x_test, y_test)`, 13 float64
    features per sample and the median value in k$ as target, split after Keras' shuffle.
    Source: Keras' `boston_housing.npz` (sha256-checked, read with `allow_pickle=False`)."""
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1), got "
                         f"{test_split}")
    with np.load(_fetch(path, "boston_housing.npz", SHA256), allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (x[:split], y[:split]), (x[split:], y[split:])
