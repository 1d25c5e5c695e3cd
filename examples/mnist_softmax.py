"""Softmax regression on MNIST with eager ops, tf.Variable and tf.GradientTape.

Runs unchanged with `import tensorflow as tf` instead of ndflow. Reads the MNIST IDX files from
../shared/data/mnist (or the folder given by the MNIST_DIR environment variable).
"""

import gzip
import os
import struct
import time

import numpy as np

import ndflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("MNIST_DIR", os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as handle:
        data = handle.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main(epochs=3, batch_size=128, learning_rate=0.5):
    x_train = read_idx("train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y_train = read_idx("train-labels-idx1-ubyte.gz").astype(np.int32)
    x_test = read_idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y_test = read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int32)

    w = tf.Variable(tf.zeros([784, 10]), name="w")
    b = tf.Variable(tf.zeros([10]), name="b")

    def loss_fn(x, y):
        logits = tf.matmul(x, w) + b
        log_probs = logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True)
        return -tf.reduce_mean(tf.reduce_sum(tf.one_hot(y, 10) * log_probs, axis=1))

    order = np.random.default_rng(0).permutation(len(x_train))
    start = time.perf_counter()
    for epoch in range(epochs):
        for i in range(0, len(order), batch_size):
            index = order[i:i + batch_size]
            x, y = tf.constant(x_train[index]), tf.constant(y_train[index])
            with tf.GradientTape() as tape:
                loss = loss_fn(x, y)
            grad_w, grad_b = tape.gradient(loss, [w, b])
            w.assign_sub(learning_rate * grad_w)
            b.assign_sub(learning_rate * grad_b)
        predictions = tf.argmax(tf.matmul(tf.constant(x_test), w) + b, axis=1)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predictions, tf.cast(y_test, tf.int64)),
                                          tf.float32))
        print(f"epoch {epoch + 1}: loss {float(loss):.4f}  test accuracy {float(accuracy):.4f}")
    print(f"trained in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
