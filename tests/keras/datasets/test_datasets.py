"""keras.datasets: lookup order (Keras cache, original files, download), verification, safe
unpickling. Never touches the network: KERAS_HOME points at a temp folder and the download
origins at missing file:// URLs."""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras.datasets import _common, cifar10, fashion_mnist, imdb, mnist, reuters

datasets = tf.keras.datasets
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    offline = (tmp_path / "offline").as_uri() + "/"
    monkeypatch.setattr(_common, "ORIGIN", offline)
    monkeypatch.setattr(cifar10, "ORIGIN", offline + "cifar-10-python.tar.gz")
    return tmp_path / "keras" / "datasets"


def _link_shared(name, target):
    source = os.path.join(SHARED, name)
    if not os.path.isdir(source):
        pytest.skip(f"shared data folder {source} is not present")
    target.mkdir(parents=True, exist_ok=True)
    for file in os.listdir(source):
        if file.endswith(".gz"):
            os.symlink(os.path.join(source, file), target / file)


def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.slow
def test_mnist_from_original_files(home):
    _link_shared("mnist", home / "mnist")
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                            1009]
    assert abs(x_train.mean() - 33.3184) < 1e-4


@pytest.mark.slow
def test_fashion_mnist_from_original_files(home):
    _link_shared("fashion-mnist", home / "fashion-mnist")
    (x_train, y_train), (_x_test, y_test) = datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train).tolist() == [6000] * 10


def test_mnist_keras_cache_file_comes_first(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "mnist.npz"
    arrays = {"x_train": np.ones((2, 28, 28), np.uint8), "y_train": np.array([3, 4], np.uint8),
              "x_test": np.zeros((1, 28, 28), np.uint8), "y_test": np.array([7], np.uint8)}
    np.savez(path, **arrays)
    monkeypatch.setattr(mnist, "KERAS_SHA256", _sha256(path))
    (x_train, y_train), (_, y_test) = datasets.mnist.load_data()
    assert x_train.shape == (2, 28, 28) and y_train.tolist() == [3, 4] and y_test.tolist() == [7]


def _tiny_idx_folder(folder, monkeypatch, labels=(5, 0, 4)):
    """Three-image IDX files in `folder`, accepted by patching the published MD5s."""
    folder.mkdir(parents=True, exist_ok=True)
    count = len(labels)
    contents = {
        "train-images-idx3-ubyte.gz": struct.pack(">IIII", 2051, count, 28, 28) + bytes(
            range(count)) * 784,
        "train-labels-idx1-ubyte.gz": struct.pack(">II", 2049, count) + bytes(labels),
        "t10k-images-idx3-ubyte.gz": struct.pack(">IIII", 2051, 1, 28, 28) + bytes(784),
        "t10k-labels-idx1-ubyte.gz": struct.pack(">II", 2049, 1) + bytes([7]),
    }
    hashes = {}
    for name, data in contents.items():
        (folder / name).write_bytes(gzip.compress(data))
        hashes[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    monkeypatch.setattr(mnist, "ORIGINAL_FILES", hashes)
    return folder


def test_mnist_reads_idx_layout(home, monkeypatch):
    _tiny_idx_folder(home / "mnist", monkeypatch)
    (x_train, y_train), (_x_test, y_test) = datasets.mnist.load_data()
    assert x_train.shape == (3, 28, 28) and x_train.dtype == np.uint8
    assert y_train.tolist() == [5, 0, 4] and y_test.tolist() == [7]


def test_mnist_cache_with_wrong_hash_is_ignored(home, monkeypatch):
    _tiny_idx_folder(home / "mnist", monkeypatch)
    np.savez(home / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.warns(UserWarning, match=r"mnist\.npz does not match its published checksum"):
        (x_train, _), _ = datasets.mnist.load_data()
    assert x_train.shape == (3, 28, 28)


def test_mnist_nothing_present_names_both_places(home):
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.mnist.load_data()
    message = str(info.value)
    assert os.path.join(str(home), "mnist.npz") in message
    assert os.path.join(str(home), "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and mnist.KERAS_SHA256 in message


def test_mnist_corrupt_original_file_is_refused(home, monkeypatch):
    folder = _tiny_idx_folder(home / "mnist", monkeypatch)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b corrupted")
    with pytest.warns(UserWarning, match="t10k-labels-idx1-ubyte.gz does not match"), \
            pytest.raises(datasets.DatasetNotFoundError):
        datasets.mnist.load_data()


def test_fashion_mnist_nothing_present(home):
    with pytest.raises(datasets.DatasetNotFoundError,
                       match=r"four Fashion-MNIST files .*fashion-mnist"):
        datasets.fashion_mnist.load_data()
    assert set(fashion_mnist.FILES) == set(mnist.ORIGINAL_FILES)


def _cifar_archive(path, batches):
    with tarfile.open(path, "w:gz") as archive:
        for name, content in batches.items():
            data = pickle.dumps(content, protocol=4)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _cifar_batch(labels):
    data = np.arange(len(labels) * 3072, dtype=np.int64).astype(np.uint8).reshape(-1, 3072)
    return {b"data": data, b"labels": list(labels), b"batch_label": b"x"}


def test_cifar10_from_original_archive(home, monkeypatch):
    folder = home / "cifar10"
    folder.mkdir(parents=True)
    path = folder / "cifar-10-python.tar.gz"
    batches = {f"data_batch_{i}": _cifar_batch([i, i]) for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch([9])
    _cifar_archive(path, batches)
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(path.read_bytes()).hexdigest())
    (x_train, y_train), (x_test, _y_test) = datasets.cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (1, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_train[:, 0].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert x_train.dtype == y_train.dtype == np.uint8
    # channels last: pixel (row 0, col 0) holds the R, G, B planes' first values
    assert x_train[0, 0, 0].tolist() == [0, 1024 % 256, 2048 % 256]


def test_cifar10_refuses_code_in_a_trusted_archive(home, monkeypatch):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    folder = home / "cifar10"
    folder.mkdir(parents=True)
    path = folder / "cifar-10-python.tar.gz"
    _cifar_archive(path, {"data_batch_1": {b"data": Exploit()}})
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(path.read_bytes()).hexdigest())
    with pytest.raises(pickle.UnpicklingError, match="Refusing to deserialize `posix.system`"):
        datasets.cifar10.load_data()


def test_cifar10_nothing_present(home):
    with pytest.raises(datasets.DatasetNotFoundError,
                       match=r"(?s)cifar-10-batches-py-target_archive.*cifar-10-python\.tar\.gz"):
        datasets.cifar10.load_data()


def _ragged(rows):
    array = np.empty(len(rows), dtype=object)
    array[:] = [list(r) for r in rows]
    return array


def test_imdb_processing_from_trusted_cache(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "imdb.npz"
    np.savez(path, x_train=_ragged([[1, 2], [3], [4, 5, 6]]), y_train=np.array([0, 1, 1]),
             x_test=_ragged([[7, 1]]), y_test=np.array([0]))
    monkeypatch.setattr(imdb, "SHA256", _sha256(path))
    (x_train, y_train), (x_test, y_test) = datasets.imdb.load_data(num_words=7)
    assert x_train.dtype == object and len(x_train) == 3
    order = np.arange(3)
    np.random.RandomState(113).shuffle(order)
    raw = [[1, 2], [3], [4, 5, 6]]
    expected = [[1] + [w + 3 if w + 3 < 7 else 2 for w in raw[i]] for i in order]
    assert [list(x) for x in x_train] == expected
    assert y_train.tolist() == [[0, 1, 1][i] for i in order]
    assert [list(x) for x in x_test] == [[1, 2, 4]] and y_test.tolist() == [0]
    (short, _), (short_test, _) = datasets.imdb.load_data(maxlen=4)
    assert sorted(len(x) for x in short) == [2, 3] and len(short_test) == 1


def test_object_npz_needs_the_published_hash(home, tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, x=_ragged([[1], [2, 3]]))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        _common.load_npz(str(path), sha256="0" * 64)
    assert [list(v) for v in _common.load_npz(str(path), _sha256(path))["x"]] == [[1], [2, 3]]


def test_imdb_untrusted_cache_is_not_loaded(home):
    home.mkdir(parents=True)
    np.savez(home / "imdb.npz", x_train=_ragged([[1]]))
    with pytest.warns(UserWarning, match="imdb.npz does not match"), \
            pytest.raises(datasets.DatasetNotFoundError, match="imdb.npz"):
        datasets.imdb.load_data()


def test_reuters_split_and_labels(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "reuters.npz"
    np.savez(path, x=_ragged([[1, 2]] * 10), y=np.arange(10))
    monkeypatch.setattr(reuters, "SHA256", _sha256(path))
    (x_train, y_train), (x_test, y_test) = datasets.reuters.load_data(test_split=0.2)
    assert len(x_train) == 8 and len(x_test) == 2
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(10))
    assert list(x_train[0]) == [1, 4, 2]  # Keras: num_words = max index, excluded (-> oov)
    assert len(datasets.reuters.get_label_names()) == 46


def test_boston_housing_split(home, monkeypatch):
    from ndflow.keras.datasets import boston_housing

    home.mkdir(parents=True)
    path = home / "boston_housing.npz"
    np.savez(path, x=np.arange(130, dtype=np.float64).reshape(10, 13), y=np.arange(10.0))
    monkeypatch.setattr(boston_housing, "SHA256", _sha256(path))
    (x_train, y_train), (x_test, _y_test) = datasets.boston_housing.load_data()
    assert x_train.shape == (8, 13) and x_test.shape == (2, 13)
    np.testing.assert_array_equal(x_train[:, 0] / 13, y_train)
    with pytest.raises(ValueError, match="test_split must be in"):
        datasets.boston_housing.load_data(test_split=1.5)
