"""SQL databases: SQLite (stdlib) and PostgreSQL (psycopg), read in chunks with a server-side cursor.

An incremental job's cursor is pushed into the query (``WHERE cursor > last ORDER BY cursor``), so only
new and changed rows leave the database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from opendata.errors import SourceError, SourceUnavailable
from opendata.sql_text import quote_identifier
from publishers.job import Job, SqlSource
from publishers.sources import PullContext, as_text, pull_context

CHUNK_ROWS = 50_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _query(source: SqlSource) -> str:
    if source.query is not None:
        return source.query
    assert source.table is not None
    if not _IDENTIFIER.match(source.table):
        raise SourceError(f"source.table {source.table!r} is not a plain table name; use source.query instead")
    return f"SELECT * FROM {source.table}"


def incremental_query(source: SqlSource, context: PullContext | None, placeholder: str) -> tuple[str, tuple[Any, ...]]:
    """The source query, narrowed to rows past the cursor and ordered by it."""
    query = _query(source)
    if context is None or context.cursor is None:
        return query, ()
    column = quote_identifier(context.cursor)
    wrapped = f"SELECT * FROM ({query.rstrip().rstrip(';')}) AS opendata_source"
    if context.since is None:
        return f"{wrapped} ORDER BY {column}", ()
    return f"{wrapped} WHERE {column} > {placeholder} ORDER BY {column}", (context.since,)


def _isoformat(value: Any) -> str:
    return str(value.isoformat())


def _text_column(values: list[Any]) -> pa.Array:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {str}:
        return pa.array(values, pa.string())
    if kinds == {int}:  # C-speed path for the common case of integer ids and counts
        return pa.array(values, pa.int64()).cast(pa.string())
    if len(kinds) == 1 and next(iter(kinds)) in (float, Decimal, datetime, date):
        format = str if next(iter(kinds)) in (float, Decimal) else _isoformat
        return pa.array([None if v is None else format(v) for v in values], pa.string())
    return pa.array([as_text(v) for v in values], pa.string())


def _batches(cursor: Any, names: list[str], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    schema = pa.schema([(name, pa.string()) for name in names])
    empty = True
    while rows := cursor.fetchmany(chunk_rows):
        empty = False
        columns = [_text_column(list(c)) for c in zip(*rows, strict=True)]
        yield pa.RecordBatch.from_arrays(columns, schema=schema)
    if empty:
        yield pa.RecordBatch.from_pylist([], schema=schema)


class SqlConnector:
    pushes_down_cursor = True

    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, SqlSource)
        if source.url.startswith("sqlite:///"):
            yield from self._sqlite(job, source)
        else:
            yield from self._postgres(source)

    def _sqlite(self, job: Job, source: SqlSource) -> Iterator[pa.RecordBatch]:
        path = job.resolve(source.url.removeprefix("sqlite:///"))
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.OperationalError as exc:
            raise SourceUnavailable(f"cannot open SQLite database {path}: {exc}") from None
        try:
            query, params = incremental_query(source, pull_context(), "?")
            cursor = db.execute(query, params)
            names = [d[0] for d in cursor.description]
            yield from _batches(cursor, names, source.chunk_rows)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise SourceUnavailable(f"SQLite database {path} is busy: {exc}") from None
            raise SourceError(f"SQLite query on {path} failed: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise SourceError(f"SQLite query on {path} failed: {exc}") from None
        finally:
            db.close()

    def _postgres(self, source: SqlSource) -> Iterator[pa.RecordBatch]:
        import psycopg

        try:
            connection = psycopg.connect(source.url, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise SourceUnavailable(f"cannot connect to PostgreSQL: {exc}".strip()) from None
        try:
            with connection, connection.cursor(name="opendata_extract") as cursor:
                cursor.itersize = source.chunk_rows
                query, params = incremental_query(source, pull_context(), "%s")
                cursor.execute(query, params or None)
                names = [d.name for d in cursor.description or []]
                yield from _batches(cursor, names, source.chunk_rows)
        except psycopg.OperationalError as exc:
            raise SourceUnavailable(f"PostgreSQL failed during the read: {exc}") from None
        except psycopg.Error as exc:
            raise SourceError(f"PostgreSQL query failed: {exc}") from None
        finally:
            connection.close()
