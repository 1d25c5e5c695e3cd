"""CIFAR-10 small colour images (`keras.datasets.cifar10`)."""

from ndflow.keras.datasets import cifar

SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # Keras' hash
MD5 = "c58f30108f718f92721af3b95e74349a"  # published on the CIFAR page
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def load_data():
    """Loads CIFAR-10: `(x_train, y_train), (x_test, y_test)`.

    `x_*` are uint8 of shape (50000, 32, 32, 3) / (10000, 32, 32, 3) (channels first if
    `image_data_format()` says so), `y_*` uint8 of shape (N, 1), classes 0..9. The archive is
    looked up in Keras' cache (`datasets/cifar-10-batches-py-target_archive`), then as
    `datasets/cifar10/cifar-10-python.tar.gz`, then downloaded.
    """
    archive = cifar.find_archive("cifar-10-batches-py-target", "cifar10",
                                 "cifar-10-python.tar.gz", SHA256, MD5, ORIGIN)
    members = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
    x_train, y_train = cifar.read_batches(archive, members, "labels")
    x_test, y_test = cifar.read_batches(archive, ["cifar-10-batches-py/test_batch"], "labels")
    return ((cifar.to_layout(x_train), y_train.reshape(-1, 1)),
            (cifar.to_layout(x_test), y_test.reshape(-1, 1)))
