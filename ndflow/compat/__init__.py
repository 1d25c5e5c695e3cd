"""`tf.compat`: the TF1 API (`v1`) for programs written against TensorFlow 1.x, and `v2`."""

import sys

from ndflow.compat import v1

v2 = sys.modules["ndflow"]


def forward_compatible(year, month, day):
    """Whether the runtime is newer than a date (`tf.compat.forward_compatible`): always True."""
    return True


def as_bytes(bytes_or_text, encoding="utf-8"):
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    return bytes(bytes_or_text)


def as_text(bytes_or_text, encoding="utf-8"):
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    return str(bytes_or_text)


as_str = as_text
