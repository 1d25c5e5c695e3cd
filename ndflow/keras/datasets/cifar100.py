"""CIFAR-100 small colour images (`keras.datasets.cifar100`)."""

from ndflow.keras.datasets import cifar

SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"  # Keras' hash
MD5 = "eb9058c3a382ffc7106e4002c42a8d85"  # published on the CIFAR page
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"


def load_data(label_mode="fine"):
    """Loads CIFAR-100: `(x_train, y_train), (x_test, y_test)` with 100 "fine" or 20
    "coarse" classes; shapes and lookup as `cifar10.load_data` (folder `datasets/cifar100/`,
    file `cifar-100-python.tar.gz`)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: '
                         f"label_mode={label_mode}.")
    archive = cifar.find_archive("cifar-100-python-target", "cifar100",
                                 "cifar-100-python.tar.gz", SHA256, MD5, ORIGIN)
    key = f"{label_mode}_labels"
    x_train, y_train = cifar.read_batches(archive, ["cifar-100-python/train"], key)
    x_test, y_test = cifar.read_batches(archive, ["cifar-100-python/test"], key)
    return ((cifar.to_layout(x_train), y_train.reshape(-1, 1)),
            (cifar.to_layout(x_test), y_test.reshape(-1, 1)))
