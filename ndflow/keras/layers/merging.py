"""Merge layers: element-wise Add, Subtract, Multiply, Average, Maximum, Minimum (inputs of
lower rank get unit axes after the batch axis, then broadcast), Concatenate and Dot (a batched
dot product over `axes`, optionally of L2-normalized inputs); and their functional forms
`add`, `concatenate`, `dot` ... Output masks follow Keras 3: the OR of the input masks."""

import functools

from ndflow.framework.tensor_shape import TensorShape
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.layers import _conv_utils as utils
from ndflow.ops import array as array_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import manip
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops


def _shape_list(shapes):
    return [None if s is None else tuple(TensorShape(s).as_list()) for s in shapes]


def _merged_shape(layer, first, second):
    """Broadcast of two shapes without their batch axis; ValueError naming the layer."""
    if first is None or second is None:
        return None
    if len(first) < len(second):
        first, second = second, first
    if not second:
        return first
    result = list(first[:len(first) - len(second)])
    for a, b in zip(first[len(first) - len(second):], second):
        if a is None or b is None:
            result.append(None)
        elif a == 1 or b == 1 or a == b:
            result.append(b if a == 1 else a)
        else:
            raise ValueError(f"{type(layer).__name__} '{layer.name}' expects inputs of "
                             f"compatible shapes, got input shapes {utils.shape_text(first)} "
                             f"and {utils.shape_text(second)}")
    return tuple(result)


class _Merge(Layer):
    """Element-wise merge of a list of inputs (`keras.layers.Add` and friends)."""

    max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_list(self, input_shape):
        if isinstance(input_shape, TensorShape) or not isinstance(input_shape, (list, tuple)) \
                or not input_shape or not isinstance(input_shape[0], (list, tuple, TensorShape)):
            raise ValueError(f"{type(self).__name__} '{self.name}' should be called on a list "
                             f"of inputs, got input shape {input_shape}")
        count = len(input_shape)
        if self.max_inputs is not None and count != self.max_inputs:
            raise ValueError(f"{type(self).__name__} '{self.name}' should be called on exactly "
                             f"{self.max_inputs} inputs, got {count} inputs with shapes "
                             f"{_shape_list(input_shape)}")
        return _shape_list(input_shape)

    def build(self, input_shape):
        shapes = self._check_list(input_shape)
        batches = {s[0] for s in shapes if s} - {None}
        if len(batches) > 1:
            raise ValueError(f"{type(self).__name__} '{self.name}' cannot merge tensors with "
                             f"different batch sizes, got input shapes {shapes}")
        self._output_without_batch(shapes)
        self.built = True

    def _output_without_batch(self, shapes):
        output = None if shapes[0] is None else shapes[0][1:]
        for shape in shapes[1:]:
            output = _merged_shape(self, output, None if shape is None else shape[1:])
        return output

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(  # noqa: TRY004 - Keras raises ValueError heref"{type(self).__name__} '{self.name}' should be called on a list "
                             f"of inputs, got a single tensor of shape "
                             f"{utils.shape_text(inputs.shape.as_list())}")
        ranks = [x.shape.rank for x in inputs]
        top = max(ranks)
        aligned = []
        for x, rank in zip(inputs, ranks):
            for _ in range(top - rank):
                x = manip.expand_dims(x, 1)
            aligned.append(x)
        return self._merge_function(aligned)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        output = self._output_without_batch(shapes)
        batches = {s[0] for s in shapes if s is not None} - {None}
        return (batches.pop() if len(batches) == 1 else None,) + tuple(output)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or any(m is None for m in mask):
            return None
        return functools.reduce(math_ops.logical_or, mask)


class Add(_Merge):
    """Sum of the inputs (`keras.layers.Add`)."""

    def _merge_function(self, inputs):
        return functools.reduce(math_ops.add, inputs)


class Subtract(_Merge):
    """The first input minus the second (`keras.layers.Subtract`)."""

    max_inputs = 2

    def _merge_function(self, inputs):
        return math_ops.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """Product of the inputs (`keras.layers.Multiply`)."""

    def _merge_function(self, inputs):
        return functools.reduce(math_ops.multiply, inputs)


class Average(_Merge):
    """Mean of the inputs (`keras.layers.Average`)."""

    def _merge_function(self, inputs):
        return functools.reduce(math_ops.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Element-wise maximum of the inputs (`keras.layers.Maximum`)."""

    def _merge_function(self, inputs):
        return functools.reduce(math_ops.maximum, inputs)


class Minimum(_Merge):
    """Element-wise minimum of the inputs (`keras.layers.Minimum`)."""

    def _merge_function(self, inputs):
        return functools.reduce(math_ops.minimum, inputs)


class Concatenate(_Merge):
    """Concatenates the inputs along `axis` (`keras.layers.Concatenate`)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        shapes = self._check_list(input_shape)
        self._check_shapes(shapes)
        self.built = True

    def _check_shapes(self, shapes):
        known = [s for s in shapes if s is not None]
        if len({len(s) for s in known}) > 1:
            self._mismatch(shapes)
        if not known:
            return
        axis = self.axis % len(known[0])
        for dim in range(len(known[0])):
            sizes = {s[dim] for s in known if s[dim] is not None}
            if dim != axis and len(sizes) > 1:
                self._mismatch(shapes)

    def _mismatch(self, shapes):
        raise ValueError(f"Concatenate '{self.name}' expects inputs with matching shapes except "
                         f"for the concatenation axis {self.axis}, got input shapes {shapes}")

    def call(self, inputs):
        return manip.concat(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        self._check_shapes(shapes)
        output = list(shapes[0])
        for shape in shapes[1:]:
            if output[self.axis] is None or shape[self.axis] is None:
                output[self.axis] = None
                break
            output[self.axis] += shape[self.axis]
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = array_ops.ones_like(x, dtype="bool")
            elif m.shape.rank < x.shape.rank:
                m = math_ops.logical_or(manip.expand_dims(m, -1),
                                        array_ops.zeros_like(x, dtype="bool"))
            masks.append(m)
        return reduce_ops.reduce_any(manip.concat(masks, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def batch_dot(x, y, axes):
    """Dot product of each batch entry of `x` and `y` over `axes` (one per input); the result
    has x's remaining axes then y's, and at least rank 2 (Keras' `batch_dot`)."""
    letters = "bcdefghijklmnopqrstuvwxyz"
    rank_x, rank_y = x.shape.rank, y.shape.rank
    x_terms = ["a"] + list(letters[:rank_x - 1])
    y_terms = ["a"] + list(letters[rank_x - 1:rank_x + rank_y - 2])
    y_terms[axes[1]] = x_terms[axes[0]]
    output = ["a"] + [t for i, t in enumerate(x_terms) if i not in (0, axes[0])] + [
        t for i, t in enumerate(y_terms) if i not in (0, axes[1])]
    result = linalg_ops.einsum(f"{''.join(x_terms)},{''.join(y_terms)}->{''.join(output)}",
                               x, y)
    return manip.expand_dims(result, 1) if len(output) == 1 else result


class Dot(_Merge):
    """Batched dot product of two inputs over `axes` (`keras.layers.Dot`); `normalize=True`
    takes the cosine proximity (inputs L2-normalized along the axes first)."""

    max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2 or not all(
                    isinstance(a, int) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: expected an int or a "
                                 f"list/tuple of 2 ints. Received: axes={axes}")
            axes = list(axes)
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, rank_x, rank_y):
        if isinstance(self.axes, int):
            return [self.axes % rank_x, self.axes % rank_y] if self.axes < 0 else [self.axes] * 2
        return [a % r if a < 0 else a for a, r in zip(self.axes, (rank_x, rank_y))]

    def build(self, input_shape):
        first, second = self._check_list(input_shape)
        axes = self._axes(len(first), len(second))
        if first[axes[0]] is not None and second[axes[1]] is not None and \
                first[axes[0]] != second[axes[1]]:
            raise ValueError(f"Dot '{self.name}' expects equal sizes on axes {axes}, got input "
                             f"shapes {utils.shape_text(first)} and {utils.shape_text(second)}")
        self.built = True

    def call(self, inputs):
        x, y = inputs
        axes = self._axes(x.shape.rank, y.shape.rank)
        if self.normalize:
            x = _l2_normalize(x, axes[0])
            y = _l2_normalize(y, axes[1])
        return batch_dot(x, y, axes)

    def compute_output_shape(self, input_shape):
        first, second = (list(s) for s in self._check_list(input_shape))
        axes = self._axes(len(first), len(second))
        first.pop(axes[0])
        second.pop(axes[1])
        output = first + second[1:]
        return tuple(output + [1] if len(output) == 1 else output)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def _l2_normalize(x, axis):
    squares = reduce_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
    return x * math_ops.minimum(math_ops.rsqrt(squares), 1e7)


def _functional(cls, inputs, **kwargs):
    return cls(**kwargs)(inputs)


def add(inputs, **kwargs):
    """Functional form of `Add`: the sum of a list of inputs."""
    return _functional(Add, inputs, **kwargs)


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`: inputs[0] - inputs[1]."""
    return _functional(Subtract, inputs, **kwargs)


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`: the product of a list of inputs."""
    return _functional(Multiply, inputs, **kwargs)


def average(inputs, **kwargs):
    """Functional form of `Average`: the mean of a list of inputs."""
    return _functional(Average, inputs, **kwargs)


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`: the element-wise maximum of a list of inputs."""
    return _functional(Maximum, inputs, **kwargs)


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`: the element-wise minimum of a list of inputs."""
    return _functional(Minimum, inputs, **kwargs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: the inputs joined along `axis`."""
    return _functional(Concatenate, inputs, axis=axis, **kwargs)


def dot(inputs, axes=-1, **kwargs):
    """Functional form of `Dot`: the batched dot product of two inputs over `axes`."""
    return _functional(Dot, inputs, axes=axes, **kwargs)
