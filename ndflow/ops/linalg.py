"""Linear algebra: matrix products (MatMul, BatchMatMulV2, Einsum), tensordot, matvec, norms,
band parts, diagonals, trace and matrix transposes (`tf.linalg`).

Decompositions (svd, qr, cholesky, eig) and the matrix 2-norm that needs svd are not here yet
(issue #3). `tf.eye` is an array op; `tf.transpose` lives in `manip.py`.
"""

import string

import ml_dtypes
import numpy as np

from ndflow.framework import dtypes, errors, parallel
from ndflow.framework.op_registry import Spec, execute, primitive
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops
from ndflow.ops._factory import broadcast_shape

_COMPLEX = frozenset([dtypes.complex64, dtypes.complex128])
MATMUL_DTYPES = dtypes.FLOATS | _COMPLEX | {dtypes.int32, dtypes.int64, dtypes.uint8,
                                              dtypes.uint16, dtypes.uint32, dtypes.uint64}
EINSUM_DTYPES = dtypes.FLOATS | _COMPLEX | {dtypes.int32, dtypes.int64}
# NumPy dtype objects, not names: `ndarray.dtype.name` is a slow Python property (~1 us).
_HALF = frozenset([np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)])


def _text(shape):
    return "<unknown>" if shape is None else str(tuple(shape))


def _conj(x):
    """conj for complex tensors, nothing for real ones (saves an op on the common path)."""
    return math_ops.conj(x) if x.dtype.is_complex else x


def _in_float32(xp, func, *arrays):
    """Runs func in float32 for float16/bfloat16: NumPy has no BLAS path for them (~50x)."""
    dtype = arrays[0].dtype
    if dtype not in _HALF:
        return func(*arrays)
    return func(*[a.astype(xp.float32) for a in arrays]).astype(dtype)


def _adjoint_array(xp, x):
    swapped = xp.swapaxes(x, -1, -2)
    return xp.conj(swapped) if x.dtype.kind == "c" else swapped


# --- matrix products -------------------------------------------------------------------------

@primitive("MatMul", dtypes=MATMUL_DTYPES)
class MatMul:
    fresh_output = True

    def infer(a, b, transpose_a, transpose_b):
        if a.rank not in (None, 2) or b.rank not in (None, 2):
            raise errors.InvalidArgumentError(
                f"MatMul: inputs must be matrices (rank 2), got shapes {_text(a.shape)} and "
                f"{_text(b.shape)}")
        rows, inner_a = (None, None) if a.shape is None else a.shape[::-1 if transpose_a else 1]
        inner_b, cols = (None, None) if b.shape is None else b.shape[::-1 if transpose_b else 1]
        if inner_a is not None and inner_b is not None and inner_a != inner_b:
            raise errors.InvalidArgumentError(
                f"MatMul: inner dimensions must match, got shapes {_text(a.shape)} and "
                f"{_text(b.shape)} (transpose_a={transpose_a}, transpose_b={transpose_b})")
        return Spec((rows, cols), a.dtype)

    def kernel(xp, a, b, transpose_a, transpose_b):
        if a.dtype in _HALF:
            return _in_float32(xp, xp.matmul, a.T if transpose_a else a,
                               b.T if transpose_b else b)
        return parallel.matmul(xp, a.T if transpose_a else a, b.T if transpose_b else b)

    def grad(op, dy):
        a = _conj(op.inputs[0])
        b = _conj(op.inputs[1])
        ta = op.get_attr("transpose_a")
        tb = op.get_attr("transpose_b")
        if not ta and not tb:
            return [_mm(dy, b, False, True), _mm(a, dy, True, False)]
        if not ta:
            return [_mm(dy, b, False, False), _mm(dy, a, True, False)]
        if not tb:
            return [_mm(b, dy, False, True), _mm(a, dy, False, False)]
        return [_mm(b, dy, True, True), _mm(dy, a, True, True)]


def _mm(a, b, transpose_a, transpose_b):
    return execute("MatMul", a, b, transpose_a=transpose_a, transpose_b=transpose_b)


@primitive("BatchMatMulV2", dtypes=MATMUL_DTYPES)
class BatchMatMulV2:
    def infer(x, y, adj_x, adj_y):
        if x.rank is not None and x.rank < 2 or y.rank is not None and y.rank < 2:
            raise errors.InvalidArgumentError(
                f"BatchMatMulV2: inputs must have rank >= 2 (use tf.linalg.matvec for a "
                f"vector), got shapes {_text(x.shape)} and {_text(y.shape)}")
        if x.shape is None or y.shape is None:
            return Spec(None, x.dtype)
        rows, inner_x = x.shape[-2:][::-1] if adj_x else x.shape[-2:]
        inner_y, cols = y.shape[-2:][::-1] if adj_y else y.shape[-2:]
        if inner_x is not None and inner_y is not None and inner_x != inner_y:
            raise errors.InvalidArgumentError(
                f"BatchMatMulV2: inner dimensions must match, got shapes {_text(x.shape)} and "
                f"{_text(y.shape)} (adjoint_a={adj_x}, adjoint_b={adj_y})")
        try:
            batch = broadcast_shape("BatchMatMulV2", x.shape[:-2], y.shape[:-2])
        except errors.InvalidArgumentError:
            raise errors.InvalidArgumentError(
                f"BatchMatMulV2: batch dimensions must broadcast, got shapes {_text(x.shape)} "
                f"and {_text(y.shape)}") from None
        return Spec(batch + (rows, cols), x.dtype)

    def kernel(xp, x, y, adj_x, adj_y):
        x = _adjoint_array(xp, x) if adj_x else x
        y = _adjoint_array(xp, y) if adj_y else y
        return _in_float32(xp, xp.matmul, x, y)

    def grad(op, dy):
        x, y = op.inputs
        adj_x = op.get_attr("adj_x")
        adj_y = op.get_attr("adj_y")
        if not adj_x and not adj_y:
            gx, gy = _bmm(dy, y, False, True), _bmm(x, dy, True, False)
        elif not adj_x:
            gx, gy = _bmm(dy, y, False, False), _bmm(dy, x, True, False)
        elif not adj_y:
            gx, gy = _bmm(y, dy, False, True), _bmm(x, dy, False, False)
        else:
            gx, gy = _bmm(y, dy, True, True), _bmm(dy, x, True, True)
        return [array_ops.unbroadcast(gx, x), array_ops.unbroadcast(gy, y)]


def _bmm(x, y, adj_x, adj_y):
    return execute("BatchMatMulV2", x, y, adj_x=adj_x, adj_y=adj_y)


def _convert_pair(a, b):
    """Converts two operands that share one dtype; a Python value adopts the other's dtype."""
    if isinstance(a, Tensor) or hasattr(type(a), "__tf_tensor__"):
        a = convert_to_tensor(a)
        return a, _convert_like(b, a.dtype)
    b = convert_to_tensor(b) if _is_tensor_like(b) else b
    if isinstance(b, Tensor):
        return _convert_like(a, b.dtype), b
    a = convert_to_tensor(a)
    return a, _convert_like(b, a.dtype)


def _is_tensor_like(value):
    return isinstance(value, Tensor) or hasattr(type(value), "__tf_tensor__")


def _convert_like(value, dtype):
    if _is_tensor_like(value):
        return convert_to_tensor(value)
    return convert_to_tensor(value, dtype=dtype)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """Multiplies matrix `a` by matrix `b` (`tf.linalg.matmul`, the `@` operator).

    Inputs of rank > 2 are batches of matrices whose batch dimensions broadcast. `transpose_*`
    transposes and `adjoint_*` conjugate-transposes the last two axes first. float16/bfloat16
    are computed in float32 and rounded back.

    Args:
      a, b: tensors of one dtype and rank >= 2.
      transpose_a, transpose_b, adjoint_a, adjoint_b: bools; at most one per operand.
      a_is_sparse, b_is_sparse: hints, ignored.
      output_type: int32 for (u)int8 inputs; otherwise must be the input dtype or None.
      name: ignored in eager mode.

    Returns:
      A tensor of shape `batch + [rows(a), cols(b)]`.

    Raises:
      ValueError: if both transpose and adjoint are set for one operand.
      InvalidArgumentError: on a rank below 2, mismatched inner or batch dimensions.
    """
    if (type(a) is EagerTensor and type(b) is EagerTensor and output_type is None
            and not (adjoint_a or adjoint_b) and a._value.ndim == 2 and b._value.ndim == 2):
        # The common eager case without conversions: straight to the dispatcher.
        return execute("MatMul", a, b, transpose_a=bool(transpose_a),
                       transpose_b=bool(transpose_b), name=name)
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    a, b = _convert_pair(a, b)
    if output_type is not None:
        a, b = _cast_for_output(a, b, dtypes.as_dtype(output_type))
    if a.shape.rank == 2 and b.shape.rank == 2:
        if adjoint_a:
            a, transpose_a = _conj(a), True
        if adjoint_b:
            b, transpose_b = _conj(b), True
        return execute("MatMul", a, b, transpose_a=bool(transpose_a),
                       transpose_b=bool(transpose_b), name=name)
    if transpose_a:  # TF's rewrite: transpose = adjoint of the conjugate
        a, adjoint_a = _conj(a), True
    if transpose_b:
        b, adjoint_b = _conj(b), True
    return execute("BatchMatMulV2", a, b, adj_x=bool(adjoint_a), adj_y=bool(adjoint_b),
                   name=name)


def _cast_for_output(a, b, output_type):
    if output_type is a.dtype:
        return a, b
    if a.dtype in (dtypes.int8, dtypes.uint8) and output_type is dtypes.int32:
        return array_ops.cast(a, output_type), array_ops.cast(b, output_type)
    raise errors.InvalidArgumentError(
        f"MatMul: output_type {output_type.name} needs (u)int8 inputs and int32 output, got "
        f"inputs of dtype {a.dtype.name}")


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None):
    """Multiplies a (batch of) matrix `a` by a (batch of) vector `b` (`tf.linalg.matvec`)."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    a, b = _convert_pair(a, b)
    if adjoint_a:
        a = _conj(a)
    equation = "...ji,...j->...i" if transpose_a or adjoint_a else "...ij,...j->...i"
    return einsum(equation, a, b, name=name)


# --- einsum ----------------------------------------------------------------------------------

def _parse(equation, count):
    """Einsum equation -> (list of input label strings, output label string); the ellipsis
    is written '.' (one character). Adds the implicit output when there is no '->'."""
    text = equation.replace(" ", "")
    if "->" in text:
        lhs, output = text.split("->", 1)
    else:
        lhs, output = text, None
    inputs = [term.replace("...", ".") for term in lhs.split(",")]
    if len(inputs) != count:
        raise ValueError(f"Got {count} inputs for equation \"{equation}\", expecting "
                         f"{len(inputs)}")
    for term in inputs + ([] if output is None else [output.replace("...", ".")]):
        bad = [c for c in term if c != "." and c not in string.ascii_letters]
        if bad or term.count(".") > 1:
            raise ValueError(f"Einsum: invalid subscripts {term!r} in equation {equation!r}")
    if output is None:
        letters = "".join(inputs).replace(".", "")
        once = sorted(c for c in set(letters) if letters.count(c) == 1)
        output = ("." if any("." in t for t in inputs) else "") + "".join(once)
    output = output.replace("...", ".")
    for label in output:
        if output.count(label) > 1:
            raise ValueError(f"Einsum: output subscript {label!r} appears more than once in "
                             f"{equation!r}")
        if not any(label in t for t in inputs):
            raise ValueError(f"Einsum: output subscript {label!r} does not appear in the "
                             f"inputs of {equation!r}")
    return inputs, output


def _labelled_dims(labels, shape):
    """Splits a static shape into ([(label, dim)], ellipsis dims) for one operand."""
    named = labels.replace(".", "")
    if "." not in labels:
        return list(zip(named, shape)), ()
    before = labels.index(".")
    after = len(named) - before
    ellipsis = shape[before:len(shape) - after]
    pairs = list(zip(named[:before], shape[:before]))
    pairs += list(zip(named[before:], shape[len(shape) - after:]))
    return pairs, tuple(ellipsis)


@primitive("Einsum", dtypes=EINSUM_DTYPES)
class Einsum:
    def infer(*operands, equation):
        inputs, output = _parse(equation, len(operands))
        shapes = [_text(s.shape) for s in operands]
        dims = {}
        ellipsis = ()
        ellipsis_known = True
        for labels, spec in zip(inputs, operands):
            named = len(labels.replace(".", ""))
            if spec.shape is None:
                ellipsis_known = ellipsis_known and "." not in labels
                continue
            if len(spec.shape) < named or "." not in labels and len(spec.shape) != named:
                raise errors.InvalidArgumentError(
                    f"Einsum: subscripts '{labels.replace('.', '...')}' of {equation!r} do not "
                    f"fit an operand of shape {_text(spec.shape)}")
            pairs, part = _labelled_dims(labels, spec.shape)
            for label, dim in pairs:
                known = dims.get(label)
                if known is not None and dim is not None and known != dim:
                    raise errors.InvalidArgumentError(
                        f"Einsum: subscript {label!r} of {equation!r} has dimensions {known} "
                        f"and {dim}, got shapes {', '.join(shapes)}")
                dims[label] = dim if known is None else known
            try:
                ellipsis = broadcast_shape("Einsum", ellipsis, part)
            except errors.InvalidArgumentError:
                raise errors.InvalidArgumentError(
                    f"Einsum: the '...' dimensions of {equation!r} must broadcast, got shapes "
                    f"{', '.join(shapes)}") from None
        if "." in output and not ellipsis_known:
            return Spec(None, operands[0].dtype)
        shape = []
        for label in output:
            shape.extend(ellipsis if label == "." else [dims.get(label)])
        return Spec(tuple(shape), operands[0].dtype)

    def kernel(xp, *operands, equation):
        def contract(*arrays):
            return xp.asarray(xp.einsum(equation, *arrays, optimize=len(arrays) > 1))

        return _in_float32(xp, contract, *operands)

    def grad(op, dy):
        inputs, output = _parse(op.get_attr("equation"), len(op.inputs))
        return [_einsum_input_grad(op, inputs, output, index, dy)
                for index in range(len(op.inputs))]


def _einsum_input_grad(op, inputs, output, index, dy):
    """d/d(operand index) as one einsum of dy with the other operands (conjugated).

    A label repeated within the operand (a diagonal, 'ii') gets a fresh letter and an identity
    matrix ties the two; labels summed only in this operand come back through ones_like(x);
    '...' dimensions the operand was broadcast along are summed afterwards.
    """
    x = op.inputs[index]
    labels = inputs[index]
    used = set("".join(inputs) + output)
    fresh = (c for c in string.ascii_letters if c not in used)
    target = []
    ties = []
    for position, label in enumerate(labels):
        if label != "." and label in target:
            new = next(fresh)
            ties.append((label, new, position))
            label = new
        target.append(label)
    target = "".join(target)
    others = [j for j in range(len(inputs)) if j != index]
    terms = [output] + [inputs[j] for j in others]
    operands = [dy] + [_conj(op.inputs[j]) for j in others]
    available = set("".join(terms))
    if any(label not in available for label in target if label != "."):
        terms.append(target)
        operands.append(array_ops.ones_like(x))
    for label, new, position in ties:
        terms.append(label + new)
        operands.append(_identity_matrix(x, position))
    uses_ellipsis = any("." in t for t in terms)
    result = target if "." in target or not uses_ellipsis else "." + target
    equation = ",".join(terms) + "->" + result
    grad = einsum(equation.replace(".", "..."), *operands)
    return _sum_broadcast_ellipsis(grad, x, target, result)


def _identity_matrix(x, position):
    size = x.shape[position]
    return array_ops.constant(np.eye(size, dtype=x.dtype.as_numpy_dtype))


def _sum_broadcast_ellipsis(grad, x, target, result):
    """Sums the '...' dimensions of grad that x was broadcast along, giving x's shape."""
    if "." not in result:
        return grad  # every output label is one of x's: the shapes already agree
    grad_dims = grad.shape.as_list()
    x_dims = x.shape.as_list()
    start = result.index(".")
    extra = len(grad_dims) - len(x_dims)
    axes = list(range(start, start + extra))
    x_start = target.index(".") if "." in target else 0
    x_count = len(x_dims) - (len(target) - ("." in target))
    for offset in range(x_count):
        if x_dims[x_start + offset] == 1 and grad_dims[start + extra + offset] != 1:
            axes.append(start + extra + offset)
    if not axes:
        return grad
    summed = reduce_ops.reduce_sum(grad, axis=axes, keepdims=True)
    return array_ops.reshape(summed, array_ops.shape_of(x))


def einsum(equation, *inputs, **kwargs):
    """Tensor contraction over the subscripts of `equation` (`tf.einsum`).

    Supports '...' broadcasting, repeated subscripts (diagonals, traces) and implicit outputs
    (subscripts seen once, sorted, as in NumPy).

    >>> einsum("ij,jk->ik", [[1.0, 2.0]], [[3.0], [4.0]]).numpy()
    array([[11.]], dtype=float32)
    """
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError(f"einsum: invalid keyword arguments {sorted(kwargs)}")
    _parse(equation, len(inputs))
    return execute("Einsum", *inputs, equation=equation, name=name)


# --- tensordot -------------------------------------------------------------------------------

def _tensordot_axes(axes, rank_a, rank_b):
    if isinstance(axes, Tensor):
        axes = np.asarray(axes).tolist()
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(rank_a, rank_b):
            raise ValueError(f"Tensordot: 'axes' must be in [0, {min(rank_a, rank_b)}] for "
                             f"ranks {rank_a} and {rank_b}, got {axes}")
        return list(range(rank_a - axes, rank_a)), list(range(axes))
    if len(axes) != 2:
        raise ValueError(f"Tensordot: 'axes' must be an int or a pair of lists, got {axes!r}")
    axes_a, axes_b = ([a] if isinstance(a, (int, np.integer)) else list(a) for a in axes)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"Tensordot: the two lists of 'axes' must have equal length, got "
                         f"{axes_a} and {axes_b}")
    return [int(a) % rank_a for a in axes_a], [int(b) % rank_b for b in axes_b]


def tensordot(a, b, axes, name=None):
    """Sums the products of `a` and `b` over the given axes (`tf.tensordot`).

    `axes` is an int N (the last N axes of `a` with the first N of `b`) or a pair of axis
    lists. Computed as transpose + reshape + one matrix product, so BLAS does the work.
    """
    from ndflow.ops import manip  # noqa: PLC0415 - transpose at call time (import order)

    a, b = _convert_pair(a, b)
    dims_a = a.shape.as_list()
    dims_b = b.shape.as_list()
    axes_a, axes_b = _tensordot_axes(axes, len(dims_a), len(dims_b))
    for i, j in zip(axes_a, axes_b):
        if dims_a[i] is not None and dims_b[j] is not None and dims_a[i] != dims_b[j]:
            raise errors.InvalidArgumentError(
                f"Tensordot: contracted dimensions must match, got shapes {_text(dims_a)} and "
                f"{_text(dims_b)} with axes {axes_a} and {axes_b}")
    free_a = [i for i in range(len(dims_a)) if i not in axes_a]
    free_b = [j for j in range(len(dims_b)) if j not in axes_b]
    out_dims = [dims_a[i] for i in free_a] + [dims_b[j] for j in free_b]
    contracted = [dims_a[i] for i in axes_a]
    if None in contracted or out_dims.count(None) > 1:
        return _tensordot_einsum(a, b, axes_a, axes_b, name)  # shapes known only at run time
    size = int(np.prod(contracted)) if axes_a else 1
    perm_a = free_a + axes_a
    perm_b = axes_b + free_b
    if perm_a != list(range(len(dims_a))):
        a = manip.transpose(a, perm_a)
    if perm_b != list(range(len(dims_b))):
        b = manip.transpose(b, perm_b)
    product = matmul(array_ops.reshape(a, [-1, size]), array_ops.reshape(b, [size, -1]))
    return array_ops.reshape(product, [-1 if d is None else d for d in out_dims], name=name)


def _tensordot_einsum(a, b, axes_a, axes_b, name):
    letters = iter(string.ascii_letters)
    labels_a = [next(letters) for _ in range(a.shape.rank)]
    labels_b = [next(letters) for _ in range(b.shape.rank)]
    for i, j in zip(axes_a, axes_b):
        labels_b[j] = labels_a[i]
    output = [labels_a[i] for i in range(len(labels_a)) if i not in axes_a]
    output += [labels_b[j] for j in range(len(labels_b)) if j not in axes_b]
    equation = f"{''.join(labels_a)},{''.join(labels_b)}->{''.join(output)}"
    return einsum(equation, a, b, name=name)


# --- transposes, diagonals and bands ---------------------------------------------------------

def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Transposes the last two axes of `a` (`tf.linalg.matrix_transpose`)."""
    from ndflow.ops import manip  # noqa: PLC0415 - transpose at call time (import order)

    a = convert_to_tensor(a)
    rank = a.shape.rank
    if rank is None or rank < 2:
        raise ValueError(f"matrix_transpose: input must have rank >= 2, got shape "
                         f"{_text(None if rank is None else a.shape.as_list())}")
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    result = manip.transpose(a, perm)
    return _conj(result) if conjugate else result


def adjoint(matrix, name=None):
    """Conjugate transpose of the last two axes (`tf.linalg.adjoint`)."""
    return matrix_transpose(matrix, conjugate=True)


@primitive("MatrixBandPart", dtypes=dtypes.ANY)
class MatrixBandPart:
    def infer(x, num_lower, num_upper):
        if x.rank is not None and x.rank < 2:
            raise errors.InvalidArgumentError(
                f"MatrixBandPart: input must have rank >= 2, got shape {_text(x.shape)}")
        return Spec(x.shape, x.dtype)

    def kernel(xp, x, num_lower, num_upper):
        rows = xp.arange(x.shape[-2])[:, None]
        cols = xp.arange(x.shape[-1])[None, :]
        keep = xp.ones((x.shape[-2], x.shape[-1]), dtype=bool)
        if num_lower >= 0:
            keep &= rows - cols <= num_lower
        if num_upper >= 0:
            keep &= cols - rows <= num_upper
        return xp.where(keep, x, xp.zeros((), dtype=x.dtype))

    def grad(op, dy):
        return [band_part(dy, op.get_attr("num_lower"), op.get_attr("num_upper"))]


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002 - TF's argument name
    """Keeps a band of each matrix: `num_lower` subdiagonals and `num_upper` superdiagonals,
    -1 for all of them; zeros the rest (`tf.linalg.band_part`)."""
    return execute("MatrixBandPart", input, num_lower=int(num_lower), num_upper=int(num_upper),
                   name=name)


def _diag_length(rows, cols, k):
    if rows is None or cols is None:
        return None
    return max(0, min(rows + min(k, 0), cols - max(k, 0)))


def _diag_index(xp, rows, cols, k):
    count = _diag_length(rows, cols, k)
    start = xp.arange(count)
    return start - min(k, 0), start + max(k, 0)


@primitive("MatrixDiagPartV3", dtypes=dtypes.ANY)
class MatrixDiagPartV3:
    def infer(x, k):
        if x.rank is not None and x.rank < 2:
            raise errors.InvalidArgumentError(
                f"MatrixDiagPartV3: input must have rank >= 2, got shape {_text(x.shape)}")
        if x.shape is None:
            return Spec(None, x.dtype)
        return Spec(x.shape[:-2] + (_diag_length(*x.shape[-2:], k),), x.dtype)

    def kernel(xp, x, k):
        return xp.array(xp.diagonal(x, offset=k, axis1=-2, axis2=-1), copy=True)

    def grad(op, dy):
        x = op.inputs[0]
        return [set_diag(array_ops.zeros_like(x), dy, k=op.get_attr("k"))]


def diag_part(input, name="diag_part", k=0, padding_value=0,  # noqa: A002
              align="RIGHT_LEFT"):
    """The `k`-th diagonal of each matrix (`tf.linalg.diag_part`; `k` an int)."""
    return execute("MatrixDiagPartV3", input, k=_scalar_k(k), name=None)


@primitive("MatrixSetDiagV3", dtypes=dtypes.ANY)
class MatrixSetDiagV3:
    def infer(x, diagonal, k):
        if x.rank is not None and x.rank < 2:
            raise errors.InvalidArgumentError(
                f"MatrixSetDiagV3: input must have rank >= 2, got shape {_text(x.shape)}")
        if x.shape is not None and diagonal.shape is not None:
            expected = x.shape[:-2] + (_diag_length(*x.shape[-2:], k),)
            if len(expected) != len(diagonal.shape) or any(
                    a is not None and b is not None and a != b
                    for a, b in zip(expected, diagonal.shape)):
                raise errors.InvalidArgumentError(
                    f"MatrixSetDiagV3: diagonal must have shape {_text(expected)} for input "
                    f"shape {_text(x.shape)} and k={k}, got {_text(diagonal.shape)}")
        return Spec(x.shape, x.dtype)

    def kernel(xp, x, diagonal, k):
        result = xp.array(x, copy=True)
        rows, cols = _diag_index(xp, x.shape[-2], x.shape[-1], k)
        result[..., rows, cols] = diagonal
        return result

    def grad(op, dy):
        k = op.get_attr("k")
        diagonal = op.inputs[1]
        return [set_diag(dy, array_ops.zeros_like(diagonal), k=k), diag_part(dy, k=k)]


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):  # noqa: A002
    """Replaces the `k`-th diagonal of each matrix with `diagonal` (`tf.linalg.set_diag`)."""
    return execute("MatrixSetDiagV3", input, diagonal, k=_scalar_k(k))


@primitive("MatrixDiagV3", dtypes=dtypes.ANY)
class MatrixDiagV3:
    def infer(diagonal, k, num_rows, num_cols, padding_value):
        if diagonal.rank == 0:
            raise errors.InvalidArgumentError(
                f"MatrixDiagV3: diagonal must have rank >= 1, got shape {_text(diagonal.shape)}")
        if diagonal.shape is None:
            return Spec(None, diagonal.dtype)
        rows, cols = _diag_matrix_size(diagonal.shape[-1], k, num_rows, num_cols)
        return Spec(diagonal.shape[:-1] + (rows, cols), diagonal.dtype)

    def kernel(xp, diagonal, k, num_rows, num_cols, padding_value):
        rows, cols = _diag_matrix_size(diagonal.shape[-1], k, num_rows, num_cols)
        result = xp.full(diagonal.shape[:-1] + (rows, cols), padding_value, dtype=diagonal.dtype)
        row_index, col_index = _diag_index(xp, rows, cols, k)
        result[..., row_index, col_index] = diagonal
        return result

    def grad(op, dy):
        return [diag_part(dy, k=op.get_attr("k"))]


def _diag_matrix_size(length, k, num_rows, num_cols):
    """TF's output size for MatrixDiag: the smallest square fitting the diagonal, unless given."""
    if length is None:
        return (num_rows if num_rows >= 0 else None), (num_cols if num_cols >= 0 else None)
    min_rows = length - min(k, 0)
    min_cols = length + max(k, 0)
    if num_rows < 0 and num_cols < 0:
        rows = cols = max(min_rows, min_cols)
    else:
        rows = num_rows if num_rows >= 0 else min_rows
        cols = num_cols if num_cols >= 0 else min_cols
    if _diag_length(rows, cols, k) != length or rows != min_rows and cols != min_cols:
        raise errors.InvalidArgumentError(
            f"MatrixDiagV3: a diagonal of length {length} at k={k} does not fit a "
            f"{rows}x{cols} matrix")
    return rows, cols


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT"):
    """Builds (a batch of) matrices with `diagonal` on the `k`-th diagonal (`tf.linalg.diag`).

    >>> diag([1.0, 2.0]).numpy()
    array([[1., 0.],
           [0., 2.]], dtype=float32)
    """
    return execute("MatrixDiagV3", diagonal, k=_scalar_k(k), num_rows=int(num_rows),
                   num_cols=int(num_cols), padding_value=_python_scalar(padding_value))


def _scalar_k(k):
    values = np.asarray(k).reshape(-1)
    if values.size == 2 and values[0] == values[1]:
        values = values[:1]
    if values.size != 1:
        raise errors.InvalidArgumentError(
            f"MatrixDiag: ndflow supports a single diagonal k, got k={np.asarray(k).tolist()}")
    return int(values[0])


def _python_scalar(value):
    return np.asarray(value).item()


def trace(x, name=None):
    """Sum of the main diagonal of each matrix (`tf.linalg.trace`)."""
    return reduce_ops.reduce_sum(diag_part(x), axis=-1, name=name)


# --- norms -----------------------------------------------------------------------------------

_MATRIX_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """Vector or matrix norm (`tf.norm`, `tf.linalg.norm`).

    Args:
      tensor: a float or complex tensor.
      ord: 'euclidean' / 'fro' (2-norm of all entries), a positive p for vector p-norms,
        `np.inf`; for matrices (axis a pair) 'fro', 'euclidean', 1 and `np.inf`.
      axis: None (the whole tensor as one vector), an int, or a pair of ints for matrices.
      keepdims: keep the reduced axes with size 1.

    Returns:
      The norms: the input's dtype for 'euclidean'/'fro'/2 (complex stays complex, as in TF),
      its real dtype for the other orders.

    Raises:
      ValueError: for an unsupported `ord` or `axis`.
    """
    keepdims = bool(keepdims)
    tensor = convert_to_tensor(tensor)
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if isinstance(axis, (list, tuple)) and not is_matrix:
        raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, "
                         f"got {axis}")
    if is_matrix:
        if ord not in _MATRIX_ORDS:
            raise ValueError(f"'ord' must be a supported matrix norm in {_MATRIX_ORDS}, got "
                             f"{ord}")
        rank = tensor.shape.rank
        axis = [int(a) % rank for a in axis]
        if axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        if ord == 2:
            return _matrix_two_norm(tensor, axis, keepdims)
    elif not (ord == "euclidean" or _is_positive_number(ord)):
        raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    if ord in ("euclidean", "fro") or ord == 2:
        # TF: sqrt(sum(x * conj(x))), so a complex input gives a complex norm.
        squares = math_ops.multiply(tensor, _conj(tensor))
        return math_ops.sqrt(reduce_ops.reduce_sum(squares, axis, keepdims=keepdims))
    magnitude = math_ops.abs(tensor)
    if ord == np.inf and not is_matrix:
        return reduce_ops.reduce_max(magnitude, axis, keepdims=keepdims)
    if is_matrix:  # ord 1: largest column sum; inf: largest row sum
        sum_axis = axis[0] if ord == 1 else axis[1]
        sums = reduce_ops.reduce_sum(magnitude, sum_axis, keepdims=True)
        return reduce_ops.reduce_max(sums, axis, keepdims=keepdims)
    if ord == 1:
        return reduce_ops.reduce_sum(magnitude, axis, keepdims=keepdims)
    powered = math_ops.pow(magnitude, float(ord))
    total = reduce_ops.reduce_sum(powered, axis, keepdims=keepdims)
    return math_ops.pow(total, 1.0 / ord)


def _matrix_two_norm(tensor, axis, keepdims):
    """Largest singular value over the two axes (TF: the max of svd(compute_uv=False))."""
    from ndflow.ops import linalg_ext, manip  # noqa: PLC0415 - at call time (import order)

    svd = getattr(linalg_ext, "svd", None)
    if svd is None:
        raise errors.UnimplementedError(
            "norm: ord=2 over a pair of axes is the largest singular value and needs "
            "tf.linalg.svd, which has not landed yet (issue #3)")
    rank = tensor.shape.rank
    perm = [i for i in range(rank) if i not in axis] + list(axis)
    if perm != list(range(rank)):
        tensor = manip.transpose(tensor, perm)
    singular = svd(tensor, compute_uv=False)
    result = reduce_ops.reduce_max(math_ops.abs(singular), axis=-1)
    if keepdims:
        for position in sorted(axis):
            result = manip.expand_dims(result, position)
    return result


def _is_positive_number(value):
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and \
        value > 0


API = {
    "": ["matmul", "einsum", "tensordot", "norm"],
    "linalg": ["matmul", "einsum", "tensordot", "norm", "matvec", "matrix_transpose",
               "adjoint", "band_part", "diag", "diag_part", "set_diag", "trace"],
}
