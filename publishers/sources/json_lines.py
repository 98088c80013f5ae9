"""JSON lines (one object per line), local or over HTTP(S), in chunks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, AnyStr

import pyarrow as pa

from opendata.errors import SourceError
from publishers.job import Job, JsonLinesSource
from publishers.sources import text_batch
from publishers.sources.fetch import local_file

CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class BadLine:
    """A non-blank line that is not a JSON object: ``error`` from the parser, or None for JSON that is not an
    object. The caller decides: this connector refuses the source, procurement's reader makes a finding (or,
    for an OCDS line holding an array of releases, reads the parsed ``value``)."""

    number: int
    error: ValueError | None
    value: Any = None


def json_objects(lines: Iterable[AnyStr], loads: Callable[[AnyStr], Any],
                 first: int = 1) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """The one JSON lines reader: (line number, object or :class:`BadLine`) per non-blank line, numbered
    from ``first``. ``lines`` come as text (this connector: UTF-8, a byte-order mark dropped, ``json``) or
    bytes (procurement: ``orjson``); ``loads`` parses one."""
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except ValueError as exc:  # json's and orjson's JSONDecodeError both are
            yield number, BadLine(number, exc)
            continue
        yield number, value if isinstance(value, dict) else BadLine(number, None, value)


def ordered_keys(records: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return list(names)


def records_batch(names: list[str] | None, records: list[dict[str, Any]], where: str, *,
                  declared: bool = False, seen: int = 0) -> tuple[list[str], pa.RecordBatch]:
    """One batch from JSON objects. Declared columns (``declared``) pick those keys and leave the others in
    the source. Otherwise the columns are fixed by the first chunk: a key that turns up in a later chunk
    is refused rather than dropped, so no column leaves the source unseen by the privacy stage. ``seen``
    is how many records came before this chunk, for the message."""
    fixed = names if names is not None else ordered_keys(records)
    if not declared:
        known = set(fixed)
        for number, record in enumerate(records, start=seen + 1):
            extra = [k for k in record if k not in known]
            if extra:
                raise SourceError(
                    f"{where}: record {number} has key(s) {', '.join(sorted(extra))} that the first "
                    f"{seen} record(s) did not have; list the columns to keep in source.columns"
                )
    return fixed, text_batch(fixed, [[r.get(n) for n in fixed] for r in records])


class JsonLinesConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, JsonLinesSource)
        names = list(source.columns) if source.columns is not None else None
        declared, seen = names is not None, 0
        with local_file(job, source, ".jsonl") as path, open(path, encoding="utf-8-sig") as handle:
            chunk: list[dict[str, Any]] = []
            yielded = False
            for number, record in json_objects(handle, json.loads):
                if isinstance(record, BadLine):
                    if record.error is not None:
                        why = record.error.msg if isinstance(record.error, json.JSONDecodeError) else record.error
                        raise SourceError(f"{path}: line {number} is not JSON: {why}") from None
                    raise SourceError(f"{path}: line {number} is not a JSON object")
                chunk.append(record)
                if len(chunk) >= CHUNK_ROWS:
                    names, batch = records_batch(names, chunk, str(path), declared=declared, seen=seen)
                    yield batch
                    yielded, seen, chunk = True, seen + len(chunk), []
            if chunk or not yielded:
                if names is None and not chunk:
                    raise SourceError(f"{path}: no records; declare source.columns for a feed that may be empty")
                names, batch = records_batch(names, chunk, str(path), declared=declared, seen=seen)
                yield batch
