"""Element structures of datasets: nested specs, flat component arrays, and conversion.

Inside a pipeline an element is a flat tuple of NumPy arrays (object arrays of bytes for
strings), or of Datasets for `window`'s nested datasets; the dataset's nested `element_spec`
says how to pack them into what users see (tuples, dicts, namedtuples of eager tensors).
Lists are tensors, not structures, as in tf.data.
"""

import numpy as np

from ndflow.framework import dtypes
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.io.sparse import SparseTensor
from ndflow.util import nest

_new = object.__new__


class DatasetSpec:
    """The spec of a dataset-valued element (`tf.data.DatasetSpec`)."""

    def __init__(self, element_spec, dataset_shape=()):
        self.element_spec = element_spec
        self.shape = TensorShape(dataset_shape)

    def __eq__(self, other):
        return isinstance(other, DatasetSpec) and other.element_spec == self.element_spec

    def __hash__(self):
        return hash("DatasetSpec")

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r}, TensorShape({self.shape.as_list()}))"


class SparseTensorSpec:
    """The spec of a SparseTensor component (`tf.SparseTensorSpec`)."""

    def __init__(self, shape=None, dtype=dtypes.float32):
        self.shape = TensorShape(shape)
        self.dtype = dtypes.as_dtype(dtype)

    def __eq__(self, other):
        return (isinstance(other, SparseTensorSpec) and other.dtype is self.dtype
                and other.shape.as_tuple() == self.shape.as_tuple())

    def __hash__(self):
        return hash(("SparseTensorSpec", self.dtype.name))

    def __repr__(self):
        return f"SparseTensorSpec({self.shape}, {self.dtype!r})"


def _is_dataset(value):
    return hasattr(value, "_iterate") and hasattr(value, "element_spec")


def _leaf_array(value):
    """(array, DType) for one leaf value."""
    if isinstance(value, EagerTensor):
        return value._value, value._dtype
    if isinstance(value, (bytes, str)) or (isinstance(value, list) and _all_bytes(value)):
        array = np.asarray(_encode(value) if isinstance(value, (bytes, str)) else
                           [_encode(v) for v in value], dtype=object)
        if array.ndim == 0:
            result = np.empty((), dtype=object)
            result[()] = _encode(value)
            array = result
        return array, dtypes.string
    tensor = convert_to_tensor(value)
    return tensor._value, tensor._dtype


def _encode(value):
    return value.encode("utf-8") if isinstance(value, str) else value


def _all_bytes(values):
    return bool(values) and all(isinstance(v, (bytes, str)) for v in values)


def normalize(value, lists_are_tuples=False):
    """Leaves become eager tensors (or datasets, SparseTensors); lists become tensors (or
    tuples for function outputs, as TF's map does)."""
    if isinstance(value, dict):
        return type(value)((k, normalize(v, lists_are_tuples)) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return type(value)(*[normalize(v, lists_are_tuples) for v in value])
    if isinstance(value, tuple) or (lists_are_tuples and isinstance(value, list)):
        return tuple(normalize(v, lists_are_tuples) for v in value)
    if _is_dataset(value) or isinstance(value, SparseTensor):
        return value
    if isinstance(value, Tensor) and not isinstance(value, EagerTensor):
        return value
    array, dtype = _leaf_array(value)
    return make_tensor(array, dtype)


def make_tensor(array, dtype):
    tensor = _new(EagerTensor)
    tensor._value = array
    tensor._dtype = dtype
    return tensor


def spec_of(leaf):
    if _is_dataset(leaf):
        return DatasetSpec(leaf.element_spec)
    if isinstance(leaf, SparseTensor):
        return SparseTensorSpec(leaf.shape, leaf.dtype)
    return TensorSpec(leaf.shape, leaf.dtype)


def flatten(structure):
    return nest.flatten(structure)


def to_components(value, lists_are_tuples=False):
    """(nested spec, flat component tuple) of a Python/tensor value."""
    structure = normalize(value, lists_are_tuples)
    leaves = nest.flatten(structure)
    specs = nest.pack_sequence_as(structure, [spec_of(leaf) for leaf in leaves])
    return specs, tuple(component(leaf) for leaf in leaves)


def component(leaf):
    if isinstance(leaf, EagerTensor):
        return leaf._value
    if isinstance(leaf, SparseTensor):
        return (np.asarray(leaf.indices), np.asarray(leaf.values), np.asarray(leaf.dense_shape))
    return leaf


def leaf_specs(structure):
    return nest.flatten(structure)


def dtypes_of(structure):
    return [getattr(spec, "dtype", None) for spec in nest.flatten(structure)]


def _leaf_value(spec, part):
    if isinstance(spec, TensorSpec):
        tensor = _new(EagerTensor)
        tensor._value = part
        tensor._dtype = spec._dtype
        return tensor
    if isinstance(spec, SparseTensorSpec):
        return SparseTensor(*[convert_to_tensor(p) for p in part])
    return part


def packer(structure):
    """A fast function from flat components to the nested element of eager tensors."""
    specs = nest.flatten(structure)
    if not nest.is_nested(structure):
        spec = specs[0]
        return lambda flat: _leaf_value(spec, flat[0])
    if type(structure) is tuple and all(not nest.is_nested(s) for s in structure):
        return lambda flat: tuple(_leaf_value(s, p) for s, p in zip(specs, flat))
    return lambda flat: nest.pack_sequence_as(
        structure, [_leaf_value(s, p) for s, p in zip(specs, flat)])


def relaxed(spec, other):
    """The most specific spec compatible with both (dims that differ become None)."""
    if isinstance(spec, TensorSpec) and isinstance(other, TensorSpec):
        if spec.dtype is not other.dtype:
            raise TypeError(f"incompatible dtypes {spec.dtype.name} and {other.dtype.name}")
        return TensorSpec(spec.shape.most_specific_compatible_shape(other.shape), spec.dtype)
    return spec


def batched_spec(spec, batch_dim):
    if isinstance(spec, TensorSpec):
        return TensorSpec(TensorShape([batch_dim]).concatenate(spec.shape), spec.dtype)
    if isinstance(spec, SparseTensorSpec):
        return SparseTensorSpec(TensorShape([batch_dim]).concatenate(spec.shape), spec.dtype)
    raise TypeError(f"batch: cannot batch elements of spec {spec!r}")


def unbatched_spec(spec):
    if isinstance(spec, TensorSpec):
        if spec.shape.rank == 0:
            raise ValueError(f"unbatch: elements must have at least rank 1, got spec {spec}")
        dims = spec.shape.dims if spec.shape.rank is not None else None
        return TensorSpec(None if dims is None else dims[1:], spec.dtype)
    raise TypeError(f"unbatch: cannot unbatch elements of spec {spec!r}")


def stack(parts, spec):
    """One batched component from per-element arrays."""
    if isinstance(spec, TensorSpec) and spec.dtype is dtypes.string and parts[0].ndim == 0:
        out = np.empty(len(parts), dtype=object)
        out[:] = [p[()] for p in parts]
        return out
    if not isinstance(spec, TensorSpec):
        raise TypeError(f"batch: cannot batch elements of spec {spec!r}")
    try:
        return np.stack(parts)
    except ValueError:
        shapes = sorted({p.shape for p in parts})
        from ndflow.framework import errors  # noqa: PLC0415

        raise errors.InvalidArgumentError(
            f"Cannot batch tensors with different shapes in component: got shapes "
            f"{shapes[:4]}; use padded_batch or ragged_batch") from None


def rows(array):
    """The slices of `array` along its first dimension; scalar strings stay 0-d arrays."""
    if array.dtype == object and array.ndim == 1:
        return map(_scalar_object, array)
    return iter(array)


def _scalar_object(value):
    result = np.empty((), dtype=object)
    result[()] = value
    return result
