"""The API's query engine: one in-memory DuckDB connection that can read published releases only.

The connection is configured once, then its configuration is locked, so neither our code nor a query
can widen what it may read:

- ``temp_directory=''``: no spilling to disk (DuckDB would otherwise allow reads under ``./.tmp``);
  a query over ``memory_limit`` fails with a clear error instead.
- ``allowed_directories=[<HOME/public/releases/>]`` (or the release storage's ``s3://bucket/prefix/``)
  then ``enable_external_access=false``: files, ATTACH, COPY, INSTALL/LOAD and Python replacement scans
  are refused everywhere else (HOME/private, /etc, sibling folders such as ``releases_evil/``, paths with
  ``..``, other buckets; DuckDB matches ``s3://`` URLs as text, so the storage refuses dot segments itself).
- no extension auto-install/auto-load, no community extensions; ``memory_limit``, ``threads``. In object
  storage, httpfs (from its wheel) and the storage's S3 secret are set up before the lockdown.
- ``lock_configuration=true`` last.

``allowed_directories`` lets DuckDB *write* there too (``COPY ... TO``, ``ATTACH`` creating a file), so
``execute`` runs exactly one SELECT statement and refuses every other statement type.

Each request takes its own cursor (``con.cursor()``), which is how DuckDB is shared across threads.
Parquet paths come from the catalog only (``release_file``, through :mod:`catalog.storage`), resolved
(symlinks too) and checked to lie inside the releases folder or prefix before DuckDB sees them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from api.query_watchdog import WATCHDOG, Watched
from catalog.geometry import geometry_columns
from catalog.models import Release
from catalog.storage import open_storage
from opendata.duckdb_extensions import load_spatial
from opendata.errors import QueryError, QueryTimeout
from opendata.settings import Settings


def open_locked_database(
    *,
    memory_limit: str,
    threads: int,
    allowed_directories: list[str] | None = None,
    allowed_paths: list[str] | None = None,
    prepare: Sequence[str] = (),
    storage: Sequence[str] = (),
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that may read only the given folders or files, then locked.

    ``storage`` statements (the release storage's ``prepare_duckdb``: load httpfs, create its secret) run
    first, with extension downloads already off; ``prepare`` statements (such as the SQL endpoint's views)
    run after the lockdown settings and before the configuration is locked.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for statement in storage:
        con.execute(statement)
    con.execute("SET temp_directory = ''")
    if allowed_directories is not None:
        con.execute("SET allowed_directories = ?", [allowed_directories])
    if allowed_paths is not None:
        con.execute("SET allowed_paths = ?", [allowed_paths])
    con.execute("SET enable_external_access = false")
    con.execute("SET allow_community_extensions = false")
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET threads = ?", [threads])
    con.execute("SET TimeZone = 'UTC'")
    # Releases are immutable files, so their footers may be cached across queries.
    con.execute("SET parquet_metadata_cache = true")
    for statement in prepare:
        con.execute(statement)
    con.execute("SET lock_configuration = true")
    return con


def has_geometry(release: Release) -> bool:
    """Whether a release has geometry columns (their SQL needs DuckDB spatial: ``spatial=True``)."""
    return bool(geometry_columns(release.table_schema))


class QueryEngine:
    """A locked-down DuckDB connection; ``execute`` runs one statement on a fresh cursor.

    ``spatial=True`` runs on a second locked connection with DuckDB spatial loaded (from its wheel, before
    the lockdown), opened on first use since loading spatial takes about half a second."""

    def __init__(self, settings: Settings) -> None:
        self.storage = open_storage(settings)
        self.memory_limit = settings.query_memory_limit
        self.timeout = settings.query_timeout_seconds
        self.memory_rows = settings.release_memory_rows
        self._threads = settings.query_threads
        self._loaded: OrderedDict[tuple[str, int, bool], tuple[str, int]] = OrderedDict()
        self._load_lock = threading.Lock()
        self._con = self._open(spatial=False)
        self._spatial_con: duckdb.DuckDBPyConnection | None = None

    def _open(self, *, spatial: bool) -> duckdb.DuckDBPyConnection:
        return open_locked_database(
            memory_limit=self.memory_limit,
            threads=self._threads,
            allowed_directories=[self.storage.readable_prefix()],
            storage=[*self.storage.prepare_duckdb(), *(load_spatial() if spatial else [])],
        )

    def _connection(self, spatial: bool) -> duckdb.DuckDBPyConnection:
        if not spatial:
            return self._con
        if self._spatial_con is None:
            with self._load_lock:
                if self._spatial_con is None:
                    self._spatial_con = self._open(spatial=True)
        return self._spatial_con

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
    def cursor(self, spatial: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._connection(spatial).cursor()
        try:
            yield cur
        finally:
            cur.close()

    def execute(self, sql: str, params: Sequence[Any] = (), *, spatial: bool = False) -> pa.Table:
        """Run one read-only SELECT with bound parameters and return its result as an Arrow table.

        Past ``query_timeout_seconds`` the query is interrupted and a QueryTimeout raised."""
        check_read_only(sql)
        with self.cursor(spatial) as cur, interrupt_after(cur, self.timeout) as timer:
            try:
                return cur.execute(sql, list(params)).to_arrow_table()
            except duckdb.OutOfMemoryException as exc:
                raise QueryError(
                    f"the query needs more memory than the engine allows ({self.memory_limit}); "
                    "ask for fewer rows or add filters"
                ) from exc
            except duckdb.InterruptException as exc:
                if timer.fired:
                    raise timed_out(self.timeout) from exc
                raise
            except duckdb.InvalidInputException as exc:
                if spatial:  # e.g. a GeoJSON geometry DuckDB spatial cannot read
                    raise QueryError(f"the geometry cannot be used: {str(exc).splitlines()[0]}") from exc
                raise

    @contextmanager
    def stream(
        self, sql: str, params: Sequence[Any] = (), batch_rows: int = 10_000, *, spatial: bool = False
    ) -> Iterator[pa.RecordBatchReader]:
        """Run one read-only SELECT and read its result batch by batch (exports), never all at once."""
        check_read_only(sql)
        with self.cursor(spatial) as cur:
            yield cur.execute(sql, list(params)).to_arrow_reader(batch_rows)

    def release_file(self, release: Release, name: str) -> str:
        """What DuckDB reads for one file of a release (an absolute path or an ``s3://`` URL); CatalogError
        when it is missing, and refused (OutsideStorage, a RuntimeError) if it leaves the releases folder."""
        return self.storage.duckdb_path(release, name)

    def relation(self, release: Release, spatial: bool = False) -> tuple[str, list[Any]]:
        """``(FROM clause, its parameters)`` for a release's rows, with a ``file_row_number`` column.

        Recent releases up to ``release_memory_rows`` in all are copied once into in-memory DuckDB tables
        (in file order, so their zone maps prune like the Parquet row-group statistics do, without
        opening and decoding Parquet on every request); others are read from their Parquet file."""
        path = self.release_file(release, "data.parquet")
        parquet = ("read_parquet(?, file_row_number = true)", [path])
        if release.rows > self.memory_rows:
            return parquet
        key = (release.dataset, release.number, spatial)
        connection = self._connection(spatial)
        with self._load_lock:
            found = self._loaded.get(key)
            if found is not None:
                self._loaded.move_to_end(key)
                return found[0], []
            name = f'"release {release.dataset}@{release.number}"'
            with connection.cursor() as cur:
                cur.execute(
                    f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet(?, file_row_number = true)",
                    [path],
                )
            self._loaded[key] = (name, release.rows)
            while sum(rows for _, rows in self._loaded.values()) > self.memory_rows:
                ((_, _, on_spatial), (evicted, _)) = self._loaded.popitem(last=False)
                with self._connection(on_spatial).cursor() as cur:
                    cur.execute(f"DROP TABLE IF EXISTS {evicted}")
            return name, []

    def close(self) -> None:
        self._con.close()
        if self._spatial_con is not None:
            self._spatial_con.close()


def check_read_only(sql: str) -> None:
    """Refuse anything but exactly one SELECT (no COPY, ATTACH, SET, INSTALL, CREATE, ...)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryError(f"the SQL does not parse: {exc}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements) or "nothing"
        raise QueryError(f"{kinds} is not allowed: the query engine runs exactly one SELECT statement")


@contextmanager
def interrupt_after(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[Watched]:
    """Interrupt whatever ``con`` runs once ``seconds`` have passed (DuckDB checks between vectors), by the
    process's one watchdog thread (``api.query_watchdog``); ``.fired`` tells a timeout from other interrupts."""
    with WATCHDOG.watch(con, seconds) as watched:
        yield watched


def timed_out(seconds: float) -> QueryTimeout:
    return QueryTimeout(
        f"the query ran past the time limit of {seconds:g} s and was stopped; add filters, ask for fewer "
        "rows or groups, or use an export"
    )
