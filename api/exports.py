"""Whole-release exports, streamed batch by batch: CSV, JSON, JSON Lines, Parquet and GeoJSON.

DuckDB hands back Arrow record batches (``QueryEngine.stream``); each batch is written out and yielded
before the next is read, so an export of a release of any size holds one batch in memory. Rows come
in file order unless ``order=`` is given (which makes DuckDB sort, within its memory limit).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from api.engine import QueryEngine
from api.filters import quote_identifier, where_clause
from api.query import RowsQuery
from api.values import CSV_LINE_END, csv_value, dumps, json_value
from catalog.models import Release
from opendata.errors import QueryError

BATCH_ROWS = 10_000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}
LATITUDE_NAMES = ("latitude", "lat", "y")
LONGITUDE_NAMES = ("longitude", "lon", "lng", "long", "x")
NUMERIC = ("number", "integer")


def coordinate_columns(fields: Mapping[str, Mapping[str, Any]]) -> tuple[str, str] | None:
    """``(latitude, longitude)`` column names when the schema has numeric coordinates, else None."""
    by_lower = {name.lower(): name for name, f in fields.items() if f.get("type") in NUMERIC}
    latitude = next((by_lower[n] for n in LATITUDE_NAMES if n in by_lower), None)
    longitude = next((by_lower[n] for n in LONGITUDE_NAMES if n in by_lower), None)
    if latitude and longitude:
        return latitude, longitude
    return None


def export_sql(query: RowsQuery, extra_columns: list[str]) -> tuple[str, list[Any]]:
    columns = list(dict.fromkeys([*query.columns, *extra_columns]))
    conditions, params = where_clause(query.filters)
    sql = f"SELECT {', '.join(quote_identifier(c) for c in columns)} FROM read_parquet(?)"
    if conditions:
        sql += f" WHERE {' AND '.join(conditions)}"
    if query.order:
        sql += " ORDER BY " + ", ".join(
            f"{quote_identifier(o.column)} {'DESC' if o.descending else 'ASC'} NULLS LAST" for o in query.order
        )
    return sql, params


def stream_export(
    engine: QueryEngine, release: Release, query: RowsQuery, format: str, fields: Mapping[str, Mapping[str, Any]],
    *, escape_formulas: bool = True,
) -> Iterator[bytes]:
    """The export's bytes, chunk by chunk; raises QueryError before the first chunk if it cannot be made."""
    coordinates = coordinate_columns(fields) if format == "geojson" else None
    if format == "geojson" and coordinates is None:
        raise QueryError(
            "GeoJSON needs numeric coordinate columns (latitude/lat and longitude/lon/lng); this dataset has "
            "none: export csv, json or parquet", parameter="format",
        )
    extra = list(coordinates) if coordinates else []
    sql, params = export_sql(query, extra)
    path = engine.release_file(release, "data.parquet")
    writer = {"csv": _csv if escape_formulas else _csv_raw, "json": _json, "jsonl": _jsonl, "parquet": _parquet,
              "geojson": _geojson}[format]

    def chunks() -> Iterator[bytes]:
        with engine.stream(sql, [str(path), *params], BATCH_ROWS) as reader:
            yield from writer(reader, query.columns, coordinates)

    return chunks()


def _csv(reader: pa.RecordBatchReader, columns: list[str], _: Any, neutralize: bool = True) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF records, fields with CR, LF, comma or quote quoted), formulas neutralised."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator=CSV_LINE_END)
    out.writerow(columns)
    for batch in reader:
        for row in batch.to_pylist():
            out.writerow([csv_value(row[c], neutralize) for c in columns])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _csv_raw(reader: pa.RecordBatchReader, columns: list[str], extra: Any) -> Iterator[bytes]:
    return _csv(reader, columns, extra, neutralize=False)


def _json(reader: pa.RecordBatchReader, columns: list[str], _: Any) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in reader:
        if batch.num_rows == 0:
            continue
        body = dumps(batch.select(columns).to_pylist())[1:-1]
        yield body if first else b"," + body
        first = False
    yield b"]"


def _jsonl(reader: pa.RecordBatchReader, columns: list[str], _: Any) -> Iterator[bytes]:
    for batch in reader:
        yield b"".join(dumps(row) + b"\n" for row in batch.select(columns).to_pylist())


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (``drain``)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def _parquet(reader: pa.RecordBatchReader, columns: list[str], _: Any) -> Iterator[bytes]:
    sink = _Sink()
    schema = pa.schema([reader.schema.field(c) for c in columns])
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch.select(columns), row_group_size=BATCH_ROWS)
            if chunk := sink.drain():
                yield chunk
    yield sink.drain()


def _geojson(reader: pa.RecordBatchReader, columns: list[str], coordinates: tuple[str, str] | None) -> Iterator[bytes]:
    assert coordinates is not None
    latitude, longitude = coordinates
    properties = [c for c in columns if c not in coordinates]
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in reader:
        features = []
        for row in batch.to_pylist():
            lat, lon = json_value(row[latitude]), json_value(row[longitude])
            geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
            features.append({"type": "Feature", "geometry": geometry, "properties": {c: row[c] for c in properties}})
        if not features:
            continue
        body = dumps(features)[1:-1]
        yield body if first else b"," + body
        first = False
    yield b"]}"
