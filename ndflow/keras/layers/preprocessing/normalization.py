"""Numeric preprocessing: Normalization (with `adapt`) and Discretization (bucketing).

`adapt(data)` takes a NumPy array, a tensor, or a `tf.data.Dataset`/iterable of batches; the
statistics are computed in NumPy float64 and stored in the layer's non-trainable weights
(`mean`, `variance`, `count`), as Keras 3 does.
"""

import numpy as np

from ndflow.keras.engine.base_layer import Layer
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops

_EPSILON = 1e-7  # keras.backend.epsilon()


def _batches(data, steps=None):
    """NumPy batches from an array, a tensor, or an iterable (Dataset) of batches."""
    if hasattr(data, "numpy") and not hasattr(data, "__iter__") or isinstance(data, np.ndarray):
        yield np.asarray(data)
        return
    if hasattr(data, "shape") and hasattr(data, "dtype") and hasattr(data, "numpy"):
        yield np.asarray(data)
        return
    if isinstance(data, (list, tuple)) and data and not hasattr(data[0], "__iter__"):
        yield np.asarray(data)
        return
    for index, batch in enumerate(data):
        if steps is not None and index >= steps:
            return
        if isinstance(batch, (tuple, list)) and len(batch) and hasattr(batch[0], "shape"):
            batch = batch[0]
        yield np.asarray(batch)


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 per feature (`keras.layers.
    Normalization`): `(x - mean) / sqrt(variance)`, or the inverse with `invert=True`.

    Args:
      axis: the feature axis or axes kept separate (others are reduced); None for scalar.
      mean, variance: fixed statistics; otherwise call `adapt(data)` before use.
      invert: map normalized values back to the original scale.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        self.axis = tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must "
                             f"be set. Received: mean={mean} and variance={variance}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._stat_shape = None

    def build(self, input_shape):
        if input_shape is None:
            return
        shape = tuple(input_shape)
        rank = len(shape)
        axes = tuple(a % rank for a in self.axis) if rank else ()
        for axis in axes:
            if shape[axis] is None:
                raise ValueError(f"Normalization '{self.name}': all `axis` values must have a "
                                 f"defined size, got input shape {shape} and axis={self.axis}")
        self._keep_axes = axes
        self._reduce_axes = tuple(a for a in range(rank) if a not in axes)
        self._stat_shape = tuple(shape[a] for a in axes)
        self._broadcast_shape = tuple(shape[a] if a in axes else 1 for a in range(rank))
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._stat_shape,
                                              initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._stat_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` (array, tensor or dataset of batches)."""
        total = None
        for batch in _batches(data, steps):
            batch = batch.astype(np.float64)
            if batch.ndim == 0 or (batch.ndim == 1 and self.axis == (-1,)):
                batch = batch.reshape(-1, 1) if self.axis else batch.reshape(-1)
            if not self.built:
                self._build_with_shape(_shape_of(batch))
            sums = batch.sum(axis=self._reduce_axes)
            squares = (batch ** 2).sum(axis=self._reduce_axes)
            count = batch.size // max(1, int(np.prod(self._stat_shape)))
            total = [sums, squares, count] if total is None else [
                total[0] + sums, total[1] + squares, total[2] + count]
        if total is None:
            raise ValueError(f"Normalization '{self.name}': adapt() received no data")
        mean = total[0] / total[2]
        variance = np.maximum(total[1] / total[2] - mean ** 2, 0.0)
        self.adapt_mean.assign(mean.reshape(self._stat_shape).astype(np.float32))
        self.adapt_variance.assign(variance.reshape(self._stat_shape).astype(np.float32))
        self.count.assign(0)

    def _statistics(self, dtype):
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, np.float64), self._stat_shape)
            variance = np.broadcast_to(np.asarray(self.input_variance, np.float64),
                                       self._stat_shape)
            return (array_ops.constant(mean.reshape(self._broadcast_shape), dtype=dtype),
                    array_ops.constant(variance.reshape(self._broadcast_shape), dtype=dtype))
        return (array_ops.cast(array_ops.reshape(self.adapt_mean, self._broadcast_shape), dtype),
                array_ops.cast(array_ops.reshape(self.adapt_variance, self._broadcast_shape),
                               dtype))

    def call(self, inputs):
        if not inputs.dtype.is_floating:
            inputs = array_ops.cast(inputs, self.compute_dtype)
        mean, variance = self._statistics(inputs.dtype)
        scale = math_ops.maximum(math_ops.sqrt(variance), _EPSILON)
        if self.invert:
            return mean + inputs * scale
        return (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, invert=self.invert, mean=_listed(self.input_mean),
                      variance=_listed(self.input_variance))
        return config


def _listed(value):
    return np.asarray(value).tolist() if value is not None else None


def _shape_of(array):
    from ndflow.framework.tensor_shape import TensorShape

    return TensorShape(array.shape)


class Discretization(Layer):
    """Buckets numbers by `bin_boundaries` (or `num_bins` quantiles learned by `adapt`).

    Output modes: "int" (bucket index, int32 as Keras 3), "one_hot", "multi_hot", "count".
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Discretization: invalid output_mode {output_mode!r}; expected "
                             f"'int', 'one_hot', 'multi_hot' or 'count'")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Both `num_bins` and `bin_boundaries` should not be set. "
                             f"Received: num_bins={num_bins} and "
                             f"bin_boundaries={bin_boundaries}")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self._autocast = False

    def adapt(self, data, batch_size=None, steps=None):
        """Learns `num_bins - 1` quantile boundaries from the data."""
        if self.num_bins is None:
            raise ValueError("Discretization: adapt() needs `num_bins` to be set")
        values = np.concatenate([b.reshape(-1) for b in _batches(data, steps)]).astype(
            np.float64)
        quantiles = np.linspace(0, 1, self.num_bins + 1)[1:-1]
        boundaries = np.quantile(values, quantiles, method="interpolated_inverted_cdf") if values.size else []
        self.bin_boundaries = [float(b) for b in boundaries]

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Discretization '{self.name}': call adapt() or pass "
                             f"`bin_boundaries` before using the layer")
        boundaries = array_ops.constant(np.asarray(self.bin_boundaries, np.float64),
                                        dtype=inputs.dtype if inputs.dtype.is_floating
                                        else "float64")
        values = inputs if inputs.dtype.is_floating else array_ops.cast(inputs, "float64")
        greater = math_ops.greater_equal(values[..., None], boundaries)
        indices = reduce_ops.reduce_sum(array_ops.cast(greater, "int32"), axis=-1)
        if self.output_mode == "int":
            return indices
        from ndflow.keras.layers.preprocessing import lookup

        return lookup.encode_categorical(indices, self.output_mode,
                                         len(self.bin_boundaries) + 1, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(bin_boundaries=self.bin_boundaries, num_bins=self.num_bins,
                      epsilon=self.epsilon, output_mode=self.output_mode, sparse=self.sparse)
        return config
