"""Workload `eager_op`: microseconds per eager `add` of two 2x2 tensors and per 4x4 `matmul`.

ndflow and TensorFlow run the same code (TF's API); PyTorch runs the equivalent calls; a bare
NumPy call is shown as the floor.
"""

import numpy as np


def candidates(frameworks):
    a2 = np.arange(4, dtype=np.float32).reshape(2, 2)
    a4 = np.arange(16, dtype=np.float32).reshape(4, 4)
    add, matmul = {}, {}
    for name in ("ndflow", "tensorflow"):
        tf = frameworks.get(name)
        if tf is None:
            continue
        x, y = tf.constant(a2), tf.constant(a4)
        add[name] = lambda tf=tf, x=x: tf.add(x, x)
        matmul[name] = lambda tf=tf, y=y: tf.matmul(y, y)
    torch = frameworks.get("torch")
    if torch is not None:
        tx, ty = torch.from_numpy(a2.copy()), torch.from_numpy(a4.copy())
        add["torch"] = lambda: torch.add(tx, tx)
        matmul["torch"] = lambda: torch.matmul(ty, ty)
    add["numpy"] = lambda: np.add(a2, a2)
    matmul["numpy"] = lambda: np.matmul(a4, a4)
    return {"eager_op.add_2x2": add, "eager_op.matmul_4x4": matmul}
