"""`tf.data`: input pipelines (`Dataset` and its readers) with TensorFlow's semantics."""

import types as _types

from ndflow.data import options as _options
from ndflow.data.dataset import (  # noqa: F401 - public names
    AUTOTUNE,
    Dataset,
)
from ndflow.data.dataset import (
    INFINITE as INFINITE_CARDINALITY,
)
from ndflow.data.dataset import (
    UNKNOWN as UNKNOWN_CARDINALITY,
)
from ndflow.data.dataset import (
    OwnedIterator as Iterator,  # noqa: F401
)
from ndflow.data.options import Options, ThreadingOptions  # noqa: F401
from ndflow.data.readers import (  # noqa: F401
    CsvDataset,
    TextLineDataset,
    TFRecordDataset,
    make_csv_dataset,
)
from ndflow.data.structure import DatasetSpec  # noqa: F401


def _assert_cardinality(expected_cardinality):
    """A transformation that checks the dataset has `expected_cardinality` elements."""
    return lambda dataset: dataset.assert_cardinality(expected_cardinality)


def _cardinality(dataset):
    return dataset.cardinality()


experimental = _types.SimpleNamespace(
    AUTOTUNE=AUTOTUNE,
    INFINITE_CARDINALITY=INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY=UNKNOWN_CARDINALITY,
    CsvDataset=CsvDataset,
    make_csv_dataset=make_csv_dataset,
    assert_cardinality=_assert_cardinality,
    cardinality=_cardinality,
    sample_from_datasets=Dataset.sample_from_datasets,
    choose_from_datasets=Dataset.choose_from_datasets,
    OptimizationOptions=_options.OptimizationOptions,
    ThreadingOptions=ThreadingOptions,
    Optional=_options.Optional,
    DatasetSpec=DatasetSpec,
)
