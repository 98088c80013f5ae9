"""Source connectors. Built-ins register through the same Protocol an outside connector would use.

A connector yields record batches of text columns. It may read :func:`pull_context` for where to put a
downloaded file (private staging, never the system temp folder) and for the incremental cursor; one that
filters on the cursor itself sets ``pushes_down_cursor = True`` and the extract stage trusts its rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from publishers.job import Job


class SourceConnector(Protocol):
    """Yields the source as record batches of text columns (``pa.string()``, nulls kept)."""

    def batches(self, job: Job) -> Iterator[pa.RecordBatch]: ...


@dataclass(frozen=True)
class PullContext:
    """What the extract stage tells connectors about this pull."""

    staging: Path
    cursor: str | None = None
    since: str | None = None


_CONTEXT: ContextVar[PullContext | None] = ContextVar("opendata_pull_context", default=None)
_REGISTRY: dict[str, Callable[[], SourceConnector]] = {}


def register(source_type: str, factory: Callable[[], SourceConnector]) -> None:
    _REGISTRY[source_type] = factory


def connector_for(job: Job) -> SourceConnector:
    _load_builtins()
    return _REGISTRY[job.source.type]()


def pull_context() -> PullContext | None:
    return _CONTEXT.get()


@contextmanager
def pulling(context: PullContext) -> Iterator[PullContext]:
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def as_text(value: Any) -> str | None:
    """One value as the text the agency would export: ISO dates, lower-case booleans."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def text_batch(names: list[str], rows: list[tuple[Any, ...]] | list[list[Any]]) -> pa.RecordBatch:
    """Rows of Python values as one batch of text columns."""
    schema = pa.schema([(name, pa.string()) for name in names])
    columns = [pa.array([as_text(row[i]) for row in rows], pa.string()) for i in range(len(names))]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _load_builtins() -> None:
    if _REGISTRY:
        return
    from publishers.sources.cap_feed import CapAtomConnector
    from publishers.sources.ckan_datastore import CkanDatastoreConnector
    from publishers.sources.csv_file import CsvConnector
    from publishers.sources.excel_file import ExcelConnector
    from publishers.sources.gtfs_feed import GtfsConnector
    from publishers.sources.http_json import HttpJsonConnector
    from publishers.sources.json_lines import JsonLinesConnector
    from publishers.sources.parquet_file import ParquetConnector
    from publishers.sources.sql_database import SqlConnector

    register("csv", CsvConnector)
    register("sql", SqlConnector)
    register("excel", ExcelConnector)
    register("jsonl", JsonLinesConnector)
    register("http_json", HttpJsonConnector)
    register("cap_atom", CapAtomConnector)
    register("gtfs", GtfsConnector)
    register("ckan_datastore", CkanDatastoreConnector)
    register("parquet", ParquetConnector)
    from publishers.family import OcdsTableConnector

    register("ocds", OcdsTableConnector)
