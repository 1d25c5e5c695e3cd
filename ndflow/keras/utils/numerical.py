"""`keras.utils` numerical helpers: to_categorical, normalize, set_random_seed."""

import random

import numpy as np


def _is_tensor(value):
    from ndflow.framework.tensor import Tensor

    return isinstance(value, Tensor)


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot class matrix (`keras.utils.to_categorical`).

    NumPy/list input gives a float64 NumPy array, as Keras; a trailing axis of size 1 is
    dropped first. An ndflow tensor gives a float32 tensor (`ndflow.one_hot`).

    Args:
      x: class indices, integers from 0 to `num_classes - 1`.
      num_classes: the number of classes (default: `max(x) + 1`).

    Returns:
      The one-hot encoding, of shape `x.shape + (num_classes,)`.

    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    if _is_tensor(x):
        import ndflow as nd

        shape = x.shape.as_list() if x.shape.rank is not None else None
        if shape is not None and len(shape) > 1 and shape[-1] == 1:
            x = nd.squeeze(x, axis=-1)
        if num_classes is None:
            num_classes = int(nd.reduce_max(x).numpy()) + 1
        return nd.one_hot(nd.cast(x, nd.int32), num_classes)
    x = np.array(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales `x` to unit `order`-norm along `axis` (`keras.utils.normalize`); zero vectors
    stay zero. A NumPy array gives a NumPy array, a tensor a tensor."""
    if _is_tensor(x):
        import ndflow as nd

        norm = nd.norm(x, ord=order, axis=axis, keepdims=True)
        return x / nd.where(nd.equal(norm, 0), nd.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis if axis is not None else -1)


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and ndflow's global seed
    (`keras.utils.set_random_seed`), so a program gives the same numbers each run."""
    if not isinstance(seed, int):
        raise ValueError(  # noqa: TRY004 (Keras raises ValueError here)
            f"Expected `seed` argument to be an integer. Received: seed={seed} "
                         f"(of type {type(seed)})")
    import ndflow as nd

    random.seed(seed)
    np.random.seed(seed)
    nd.random.set_seed(seed)
    global _seed
    _seed = seed


_seed = None


def get_random_seed():
    """The seed last given to `set_random_seed`, or None."""
    return _seed
