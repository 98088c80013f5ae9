"""The API's query engine: one in-memory DuckDB connection that can read published releases only.

The connection is configured once, then its configuration is locked, so neither our code nor a query
can widen what it may read:

- ``temp_directory=''``: no spilling to disk (DuckDB would otherwise allow reads under ``./.tmp``);
  a query over ``memory_limit`` fails with a clear error instead.
- ``allowed_directories=[<HOME/public/releases/>]`` then ``enable_external_access=false``: files,
  ATTACH, COPY, INSTALL/LOAD and Python replacement scans are refused everywhere else
  (HOME/private, /etc, sibling folders such as ``releases_evil/``, paths with ``..``).
- no extension auto-install/auto-load, no community extensions; ``memory_limit``, ``threads``.
- ``lock_configuration=true`` last.

``allowed_directories`` lets DuckDB *write* there too (``COPY ... TO``, ``ATTACH`` creating a file), so
``execute`` runs exactly one SELECT statement and refuses every other statement type.

Each request takes its own cursor (``con.cursor()``), which is how DuckDB is shared across threads.
Parquet paths come from the catalog only (``release_file``), resolved (symlinks too) and checked to lie
inside the releases folder before DuckDB sees them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from catalog.models import Release
from opendata.errors import CatalogError, QueryError
from opendata.settings import Settings


class QueryEngine:
    """A locked-down DuckDB connection; ``execute`` runs one statement on a fresh cursor."""

    def __init__(self, settings: Settings) -> None:
        self.releases_root = settings.paths.releases.resolve()
        self.memory_limit = settings.query_memory_limit
        self._con = duckdb.connect(":memory:")
        con = self._con
        con.execute("SET temp_directory = ''")
        con.execute("SET allowed_directories = ?", [[f"{self.releases_root}/"]])
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET allow_community_extensions = false")
        con.execute("SET memory_limit = ?", [settings.query_memory_limit])
        con.execute("SET threads = ?", [settings.query_threads])
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")

    def settings(self) -> dict[str, str]:
        """The engine's effective settings that guard the public side (shown by tests and /healthz)."""
        names = [
            "allowed_directories", "enable_external_access", "autoinstall_known_extensions",
            "autoload_known_extensions", "allow_community_extensions", "memory_limit", "threads",
            "temp_directory", "lock_configuration",
        ]
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT name, value FROM duckdb_settings() WHERE list_contains(?, name)", [names]
            ).fetchall()
        return {str(name): str(value) for name, value in rows}

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run one read-only SELECT with bound parameters and return its result as an Arrow table."""
        check_read_only(sql)
        with self.cursor() as cur:
            try:
                return cur.execute(sql, list(params)).to_arrow_table()
            except duckdb.OutOfMemoryException as exc:
                raise QueryError(
                    f"the query needs more memory than the engine allows ({self.memory_limit}); "
                    "ask for fewer rows or add filters"
                ) from exc

    def release_file(self, release: Release, name: str) -> Path:
        """The absolute path of one file of a published release, refused if it leaves the releases folder."""
        path = (self.releases_root / release.folder / name).resolve()
        if not path.is_relative_to(self.releases_root):
            raise RuntimeError(
                f"release {release.dataset}/{release.number} points outside the releases folder"
            )
        if not path.is_file():
            raise CatalogError(
                f"release {release.number} of '{release.dataset}' has no file '{name}' in its folder"
            )
        return path

    def close(self) -> None:
        self._con.close()


def check_read_only(sql: str) -> None:
    """Refuse anything but exactly one SELECT (no COPY, ATTACH, SET, INSTALL, CREATE, ...)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryError(f"the SQL does not parse: {exc}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements) or "nothing"
        raise QueryError(f"{kinds} is not allowed: the query engine runs exactly one SELECT statement")
