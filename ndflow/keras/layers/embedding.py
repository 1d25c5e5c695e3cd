"""`keras.layers.Embedding`: integer indices to dense vectors, with an optional padding mask.

The lookup is a `gather` on the table, so its gradient is an `IndexedSlices` holding only the
looked-up rows (optimizers apply sparse updates from it).
"""

import numpy as np

from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.ops import array as array_ops
from ndflow.ops import indexing
from ndflow.ops import math as math_ops


def _maybe(serialize, value):
    return None if value is None else serialize(value)


class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of size `output_dim`.

    Args:
      input_dim: vocabulary size (largest index + 1).
      output_dim: size of each embedding vector.
      embeddings_initializer: initializer of the `embeddings` table (default uniform +-0.05).
      embeddings_regularizer / embeddings_constraint: applied to the table.
      mask_zero: index 0 is padding; the layer emits a mask `inputs != 0` for later layers.
      weights: optional initial table (a list holding one array).
      input_length: Keras 2 argument; gives a Sequential model its input shape.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs and (
                "batch_input_shape" not in kwargs):
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        for argument, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding: `{argument}` must be a positive integer, got "
                                 f"{argument}={value!r}")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.input_length = input_length
        self.supports_masking = mask_zero
        self._autocast = False
        if weights is not None:
            self._initial_weights = list(weights)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(name="embeddings",
                                          shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        if not inputs.dtype.is_integer:
            inputs = array_ops.cast(inputs, "int32")
        outputs = indexing.gather(self.embeddings, inputs)
        if outputs.dtype is not self.compute_dtype:
            outputs = array_ops.cast(outputs, self.compute_dtype)
        return outputs

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return math_ops.not_equal(inputs, array_ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            input_dim=self.input_dim, output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=_maybe(regularizers.serialize, self.embeddings_regularizer),
            embeddings_constraint=_maybe(constraints.serialize, self.embeddings_constraint),
            mask_zero=self.mask_zero,
        )
        if self.input_length is not None:
            config["input_length"] = self.input_length
            config.pop("batch_input_shape", None)
        return config
