"""get_file with local file:// URLs only (no network): caching, hashes, extraction, errors."""

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

import ndflow as tf
from ndflow.keras.utils import file_utils

get_file = tf.keras.utils.get_file


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source" / "data.txt"
    path.parent.mkdir()
    path.write_bytes(b"hello ndflow\n")
    return path


def test_get_file_downloads_into_keras_home(keras_home, source, capsys):
    path = get_file(origin=source.as_uri())
    assert path == str(keras_home / "datasets" / "data.txt")
    assert Path(path).read_bytes() == b"hello ndflow\n"
    assert "Downloading data from" in capsys.readouterr().out
    source.unlink()  # cached now: no second download
    assert get_file("data.txt", origin=source.as_uri()) == path


def test_get_file_cache_dir_and_subdir(tmp_path, source):
    path = get_file("copy.txt", origin=source.as_uri(), cache_dir=str(tmp_path / "c"),
                    cache_subdir="sub")
    assert path == str(tmp_path / "c" / "sub" / "copy.txt")


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_get_file_checks_hashes(keras_home, source, algorithm):
    digest = getattr(hashlib, algorithm)(source.read_bytes()).hexdigest()
    assert os.path.exists(get_file(origin=source.as_uri(), file_hash=digest))
    assert file_utils.validate_file(str(keras_home / "datasets" / "data.txt"), digest)
    with pytest.raises(ValueError, match=f"The {algorithm} file hash does not match"):
        get_file("other.txt", origin=source.as_uri(), file_hash="0" * len(digest),
                 hash_algorithm=algorithm)


def test_get_file_redownloads_a_stale_cached_file(keras_home, source):
    cached = keras_home / "datasets" / "data.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stale")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert Path(get_file(origin=source.as_uri(), file_hash=digest)).read_bytes() == \
        source.read_bytes()


def test_get_file_offline_names_where_to_put_the_file(keras_home, tmp_path):
    missing = (tmp_path / "nowhere" / "big.bin").as_uri()
    with pytest.raises(OSError, match=r"could not download .*big\.bin.*put the file at .*"
                                      r"keras_home.datasets.big\.bin"):
        get_file(origin=missing)
    assert not (keras_home / "datasets" / "big.bin").exists()
    assert not (keras_home / "datasets" / "big.bin.part").exists()


def _tar(tmp_path, members):
    path = tmp_path / "archive.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_get_file_extracts_tar_keras3_layout(keras_home, tmp_path):
    archive = _tar(tmp_path, {"folder/a.txt": b"A", "folder/b.txt": b"B"})
    path = get_file("things", origin=archive.as_uri(), extract=True)
    assert path == str(keras_home / "datasets" / "things")
    assert (keras_home / "datasets" / "things_archive").exists()
    assert Path(os.path.join(path, "folder", "b.txt")).read_text() == "B"


def test_get_file_extracts_zip_with_extension_name(keras_home, tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inner/c.txt", "C")
    path = get_file("pack.zip", origin=archive.as_uri(), extract=True)
    assert path == str(keras_home / "datasets" / "pack_extracted")
    assert Path(os.path.join(path, "inner", "c.txt")).read_text() == "C"


def test_extract_archive_skips_members_outside_target(tmp_path):
    archive = _tar(tmp_path, {"../evil.txt": b"x", "ok.txt": b"y"})
    target = tmp_path / "out"
    try:
        assert file_utils.extract_archive(str(archive), str(target))
    except tarfile.TarError:
        pass  # Python's "data" filter refuses the whole archive: also safe
    assert not (tmp_path / "evil.txt").exists()


def test_extract_archive_not_an_archive(tmp_path, source):
    assert file_utils.extract_archive(str(source), str(tmp_path / "x")) is False
    with pytest.raises(ValueError, match="archive_format must be"):
        file_utils.extract_archive(str(source), str(tmp_path / "x"), "rar")


def test_get_file_argument_errors(keras_home, source):
    with pytest.raises(ValueError, match='specify the "origin"'):
        get_file("x")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        get_file(os.path.join("a", "b"), origin=source.as_uri())
    with pytest.raises(ValueError, match="hash_algorithm must be"):
        file_utils.resolve_hasher("crc")


def test_keras_home_default(monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    assert file_utils.keras_home() == os.path.expanduser(os.path.join("~", ".keras"))
