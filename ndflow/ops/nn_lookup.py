"""tf.nn lookups: embedding_lookup (gradient as IndexedSlices through gather) and in_top_k.

Split from nn.py, which re-exports these names under tf.nn."""

from ndflow.framework import dtypes, errors
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import Tensor, convert_to_tensor
from ndflow.ops import indexing, manip
from ndflow.ops import math as math_ops

F = dtypes.FLOATS
INDEX = frozenset([dtypes.int32, dtypes.int64])


# --- embedding lookup and in_top_k -----------------------------------------------------------

def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of `params` at `ids` (any shape) (`tf.nn.embedding_lookup`).

    A list of params is a table sharded by TF's "div" strategy, which equals their
    concatenation. With `max_norm`, each looked-up embedding whose L2 norm exceeds it is
    rescaled to that norm. The gradient for a single params tensor is an IndexedSlices.
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup: params must be a non-empty list of tensors")
        params = params[0] if len(params) == 1 else manip.concat(list(params), 0)
    if not isinstance(params, Tensor) and not getattr(params, "_is_ndflow_variable", False):
        params = convert_to_tensor(params)
    ids = convert_to_tensor(ids, dtype_hint=dtypes.int32)
    result = indexing.gather(params, ids, name=name)
    if max_norm is None:
        return result
    ids_rank, result_rank = ids.shape.rank, result.shape.rank
    if ids_rank is None or result_rank is None:
        raise ValueError("embedding_lookup: max_norm needs ids and params of known rank")
    return math_ops.clip_by_norm(result, max_norm, axes=list(range(ids_rank, result_rank)))


@primitive("InTopKV2", dtypes=F, same_dtype=False)
class InTopKV2:
    def infer(predictions, targets, k):
        name = "InTopKV2"
        if predictions.shape is not None and len(predictions.shape) != 2:
            raise errors.InvalidArgumentError(
                f"{name}: predictions must be 2-dimensional, got shape "
                f"{list(predictions.shape)}")
        if targets.dtype not in INDEX or k.dtype not in INDEX:
            raise TypeError(f"{name}: targets and k must be int32 or int64, got "
                            f"{targets.dtype.name} and {k.dtype.name}")
        if targets.shape is not None and len(targets.shape) != 1:
            raise errors.InvalidArgumentError(
                f"{name}: targets must be 1-dimensional, got shape {list(targets.shape)}")
        rows = None if predictions.shape is None else predictions.shape[0]
        if targets.shape is not None and rows is not None and targets.shape[0] not in (None,
                                                                                        rows):
            raise errors.InvalidArgumentError(
                f"{name}: First dimension of predictions {rows} must match length of targets "
                f"{targets.shape[0]}")
        return Spec((rows if rows is not None else (targets.shape or (None,))[0],), dtypes.bool)

    def kernel(xp, predictions, targets, k):
        batch, classes = predictions.shape
        if classes == 0:
            return xp.zeros(batch, dtype=bool)
        valid = (targets >= 0) & (targets < classes)
        safe = xp.where(valid, targets, 0).astype(xp.intp)
        target_value = predictions[xp.arange(batch), safe][:, None]
        # Any non-finite value in the row makes the answer "cannot say": False, as TF.
        finite = xp.all(xp.isfinite(predictions), axis=1)
        larger = xp.sum(predictions > target_value, axis=1)
        return valid & finite & (larger < k)


def in_top_k(targets, predictions, k, name=None):
    """Whether each target class is among the top `k` predictions of its row; ties count in
    the target's favour, non-finite rows and out-of-range targets give False
    (`tf.math.in_top_k`)."""
    targets = convert_to_tensor(targets, dtype_hint=dtypes.int32)
    k = convert_to_tensor(k, dtype=targets.dtype)
    return execute("InTopKV2", predictions, targets, k, name=name)
