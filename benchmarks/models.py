"""The benchmark models and data: built once against TF's API (`build(tf)` takes the framework
module, so ndflow and TensorFlow run literally the same code), with PyTorch equivalents.

The data is synthetic (fixed seeds): MNIST-shaped images with one-hot labels, flattened images
for the MLP, and token sequences with binary labels for the LSTM. Speed does not depend on the
values, and no download is needed.
"""

import numpy as np

IMAGE_SHAPE = (28, 28, 1)
CLASSES = 10
VOCABULARY = 10000
SEQUENCE_LENGTH = 100

# (kind, input size per output position, outputs per sample) of the seed CNN's GEMM layers:
# conv 28x28x1 -> 26x26x32 (3x3x1 taps), conv 13x13x32 -> 11x11x64 (3x3x32 taps),
# dense 1600 -> 128, dense 128 -> 10.
SEED_CNN_GEMMS = (
    ("conv1", 3 * 3 * 1, 26 * 26 * 32),
    ("conv2", 3 * 3 * 32, 11 * 11 * 64),
    ("dense1", 1600, 128),
    ("dense2", 128, 10),
)


# --- data ------------------------------------------------------------------------------------

def mnist_like(samples, seed=0):
    """`samples` 28x28x1 float32 images in [0, 1) and one-hot float32 labels."""
    rng = np.random.default_rng(seed)
    images = rng.random((samples, *IMAGE_SHAPE), dtype=np.float32)
    labels = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, samples)]
    return images, labels


def sequences(samples, seed=0):
    """`samples` int32 token sequences of length 100 and float32 0/1 labels of shape (n, 1)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, VOCABULARY, (samples, SEQUENCE_LENGTH)).astype(np.int32)
    labels = rng.integers(0, 2, (samples, 1)).astype(np.float32)
    return tokens, labels


# --- TF-API models (ndflow and TensorFlow) ---------------------------------------------------

def seed_cnn(tf, compile=True):
    """The seed's CNN; compiled with Adam and categorical crossentropy as the seed does."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input(shape=IMAGE_SHAPE),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(CLASSES, activation="softmax"),
    ])
    if compile:
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def mlp(tf):
    """Dense 784-512-512-10 with relu and softmax; Adam, categorical crossentropy."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28 * 28,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def lstm(tf):
    """Embedding(10000, 64) -> LSTM(64) -> Dense(1, sigmoid); Adam, binary crossentropy."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(SEQUENCE_LENGTH,), dtype="int32"),
        layers.Embedding(VOCABULARY, 64),
        layers.LSTM(64),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


# --- PyTorch equivalents ---------------------------------------------------------------------

def torch_seed_cnn(torch):
    """The seed CNN in NCHW; softmax lives in the loss (cross-entropy on logits)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, CLASSES),
    )


def torch_mlp(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, CLASSES))


def torch_lstm(torch):
    """Embedding -> LSTM(64), last hidden state -> Linear(1); sigmoid lives in the loss."""
    nn = torch.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCABULARY, 64)
            self.lstm = nn.LSTM(64, 64, batch_first=True)
            self.dense = nn.Linear(64, 1)

        def forward(self, tokens):
            _, (hidden, _) = self.lstm(self.embedding(tokens))
            return self.dense(hidden[-1])

    return LSTMClassifier()


def torch_images(torch, images):
    """NHWC numpy images -> a contiguous NCHW torch tensor."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def torch_train_loop(torch, model, loss_fn, inputs, targets, batch_size, accuracy):
    """`run(samples)`: one shuffled epoch over the first `samples` examples with Adam (Keras'
    epsilon 1e-7), counting correct predictions as Keras' accuracy metric does."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def run(samples):
        model.train()
        order = torch.randperm(samples)
        correct = torch.zeros(())
        for start in range(0, samples, batch_size):
            index = order[start:start + batch_size]
            batch, target = inputs[index], targets[index]
            optimizer.zero_grad(set_to_none=True)
            output = model(batch)
            loss = loss_fn(output, target)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                correct += accuracy(output, target)

    return run


# --- FLOPs -----------------------------------------------------------------------------------

def seed_cnn_forward_flops():
    """GEMM FLOPs (2 per multiply-add) of one sample's forward pass through the seed CNN."""
    return sum(2 * inputs * outputs for _, inputs, outputs in SEED_CNN_GEMMS)


def seed_cnn_training_flops():
    """GEMM FLOPs of one sample's training step: forward, weight gradients (one GEMM as large
    as the forward's per layer) and input gradients for every layer but the first (the images
    need none). Elementwise work (bias, relu, pooling, softmax, Adam) is not counted."""
    forward = [2 * inputs * outputs for _, inputs, outputs in SEED_CNN_GEMMS]
    return sum(forward) + sum(forward) + sum(forward[1:])
