"""`keras.layers`: every layer class, plus `serialize`/`deserialize`."""

from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_layer import Input, InputLayer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers.core import Activation, Dense, Dropout, Flatten, Identity, Lambda, Reshape
from ndflow.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from ndflow.keras.layers.embedding import Embedding
from ndflow.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ndflow.keras.layers.recurrent import (
    GRU, LSTM, RNN, Bidirectional, SimpleRNN, TimeDistributed,
)


def _all_layer_classes():
    classes = {}
    for name, value in globals().items():
        if isinstance(value, type) and issubclass(value, Layer):
            classes[name] = value
    return classes


def serialize(layer):
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A layer from `{"class_name": ..., "config": ...}` (only known or registered classes)."""
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _all_layer_classes().get(name)
    if cls is None:
        from ndflow.keras import saving_registry  # noqa: PLC0415

        cls = saving_registry.get_registered(name, config.get("registered_name"))
    if cls is None:
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a "
                         f"`keras.utils.custom_object_scope` and that this object is included "
                         f"in the scope.")
    return cls.from_config(config["config"])
