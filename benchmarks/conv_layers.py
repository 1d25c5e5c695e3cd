"""Workload `conv_layers`: the seed CNN's two convolutions, batch 64, forward and
forward+backward (gradients for input and filter, as a training step needs them).

layer1: 28x28x1 -> 32 filters 3x3 VALID; layer2: 13x13x32 -> 64 filters 3x3 VALID. ndflow and
TensorFlow run the same TF code eagerly; PyTorch runs the equivalent NCHW calls.
"""

import numpy as np

LAYERS = {"layer1": ((64, 28, 28, 1), (3, 3, 1, 32)), "layer2": ((64, 13, 13, 32), (3, 3, 32, 64))}


def _tf_calls(tf, x_array, w_array):
    x, w = tf.constant(x_array), tf.constant(w_array)

    def forward():
        return tf.nn.conv2d(x, w, 1, "VALID")

    def backward():
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, "VALID")
        return tape.gradient(y, [x, w])

    return forward, backward


def _torch_calls(torch, x_array, w_array):
    x = torch.from_numpy(np.ascontiguousarray(x_array.transpose(0, 3, 1, 2)))
    w = torch.from_numpy(np.ascontiguousarray(w_array.transpose(3, 2, 0, 1)))
    xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()

    def forward():
        with torch.no_grad():
            return torch.nn.functional.conv2d(x, w)

    def backward():
        y = torch.nn.functional.conv2d(xg, wg)
        return torch.autograd.grad(y, [xg, wg], torch.ones_like(y))

    return forward, backward


def candidates(frameworks):
    rng = np.random.default_rng(0)
    workloads = {}
    for layer, (x_shape, w_shape) in LAYERS.items():
        x_array = rng.standard_normal(x_shape).astype(np.float32)
        w_array = rng.standard_normal(w_shape).astype(np.float32)
        forward, backward = {}, {}
        for name in ("ndflow", "tensorflow"):
            tf = frameworks.get(name)
            if tf is not None:
                forward[name], backward[name] = _tf_calls(tf, x_array, w_array)
        torch = frameworks.get("torch")
        if torch is not None:
            forward["torch"], backward["torch"] = _torch_calls(torch, x_array, w_array)
        workloads[f"conv_layers.{layer}_forward"] = forward
        workloads[f"conv_layers.{layer}_forward_backward"] = backward
    return workloads
