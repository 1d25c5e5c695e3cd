"""`tf.nn`: activations, softmax, the cross-entropy losses, bias_add, embedding lookup and
in_top_k.

Activations with a cheap fused gradient (Relu, Elu, LeakyRelu ...) are primitives with a
gradient primitive beside them, as in TF; the rest (gelu, silu, crelu, the sigmoid losses) are
composites. Normalisation and dropout live in `nn_norm.py`; convolution and pooling in `conv.py` / `pool.py`. Element-wise functions that are also
`tf.math` ops (sigmoid, tanh, softplus, top_k) are defined in math.py / reduce.py and only
re-exported here.
"""


from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import indexing, manip
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops
from ndflow.ops._factory import broadcast_shape, unary_op
from ndflow.ops.math import sigmoid, softplus, tanh  # noqa: F401 - re-exported as tf.nn.*
from ndflow.ops.nn_norm import (  # noqa: F401 - re-exported as tf.nn.*
    batch_norm_with_global_normalization,
    batch_normalization,
    dropout,
    fused_batch_norm,
    l2_normalize,
    local_response_normalization,
    lrn,
    moments,
    normalize_moments,
    sufficient_statistics,
    weighted_moments,
)
from ndflow.ops.nn_lookup import embedding_lookup, in_top_k  # noqa: F401 - re-exported
from ndflow.ops.reduce import top_k  # noqa: F401 - re-exported

F = dtypes.FLOATS
REAL = dtypes.REAL
INDEX = frozenset([dtypes.int32, dtypes.int64])
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _zero(xp, x):
    return xp.zeros((), x.dtype)


def _same_shape_infer(name):
    def infer(dy, x, **attrs):
        if dy.dtype is not x.dtype:
            raise TypeError(f"{name}: cannot mix dtypes {dy.dtype.name} and {x.dtype.name}")
        return Spec(broadcast_shape(name, dy.shape, x.shape), dy.dtype)

    return infer


def _elementwise_infer(x, **attrs):
    return Spec(x.shape, x.dtype)


# --- relu family -----------------------------------------------------------------------------

@primitive("Relu", dtypes=REAL)
class Relu:
    infer = _elementwise_infer

    fresh_output = True

    def kernel(xp, x):
        return xp.maximum(x, _zero(xp, x))  # NaN stays NaN, as TF

    def kernel_into(xp, x):
        return xp.maximum(x, _zero(xp, x), out=x)

    def grad(op, dy):
        # From the output, as TF does (y > 0 exactly where x > 0): the input then dies at the
        # Relu, which may write into it.
        return [execute("ReluGrad", dy, op.outputs[0])]


@primitive("ReluGrad", dtypes=REAL)
class ReluGrad:
    """dy where x > 0, else 0: the gradient at 0 is 0, as TF's."""

    infer = _same_shape_infer("ReluGrad")

    fresh_output = True

    # dy times the mask, as TF computes it (a NaN or inf dy where x <= 0 gives NaN, as in TF):
    # branch-free, 6x faster than a select on random signs.
    def kernel(xp, dy, x):
        return xp.multiply(dy, x > 0)

    def kernel_into(xp, dy, x):
        return xp.multiply(dy, x > 0, out=dy)

    def grad(op, ddy):
        return [execute("ReluGrad", ddy, op.inputs[1]), None]


@primitive("Relu6", dtypes=REAL)
class Relu6:
    infer = _elementwise_infer

    def kernel(xp, x):
        return xp.minimum(xp.maximum(x, _zero(xp, x)), xp.asarray(6, x.dtype))

    def grad(op, dy):
        return [execute("Relu6Grad", dy, op.inputs[0])]


@primitive("Relu6Grad", dtypes=REAL)
class Relu6Grad:
    """dy where 0 < x < 6: 0 at both corners, as TF's."""

    infer = _same_shape_infer("Relu6Grad")

    def kernel(xp, dy, x):
        return xp.where((x > 0) & (x < 6), dy, _zero(xp, dy))

    def grad(op, ddy):
        return [execute("Relu6Grad", ddy, op.inputs[1]), None]


@primitive("LeakyRelu", dtypes=F)
class LeakyRelu:
    infer = _elementwise_infer

    def kernel(xp, x, alpha):
        return xp.where(x > 0, x, x * alpha)

    def grad(op, dy):
        return [execute("LeakyReluGrad", dy, op.inputs[0], alpha=op.get_attr("alpha"))]


@primitive("LeakyReluGrad", dtypes=F)
class LeakyReluGrad:
    """dy where x > 0, else alpha * dy (alpha at 0, as TF)."""

    infer = _same_shape_infer("LeakyReluGrad")

    def kernel(xp, dy, x, alpha):
        return xp.where(x > 0, dy, dy * alpha)

    def grad(op, ddy):
        alpha = op.get_attr("alpha")
        return [execute("LeakyReluGrad", ddy, op.inputs[1], alpha=alpha), None]


def _negative_expm1(xp, x):
    """expm1 of min(x, 0): never overflows for large positive x."""
    return xp.expm1(xp.minimum(x, _zero(xp, x)))


@primitive("Elu", dtypes=F)
class Elu:
    infer = _elementwise_infer

    def kernel(xp, x):
        return xp.where(x < 0, _negative_expm1(xp, x), x)

    def grad(op, dy):
        return [execute("EluGrad", dy, op.outputs[0])]


@primitive("EluGrad", dtypes=F)
class EluGrad:
    """From the output y: dy * (y + 1) where y < 0, else dy (1 at 0, as TF)."""

    infer = _same_shape_infer("EluGrad")

    def kernel(xp, dy, y):
        return xp.where(y < 0, dy * (y + 1), dy)

    def grad(op, ddy):
        dy, y = op.inputs
        negative = math_ops.less(y, 0)
        return [execute("EluGrad", ddy, y),
                indexing.where(negative, math_ops.multiply(ddy, dy), array_ops.zeros_like(dy))]


@primitive("Selu", dtypes=F)
class Selu:
    infer = _elementwise_infer

    def kernel(xp, x):
        return _SELU_SCALE * xp.where(x < 0, _SELU_ALPHA * _negative_expm1(xp, x), x)

    def grad(op, dy):
        return [execute("SeluGrad", dy, op.outputs[0])]


@primitive("SeluGrad", dtypes=F)
class SeluGrad:
    """From the output y: dy * (y + scale * alpha) where y < 0, else dy * scale."""

    infer = _same_shape_infer("SeluGrad")

    def kernel(xp, dy, y):
        return xp.where(y < 0, dy * (y + _SELU_SCALE * _SELU_ALPHA), dy * _SELU_SCALE)

    def grad(op, ddy):
        dy, y = op.inputs
        negative = math_ops.less(y, 0)
        return [execute("SeluGrad", ddy, y),
                indexing.where(negative, math_ops.multiply(ddy, dy), array_ops.zeros_like(dy))]


_softsign = unary_op(
    "Softsign", lambda xp, x: x / (1 + xp.abs(x)),
    lambda op, dy: [math_ops.realdiv(dy, math_ops.square(math_ops.add(
        math_ops.abs(op.inputs[0]), 1)))], F)


def relu(features, name=None):
    """max(features, 0) element-wise; the gradient at 0 is 0 (`tf.nn.relu`)."""
    return execute("Relu", features, name=name)


def relu6(features, name=None):
    """min(max(features, 0), 6) element-wise (`tf.nn.relu6`)."""
    return execute("Relu6", features, name=name)


def leaky_relu(features, alpha=0.2, name=None):
    """features where positive, else alpha * features (`tf.nn.leaky_relu`).

    Integer features are cast to float32 first, as TF does.
    """
    features = convert_to_tensor(features)
    if features.dtype.is_integer:
        features = array_ops.cast(features, dtypes.float32)
    return execute("LeakyRelu", features, alpha=float(alpha), name=name)


def elu(features, name=None):
    """exp(features) - 1 where negative, else features (`tf.nn.elu`, alpha = 1)."""
    return execute("Elu", features, name=name)


def selu(features, name=None):
    """scale * elu with alpha = 1.6732632..., scale = 1.0507009... (`tf.nn.selu`)."""
    return execute("Selu", features, name=name)


def softsign(features, name=None):
    """features / (abs(features) + 1) element-wise (`tf.nn.softsign`)."""
    return _softsign(features, name=name)


def _float_features(features, op_name):
    features = convert_to_tensor(features)
    if not features.dtype.is_floating:
        raise ValueError(f"{op_name}: features must be a floating point tensor, got dtype "
                         f"{features.dtype.name}")
    return features


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit (`tf.nn.gelu`).

    `approximate=False`: 0.5 * x * erfc(-x / sqrt(2)); `approximate=True`: TF's tanh form
    0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x^3))).
    """
    x = _float_features(features, "gelu")
    if approximate:
        inner = math_ops.multiply(0.7978845608028654,
                                  math_ops.add(x, math_ops.multiply(0.044715, math_ops.pow(x, 3))))
        return math_ops.multiply(math_ops.multiply(0.5, x), math_ops.add(1.0, tanh(inner)))
    return math_ops.multiply(math_ops.multiply(0.5, x),
                             math_ops.erfc(math_ops.multiply(x, -0.7071067811865476)))


def swish(features, beta=1.0):
    """x * sigmoid(beta * x) (`tf.nn.silu`, `tf.nn.swish`)."""
    features = convert_to_tensor(features)
    beta = array_ops.cast(beta, features.dtype)
    return math_ops.multiply(features, sigmoid(math_ops.multiply(beta, features)))


silu = swish


def crelu(features, axis=-1, name=None):
    """Concatenates relu(features) and relu(-features) along `axis` (`tf.nn.crelu`)."""
    features = convert_to_tensor(features)
    return manip.concat([relu(features), relu(math_ops.negative(features))], axis, name=name)


# --- softmax ---------------------------------------------------------------------------------

def _upcast(xp, x):
    """16-bit floats are computed in float32 (TF's CPU kernels accumulate in float)."""
    return x.astype(xp.float32) if x.dtype.itemsize < 4 else x


def _logits_infer(name):
    def infer(x):
        if x.shape is not None and len(x.shape) < 1:
            raise errors.InvalidArgumentError(
                f"{name}: logits must have >= 1 dimension, got shape {list(x.shape)}")
        return Spec(x.shape, x.dtype)

    return infer


def _shifted(xp, x):
    """x minus its maximum along the last axis (so exp never overflows)."""
    return x - xp.max(x, axis=-1, keepdims=True)


@primitive("Softmax", dtypes=F)
class Softmax:
    infer = _logits_infer("Softmax")

    def kernel(xp, x):
        if x.shape[-1] == 0:
            return x.copy()
        with xp.errstate(invalid="ignore"):
            e = xp.exp(_shifted(xp, _upcast(xp, x)))
            return (e / xp.sum(e, axis=-1, keepdims=True)).astype(x.dtype)

    def grad(op, dy):
        y = op.outputs[0]
        dot = reduce_ops.reduce_sum(math_ops.multiply(dy, y), -1, keepdims=True)
        return [math_ops.multiply(math_ops.subtract(dy, dot), y)]


@primitive("LogSoftmax", dtypes=F)
class LogSoftmax:
    infer = _logits_infer("LogSoftmax")

    def kernel(xp, x):
        if x.shape[-1] == 0:
            return x.copy()
        with xp.errstate(invalid="ignore", divide="ignore"):
            shifted = _shifted(xp, _upcast(xp, x))
            total = xp.sum(xp.exp(shifted), axis=-1, keepdims=True)
            return (shifted - xp.log(total)).astype(x.dtype)

    def grad(op, dy):
        total = reduce_ops.reduce_sum(dy, -1, keepdims=True)
        return [math_ops.subtract(dy, math_ops.multiply(math_ops.exp(op.outputs[0]), total))]


def _on_last_axis(op_type, logits, axis, name):
    """Runs a last-axis op along `axis` by swapping that axis with the last one (as TF)."""
    logits = convert_to_tensor(logits)
    rank = logits.shape.rank
    if axis == -1 or (rank is not None and axis == rank - 1):
        return execute(op_type, logits, name=name)
    if rank is None:
        raise ValueError(f"{op_type}: axis {axis} needs logits of known rank, got shape "
                         f"{logits.shape}")
    if not -rank <= axis < rank:
        raise errors.InvalidArgumentError(
            f"{op_type}: axis {axis} is out of range for logits of shape "
            f"{logits.shape.as_list()}")
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return manip.transpose(execute(op_type, manip.transpose(logits, perm)), perm)


def softmax(logits, axis=None, name=None):
    """exp(logits) / sum(exp(logits)) along `axis` (default last), stable for large logits."""
    return _on_last_axis("Softmax", logits, -1 if axis is None else int(axis), name)


def log_softmax(logits, axis=None, name=None):
    """logits - log(sum(exp(logits))) along `axis` (default last), stable for large logits."""
    return _on_last_axis("LogSoftmax", logits, -1 if axis is None else int(axis), name)


# --- cross-entropy losses --------------------------------------------------------------------

def _xent_features_infer(name, features):
    if features.shape is not None and len(features.shape) != 2:
        raise errors.InvalidArgumentError(
            f"{name}: logits must be 2-dimensional, got shape {list(features.shape)}")
    rows = None if features.shape is None else features.shape[0]
    return rows


@primitive("SoftmaxCrossEntropyWithLogits", dtypes=F, num_outputs=2)
class SoftmaxCrossEntropyWithLogits:
    """(loss, backprop): one fused pass; backprop = softmax(logits) - labels is the gradient."""

    def infer(features, labels):
        name = "SoftmaxCrossEntropyWithLogits"
        _xent_features_infer(name, features)
        if labels.shape is not None and len(labels.shape) != 2:
            raise errors.InvalidArgumentError(
                f"{name}: labels must be 2-dimensional, got shape {list(labels.shape)}")
        try:
            shape = broadcast_shape(name, features.shape, labels.shape)
        except errors.InvalidArgumentError:
            raise errors.InvalidArgumentError(
                f"{name}: logits and labels must be broadcastable, got logits shape "
                f"{list(features.shape)} and labels shape {list(labels.shape)}") from None
        rows = None if shape is None else shape[0]
        return Spec((rows,), features.dtype), Spec(shape, features.dtype)

    def kernel(xp, features, labels):
        x = _upcast(xp, features)
        z = _upcast(xp, labels)
        with xp.errstate(invalid="ignore", divide="ignore"):
            shifted = _shifted(xp, x) if x.shape[-1] else x
            log_total = xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
            loss = xp.sum(z * (log_total - shifted), axis=-1)
            backprop = xp.exp(shifted - log_total) - z
        return loss.astype(features.dtype), backprop.astype(features.dtype)

    def grad(op, dloss, dbackprop):
        logits, labels = op.inputs
        dloss = manip.expand_dims(dloss, -1)
        dlogits = math_ops.add(math_ops.multiply(dloss, op.outputs[1]),
                               _softmax_jvp(logits, dbackprop))
        dlabels = math_ops.subtract(
            math_ops.multiply(dloss, math_ops.negative(execute("LogSoftmax", logits))),
            dbackprop)
        return [array_ops.unbroadcast(dlogits, logits), array_ops.unbroadcast(dlabels, labels)]


def _softmax_jvp(logits, v):
    """(v - sum(v * s)) * s with s = softmax(logits): carries the gradient of `backprop`."""
    s = execute("Softmax", logits)
    dot = reduce_ops.reduce_sum(math_ops.multiply(v, s), -1, keepdims=True)
    return math_ops.multiply(math_ops.subtract(v, dot), s)


def _label_error(labels, depth):
    low, high = labels.min(), labels.max()
    bad = low if low < 0 else high
    values = " ".join(str(v) for v in labels.tolist())
    return errors.InvalidArgumentError(
        f"SparseSoftmaxCrossEntropyWithLogits: Received a label value of {bad} which is "
        f"outside the valid range of [0, {depth}).  Label values: {values}")


@primitive("SparseSoftmaxCrossEntropyWithLogits", dtypes=F, same_dtype=False, num_outputs=2)
class SparseSoftmaxCrossEntropyWithLogits:
    def infer(features, labels):
        name = "SparseSoftmaxCrossEntropyWithLogits"
        rows = _xent_features_infer(name, features)
        if labels.dtype not in INDEX:
            raise TypeError(f"{name}: labels must be int32 or int64, got {labels.dtype.name}")
        if labels.shape is not None:
            if len(labels.shape) != 1:
                raise errors.InvalidArgumentError(
                    f"{name}: labels must be 1-D, got shape {list(labels.shape)}")
            if rows is not None and labels.shape[0] not in (None, rows):
                raise errors.InvalidArgumentError(
                    f"{name}: logits and labels must have the same first dimension, got "
                    f"logits shape {list(features.shape)} and labels shape "
                    f"{list(labels.shape)}")
            rows = labels.shape[0] if rows is None else rows
        depth = None if features.shape is None else features.shape[1]
        known = labels.value is not None and depth is not None and labels.value.size
        if known and (labels.value.min() < 0 or labels.value.max() >= depth):
            raise _label_error(labels.value, depth)
        return Spec((rows,), features.dtype), Spec((rows, depth), features.dtype)

    def kernel(xp, features, labels):
        depth = features.shape[1]
        # Raised from the kernel too: in a graph the labels are only known at run time.
        if labels.size and (labels.min() < 0 or labels.max() >= depth):
            raise _label_error(labels, depth)
        x = _upcast(xp, features)
        with xp.errstate(invalid="ignore", divide="ignore"):
            shifted = _shifted(xp, x) if depth else x
            log_total = xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
            rows = xp.arange(labels.shape[0])
            loss = log_total[:, 0] - shifted[rows, labels]
            backprop = xp.exp(shifted - log_total)
            backprop[rows, labels] -= 1
        return loss.astype(features.dtype), backprop.astype(features.dtype)

    def grad(op, dloss, dbackprop):
        # TF refuses second derivatives here; the softmax term makes them exact instead.
        logits = op.inputs[0]
        dlogits = math_ops.add(math_ops.multiply(manip.expand_dims(dloss, -1),
                                                 op.outputs[1]),
                               _softmax_jvp(logits, dbackprop))
        return [dlogits, None]


def _flat_outer_shape(x):
    """x's shape without its last axis: a list when static, else an int32 tensor."""
    if x.shape.is_fully_defined():
        return x.shape.as_list()[:-1]
    return array_ops.shape(x)[:-1]


def _to_2d(x):
    depth = x.shape[-1] if x.shape.rank and x.shape[-1] is not None else array_ops.shape(x)[-1:]
    if isinstance(depth, Tensor):
        return array_ops.reshape(x, manip.concat([[-1], depth], 0))
    return array_ops.reshape(x, [-1, depth])


def _xent_precision(logits, labels):
    """float16/bfloat16 losses are computed in float32 and cast back, as TF does."""
    if logits.dtype in (dtypes.float16, dtypes.bfloat16):
        return array_ops.cast(logits, dtypes.float32), array_ops.cast(labels, dtypes.float32)
    return logits, labels


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Cross entropy between `labels` (a probability distribution along `axis`, possibly soft)
    and softmax(`logits`); gradients flow to both (`tf.nn.softmax_cross_entropy_with_logits`).

    Returns:
      A tensor of logits' shape without `axis`, of logits' dtype.
    """
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype_hint=logits.dtype)
    if labels.dtype is not logits.dtype:
        labels = array_ops.cast(labels, logits.dtype)
    rank = logits.shape.rank
    if rank == 0:
        raise errors.InvalidArgumentError(
            "SoftmaxCrossEntropyWithLogits: logits must have >= 1 dimension, got shape []")
    if axis != -1 and not (rank is not None and axis == rank - 1):
        if rank is None:
            raise ValueError(f"softmax_cross_entropy_with_logits: axis {axis} needs logits of "
                             f"known rank")
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        logits = manip.transpose(logits, perm)
        labels = manip.transpose(labels, perm)
    dtype = logits.dtype
    outer = _flat_outer_shape(logits)
    flat_logits, flat_labels = _xent_precision(_to_2d(logits), _to_2d(labels))
    loss, _ = execute("SoftmaxCrossEntropyWithLogits", flat_logits, flat_labels)
    return array_ops.cast(array_ops.reshape(loss, outer), dtype)


softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Cross entropy between integer class `labels` and softmax(`logits`) over the last axis
    (`tf.nn.sparse_softmax_cross_entropy_with_logits`).

    Raises:
      ValueError: when labels' rank is not logits' rank - 1 or their shapes differ.
      InvalidArgumentError: for a label outside [0, num_classes) (as TF on CPU).
    """
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype_hint=dtypes.int32)
    lrank, rank = labels.shape.rank, logits.shape.rank
    if rank == 0:
        raise ValueError(f"Logits cannot be scalars - received shape {logits.shape}.")
    if lrank is not None and rank is not None:
        if lrank != rank - 1:
            raise ValueError(
                f"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                f"labels.shape={labels.shape} of rank {lrank} and logits.shape={logits.shape} "
                f"of rank {rank}")
        if not labels.shape.is_compatible_with(logits.shape[:-1]):
            raise ValueError(
                f"`labels.shape` must equal `logits.shape` except for the last dimension. "
                f"Received: labels.shape={labels.shape} and logits.shape={logits.shape}")
    dtype = logits.dtype
    outer = _flat_outer_shape(logits)
    flat_logits, _ = _xent_precision(_to_2d(logits), logits)
    loss, _ = execute("SparseSoftmaxCrossEntropyWithLogits", flat_logits,
                      array_ops.reshape(labels, [-1]))
    return array_ops.cast(array_ops.reshape(loss, outer), dtype)


def _same_shape(op_name, first, second, what):
    if not first.shape.is_compatible_with(second.shape):
        raise ValueError(f"{op_name}: `{what[0]}` and `{what[1]}` must have the same shape, "
                         f"received ({first.shape} vs {second.shape}).")


def _relu_and_neg_abs(logits):
    """(max(x, 0), -|x|) with `where`, so that the gradient at 0 is defined (TF's choice)."""
    nonnegative = math_ops.greater_equal(logits, 0)
    zeros = array_ops.zeros_like(logits)
    return (indexing.where(nonnegative, logits, zeros),
            indexing.where(nonnegative, math_ops.negative(logits), logits))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Logistic loss max(x, 0) - x * z + log(1 + exp(-|x|)), finite for any logits
    (`tf.nn.sigmoid_cross_entropy_with_logits`)."""
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits: both labels and logits must be "
                         "provided")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype_hint=logits.dtype)
    _same_shape("sigmoid_cross_entropy_with_logits", logits, labels, ("logits", "labels"))
    relu_logits, neg_abs = _relu_and_neg_abs(logits)
    return math_ops.add(math_ops.subtract(relu_logits, math_ops.multiply(logits, labels)),
                        math_ops.log1p(math_ops.exp(neg_abs)), name=name)


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Logistic loss with the positive term weighted by `pos_weight`
    (`tf.nn.weighted_cross_entropy_with_logits`):
    (1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0))."""
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype_hint=logits.dtype)
    _same_shape("weighted_cross_entropy_with_logits", logits, labels, ("logits", "labels"))
    pos_weight = convert_to_tensor(pos_weight, dtype_hint=logits.dtype)
    log_weight = math_ops.add(1, math_ops.multiply(math_ops.subtract(pos_weight, 1), labels))
    softplus_neg = math_ops.add(math_ops.log1p(math_ops.exp(math_ops.negative(
        math_ops.abs(logits)))), relu(math_ops.negative(logits)))
    return math_ops.add(math_ops.multiply(math_ops.subtract(1, labels), logits),
                        math_ops.multiply(log_weight, softplus_neg), name=name)


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """exp(log_input) - log_input * targets, plus Stirling's term for targets > 1 when
    `compute_full_loss` (`tf.nn.log_poisson_loss`)."""
    log_input = convert_to_tensor(log_input)
    targets = convert_to_tensor(targets, dtype_hint=log_input.dtype)
    _same_shape("log_poisson_loss", log_input, targets, ("log_input", "targets"))
    result = math_ops.subtract(math_ops.exp(log_input), math_ops.multiply(log_input, targets))
    if not compute_full_loss:
        return result
    in_unit = math_ops.logical_and(math_ops.greater_equal(targets, 0),
                                   math_ops.less_equal(targets, 1))
    # Stirling's term on 1 where it is unused: no 0 * log(0) nan, in values or gradients.
    safe = indexing.where(in_unit, array_ops.ones_like(targets), targets)
    stirling = math_ops.add(
        math_ops.subtract(math_ops.multiply(safe, math_ops.log(safe)), safe),
        math_ops.multiply(0.5, math_ops.log(math_ops.multiply(2 * 3.141592653589793, safe))))
    return math_ops.add(result, indexing.where(in_unit, array_ops.zeros_like(targets), stirling))


def l2_loss(t, name=None):
    """sum(t ** 2) / 2, a scalar (`tf.nn.l2_loss`)."""
    t = convert_to_tensor(t)
    return math_ops.multiply(reduce_ops.reduce_sum(math_ops.square(t)), 0.5, name=name)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size; the batch size defaults to
    the first dimension of `per_example_loss` (one replica) (`tf.nn.compute_average_loss`)."""
    loss = convert_to_tensor(per_example_loss)
    if sample_weight is not None:
        loss = math_ops.multiply(loss, convert_to_tensor(sample_weight, dtype_hint=loss.dtype))
    if global_batch_size is None:
        if loss.shape.rank == 0:
            raise ValueError("compute_average_loss: per_example_loss must have rank >= 1, got "
                             "a scalar")
        global_batch_size = array_ops.cast(array_ops.shape(loss)[0], loss.dtype)
    total = reduce_ops.reduce_sum(loss)
    return math_ops.divide_no_nan(total, array_ops.cast(global_batch_size, loss.dtype))


def scale_regularization_loss(regularization_loss):
    """The sum of the regularization losses, scaled for one replica
    (`tf.nn.scale_regularization_loss`)."""
    if isinstance(regularization_loss, (list, tuple)):
        regularization_loss = math_ops.add_n(list(regularization_loss))
    return convert_to_tensor(regularization_loss)


def zero_fraction(value, name=None):
    """The fraction of zeros in `value`, a float32 scalar (`tf.math.zero_fraction`)."""
    value = convert_to_tensor(value)
    zeros = array_ops.cast(math_ops.equal(value, array_ops.zeros_like(value)), dtypes.float32)
    return reduce_ops.reduce_mean(zeros, name=name)


# --- bias_add --------------------------------------------------------------------------------

def _channels_first(data_format):
    return data_format is not None and str(data_format).startswith("NC")


def _bias_shape(rank, channels_first):
    """The shape that broadcasts a [C] bias against a value of `rank`."""
    if not channels_first:
        return (-1,)
    return (-1,) + (1,) * (rank - 2)


@primitive("BiasAdd", dtypes=dtypes.NUMERIC)
class BiasAdd:
    def infer(value, bias, data_format="NHWC"):
        if value.shape is not None and len(value.shape) < 2:
            raise errors.InvalidArgumentError(
                f"BiasAdd: Input tensor must be at least 2D: {list(value.shape)}")
        if bias.shape is not None and len(bias.shape) != 1:
            raise errors.InvalidArgumentError(f"BiasAdd: Biases must be 1D: {list(bias.shape)}")
        if value.shape is not None and bias.shape is not None:
            axis = 1 if _channels_first(data_format) else -1
            channels = value.shape[axis]
            if None not in (channels, bias.shape[0]) and channels != bias.shape[0]:
                where = "channel" if axis == 1 else "last"
                raise errors.InvalidArgumentError(
                    f"BiasAdd: Must provide as many biases as the {where} dimension of the "
                    f"input tensor: {list(bias.shape)} vs. {list(value.shape)}")
        return Spec(value.shape, value.dtype)

    fresh_output = True

    def kernel(xp, value, bias, data_format="NHWC"):
        if _channels_first(data_format):
            bias = bias.reshape(_bias_shape(value.ndim, True))
        return value + bias

    def kernel_into(xp, value, bias, data_format="NHWC"):
        if _channels_first(data_format):
            bias = bias.reshape(_bias_shape(value.ndim, True))
        return xp.add(value, bias, out=value)

    def grad(op, dy):
        data_format = op.get_attr("data_format")
        return [dy, execute("BiasAddGrad", dy, data_format=data_format)]


@primitive("BiasAddGrad", dtypes=dtypes.NUMERIC)
class BiasAddGrad:
    """Sums the gradient over every axis but the channel axis."""

    def infer(dy, data_format="NHWC"):
        if dy.shape is None:
            return Spec((None,), dy.dtype)
        if len(dy.shape) < 2:
            raise errors.InvalidArgumentError(
                f"BiasAddGrad: Input tensor must be at least 2D: {list(dy.shape)}")
        return Spec((dy.shape[1 if _channels_first(data_format) else -1],), dy.dtype)

    def kernel(xp, dy, data_format="NHWC"):
        axis = 1 if _channels_first(data_format) else dy.ndim - 1
        if dy.dtype.char in "fd" and dy.size:
            # A GEMV with a ones vector: BLAS sums ~10x faster than a strided NumPy reduction
            # (and accumulates in blocks, so no less accurately).
            channels = dy.shape[axis]
            if axis == dy.ndim - 1:
                rows = dy.reshape(-1, channels)
                return xp.ones(rows.shape[0], dy.dtype) @ rows
            inner = dy.reshape(dy.shape[0], channels, -1)
            per_row = inner @ xp.ones(inner.shape[-1], dy.dtype)
            return xp.ones(dy.shape[0], dy.dtype) @ per_row
        axes = tuple(i for i in range(dy.ndim) if i != axis)
        accumulate = xp.float32 if dy.dtype.itemsize < 4 and dy.dtype.kind == "f" else None
        return xp.sum(dy, axis=axes, dtype=accumulate).astype(dy.dtype)

    def grad(op, ddb):
        dy = op.inputs[0]
        rank = dy.shape.rank
        channels_first = _channels_first(op.get_attr("data_format"))
        if rank is None:
            raise ValueError(f"BiasAddGrad: the second derivative needs a known rank, got "
                             f"shape {dy.shape}")
        shaped = array_ops.reshape(ddb, list(_bias_shape(rank, channels_first)))
        return [array_ops.broadcast_to(shaped, array_ops.shape_of(dy))]


def bias_add(value, bias, data_format=None, name=None):
    """Adds the 1-D `bias` along the channel axis of `value` (`tf.nn.bias_add`): the last axis,
    or axis 1 when `data_format` starts with "NC".

    Raises:
      InvalidArgumentError: when bias is not 1-D or its size is not the channel count.
    """
    if data_format is None:
        data_format = "NHWC"
    data_format = "NCHW" if _channels_first(data_format) else "NHWC"
    return execute("BiasAdd", value, bias, data_format=data_format, name=name)


API = {
    "math": ["softsign", "softmax", "log_softmax", "l2_normalize", "in_top_k",
             "zero_fraction"],
    "nn": ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "softsign",
           "softplus", "sigmoid", "tanh", "crelu", "softmax", "log_softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "log_poisson_loss", "l2_loss", "bias_add",
           "embedding_lookup", "in_top_k", "top_k", "compute_average_loss",
           "scale_regularization_loss", "zero_fraction", "moments", "batch_normalization",
           "fused_batch_norm", "l2_normalize", "local_response_normalization", "lrn",
           "dropout", "normalize_moments", "sufficient_statistics", "weighted_moments",
           "batch_norm_with_global_normalization"],
}
