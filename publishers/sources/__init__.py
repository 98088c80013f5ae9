"""Source connectors. Built-ins register through the same Protocol an outside connector would use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import pyarrow as pa

from publishers.job import Job


class SourceConnector(Protocol):
    """Yields the source as record batches of text columns (``pa.string()``, nulls kept)."""

    def batches(self, job: Job) -> Iterator[pa.RecordBatch]: ...


_REGISTRY: dict[str, Callable[[], SourceConnector]] = {}


def register(source_type: str, factory: Callable[[], SourceConnector]) -> None:
    _REGISTRY[source_type] = factory


def connector_for(job: Job) -> SourceConnector:
    _load_builtins()
    return _REGISTRY[job.source.type]()


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
    return str(value)


def _load_builtins() -> None:
    if _REGISTRY:
        return
    from publishers.sources.csv_file import CsvConnector
    from publishers.sources.sql_database import SqlConnector

    register("csv", CsvConnector)
    register("sql", SqlConnector)
