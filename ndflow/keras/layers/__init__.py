"""`keras.layers`: every layer class, plus `serialize`/`deserialize`."""

from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.input_layer import Input, InputLayer
from ndflow.keras.engine.input_spec import InputSpec
from ndflow.keras.layers.core import Activation, Dense, Dropout, Flatten, Identity, Lambda, Reshape
from ndflow.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from ndflow.keras.layers.embedding import Embedding
from ndflow.keras.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from ndflow.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ndflow.keras.layers.recurrent import (
    GRU, LSTM, RNN, Bidirectional, SimpleRNN, TimeDistributed,
)
from ndflow.keras.layers.activation_layers import ELU, PReLU, LeakyReLU, ReLU, Softmax
from ndflow.keras.layers.convolutional import (
    Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Convolution1D,
    Convolution2D, Convolution2DTranspose, Convolution3D, Convolution3DTranspose, DepthwiseConv1D,
    DepthwiseConv2D, SeparableConv1D, SeparableConv2D, SeparableConvolution1D,
    SeparableConvolution2D,
)
from ndflow.keras.layers.merging import (
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
    concatenate, dot, maximum, minimum, multiply, subtract,
)
from ndflow.keras.layers.normalization import (
    BatchNormalization, GroupNormalization, LayerNormalization, UnitNormalization,
)
from ndflow.keras.layers.pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D,
    GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D,
    MaxPooling1D, MaxPooling2D, MaxPooling3D,
)
from ndflow.keras.layers.regularization import (
    ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
    SpatialDropout2D, SpatialDropout3D,
)
from ndflow.keras.layers.reshaping import (
    Cropping1D, Cropping2D, Cropping3D, Masking, Permute, RepeatVector, UpSampling1D,
    UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D,
)

from ndflow.keras.layers.preprocessing import (
    CategoryEncoding, CenterCrop, Discretization, Hashing, IntegerLookup, Normalization,
    RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
    Rescaling, Resizing, StringLookup, TextVectorization,
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
