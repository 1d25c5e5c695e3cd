"""`keras.regularizers`: penalties on weights added to the model's loss."""

from ndflow.keras import _lookup
from ndflow.ops import array as array_ops
from ndflow.ops import linalg as linalg_ops
from ndflow.ops import math as math_ops
from ndflow.ops import reduce as reduce_ops


class Regularizer:
    """Base class: `__call__(x)` returns a scalar penalty."""

    def __call__(self, x):
        return array_ops.constant(0.0)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = float(l1)
        self.l2 = float(l2)

    def __call__(self, x):
        penalty = None
        if self.l1:
            penalty = self.l1 * reduce_ops.reduce_sum(math_ops.abs(x))
        if self.l2:
            term = self.l2 * reduce_ops.reduce_sum(math_ops.square(x))
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else array_ops.zeros([], x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean of the squared off-diagonal entries of the rows' (or columns') Gram
    matrix, after L2-normalising them (Keras 3)."""

    def __init__(self, factor=0.01, mode="rows"):
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`. Expected one of {{'rows', "
                             f"'columns'}}. Received: mode={mode}")
        self.factor, self.mode = factor, mode

    def __call__(self, x):
        if x.shape.rank != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        if self.mode == "columns":
            x = linalg_ops.matrix_transpose(x)
        norms = math_ops.sqrt(reduce_ops.reduce_sum(math_ops.square(x), axis=1, keepdims=True))
        x = x / math_ops.maximum(norms, 1e-12)
        product = linalg_ops.matmul(x, x, transpose_b=True)
        size = x.shape[0]
        off_diagonal = product * (1.0 - array_ops.eye(size, dtype=x.dtype))
        count = size * (size - 1)
        return self.factor * reduce_ops.reduce_sum(math_ops.square(off_diagonal)) / count

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
            "orthogonal_regularizer": OrthogonalRegularizer,
            "OrthogonalRegularizer": OrthogonalRegularizer}


serialize, deserialize, get = _lookup.accessors("regularizer", "keras.regularizers", _ALIASES)
