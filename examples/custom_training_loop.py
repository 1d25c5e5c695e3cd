"""The seed's custom training loop: GradientTape, optimizer.apply_gradients and a
CategoricalAccuracy metric with update_state / result / reset_states, in a tf.function.

Runs unchanged with `import tensorflow as tf`.
"""

import os
import sys

import numpy as np

import ndflow as tf
from ndflow import keras

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_cnn import build_model, load_mnist  # noqa: E402 - the basic example's model and data


def main(epochs=2, batch_size=64):
    ((x_train, y_train), (x_test, y_test)), source = load_mnist()
    x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    model = build_model()
    loss_fn = keras.losses.CategoricalCrossentropy()
    optimizer = keras.optimizers.Adam()
    train_accuracy = keras.metrics.CategoricalAccuracy()
    test_accuracy = keras.metrics.CategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            predictions = model(x, training=True)
            loss = loss_fn(y, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        train_accuracy.update_state(y, predictions)
        return loss

    for epoch in range(epochs):
        order = np.random.permutation(len(x_train))
        for step in range(0, len(order), batch_size):
            index = order[step:step + batch_size]
            loss = train_step(tf.constant(x_train[index]), tf.constant(y_train[index]))
        for step in range(0, len(x_test), 256):
            test_accuracy.update_state(y_test[step:step + 256],
                                       model(x_test[step:step + 256], training=False))
        print(f"epoch {epoch + 1}: loss {float(loss):.4f}  train accuracy "
              f"{float(train_accuracy.result()):.4f}  {source} test accuracy "
              f"{float(test_accuracy.result()):.4f}")
        train_accuracy.reset_states()
        test_accuracy.reset_states()


if __name__ == "__main__":
    main(int(os.environ.get("CUSTOM_LOOP_EPOCHS", "2")))
