"""`tf.io.gfile`: file helpers with TensorFlow's names and errors, on the local file system."""

import glob as _glob
import os
import shutil

from ndflow.framework import errors


def _path(name):
    if hasattr(name, "numpy"):
        name = name.numpy()
    if isinstance(name, bytes):
        name = name.decode("utf-8")
    return os.fspath(name)


def _not_found(path):
    return errors.NotFoundError(f"{path}; No such file or directory")


class GFile:
    """A file object (`tf.io.gfile.GFile`): text in "r"/"w" modes, bytes in "rb"/"wb".

    Args:
      name: the file path.
      mode: "r", "w", "a", "rb", "wb" or "ab".
    """

    def __init__(self, name, mode="r"):
        self.name = _path(name)
        self.mode = mode
        self._file = None
        if "r" in mode and not os.path.exists(self.name):
            raise _not_found(self.name)

    def _handle(self):
        if self._file is None:
            if any(m in self.mode for m in "wa"):
                makedirs_for_file(self.name)
            try:
                self._file = open(self.name, self.mode)  # noqa: SIM115 - closed by close()
            except FileNotFoundError as error:
                raise _not_found(self.name) from error
        return self._file

    def read(self, n=-1):
        """Reads `n` characters or bytes (all when -1)."""
        return self._handle().read(n)

    def readline(self):
        return self._handle().readline()

    def readlines(self):
        return self._handle().readlines()

    def write(self, file_content):
        """Writes a string or bytes."""
        handle = self._handle()
        if "b" in self.mode and isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        elif "b" not in self.mode and isinstance(file_content, bytes):
            file_content = file_content.decode("utf-8")
        handle.write(file_content)

    def seek(self, offset=None, whence=0, position=None):
        return self._handle().seek(position if offset is None else offset, whence)

    def tell(self):
        return self._handle().tell()

    def size(self):
        """The file's size in bytes."""
        return os.path.getsize(self.name)

    def seekable(self):
        return True

    def flush(self):
        if self._file is not None:
            self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __iter__(self):
        return iter(self._handle())

    def __next__(self):
        return next(self._handle())

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


Open = GFile  # noqa: N816 - TF's name


def exists(path):
    """True when `path` exists."""
    return os.path.exists(_path(path))


def glob(pattern):
    """The paths matching a glob pattern, sorted."""
    if isinstance(pattern, (list, tuple)):
        return sorted({p for item in pattern for p in glob(item)})
    return sorted(_glob.glob(_path(pattern)))


def isdir(path):
    return os.path.isdir(_path(path))


def listdir(path):
    """The names in a directory (not full paths)."""
    path = _path(path)
    if not os.path.isdir(path):
        raise _not_found(path)
    return sorted(os.listdir(path))


def makedirs(path):
    """Creates a directory and its parents; no error if it exists."""
    os.makedirs(_path(path), exist_ok=True)


def mkdir(path):
    """Creates one directory; its parent must exist."""
    path = _path(path)
    try:
        os.mkdir(path)
    except FileExistsError as error:
        raise errors.AlreadyExistsError(f"{path}; File exists") from error
    except FileNotFoundError as error:
        raise _not_found(path) from error


def makedirs_for_file(path):
    directory = os.path.dirname(_path(path))
    if directory:
        os.makedirs(directory, exist_ok=True)


def remove(path):
    """Deletes a file."""
    path = _path(path)
    try:
        os.remove(path)
    except FileNotFoundError as error:
        raise _not_found(path) from error


def rmtree(path):
    """Deletes a directory and everything in it."""
    path = _path(path)
    if not os.path.exists(path):
        raise _not_found(path)
    shutil.rmtree(path)


def rename(src, dst, overwrite=False):
    """Renames `src` to `dst`; an existing `dst` is an error unless `overwrite`."""
    src, dst = _path(src), _path(dst)
    if not os.path.exists(src):
        raise _not_found(src)
    if os.path.exists(dst) and not overwrite:
        raise errors.AlreadyExistsError(f"{dst}; File already exists")
    os.replace(src, dst)


def copy(src, dst, overwrite=False):
    """Copies a file; an existing `dst` is an error unless `overwrite`."""
    src, dst = _path(src), _path(dst)
    if not os.path.exists(src):
        raise _not_found(src)
    if os.path.exists(dst) and not overwrite:
        raise errors.AlreadyExistsError(f"{dst}; File already exists")
    shutil.copyfile(src, dst)


def stat(path):
    """File statistics with `length`, `mtime_nsec` and `is_directory`."""
    path = _path(path)
    if not os.path.exists(path):
        raise _not_found(path)
    info = os.stat(path)

    class FileStatistics:
        length = info.st_size
        mtime_nsec = info.st_mtime_ns
        is_directory = os.path.isdir(path)

    return FileStatistics()


def walk(top, topdown=True, onerror=None):
    """Yields (directory, subdirectories, files) like os.walk."""
    yield from os.walk(_path(top), topdown=topdown, onerror=onerror)


def get_registered_schemes():
    return ["", "file"]
