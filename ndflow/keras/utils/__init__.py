"""`keras.utils`: data helpers (to_categorical, pad_sequences, PyDataset, get_file ...),
custom object scopes and serialization, model plotting, image conversion, Progbar."""

from ndflow.keras.backend import clear_session, is_keras_tensor, standardize_dtype
from ndflow.keras.utils.file_utils import get_file
from ndflow.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from ndflow.keras.utils.numerical import normalize, set_random_seed, to_categorical
from ndflow.keras.utils.plotting import model_to_dot, plot_model
from ndflow.keras.utils.progbar import Progbar
from ndflow.keras.utils.sequences import PyDataset, Sequence, pad_sequences, split_dataset
from ndflow.keras.utils.serialization import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """`(x,)`, `(x, y)` or `(x, y, sample_weight)`: the tuple fit expects from a dataset."""
    if y is None:
        return (x,) if isinstance(x, tuple) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """`(x, y, sample_weight)` from what a dataset yields (missing parts are None)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


__all__ = [
    "CustomObjectScope", "Progbar", "PyDataset", "Sequence", "array_to_img", "clear_session",
    "custom_object_scope", "deserialize_keras_object", "get_custom_objects", "get_file",
    "get_registered_name", "get_registered_object", "img_to_array", "is_keras_tensor",
    "load_img", "model_to_dot", "normalize", "pack_x_y_sample_weight", "pad_sequences",
    "plot_model", "register_keras_serializable", "save_img", "serialize_keras_object",
    "set_random_seed", "split_dataset", "standardize_dtype", "to_categorical",
    "unpack_x_y_sample_weight",
]
