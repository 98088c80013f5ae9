"""The read-only SQL endpoint's engine: a pool of locked DuckDB databases over published releases only.

Each pooled database is an in-memory DuckDB with one view per published release (``"name@N"``) and one
per dataset's latest release (``"name"``), and:

- ``allowed_paths`` = exactly the ``data.parquet`` files of published releases (local paths, or ``s3://``
  URLs with httpfs and the storage's secret set up first), then external access off: a release awaiting
  approval, staging, ``/etc/passwd``, another bucket or a sibling file are unreadable even to a query
  that got past ``api.sql_guard``;
- no extension install/load (DuckDB spatial is loaded from its wheel first when a release has geometry),
  ``temp_directory=''`` (no spilling), ``memory_limit`` = the per-query
  limit, configuration locked;
- one query at a time per database, so its memory limit is the query's memory limit; the pool holds
  ``sql_concurrency`` databases and a request waits (up to the time limit) for a free one;
- a timer interrupts a query past ``query_timeout_seconds``; more rows than ``sql_row_cap`` is an error.

The pool is rebuilt when the set of published releases changes (a new release, an approval).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from api.catalog_view import PublishedState
from api.engine import interrupt_after, open_locked_database, timed_out
from api.filters import quote_identifier
from api.sql_guard import check_sql
from catalog.geometry import geometry_columns
from catalog.storage import ReleaseStorage, open_storage
from opendata.duckdb_extensions import load_spatial
from opendata.errors import QueryError, QueryTimeout, QueryTooLarge
from opendata.settings import Settings
from opendata.sql_text import quote_literal


@dataclass(frozen=True)
class SqlResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    elapsed_ms: float
    types: list[str]


def release_tables(state: PublishedState, storage: ReleaseStorage) -> dict[str, str]:
    """Table name -> the Parquet file DuckDB reads, for every published release and each dataset's latest."""
    tables: dict[str, str] = {}
    for name, releases in sorted(state.releases.items()):
        for release in releases:
            if not storage.exists(release, "data.parquet"):  # missing, or its folder leaves the storage
                continue
            path = storage.duckdb_path(release, "data.parquet")
            tables[f"{name}@{release.number}"] = path
            tables[name] = path
    return tables


def _locked_database(
    tables: dict[str, str], storage: ReleaseStorage, settings: Settings, spatial: bool = False
) -> duckdb.DuckDBPyConnection:
    # Geometry releases carry bounding-box helper columns for the geo filters; views leave them out.
    views = [
        f"CREATE VIEW {quote_identifier(table)} AS SELECT COLUMNS(lambda c: NOT starts_with(c, '__bbox_')) "
        f"FROM read_parquet({quote_literal(path)})"
        for table, path in tables.items()
    ]
    return open_locked_database(
        memory_limit=settings.sql_memory_limit,
        threads=settings.query_threads,
        allowed_paths=sorted(set(tables.values())),
        prepare=views,
        storage=[*storage.prepare_duckdb(), *(load_spatial() if spatial else [])],
    )


def has_geometry_releases(state: PublishedState) -> bool:
    """Whether any published release has geometry columns: then the SQL databases load DuckDB spatial (its
    ST_* functions; its file readers such as ST_Read stay refused by the guard and by the lockdown)."""
    return any(geometry_columns(r.table_schema) for releases in state.releases.values() for r in releases)


class SqlPool:
    """``size`` locked databases over one published state."""

    def __init__(self, state: PublishedState, settings: Settings, storage: ReleaseStorage | None = None) -> None:
        self.fingerprint = state.fingerprint
        storage = storage or open_storage(settings)
        self.tables = release_tables(state, storage)
        self.settings = settings
        self._free: queue.Queue[duckdb.DuckDBPyConnection] = queue.Queue()
        spatial = has_geometry_releases(state)
        self._all = [
            _locked_database(self.tables, storage, settings, spatial) for _ in range(settings.sql_concurrency)
        ]
        for con in self._all:
            self._free.put(con)

    def columns(self) -> dict[str, list[str]]:
        with self.connection(self.settings.query_timeout_seconds) as con:
            return {
                table: [str(r[0]) for r in con.execute(f"DESCRIBE {quote_identifier(table)}").fetchall()]
                for table in self.tables
            }

    @contextmanager
    def connection(self, wait: float) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = self._free.get(timeout=wait)
        except queue.Empty:
            raise QueryTimeout(
                f"every SQL slot stayed busy for {wait:g} s; retry shortly"
            ) from None
        try:
            yield con
        finally:
            self._free.put(con)

    def run(self, sql: str) -> SqlResult:
        check_sql(sql, self.tables)
        timeout = self.settings.query_timeout_seconds
        cap = self.settings.sql_row_cap
        started = time.perf_counter()
        with self.connection(timeout) as con, interrupt_after(con, timeout) as timer:
            try:
                reader = con.execute(sql).to_arrow_reader(min(cap + 1, 10_000))
                batches: list[pa.RecordBatch] = []
                count = 0
                for batch in reader:
                    batches.append(batch)
                    count += batch.num_rows
                    if count > cap:
                        raise QueryTooLarge(
                            f"the query returns more than the row cap of {cap:,} rows; add LIMIT (and OFFSET to "
                            "page), aggregate, or download an export", parameter="sql",
                        )
                table = pa.Table.from_batches(batches, schema=reader.schema)
            except duckdb.InterruptException as exc:
                if timer.fired:
                    raise timed_out(timeout) from exc
                raise QueryError("the query was interrupted", parameter="sql") from exc
            except duckdb.OutOfMemoryException as exc:
                raise QueryTooLarge(
                    f"the query needs more than the memory limit of {self.settings.sql_memory_limit} a query; "
                    "add filters or aggregate", parameter="sql",
                ) from exc
            except duckdb.PermissionException as exc:
                raise QueryError(f"the query may read published tables only: {exc}", parameter="sql") from exc
            except duckdb.Error as exc:
                raise QueryError(f"the query failed: {_first_line(exc)}", parameter="sql") from exc
        elapsed = (time.perf_counter() - started) * 1000
        columns = table.column_names
        return SqlResult(columns, table.to_pylist(), round(elapsed, 2), [kind_of(f.type) for f in table.schema])

    def close(self) -> None:
        for con in self._all:
            con.close()


def kind_of(arrow_type: pa.DataType) -> str:
    """A result column's type in CKAN DataStore's words (int, numeric, text, bool, date, timestamp...)."""
    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "numeric"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_time(arrow_type):
        return "time"
    return "text"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class SqlEngine:
    """The pool for the current published state, rebuilt when that state changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.storage = open_storage(settings)
        self._pool: SqlPool | None = None
        self._lock = threading.Lock()

    def pool(self, state: PublishedState) -> SqlPool:
        with self._lock:
            if self._pool is None or self._pool.fingerprint != state.fingerprint:
                # The old pool's databases close when the last query holding them is done (refcount).
                self._pool = SqlPool(state, self.settings, self.storage)
            return self._pool

    def run(self, state: PublishedState, sql: str) -> SqlResult:
        return self.pool(state).run(sql)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
