"""tf.io.gfile: file helpers and their TF errors."""

import pytest

import ndflow as tf

gfile = tf.io.gfile


def test_write_read_glob_listdir_rename_remove(tmp_path):
    base = str(tmp_path / "a" / "b")
    gfile.makedirs(base)
    assert gfile.exists(base) and gfile.isdir(base)
    with gfile.GFile(base + "/x.txt", "w") as handle:
        handle.write("hello\nworld\n")
    with gfile.GFile(base + "/x.txt") as handle:
        assert handle.readlines() == ["hello\n", "world\n"]
    with gfile.GFile(base + "/y.bin", "wb") as handle:
        handle.write(b"\0\1")
    assert gfile.GFile(base + "/y.bin", "rb").read() == b"\0\1"
    assert gfile.glob(base + "/*.txt") == [base + "/x.txt"]
    assert gfile.listdir(base) == ["x.txt", "y.bin"]
    gfile.rename(base + "/x.txt", base + "/z.txt")
    with pytest.raises(tf.errors.AlreadyExistsError, match="z.txt"):
        gfile.rename(base + "/y.bin", base + "/z.txt")
    gfile.rename(base + "/y.bin", base + "/z.txt", overwrite=True)
    gfile.remove(base + "/z.txt")
    assert gfile.listdir(base) == []


@pytest.mark.parametrize("call", [lambda p: gfile.remove(p), lambda p: gfile.listdir(p),
                                  lambda p: gfile.GFile(p, "r"),
                                  lambda p: gfile.rename(p, p + "2")],
                         ids=["remove", "listdir", "open", "rename"])
def test_missing_paths_raise_not_found(tmp_path, call):
    path = str(tmp_path / "nothing")
    with pytest.raises(tf.errors.NotFoundError, match="nothing"):
        call(path)
