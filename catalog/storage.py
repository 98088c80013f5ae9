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

import json
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from catalog.models import Release
from opendata.errors import CatalogError, ConfigurationError
from opendata.settings import Settings

CHUNK_BYTES = 1 << 20


class OutsideStorage(RuntimeError):
    """A catalog record whose folder leaves the storage root: tampering or a bug, never a user error."""


def missing(release: Release, name: str) -> CatalogError:
    return CatalogError(f"release {release.number} of '{release.dataset}' has no file '{name}' in its folder")


class ReleaseStorage(ABC):
    """The files of immutable releases: written once by ``publish``, then only read."""

    #: ``"local"`` or ``"s3"``.
    kind: str

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @abstractmethod
    def publish(self, build: Path, dataset: str, number: int, run_id: str) -> str:
        """Put a built release folder in place and return the folder the catalog records."""

    @abstractmethod
    def exists(self, release: Release, name: str) -> bool:
        """Whether the release has this file (False too when its folder leaves the storage root)."""

    @abstractmethod
    def duckdb_path(self, release: Release, name: str) -> str:
        """What DuckDB reads for this file; CatalogError when it is missing, OutsideStorage when the
        catalog's folder leaves the storage root."""

    @abstractmethod
    def read_bytes(self, release: Release, name: str) -> bytes:
        """The whole file (reports and descriptors; data goes through DuckDB or ``stream``)."""

    @abstractmethod
    def size(self, release: Release, name: str) -> int:
        """The file's size in bytes."""

    @abstractmethod
    def stream(self, release: Release, name: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The file chunk by chunk; CatalogError is raised before the first chunk when it is missing."""

    @abstractmethod
    def local_path(self, release: Release, name: str) -> Path | None:
        """The file on local disk (for ``FileResponse`` and memory-mapped reads), or None in object storage."""

    @abstractmethod
    def readable_prefix(self) -> str:
        """The one folder (or ``s3://bucket/prefix/``) the API's DuckDB engines may read."""

    @abstractmethod
    def prepare_duckdb(self) -> list[str]:
        """Statements a DuckDB connection runs, before its configuration is locked, to read ``duckdb_path``s."""

    @abstractmethod
    def folders(self) -> dict[str, datetime]:
        """Every release folder in the storage (``<dataset>/<folder>``) and when it was last written, UTC."""

    @abstractmethod
    def remove(self, folder: str) -> int:
        """Delete one release folder and everything in it; the number of files removed."""

    def read_json(self, release: Release, name: str) -> Any:
        return json.loads(self.read_bytes(release, name))

    def read_table(self, release: Release, name: str = "data.parquet") -> pa.Table:
        """A release's Parquet file as an Arrow table."""
        path = self.local_path(release, name)
        if path is not None:
            if not path.is_file():
                raise missing(release, name)
            return pq.read_table(path)
        return pq.read_table(pa.BufferReader(self.read_bytes(release, name)))


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
