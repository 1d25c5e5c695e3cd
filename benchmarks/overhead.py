"""Overhead workloads: `eager_op` (microseconds per eager `add` of two 2x2 tensors and per 4x4
`matmul`) and `function_call` (microseconds per call of a `tf.function` doing 10 small ops).

ndflow and TensorFlow run the same code (TF's API); PyTorch runs the equivalent eager calls (it
has no tf.function; a plain Python function is what a PyTorch user writes); a bare NumPy call is
shown as the floor.
"""

import numpy as np

from benchmarks import harness
from benchmarks.harness import MICRO, Case, Target

TF_API = ("ndflow", "tensorflow")


def _rounds(quick):
    return 7 if quick else 21


def eager_op(frameworks, quick):
    a2 = np.arange(4, dtype=np.float32).reshape(2, 2)
    a4 = np.arange(16, dtype=np.float32).reshape(4, 4)
    add, matmul = {}, {}
    for name in TF_API:
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
    return [Case(f"eager_op.{label}", calls, MICRO, "us", False, Target("<=", 0.1),
                 rounds=_rounds(quick))
            for label, calls in (("add_2x2", add), ("matmul_4x4", matmul))]


def ten_ops(tf):
    """The body of `function_call`: 10 small ops on 4x4 float32 tensors."""

    def body(x, y):
        a = tf.add(x, y)
        b = tf.multiply(a, x)
        c = tf.subtract(b, y)
        d = tf.matmul(c, x)
        e = tf.nn.relu(d)
        f = tf.tanh(e)
        g = tf.exp(f)
        h = tf.maximum(g, y)
        i = tf.square(h)
        return tf.reduce_sum(i)

    return body


def _torch_ten_ops(torch, x, y):
    a = torch.add(x, y)
    b = torch.mul(a, x)
    c = torch.sub(b, y)
    d = torch.matmul(c, x)
    e = torch.relu(d)
    f = torch.tanh(e)
    g = torch.exp(f)
    h = torch.maximum(g, y)
    i = torch.square(h)
    return torch.sum(i)


def function_call(frameworks, quick):
    rng = np.random.default_rng(4)
    x_array = rng.standard_normal((4, 4), dtype=np.float32) * 0.1
    y_array = rng.standard_normal((4, 4), dtype=np.float32) * 0.1
    calls = {}
    for name in TF_API:
        tf = frameworks.get(name)
        if tf is None:
            continue

        def build(tf):
            step = tf.function(ten_ops(tf))
            x, y = tf.constant(x_array), tf.constant(y_array)
            return lambda: step(x, y)

        calls[name] = harness.try_build(build, tf)
    torch = frameworks.get("torch")
    if torch is not None:
        tx, ty = torch.from_numpy(x_array), torch.from_numpy(y_array)
        calls["torch"] = lambda: _torch_ten_ops(torch, tx, ty)
    large = {}
    for name in TF_API:
        tf = frameworks.get(name)
        if tf is None:
            continue

        def build_large(tf):
            ten = ten_ops(tf)

            def body(x, y):  # 20 chained copies of the 10-op body: a 200-op graph
                total = tf.zeros([])
                for _ in range(20):
                    total = total + ten(x, y)
                    x = x * 0.5
                return total

            step = tf.function(body)
            x, y = tf.constant(x_array), tf.constant(y_array)
            return lambda: step(x, y)

        large[name] = harness.try_build(build_large, tf)
    if torch is not None:
        def torch_large():
            x, total = tx, 0.0
            for _ in range(20):
                total = total + _torch_ten_ops(torch, x, ty)
                x = x * 0.5
            return total

        large["torch"] = torch_large
    return [Case("function_call", calls, MICRO, "us", False, Target("<=", 0.1),
                 rounds=_rounds(quick)),
            Case("function_call.200_ops", large, MICRO, "us", False, None,
                 rounds=_rounds(quick))]
