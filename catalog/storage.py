"""Where release files live, behind one interface: a local folder (the embedded default) or S3-compatible
object storage (``OPENDATA_STORAGE_URL=s3://bucket/prefix``, in :mod:`catalog.s3_storage`).

A release is four files (data.parquet, privacy-report.json, validation-report.json, datapackage.json)
under a *folder* that the catalog records (``Release.folder``, relative to the storage's root). The
publish stage builds them in private staging and hands the folder to ``ReleaseStorage.publish``; only the
catalog commit that follows makes the release visible, so whatever a crash leaves in storage is never read.

- ``LocalStorage``: ``HOME/public/releases/<dataset>/<number>/``, moved into place by one atomic rename
  (fsynced); a folder left by a crash before the commit is replaced by the next run of that number.
- ``S3Storage``: ``<prefix>/<dataset>/<number>-<run_id>/``, a key no other run uses, uploaded data first
  and datapackage.json last; a crashed or losing run can never overwrite a published release's objects.

Readers (the API, the publisher's incremental merge, the ``report`` command) go through the same
interface: bytes or JSON of a file, its size, a stream of chunks, or the path DuckDB reads (an absolute
local path, or an ``s3://`` URL with ``prepare_duckdb()`` run first) inside ``readable_prefix()``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from catalog.models import Release
from catalog.release_storage import CHUNK_BYTES, OutsideStorage, ReleaseStorage, missing
from opendata.errors import ConfigurationError
from opendata.settings import Settings

__all__ = ["CHUNK_BYTES", "LocalStorage", "OutsideStorage", "ReleaseStorage", "missing", "open_storage"]

class LocalStorage(ReleaseStorage):
    """``HOME/public/releases``: the embedded default, read by DuckDB in place."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, release: Release, name: str) -> Path:
        path = (self.root / release.folder / name).resolve()
        if not path.is_relative_to(self.root):
            raise OutsideStorage(f"release {release.dataset}/{release.number} points outside the releases folder")
        return path

    def publish(self, build: Path, dataset: str, number: int, run_id: str) -> str:
        _fsync_tree(build)
        final = self.root / dataset / str(number)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # left by a crash after a rename whose commit never happened
            shutil.rmtree(final)
        os.rename(build, final)
        _fsync_dir(final.parent)
        return final.relative_to(self.root).as_posix()

    def exists(self, release: Release, name: str) -> bool:
        try:
            return self._path(release, name).is_file()
        except OutsideStorage:
            return False

    def duckdb_path(self, release: Release, name: str) -> str:
        path = self._path(release, name)
        if not path.is_file():
            raise missing(release, name)
        return str(path)

    def read_bytes(self, release: Release, name: str) -> bytes:
        try:
            return self._path(release, name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise missing(release, name) from None

    def size(self, release: Release, name: str) -> int:
        try:
            return self._path(release, name).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise missing(release, name) from None

    def stream(self, release: Release, name: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        try:
            handle = open(self._path(release, name), "rb")  # closed by the generator below
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise missing(release, name) from None

        def chunks() -> Iterator[bytes]:
            with handle:
                while block := handle.read(chunk_bytes):
                    yield block

        return chunks()

    def local_path(self, release: Release, name: str) -> Path:
        return self._path(release, name)

    def readable_prefix(self) -> str:
        return f"{self.root}/"

    def folders(self) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for folder in self.root.glob("*/*"):
            if folder.is_dir() and not folder.name.startswith("."):
                newest = max((p.stat().st_mtime for p in folder.iterdir()), default=folder.stat().st_mtime)
                found[folder.relative_to(self.root).as_posix()] = datetime.fromtimestamp(newest, UTC)
        return found

    def remove(self, folder: str) -> int:
        path = (self.root / folder).resolve()
        if path.parent.parent != self.root:
            raise OutsideStorage(f"{folder!r} is not a release folder of {self.root}")
        count = sum(1 for p in path.iterdir() if p.is_file())
        shutil.rmtree(path)
        return count

    def prepare_duckdb(self) -> list[str]:
        return []


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_storage(settings: Settings) -> ReleaseStorage:
    """The storage ``OPENDATA_STORAGE_URL`` names: unset, ``HOME/public/releases``; ``s3://bucket/prefix``."""
    url = settings.storage_url
    if url is None or not url.strip():
        return LocalStorage(settings.paths.releases)
    if url.strip().lower().startswith("s3://"):
        from catalog.s3_storage import S3Storage  # boto3 is imported only where object storage is used

        return S3Storage.from_settings(settings)
    raise ConfigurationError(
        f"OPENDATA_STORAGE_URL={url!r} is not a storage this platform knows: unset it for HOME/public/releases "
        "on local disk, or set s3://bucket/prefix for S3-compatible object storage"
    )
