"""The read-only SQL endpoint's engine: locked DuckDB databases bound to the tables each query names.

A query's parse tree (``api.sql_guard``) lists the tables it names; each is resolved in the catalog view, a
dataset name to its latest published release and ``"name@N"`` to release N (anything else is refused with
the guard's message). The query then runs on a locked in-memory DuckDB bound to exactly those releases:

- ``allowed_paths`` = exactly the ``data.parquet`` files of published releases (local paths, or ``s3://``
  URLs with httpfs and the storage's secret set up first), then external access off: a release awaiting
  approval, staging, ``/etc/passwd``, another bucket or a sibling file are unreadable even to a query
  that got past ``api.sql_guard``;
- no extension install/load (DuckDB spatial is loaded from its wheel first when a release has geometry),
  ``temp_directory=''`` (no spilling), ``memory_limit`` = the per-query
  limit, configuration locked;
- one query at a time per database, so its memory limit is the query's memory limit; at most
  ``sql_concurrency`` queries run at once and a request waits (up to the time limit) for a slot;
- a timer interrupts a query past ``query_timeout_seconds``; more rows than ``sql_row_cap`` is an error.

Bound databases are kept for reuse, keyed by the release files they read (at most ``BOUND_DATABASES``,
least recently used closed first). A small release (at most ``MEMORY_TABLE_CELLS`` rows x columns in a
database) is copied into its database's memory when the database is made, instead of a view over its
Parquet file: a filtered top-50 over 10,000 rows then costs about a sixth of the CPU. The copies kept by
idle databases stay under ``MEMORY_CELLS_BUDGET`` cells in all (least recently used closed first).
Releases are immutable, so a kept database never goes stale; a newly published release is simply a new
key, and nothing else is rebuilt: its first query costs one small database (tens of milliseconds),
whatever the size of the catalog.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from api.catalog_view import CatalogView
from api.engine import interrupt_after, open_locked_database, timed_out
from api.filters import quote_identifier
from api.sql_guard import check_sql, named_tables, parse_checked
from api.values import arrow_rows
from catalog.geometry import geometry_columns
from catalog.models import Release
from catalog.storage import ReleaseStorage, open_storage
from opendata.duckdb_extensions import load_spatial
from opendata.errors import CatalogError, QueryError, QueryTimeout, QueryTooLarge
from opendata.settings import Settings
from opendata.sql_text import quote_literal

#: Bound databases kept for reuse (each a small in-memory DuckDB).
BOUND_DATABASES = 32
#: Cells (rows x columns) of the releases a bound database may copy into memory (the rest are views).
MEMORY_TABLE_CELLS = 1_000_000
#: Cells the copies of all idle bound databases may hold together (about 20-40 bytes a cell).
MEMORY_CELLS_BUDGET = 4_000_000
#: Releases whose data file's path is kept (a look-up in the storage saved per query).
KEPT_PATHS = 4096
Binding = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SqlResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    elapsed_ms: float
    types: list[str]


def resolve_table(view: CatalogView, table: str) -> Release | None:
    """The published release a table name means: ``name`` (latest) or ``name@N``; None when there is none."""
    name, at, number = table.partition("@")
    try:
        if at:
            return view.release(name, int(number)) if number.isdigit() else None
        return view.latest(name)
    except CatalogError:
        return None


def bound_releases(view: CatalogView, tables: set[str], has_file: Callable[[Release], bool]) -> dict[str, Release]:
    """The named tables that are published releases with their file in the storage (``has_file``)."""
    bound: dict[str, Release] = {}
    for table in sorted(tables):
        release = resolve_table(view, table)
        if release is not None and has_file(release):  # missing, or outside the storage
            bound[table] = release
    return bound


def release_cells(releases: dict[str, Release]) -> dict[str, int]:
    """Rows x columns of each table's release (what its copy in memory would hold)."""
    return {table: max(1, r.rows) * max(1, len(r.table_schema.get("fields", []))) for table, r in releases.items()}


def in_memory(cells: dict[str, int]) -> set[str]:
    """The tables copied into memory: smallest first, while their cells stay under MEMORY_TABLE_CELLS."""
    chosen: set[str] = set()
    total = 0
    for table, count in sorted(cells.items(), key=lambda item: (item[1], item[0])):
        if total + count > MEMORY_TABLE_CELLS:
            break
        chosen.add(table)
        total += count
    return chosen


def locked_database(
    tables: dict[str, str], storage: ReleaseStorage, settings: Settings, spatial: bool = False,
    copied: Collection[str] = (),
) -> duckdb.DuckDBPyConnection:
    """A locked DuckDB that reads exactly ``tables`` (name -> file), one view each, or a copy in memory
    for those in ``copied``; geometry releases' bounding-box helper columns (for the geo filters) are left
    out."""
    views = [
        f"CREATE {'TABLE' if table in copied else 'VIEW'} {quote_identifier(table)} AS "
        f"SELECT COLUMNS(lambda c: NOT starts_with(c, '__bbox_')) FROM read_parquet({quote_literal(path)})"
        for table, path in tables.items()
    ]
    return open_locked_database(
        memory_limit=settings.sql_memory_limit,
        # Tables all in memory are small (MEMORY_TABLE_CELLS): a second thread only adds its start-up to
        # every query (a filtered top-50 over 10,000 rows took a third more CPU with two).
        threads=1 if set(copied) >= set(tables) else settings.query_threads,
        allowed_paths=sorted(set(tables.values())),
        # DuckDB's late materialization (a top-N of at most 50 rows re-read by rowid) costs about 3x the CPU
        # of a plain top-N on published tables (measured on 10,000 and 1,000,000 rows: benchmarks/sql.py)
        prepare=["SET late_materialization_max_rows = 0", *views],
        storage=[*storage.prepare_duckdb(), *(load_spatial() if spatial else [])],
    )


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


#: Days since 1970 of 0001-01-01 and 9999-12-31: the dates Python's ``date.isoformat`` writes as Arrow does.
_PLAIN_DAYS = (-719_162, 2_932_896)


def dates_as_text(table: pa.Table) -> pa.Table:
    """``table`` with its date columns as ISO text, the text they have in JSON: Arrow writes it in one
    pass, where a ``date`` object per cell took most of the conversion of a page of rows. A column with a
    date outside years 1 to 9999 (or DuckDB's infinity) stays as it is, for ``arrow_rows`` to handle."""
    for index, field in enumerate(table.schema):
        if not pa.types.is_date32(field.type):
            continue
        days = pc.min_max(table.column(index).cast(pa.int32()))
        low, high = days["min"].as_py(), days["max"].as_py()
        if low is None or (_PLAIN_DAYS[0] <= low and high <= _PLAIN_DAYS[1]):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table


@functools.lru_cache(maxsize=1024)
def _named(sql: str) -> frozenset[str]:
    """The tables a query names (kept by its text, as its parse tree is)."""
    return frozenset(named_tables(parse_checked(sql)))


@functools.lru_cache(maxsize=1024)
def _checked(sql: str, tables: tuple[str, ...]) -> None:
    """The guard's check of ``sql`` over ``tables``; a query asked again over the same tables passes
    without walking its tree again (a refusal is not kept: it raises each time)."""
    check_sql(sql, tables, parse_checked(sql))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class SqlEngine:
    """Runs read-only SQL on databases bound to the releases each query names (see the module docstring)."""

    def __init__(self, settings: Settings, storage: ReleaseStorage | None = None) -> None:
        self.settings = settings
        self.storage = storage or open_storage(settings)
        self._slots = threading.BoundedSemaphore(settings.sql_concurrency)
        self._idle: OrderedDict[Binding, list[duckdb.DuckDBPyConnection]] = OrderedDict()
        self._cells: dict[int, int] = {}  # id of a bound database -> the cells it copied into memory
        self._paths: OrderedDict[tuple[str, int, str, str], str] = OrderedDict()  # release -> its data file
        self._lock = threading.Lock()

    @contextmanager
    def database(
        self, tables: dict[str, str], spatial: bool = False, cells: dict[str, int] | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A locked database bound to ``tables``, for one query (a slot held while it runs); ``cells`` (rows x
        columns per table) lets small tables be copied into memory."""
        wait = self.settings.query_timeout_seconds
        if not self._slots.acquire(timeout=wait):
            raise QueryTimeout(f"every SQL slot stayed busy for {wait:g} s; retry shortly")
        try:
            key: Binding = (*sorted(tables.items()), ("", "spatial" if spatial else ""))
            with self._lock:
                idle = self._idle.get(key)
                con = idle.pop() if idle else None
            if con is None:
                copied = in_memory(cells or {})
                con = locked_database(tables, self.storage, self.settings, spatial, copied)
                with self._lock:
                    self._cells[id(con)] = sum((cells or {})[table] for table in copied)
            try:
                yield con
            finally:
                self._keep(key, con)
        finally:
            self._slots.release()

    def _keep(self, key: Binding, con: duckdb.DuckDBPyConnection) -> None:
        closing: list[duckdb.DuckDBPyConnection] = []
        with self._lock:
            idle = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            if len(idle) < self.settings.sql_concurrency:
                idle.append(con)
            else:
                closing.append(con)
            while len(self._idle) > BOUND_DATABASES or (
                len(self._idle) > 1 and self._copied_cells() > MEMORY_CELLS_BUDGET
            ):
                closing += self._idle.popitem(last=False)[1]
            for old in closing:
                self._cells.pop(id(old), None)
        for old in closing:
            old.close()

    def _copied_cells(self) -> int:
        return sum(self._cells.get(id(con), 0) for idle in self._idle.values() for con in idle)

    def releases(self, view: CatalogView, sql: str) -> dict[str, Release]:
        """The published releases ``sql`` may read (checked by the guard), by table name."""
        releases = bound_releases(view, set(_named(sql)), lambda release: self._data_file(release) is not None)
        _checked(sql, tuple(releases))
        return releases

    def files(self, releases: dict[str, Release]) -> dict[str, str]:
        """Table name -> the Parquet file DuckDB reads."""
        return {t: self._data_file(r) or self.storage.duckdb_path(r, "data.parquet") for t, r in releases.items()}

    def _data_file(self, release: Release) -> str | None:
        """The file DuckDB reads for ``release``'s data, None when the storage has none. A file found is kept
        per release (releases are immutable): looking it up took a realpath and a dozen ``lstat`` calls
        locally, a request on S3, more than a filtered query over a small table."""
        key = (release.dataset, release.number, release.folder, release.files.get("data.parquet", ""))
        with self._lock:
            found = self._paths.get(key)
            if found is not None:
                self._paths.move_to_end(key)
                return found
        if not self.storage.exists(release, "data.parquet"):
            return None
        found = self.storage.duckdb_path(release, "data.parquet")
        with self._lock:
            self._paths[key] = found
            while len(self._paths) > KEPT_PATHS:
                self._paths.popitem(last=False)
        return found

    def bound(self, view: CatalogView, sql: str) -> dict[str, str]:
        """The tables ``sql`` may read (checked by the guard), bound to their files."""
        return self.files(self.releases(view, sql))

    def run(self, view: CatalogView, sql: str) -> SqlResult:
        releases = self.releases(view, sql)
        tables = self.files(releases)
        spatial = any(geometry_columns(r.table_schema) for r in releases.values())
        timeout = self.settings.query_timeout_seconds
        cap = self.settings.sql_row_cap
        started = time.perf_counter()
        with (self.database(tables, spatial, release_cells(releases)) as con,
              interrupt_after(con, timeout) as timer):
            table = self._execute(con, sql, cap, timeout, timer)
        elapsed = (time.perf_counter() - started) * 1000
        columns = table.column_names
        types = [kind_of(f.type) for f in table.schema]
        return SqlResult(columns, arrow_rows(dates_as_text(table)), round(elapsed, 2), types)

    def _execute(self, con: duckdb.DuckDBPyConnection, sql: str, cap: int, timeout: float, timer: Any) -> pa.Table:
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
            return pa.Table.from_batches(batches, schema=reader.schema)
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

    def close(self) -> None:
        with self._lock:
            idle = [con for found in self._idle.values() for con in found]
            self._idle.clear()
            self._cells.clear()
        for con in idle:
            con.close()
