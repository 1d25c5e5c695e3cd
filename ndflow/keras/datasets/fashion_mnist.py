"""Fashion-MNIST clothing images (`keras.datasets.fashion_mnist`)."""

import os

from ndflow.keras.datasets import _common
from ndflow.keras.datasets.mnist import load_idx_folder

# Keras caches the authors' own four files, so its cache and the original distribution are
# the same folder. Both hashes identify the same bytes: Keras' sha256, the authors' MD5.
FILES = {
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "25c81989df183df01b3e8a0aad5dffbe"),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "bef4ecab320f06d8554ea6380940ec79"),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "bb300cfdad3c16e7a12a480ee83cd310"),
}


def load_data():
    """Loads Fashion-MNIST: `(x_train, y_train), (x_test, y_test)`, uint8 arrays shaped like
    MNIST's. Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Looked up in `~/.keras/datasets/fashion-mnist/` (`$KERAS_HOME` replaces `~/.keras`): the
    four original .gz files, which are also what Keras caches there, checked against the
    authors' MD5s; missing ones are downloaded as Keras does.

    Raises:
      DatasetNotFoundError: nothing usable on disk and the download failed.
    """
    folder = os.path.join(_common.datasets_dir(), "fashion-mnist")
    md5s = {name: hashes[1] for name, hashes in FILES.items()}
    found = load_idx_folder(folder, md5s)
    if found is not None:
        return found
    places = [f"the four Fashion-MNIST files {', '.join(FILES)} in {folder}"]
    for name, (sha256, md5) in FILES.items():
        if not _common.matches(os.path.join(folder, name), md5):
            _common.download(name, _common.ORIGIN + name, sha256, places,
                             cache_subdir=os.path.join("datasets", "fashion-mnist"))
    return load_idx_folder(folder, md5s)
