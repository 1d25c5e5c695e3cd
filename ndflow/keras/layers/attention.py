"""Attention layers: Attention (Luong dot/concat), AdditiveAttention (Bahdanau) and
MultiHeadAttention, with Keras 3's weights, masks and einsum equations."""

import math
import string

from ndflow.framework.context import init_scope
from ndflow.framework.tensor import convert_to_tensor
from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.engine.base_layer import Layer
from ndflow.ops import array as array_ops
from ndflow.ops import indexing, manip
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import math as math_ops
from ndflow.ops import nn as nn_ops
from ndflow.ops import reduce as reduce_ops


def _maybe(serialize, value):
    return None if value is None else serialize(value)


def _large_negative(dtype):
    return -3e4 if dtype.name == "float16" else -1e9


def _masked_softmax(scores, mask, axis=-1):
    """Softmax where masked positions get -1e9 first and 0 after (all-masked rows are 0)."""
    if mask is not None:
        mask = _as_bool(mask)
        filled = array_ops.fill(array_ops.shape(scores), array_ops.constant(
            _large_negative(scores.dtype), dtype=scores.dtype))
        scores = indexing.where(mask, scores, filled)
    if isinstance(axis, (list, tuple)) and len(axis) > 1:
        weights = math_ops.exp(scores - reduce_ops.reduce_logsumexp(scores, axis=axis,
                                                                     keepdims=True))
    else:
        weights = nn_ops.softmax(scores, axis=axis[0] if isinstance(axis, (list, tuple))
                                 else axis)
    if mask is None:
        return weights
    return indexing.where(mask, weights, array_ops.zeros_like(weights))


def _as_bool(mask):
    mask = convert_to_tensor(mask)
    return mask if mask.dtype.name == "bool" else array_ops.cast(mask, "bool")


def _keras_mask(tensor, given):
    return given if given is not None else getattr(tensor, "_keras_mask", None)


def _causal_mask(rows, cols):
    """(1, rows, cols) bool: position i may attend to j <= i."""
    row = manip.expand_dims(array_ops.range(rows), 1)
    col = manip.expand_dims(array_ops.range(cols), 0)
    return manip.expand_dims(math_ops.greater_equal(row, col), 0)


class _BaseDenseAttention(Layer):
    """Shared call logic of Attention and AdditiveAttention: scores, masks, softmax."""

    def __init__(self, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True

    def _validate(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            message = (f"{name} layer must be called on a list of inputs, namely [query, "
                       f"value] or [query, value, key]. Received: inputs={inputs}.")
            raise ValueError(message)  # noqa: TRY004 - Keras raises ValueError here
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             f"[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                             f"value_mask]. Received: mask={mask}.")

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._validate(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask = mask[0] if mask is not None else None
        value_mask = mask[1] if mask is not None else None
        scores = self._calculate_scores(query, key)
        score_mask = None if value_mask is None else manip.expand_dims(value_mask, -2)
        if use_causal_mask:
            shape = array_ops.shape(scores)
            causal = _causal_mask(shape[-2], shape[-1])
            score_mask = causal if score_mask is None else math_ops.logical_and(score_mask,
                                                                                 causal)
        if score_mask is not None:
            padding = array_ops.cast(math_ops.logical_not(score_mask), scores.dtype)
            scores = scores - padding * (65504.0 if scores.dtype.name == "float16" else 1e9)
        weights = nn_ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = nn_ops.dropout(weights, rate=self.dropout, seed=self.seed)
        result = linalg_ops.matmul(weights, value)
        if query_mask is not None:
            result = result * array_ops.cast(manip.expand_dims(query_mask, -1), result.dtype)
        if return_attention_scores:
            return result, weights
        return result

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        return query[:-1] + value[-1:]

    def get_config(self):
        config = super().get_config()
        config.update(dropout=self.dropout, seed=self.seed)
        return config


class Attention(_BaseDenseAttention):
    """Dot-product (Luong) attention over `[query, value]` or `[query, value, key]`.

    Args:
      use_scale: learn a scalar `scale` multiplying the scores.
      score_mode: "dot" (`query @ key^T`) or "concat" (`sum(tanh(query + key))`).
      dropout: dropout rate on the attention weights (training only).
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.use_scale = use_scale
        self.score_mode = score_mode

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if (
            self.use_scale) else None
        self.concat_score_weight = self.add_weight(
            name="concat_score_weight", shape=(), initializer="ones") if (
            self.score_mode == "concat") else None
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = linalg_ops.matmul(query, key, transpose_b=True)
            return scores * self.scale if self.scale is not None else scores
        summed = manip.expand_dims(query, -2) + manip.expand_dims(key, -3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * reduce_ops.reduce_sum(math_ops.tanh(summed), -1)

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode)
        return config


class AdditiveAttention(_BaseDenseAttention):
    """Additive (Bahdanau) attention: scores `sum(scale * tanh(query + key))`.

    Args:
      use_scale: learn a per-dimension `scale` vector (default True).
      dropout: dropout rate on the attention weights (training only).
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.use_scale = use_scale

    def build(self, input_shape):
        dim = tuple(input_shape[0])[-1]
        self.scale = self.add_weight(name="scale", shape=(dim,),
                                     initializer="glorot_uniform") if self.use_scale else None
        self.built = True

    def _calculate_scores(self, query, key):
        summed = math_ops.tanh(manip.expand_dims(query, -2) + manip.expand_dims(key, -3))
        if self.scale is not None:
            summed = self.scale * summed
        return reduce_ops.reduce_sum(summed, -1)

    def get_config(self):
        config = super().get_config()
        config["use_scale"] = self.use_scale
        config.pop("seed", None)
        return config


# --- multi-head attention --------------------------------------------------------------------

def _projection_equation(free_dims, bound_dims, output_dims):
    """Keras' einsum equation for a dense projection (and its bias axes)."""
    letters = string.ascii_lowercase
    inputs = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    outputs = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{inputs}{bound},{bound}{outputs}->{inputs}{outputs}"


def _attention_equations(rank, attention_axes):
    """(dot-product equation, combine equation, scores rank) as Keras builds them."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source = ""
    offset = rank
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


class _Projection(Layer):
    """A dense projection written as an einsum (Keras 3's EinsumDense inside MHA)."""

    def __init__(self, equation, kernel_shape, bias_shape, owner, **kwargs):
        super().__init__(**kwargs)
        self.equation = equation
        self.kernel_shape = tuple(kernel_shape)
        self.bias_shape = None if bias_shape is None else tuple(bias_shape)
        object.__setattr__(self, "_owner", owner)  # not a sublayer: the owner holds this one

    def build(self, input_shape=None):
        owner = self._owner
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_shape,
                                      initializer=owner.kernel_initializer,
                                      regularizer=owner.kernel_regularizer,
                                      constraint=owner.kernel_constraint)
        self.bias = None if self.bias_shape is None else self.add_weight(
            name="bias", shape=self.bias_shape, initializer=owner.bias_initializer,
            regularizer=owner.bias_regularizer, constraint=owner.bias_constraint)
        self.built = True

    def call(self, inputs):
        outputs = linalg_ops.einsum(self.equation, inputs, self.kernel)
        return outputs if self.bias is None else outputs + self.bias

    def get_config(self):
        config = super().get_config()
        config.update(equation=self.equation, kernel_shape=list(self.kernel_shape),
                      bias_shape=None if self.bias_shape is None else list(self.bias_shape))
        return config


class MultiHeadAttention(Layer):
    """Multi-head attention (`keras.layers.MultiHeadAttention`), called as
    `layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)`.

    Args:
      num_heads: number of attention heads.
      key_dim: size of each head for query and key.
      value_dim: size of each head for value (default key_dim).
      dropout: dropout rate on the attention weights (training only).
      use_bias: whether the projections have biases.
      output_shape: last dimension(s) of the output (default: the query's last dimension).
      attention_axes: axes attention runs over (default: all but batch, heads and features).
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        kwargs.pop("sliding_window", None)
        kwargs.pop("flash_attention", None)
        kwargs.pop("use_gate", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self.output_shape_arg = None if output_shape is None else tuple(output_shape)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._weights_built = False

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            self._build_projections(query_shape, value_shape, key_shape)
        self.built = True

    def _build_projections(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        heads = self.num_heads
        rank = len(query_shape)

        def projection(name, shape, width):
            equation = _projection_equation(len(shape) - 1, 1, 2)
            layer = _Projection(equation, (shape[-1], heads, width),
                                (heads, width) if self.use_bias else None, self, name=name)
            layer._build_with_shape(None)
            return layer

        with init_scope():
            self.query_dense = projection("query", query_shape, self.key_dim)
            self.key_dense = projection("key", key_shape, self.key_dim)
            self.value_dense = projection("value", value_shape, self.value_dim)
            output_dims = self.output_shape_arg or (query_shape[-1],)
            self.output_dense = _Projection(
                _projection_equation(rank - 1, 2, len(output_dims)),
                (heads, self.value_dim) + tuple(output_dims),
                tuple(output_dims) if self.use_bias else None, self, name="attention_output")
            self.output_dense._build_with_shape(None)
        axes = self.attention_axes or tuple(range(1, rank - 1))
        self._attention_axes_resolved = tuple(a % (rank + 1) for a in axes)
        self._dot_equation, self._combine_equation, scores_rank = _attention_equations(
            rank + 1, self._attention_axes_resolved)
        count = len(self._attention_axes_resolved)
        self._norm_axes = tuple(range(scores_rank - count, scores_rank))
        self._weights_built = True

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):
        masks = []
        if query_mask is not None:
            masks.append(manip.expand_dims(_as_bool(query_mask), -1))
        for source_mask in (value_mask, key_mask):
            if source_mask is not None:
                masks.append(manip.expand_dims(_as_bool(source_mask), -2))
        if use_causal_mask:
            masks.append(_causal_mask(array_ops.shape(query)[1], array_ops.shape(value)[1]))
        if attention_mask is not None:
            masks.append(_as_bool(attention_mask))
        if not masks:
            return None
        result = masks[0]
        for mask in masks[1:]:
            result = math_ops.logical_and(result, mask)
        return result

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        query_mask = _keras_mask(query, query_mask)
        value_mask = _keras_mask(value, value_mask)
        key_mask = None if key is None or key is value else _keras_mask(key, key_mask)
        value = self._as_input(value)
        key = value if key is None else self._as_input(key)
        if not self._weights_built:
            self._build_projections(query.shape.as_list(), value.shape.as_list(),
                                    key.shape.as_list())
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)
        q = self.query_dense(query) * (1.0 / math.sqrt(float(self.key_dim)))
        k = self.key_dense(key)
        v = self.value_dense(value)
        scores = linalg_ops.einsum(self._dot_equation, k, q)
        if mask is not None:
            for _ in range(scores.shape.rank - mask.shape.rank):
                mask = manip.expand_dims(mask, -len(self._attention_axes_resolved) * 2 - 1)
        weights = _masked_softmax(scores, mask, axis=list(self._norm_axes))
        dropped = weights
        if training and self.dropout > 0:
            dropped = nn_ops.dropout(weights, rate=self.dropout, seed=self.seed)
        output = self.output_dense(linalg_ops.einsum(self._combine_equation, dropped, v))
        if return_attention_scores:
            return output, weights
        return output

    def _as_input(self, value):
        value = convert_to_tensor(value)
        if value.dtype.is_floating and value.dtype is not self.compute_dtype:
            value = array_ops.cast(value, self.compute_dtype)
        return value

    def compute_mask(self, inputs, mask=None):
        return getattr(inputs, "_keras_mask", None) if mask is None else mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if self.output_shape_arg:
            return query_shape[:-1] + self.output_shape_arg
        return query_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
            dropout=self.dropout, use_bias=self.use_bias,
            output_shape=None if self.output_shape_arg is None else list(self.output_shape_arg),
            attention_axes=None if self.attention_axes is None else list(self.attention_axes),
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=_maybe(regularizers.serialize, self.kernel_regularizer),
            bias_regularizer=_maybe(regularizers.serialize, self.bias_regularizer),
            kernel_constraint=_maybe(constraints.serialize, self.kernel_constraint),
            bias_constraint=_maybe(constraints.serialize, self.bias_constraint),
            seed=self.seed,
        )
        return config
