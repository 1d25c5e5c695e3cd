"""The seed's basic MNIST CNN: Sequential, compile, fit with validation_split, evaluate,
predict, and the training curves plotted with matplotlib (saved to seed_cnn_history.png).

Runs unchanged with `import tensorflow as tf`. MNIST comes from keras.datasets.mnist.load_data()
(the Keras cache, the original files in ~/.keras/datasets/mnist/, or a download); when none of
those is possible, the example says so and trains on scikit-learn's 8x8 digits upsampled to
28x28 instead.
"""

import os
import sys

import numpy as np

import ndflow as tf  # noqa: F401 - the seed's import, kept as the seed has it
from ndflow import keras
from ndflow.keras import layers


def load_mnist():
    try:
        return keras.datasets.mnist.load_data(), "MNIST"
    except Exception as error:  # noqa: BLE001 - any failure to obtain MNIST falls back
        print(f"MNIST is not available here ({error}).\nFalling back to scikit-learn's digits "
              f"dataset, upsampled to 28x28.", file=sys.stderr)
    from sklearn.datasets import load_digits  # noqa: PLC0415 - fallback only

    digits = load_digits()
    images = np.kron(digits.images, np.ones((4, 4)))[:, 2:30, 2:30]
    images = (images / 16.0 * 255).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    split = int(len(images) * 0.8)
    return ((images[:split], labels[:split]), (images[split:], labels[split:])), "digits"


def build_model():
    """The seed's CNN."""
    return keras.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def main(epochs=5):
    ((x_train, y_train), (x_test, y_test)), source = load_mnist()
    x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    model = build_model()
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.1)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"{source} test accuracy: {test_accuracy:.4f} (loss {test_loss:.4f})")
    predictions = model.predict(x_test[:5], verbose=0)
    print("predicted:", np.argmax(predictions, axis=1), "true:", np.argmax(y_test[:5], axis=1))
    plot(history.history, os.environ.get("SEED_CNN_PLOT", "seed_cnn_history.png"))
    return test_accuracy


def plot(history, path):
    try:
        import matplotlib  # noqa: PLC0415 - optional, for the plot only

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib is not installed; skipping the plot (pip install matplotlib)")
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(history["accuracy"], "o-", label="train")
    left.plot(history["val_accuracy"], "o-", label="validation")
    left.set_title("accuracy")
    left.set_xlabel("epoch")
    left.legend()
    right.plot(history["loss"], "o-", label="train")
    right.plot(history["val_loss"], "o-", label="validation")
    right.set_title("loss")
    right.set_xlabel("epoch")
    right.legend()
    figure.tight_layout()
    figure.savefig(path)
    print(f"training curves saved to {path}")


if __name__ == "__main__":
    main(int(os.environ.get("SEED_CNN_EPOCHS", "5")))
