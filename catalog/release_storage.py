"""The interface every release storage implements (``ReleaseStorage``), apart from the storages themselves:
``catalog.storage`` (the local folder, and ``open_storage`` that picks one) and ``catalog.s3_storage`` both
import it, and neither imports the other at load time.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from catalog.models import Release
from opendata.errors import CatalogError

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
