"""SQL databases: SQLite (stdlib) and PostgreSQL (psycopg), read in chunks with a server-side cursor."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from opendata.errors import SourceError, SourceUnavailable
from publishers.job import Job, SqlSource
from publishers.sources import as_text

CHUNK_ROWS = 50_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _query(source: SqlSource) -> str:
    if source.query is not None:
        return source.query
    assert source.table is not None
    if not _IDENTIFIER.match(source.table):
        raise SourceError(f"source.table {source.table!r} is not a plain table name; use source.query instead")
    return f"SELECT * FROM {source.table}"


def _batches(cursor: Any, names: list[str]) -> Iterator[pa.RecordBatch]:
    schema = pa.schema([(name, pa.string()) for name in names])
    empty = True
    while rows := cursor.fetchmany(CHUNK_ROWS):
        empty = False
        columns = [[as_text(row[i]) for row in rows] for i in range(len(names))]
        yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], schema=schema)
    if empty:
        yield pa.RecordBatch.from_pylist([], schema=schema)


class SqlConnector:
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
            cursor = db.execute(_query(source))
            names = [d[0] for d in cursor.description]
            yield from _batches(cursor, names)
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
                cursor.itersize = CHUNK_ROWS
                cursor.execute(_query(source))
                names = [d.name for d in cursor.description or []]
                yield from _batches(cursor, names)
        except psycopg.OperationalError as exc:
            raise SourceUnavailable(f"PostgreSQL failed during the read: {exc}") from None
        except psycopg.Error as exc:
            raise SourceError(f"PostgreSQL query failed: {exc}") from None
