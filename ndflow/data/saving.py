"""`Dataset.save`/`Dataset.load` and file caches: elements as TFRecord records.

Each record holds one element: its components as serialized TensorProtos, each preceded by
its length. The directory written by `save` also holds `element_spec.json`. This is ndflow's
own layout (TF's snapshot format is not reproduced): files written here load here. Nothing is
pickled, so loading a file never runs code.
"""

import json
import os
import struct

import numpy as np

from ndflow.data import structure
from ndflow.data.dataset import Dataset
from ndflow.framework import dtypes, errors
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.io import codecs, tfrecord
from ndflow.util import nest


def _encode_element(flat):
    parts = []
    for array in flat:
        if isinstance(array, np.generic):
            array = np.asarray(array)
        if not isinstance(array, np.ndarray):
            raise TypeError(f"Dataset.save: cannot save a component of type "
                            f"{type(array).__name__}")
        dtype = dtypes.string if array.dtype == object else dtypes.from_numpy(array.dtype)
        proto = codecs._tensor_proto(array, dtype)
        parts += [struct.pack("<Q", len(proto)), proto]
    return b"".join(parts)


def _decode_element(record, specs):
    flat, position = [], 0
    for spec in specs:
        (length,) = struct.unpack_from("<Q", record, position)
        position += 8
        _, shape, content, strings = codecs._parse_proto(record[position:position + length])
        position += length
        if spec.dtype is dtypes.string:
            array = np.empty(len(strings), dtype=object)
            array[:] = strings
            flat.append(array.reshape(shape))
        else:
            numpy_type = np.dtype(spec.dtype.as_numpy_dtype)
            values = (np.frombuffer(content, dtype=numpy_type.newbyteorder("<")) if content
                      else np.zeros(0, numpy_type))
            flat.append(values.astype(numpy_type).reshape(shape))
    return tuple(flat)


class ElementWriter:
    """Writes flat elements as records (for cache files and saved datasets)."""

    def __init__(self, path, compression=None):
        self._writer = tfrecord.TFRecordWriter(path, compression)

    def write(self, flat):
        self._writer.write(_encode_element(flat))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._writer.close()


def read_elements(path, spec, compression=None):
    specs = structure.leaf_specs(spec)
    for record in tfrecord.read_records(path, compression):
        yield _decode_element(record, specs)


def _spec_to_json(spec):
    if isinstance(spec, dict):
        return {"dict": {k: _spec_to_json(v) for k, v in spec.items()}}
    if isinstance(spec, tuple):
        return {"tuple": [_spec_to_json(v) for v in spec]}
    if not isinstance(spec, TensorSpec):
        raise TypeError(f"Dataset.save: cannot save elements of spec {spec!r}")
    return {"shape": spec.shape.as_list(), "dtype": spec.dtype.name}


def _spec_from_json(data):
    if "dict" in data:
        return {k: _spec_from_json(v) for k, v in data["dict"].items()}
    if "tuple" in data:
        return tuple(_spec_from_json(v) for v in data["tuple"])
    return TensorSpec(data["shape"], dtypes.as_dtype(data["dtype"]))


def save(dataset, path, compression=None):
    path = os.fspath(path)
    os.makedirs(path, exist_ok=True)
    with ElementWriter(os.path.join(path, "elements.tfrecord"), compression) as writer:
        for flat in dataset._iterate():
            writer.write(flat)
    with open(os.path.join(path, "element_spec.json"), "w") as handle:
        json.dump({"element_spec": _spec_to_json(dataset.element_spec),
                   "compression": compression or ""}, handle)


class LoadedDataset(Dataset):
    """A dataset read back from `Dataset.save`'s directory."""

    def __init__(self, path, element_spec, compression):
        self._path = os.path.join(path, "elements.tfrecord")
        self._structure = element_spec
        self._compression = compression

    def _iterate(self):
        return read_elements(self._path, self._structure, self._compression)


def load(path, element_spec=None, compression=None):
    path = os.fspath(path)
    meta = os.path.join(path, "element_spec.json")
    if not os.path.exists(meta):
        raise errors.NotFoundError(f"Dataset.load: no saved dataset at {path} (missing "
                                   f"element_spec.json)")
    with open(meta) as handle:
        info = json.load(handle)
    saved = _spec_from_json(info["element_spec"])
    if element_spec is not None:
        nest.assert_same_structure(element_spec, saved)
        saved = element_spec
    return LoadedDataset(path, saved, compression if compression is not None
                         else info.get("compression") or None)
