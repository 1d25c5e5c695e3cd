"""`keras.utils.get_file` and its helpers: the Keras cache folder, file hashes, safe archive
extraction. urllib is imported only when something is downloaded."""

import hashlib
import os
import shutil
import tarfile
import warnings
import zipfile


def keras_home():
    """The Keras cache root: `$KERAS_HOME` if set, else `~/.keras`."""
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def resolve_hasher(algorithm, file_hash=None):
    """A hashlib object: sha256 for "sha256" or a 64-character hash under "auto", else md5."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got "
                     f"{algorithm!r}")


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file (`algorithm` "sha256", "md5", "auto" or a hashlib object)."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file's sha256/md5 equals `file_hash`."""
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def _inside(base, name):
    target = os.path.realpath(os.path.join(base, name))
    return os.path.commonpath([os.path.realpath(base), target]) == os.path.realpath(base)


def _extract_tar(archive, path):
    if hasattr(tarfile, "data_filter"):
        archive.extractall(path, filter="data")  # refuses absolute paths, links outside, devices
        return
    members = [m for m in archive.getmembers()
               if _inside(path, m.name) and not (m.issym() or m.islnk() or m.isdev())]
    archive.extractall(path, members=members)


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (.tar, .tar.gz, .tar.bz2) or zip archive into `path`; returns whether
    the file was an archive of an accepted format. Members that would land outside `path` are
    skipped."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(f"extract_archive: archive_format must be 'auto', 'tar', 'zip' or "
                             f"None, got {kind!r}")
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                _extract_or_clean(lambda: _extract_tar(archive, path), path)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                names = [n for n in archive.namelist() if _inside(path, n)]
                if len(names) != len(archive.namelist()):
                    warnings.warn("extract_archive: skipped members outside the target folder",
                                  stacklevel=2)
                _extract_or_clean(lambda names=names: archive.extractall(path, members=names),
                                  path)
            return True
    return False


def _extract_or_clean(extract, path):
    try:
        extract()
    except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
        if os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
        raise


def _download(origin, target):
    import urllib.error
    import urllib.request

    partial = f"{target}.part"
    try:
        with urllib.request.urlopen(origin, timeout=60) as response, \
                open(partial, "wb") as handle:
            shutil.copyfileobj(response, handle)
    except (urllib.error.URLError, OSError, ValueError) as error:
        if os.path.exists(partial):
            os.remove(partial)
        reason = getattr(error, "reason", error)
        raise OSError(
            f"get_file: could not download {origin} ({reason}). If this machine is offline, "
            f"put the file at {target} yourself and call again.") from error
    except KeyboardInterrupt:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    os.replace(partial, target)


def _targets(fname, origin, datadir, extract, provided):
    """(download target, extraction folder or None), with Keras 3's naming."""
    if not extract:
        return os.path.join(datadir, fname), None
    if provided and "." in fname:
        return os.path.join(datadir, fname), os.path.join(datadir,
                                                          f"{fname[:fname.find('.')]}_extracted")
    return os.path.join(datadir, f"{fname}_archive"), os.path.join(datadir, fname)


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Downloads a file from a URL unless it is already in the cache (`keras.utils.get_file`).

    The file goes to `<cache_dir>/<cache_subdir>/<fname>` (cache_dir: `$KERAS_HOME` or
    `~/.keras`). A cached file whose hash does not match `file_hash` is downloaded again.
    With `extract=True` the archive is saved as `<fname>_archive` and extracted into
    `<fname>/` (Keras 3's layout), whose path is returned.

    Args:
      fname: the local file name (default: the last part of `origin`'s path).
      origin: the URL (`https://`, `http://` or `file://`).
      untar: deprecated; same as `extract=True` with `archive_format="tar"`.
      md5_hash: deprecated; same as `file_hash` with `hash_algorithm="md5"`.
      file_hash: the expected sha256 or md5 hex digest.
      cache_subdir: the subfolder of the cache (an absolute path is used as is).
      hash_algorithm: "auto" (by the length of `file_hash`), "sha256" or "md5".
      extract: extract the archive after download.
      archive_format: "auto", "tar", "zip" or None.
      cache_dir: the cache root.
      force_download: download even if a valid file is cached.

    Returns:
      The path of the file (or of the extraction folder).

    Raises:
      OSError: the download failed (offline: the message names where to put the file).
      ValueError: no origin, or the downloaded file does not match `file_hash`.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(os.path.expanduser(os.fspath(cache_dir or keras_home())),
                           cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    provided = bool(fname)
    fname = os.fspath(fname) if fname else os.path.basename(_url_path(origin))
    if not fname:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                         f"Please specify the `fname` argument.")
    if os.sep in fname:
        raise ValueError(f"Paths are no longer accepted as the `fname` argument. To specify "
                         f"the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    target, extraction_dir = _targets(fname, origin, datadir, extract or untar, provided)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                    hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the "
              f"{hash_algorithm} file hash does not match the original value of {file_hash} so "
              f"we will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} file "
                             f"hash does not match the provided value of {file_hash}.")
    if extraction_dir is None:
        return target
    if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir


def _url_path(origin):
    import urllib.parse

    return urllib.parse.urlsplit(origin).path
