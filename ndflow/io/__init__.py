"""`tf.io`: TFRecord files, Example parsing, tensor and image codecs, and `tf.io.gfile`."""

from ndflow.io import gfile  # noqa: F401 - tf.io.gfile
from ndflow.io.codecs import (  # noqa: F401 - public names
    decode_image,
    decode_jpeg,
    decode_png,
    decode_raw,
    encode_png,
    parse_tensor,
    read_file,
    serialize_tensor,
    write_file,
)
from ndflow.io.parsing import (  # noqa: F401
    FixedLenFeature,
    FixedLenSequenceFeature,
    VarLenFeature,
    parse_example,
    parse_single_example,
    parse_single_sequence_example,
)
from ndflow.io.sparse import SparseTensor  # noqa: F401
from ndflow.io.tfrecord import (  # noqa: F401
    TFRecordCompressionType,
    TFRecordOptions,
    TFRecordWriter,
    tf_record_iterator,
)
