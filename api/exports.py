"""Whole-release exports, streamed batch by batch: CSV, JSON, JSON Lines, Parquet and GeoJSON.

DuckDB hands back Arrow record batches (``QueryEngine.stream``); each batch is written out and yielded
before the next is read, so an export of a release of any size holds one batch in memory. Rows come
in file order unless ``order=`` is given (which makes DuckDB sort, within its memory limit).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from api.engine import QueryEngine, has_geometry
from api.filters import quote_identifier
from api.query import RowsQuery
from api.values import CSV_LINE_END, csv_value, dumps, json_value
from catalog.geometry import geometry_columns
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


def export_sql(
    query: RowsQuery, extra_columns: list[str], geometry: Sequence[str] = (), as_geojson: bool = False
) -> tuple[str, list[Any]]:
    """The export's SELECT; ``geometry`` columns as GeoJSON text when ``as_geojson`` (else WKB, for Parquet)."""
    columns = list(dict.fromkeys([*query.columns, *extra_columns]))
    conditions, params = query.conditions()
    selects = [
        f"ST_AsGeoJSON({quote_identifier(c)}) AS {quote_identifier(c)}" if as_geojson and c in geometry
        else quote_identifier(c) for c in columns
    ]
    if query.geo is not None and query.geo.near is not None:
        selects.append(f"{query.geo.distance_sql()} AS distance_m")
    sql = f"SELECT {', '.join(selects)} FROM read_parquet(?)"
    if conditions:
        sql += f" WHERE {' AND '.join(conditions)}"
    if query.order:
        sql += " ORDER BY " + ", ".join(
            f"{query.order_expression(o)} {'DESC' if o.descending else 'ASC'} NULLS LAST" for o in query.order
        )
    return sql, params


def stream_export(
    engine: QueryEngine, release: Release, query: RowsQuery, format: str, fields: Mapping[str, Mapping[str, Any]],
    *, escape_formulas: bool = True,
) -> Iterator[bytes]:
    """The export's bytes, chunk by chunk; raises QueryError before the first chunk if it cannot be made.

    Geometry columns are GeoJSON objects in JSON and JSON Lines, GeoJSON text in CSV, WKB with the
    GeoParquet ``geo`` metadata in Parquet, and the features' geometry in GeoJSON (the first geometry column,
    else a Point of the latitude/longitude columns)."""
    geometry = geometry_columns(release.table_schema)
    coordinates = coordinate_columns(fields) if format == "geojson" and not geometry else None
    if format == "geojson" and coordinates is None and not geometry:
        raise QueryError(
            "GeoJSON needs a geometry column or numeric coordinate columns (latitude/lat and longitude/lon/lng); "
            "this dataset has none: export csv, json or parquet", parameter="format",
        )
    extra = list(coordinates) if coordinates else []
    if format == "geojson" and geometry:
        extra = [geometry[0]]
    sql, params = export_sql(query, extra, geometry, as_geojson=format != "parquet")
    path = engine.release_file(release, "data.parquet")
    shape = Shape(coordinates, [c for c in geometry if c in [*query.columns, *extra]],
                  with_distance=query.geo is not None and query.geo.near is not None)
    writer = {"csv": _csv if escape_formulas else _csv_raw, "json": _json, "jsonl": _jsonl, "parquet": _parquet,
              "geojson": _geojson}[format]
    spatial = has_geometry(release)

    def chunks() -> Iterator[bytes]:
        with engine.stream(sql, [str(path), *params], BATCH_ROWS, spatial=spatial) as reader:
            yield from writer(reader, shape.columns(query.columns), shape)

    return chunks()


@dataclass(frozen=True)
class Shape:
    """How an export's rows are shaped: coordinates or geometry columns, and the ``near`` distance."""

    coordinates: tuple[str, str] | None
    geometry: list[str]
    with_distance: bool = False

    def columns(self, columns: list[str]) -> list[str]:
        return [*columns, "distance_m"] if self.with_distance else columns

    def rows(self, batch: pa.RecordBatch, columns: list[str]) -> list[dict[str, Any]]:
        rows = batch.select(columns).to_pylist() if columns else batch.to_pylist()
        for row in rows:
            for column in self.geometry:
                if row.get(column) is not None:
                    row[column] = orjson.loads(row[column])
        return rows


def _csv(reader: pa.RecordBatchReader, columns: list[str], _: Shape, neutralize: bool = True) -> Iterator[bytes]:
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


def _csv_raw(reader: pa.RecordBatchReader, columns: list[str], shape: Shape) -> Iterator[bytes]:
    return _csv(reader, columns, shape, neutralize=False)


def _json(reader: pa.RecordBatchReader, columns: list[str], shape: Shape) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in reader:
        if batch.num_rows == 0:
            continue
        body = dumps(shape.rows(batch, columns))[1:-1]
        yield body if first else b"," + body
        first = False
    yield b"]"


def _jsonl(reader: pa.RecordBatchReader, columns: list[str], shape: Shape) -> Iterator[bytes]:
    for batch in reader:
        yield b"".join(dumps(row) + b"\n" for row in shape.rows(batch, columns))


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


def geoparquet_metadata(columns: Sequence[str]) -> dict[bytes, bytes]:
    """GeoParquet 1.0 file metadata for WKB geometry columns in longitude/latitude (OGC:CRS84)."""
    if not columns:
        return {}
    geo = {
        "version": "1.0.0", "primary_column": columns[0],
        "columns": {c: {"encoding": "WKB", "geometry_types": []} for c in columns},
    }
    return {b"geo": orjson.dumps(geo)}


def _parquet(reader: pa.RecordBatchReader, columns: list[str], shape: Shape) -> Iterator[bytes]:
    sink = _Sink()
    schema = pa.schema([reader.schema.field(c) for c in columns], metadata=geoparquet_metadata(shape.geometry))
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch.select(columns), row_group_size=BATCH_ROWS)
            if chunk := sink.drain():
                yield chunk
    yield sink.drain()


def _geojson(reader: pa.RecordBatchReader, columns: list[str], shape: Shape) -> Iterator[bytes]:
    skip = list(shape.coordinates) if shape.coordinates else shape.geometry[:1]
    properties = [c for c in columns if c not in skip]
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in reader:
        features = []
        for row in shape.rows(batch, []):
            geometry: Any = None
            if shape.coordinates:
                lat, lon = json_value(row[shape.coordinates[0]]), json_value(row[shape.coordinates[1]])
                geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
            else:
                geometry = row[shape.geometry[0]]
            features.append({"type": "Feature", "geometry": geometry, "properties": {c: row[c] for c in properties}})
        if not features:
            continue
        body = dumps(features)[1:-1]
        yield body if first else b"," + body
        first = False
    yield b"]}"
