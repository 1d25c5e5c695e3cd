"""File readers: TFRecordDataset, TextLineDataset, CsvDataset, make_csv_dataset, list_files.
"""

import csv
import gzip
import io
import zlib

import numpy as np

from ndflow.data import structure
from ndflow.data.dataset import Dataset
from ndflow.framework import dtypes, errors
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.io import gfile, tfrecord


def _filenames(filenames, name):
    if isinstance(filenames, Dataset):
        return filenames
    values = filenames.numpy() if hasattr(filenames, "numpy") else filenames
    if isinstance(values, (str, bytes)) or (isinstance(values, np.ndarray) and values.ndim == 0):
        values = [values]
    names = [v.decode("utf-8") if isinstance(v, bytes) else str(v)
             for v in np.asarray(values, dtype=object).reshape(-1)]
    if not names:
        raise errors.InvalidArgumentError(f"{name}: filenames must not be empty")
    from ndflow.data import sources  # noqa: PLC0415

    return sources.TensorSliceDataset(np.asarray([n.encode() for n in names], dtype=object))


def _scalar_string(value):
    result = np.empty((), dtype=object)
    result[()] = value
    return (result,)


class _FileDataset(Dataset):
    """Reads each file named by a string dataset in turn (or `num_parallel_reads`
    interleaved, block length 1, as TF's readers do)."""

    def __init__(self, filenames, name, num_parallel_reads=None):
        self._files = _filenames(filenames, name)
        self._parallel = int(num_parallel_reads or 1)

    def _inputs(self):
        return [self._files]

    def _paths(self):
        for (value,) in self._files._iterate():
            item = value[()] if isinstance(value, np.ndarray) else value
            yield item.decode("utf-8") if isinstance(item, bytes) else str(item)

    def _iterate(self):
        if self._parallel <= 1:
            for path in self._paths():
                yield from self._read(path)
            return
        paths = self._paths()
        readers = []
        for path in paths:
            readers.append(self._read(path))
            if len(readers) == self._parallel:
                break
        while readers:
            for index in range(len(readers)):
                element = next(readers[index], None)
                if element is None:
                    path = next(paths, None)
                    readers[index] = self._read(path) if path is not None else None
                    if readers[index] is not None:
                        element = next(readers[index], None)
                if element is not None:
                    yield element
            readers = [r for r in readers if r is not None]


class TFRecordDataset(_FileDataset):
    """The records of TFRecord files, as string scalars (`tf.data.TFRecordDataset`).

    Args:
      filenames: a path, a list of paths, or a dataset of paths.
      compression_type: "", "ZLIB" or "GZIP".
      buffer_size: read buffer size in bytes.
      num_parallel_reads: files read at once, interleaved record by record.

    Raises (while iterating):
      DataLossError: a corrupted or truncated record, naming the file and offset.
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        super().__init__(filenames, "TFRecordDataset", num_parallel_reads)
        self._compression = tfrecord.compression_name(compression_type)
        self._buffer = buffer_size
        self._structure = TensorSpec([], dtypes.string)

    def _read(self, path):
        return map(_scalar_string, tfrecord.read_records(path, self._compression,
                                                         self._buffer))

    def _batches(self, batch_size, drop_remainder):
        # Records go straight into one object array per batch (no 0-d arrays per record).
        def batches():
            pending = []
            for path in self._paths():
                for record in tfrecord.read_records(path, self._compression, self._buffer):
                    pending.append(record)
                    if len(pending) == batch_size:
                        yield (_object_vector(pending),)
                        pending = []
            if pending and not drop_remainder:
                yield (_object_vector(pending),)

        return batches() if self._parallel <= 1 else None


def _object_vector(values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _open_text(path, compression):
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the reader
    except FileNotFoundError as error:
        raise errors.NotFoundError(f"{path}; No such file or directory") from error
    if compression == "GZIP":
        return gzip.GzipFile(fileobj=raw)
    if compression == "ZLIB":
        return io.BytesIO(zlib.decompress(raw.read()))
    return raw


class TextLineDataset(_FileDataset):
    """The lines of text files without their newline (`tf.data.TextLineDataset`)."""

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        super().__init__(filenames, "TextLineDataset", num_parallel_reads)
        self._compression = tfrecord.compression_name(compression_type)
        self._structure = TensorSpec([], dtypes.string)

    def _read(self, path):
        with _open_text(path, self._compression) as handle:
            for line in handle:
                yield _scalar_string(line.rstrip(b"\n").rstrip(b"\r"))


_CSV_TYPES = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64, dtypes.string)


def _record_default(value, index):
    """(dtype, default value or None when required) of one CSV column."""
    if isinstance(value, (dtypes.DType, type)):
        return dtypes.as_dtype(value), None
    if hasattr(value, "numpy"):
        array = np.asarray(value.numpy())
        dtype = value.dtype
    else:
        if isinstance(value, (list, tuple)) and not value:
            raise ValueError(f"CsvDataset: an empty default for column {index} needs a dtype; "
                             f"give the dtype instead")
        array, dtype = structure._leaf_array(value[0] if isinstance(value, list) else value)
        array = np.asarray(array)
    if dtype not in _CSV_TYPES:
        raise TypeError(f"CsvDataset: column {index} has type {dtype.name}; expected one of "
                        f"int32, int64, float32, float64, string")
    if array.size == 0:
        return dtype, None
    return dtype, array.reshape(-1)[0]


class CsvDataset(_FileDataset):
    """The rows of CSV files, one scalar per selected column (`tf.data.experimental.
    CsvDataset`). An empty field takes its column's default; a column without one is
    required."""

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None,
                 header=False, field_delim=",", use_quote_delim=True, na_value="",
                 select_cols=None, exclude_cols=None, name=None):
        super().__init__(filenames, "CsvDataset")
        self._columns = [_record_default(v, i) for i, v in enumerate(record_defaults)]
        self._compression = tfrecord.compression_name(compression_type)
        self._header = bool(header)
        self._delim = field_delim
        self._quote = use_quote_delim
        self._na = na_value
        self._select = None if select_cols is None else [int(c) for c in select_cols]
        if self._select is not None and len(self._select) != len(self._columns):
            raise ValueError(f"CsvDataset: select_cols has {len(self._select)} entries but "
                             f"record_defaults has {len(self._columns)}")
        self._exclude = set(exclude_cols or ())
        self._structure = tuple(TensorSpec([], dtype) for dtype, _ in self._columns)

    def _read(self, path):
        with _open_text(path, self._compression) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            reader = csv.reader(text, delimiter=self._delim,
                                quoting=csv.QUOTE_MINIMAL if self._quote else csv.QUOTE_NONE)
            for line_number, row in enumerate(reader, 1):
                if line_number == 1 and self._header:
                    continue
                if not row:
                    continue
                yield self._convert(row, path, line_number)

    def _convert(self, row, path, line_number):
        if self._select is not None:
            fields = [row[c] if c < len(row) else "" for c in self._select]
        else:
            fields = [v for i, v in enumerate(row) if i not in self._exclude]
        if len(fields) != len(self._columns):
            raise errors.InvalidArgumentError(
                f"CsvDataset: expected {len(self._columns)} fields but have {len(fields)} in "
                f"record at line {line_number} of {path}")
        out = []
        for index, (field, (dtype, default)) in enumerate(zip(fields, self._columns)):
            out.append(_parse_field(field, dtype, default, index, path, line_number, self._na))
        return tuple(out)


def _parse_field(field, dtype, default, index, path, line_number, na_value):
    if field == "" or field == na_value:
        if default is None:
            raise errors.InvalidArgumentError(
                f"CsvDataset: field {index} is required but missing in record at line "
                f"{line_number} of {path}")
        value = default
    else:
        value = field
    try:
        if dtype is dtypes.string:
            result = np.empty((), dtype=object)
            result[()] = value.encode("utf-8") if isinstance(value, str) else value
            return result
        if dtype in (dtypes.int32, dtypes.int64):
            return np.array(int(value), dtype=dtype.as_numpy_dtype)
        return np.array(float(value), dtype=dtype.as_numpy_dtype)
    except (TypeError, ValueError, OverflowError):
        raise errors.InvalidArgumentError(
            f"CsvDataset: field {index} ({field!r}) in record at line {line_number} of {path} "
            f"is not a valid {dtype.name}") from None


def _infer_type(values):
    """TF's make_csv_dataset inference: int32, int64, float32, then string."""
    kinds = [dtypes.int32, dtypes.int64, dtypes.float32]
    best = 0
    for value in values:
        if value == "":
            continue
        while best < 3:
            try:
                if best < 2:
                    number = int(value)
                    limit = 2**31 if best == 0 else 2**63
                    if -limit <= number < limit:
                        break
                else:
                    float(value)
                    break
            except ValueError:
                pass
            best += 1
    return kinds[best] if best < 3 else dtypes.string


def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None,
                     label_name=None, select_columns=None, field_delim=",",
                     use_quote_delim=True, na_value="", header=True, num_epochs=None,
                     shuffle=True, shuffle_buffer_size=10000, shuffle_seed=None,
                     prefetch_buffer_size=None, num_parallel_reads=None, sloppy=False,
                     num_rows_for_inference=100, compression_type=None,
                     ignore_errors=False, encoding="utf-8"):
    """Batches of CSV rows as dicts of columns (`tf.data.experimental.make_csv_dataset`);
    with `label_name`, elements are (features, label)."""
    files = gfile.glob(file_pattern) if isinstance(file_pattern, str) else list(file_pattern)
    if not files:
        raise ValueError(f"make_csv_dataset: no files match {file_pattern!r}")
    with open(files[0], encoding=encoding, newline="") as handle:
        rows = list(_first_rows(csv.reader(handle, delimiter=field_delim),
                                num_rows_for_inference + 1))
    if column_names is None:
        if not header:
            raise ValueError("make_csv_dataset: column_names are required without a header")
        column_names = rows[0]
    column_names = list(column_names)
    data_rows = rows[1:] if header else rows
    if select_columns is not None:
        indices = [column_names.index(c) if isinstance(c, str) else int(c)
                   for c in select_columns]
    else:
        indices = list(range(len(column_names)))
    if column_defaults is None:
        column_defaults = [_infer_type([r[i] if i < len(r) else "" for r in data_rows])
                           for i in indices]
        column_defaults = [[_zero_default(d)] for d in column_defaults]
    names = [column_names[i] for i in indices]
    if label_name is not None and label_name not in names:
        raise ValueError(f"make_csv_dataset: label_name {label_name!r} is not one of the "
                         f"columns {names}")
    dataset = CsvDataset(files, column_defaults, compression_type, None, header, field_delim,
                         use_quote_delim, na_value, select_cols=sorted(indices) if
                         select_columns is not None else None)
    if select_columns is not None:
        names = [column_names[i] for i in sorted(indices)]
    if ignore_errors:
        dataset = dataset.ignore_errors()
    if num_epochs != 1:
        dataset = dataset.repeat(num_epochs)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=shuffle_seed)

    def to_dict(*columns):
        features = dict(zip(names, columns))
        if label_name is None:
            return features
        label = features.pop(label_name)
        return features, label

    dataset = dataset.batch(batch_size).map(to_dict)
    return dataset.prefetch(prefetch_buffer_size or -1)


def _zero_default(dtype):
    return "" if dtype is dtypes.string else dtype.as_numpy_dtype(0)


def _first_rows(reader, count):
    for index, row in enumerate(reader):
        if index >= count:
            return
        yield row


def list_files(file_pattern, shuffle=None, seed=None):
    """`Dataset.list_files`: matching paths, shuffled unless shuffle=False."""
    patterns = file_pattern.numpy() if hasattr(file_pattern, "numpy") else file_pattern
    if isinstance(patterns, (str, bytes)):
        patterns = [patterns]
    names = []
    for pattern in np.asarray(patterns, dtype=object).reshape(-1):
        pattern = pattern.decode() if isinstance(pattern, bytes) else pattern
        names += gfile.glob(pattern)
    if not names:
        raise errors.InvalidArgumentError(f"Expected 'tf.Tensor({file_pattern!r})' to match "
                                          f"files, but no files matched")
    from ndflow.data import sources  # noqa: PLC0415

    dataset = sources.TensorSliceDataset(np.asarray([n.encode() for n in sorted(set(names))],
                                                    dtype=object))
    if shuffle is None or shuffle:
        dataset = dataset.shuffle(len(names), seed=seed)
    return dataset


