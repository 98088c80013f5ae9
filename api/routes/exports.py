"""Exports of a whole release (or its filtered rows), streamed: CSV, JSON, JSON Lines, Parquet, GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import EngineDep, PublishedDep
from api.exports import FORMATS, stream_export
from api.http_cache import cache_headers, canonical_query, etag_for, not_modified
from api.query import parse_rows_query, schema_fields
from api.values import ESCAPE_FORMULAS

router = APIRouter(prefix="/api/v1/datasets", tags=["exports"])

RESERVED = ("release", "select", "order", "escape_formulas")


@router.get(
    "/{name}/export.{format}",
    name="export_rows",
    response_class=StreamingResponse,
    responses={200: {"content": {media: {} for media in FORMATS.values()}}},
    description="Every row of a release (default: latest), streamed, with the rows endpoint's filters, "
    "`select` and `order`. `geojson` is offered for datasets with latitude/longitude columns: one Point "
    "feature per row, the other columns as properties.",
)
def export_rows(
    name: str,
    format: Literal["csv", "json", "jsonl", "parquet", "geojson"],
    request: Request,
    published: PublishedDep,
    engine: EngineDep,
    release: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="release number (default: latest)")] = None,
    select: Annotated[str | None, Query(description="comma-separated columns")] = None,
    order: Annotated[str | None, Query(description="comma-separated columns, '-' for descending")] = None,
    escape_formulas: Annotated[bool, Query(description=ESCAPE_FORMULAS)] = True,
) -> Response:
    published.dataset(name)
    pinned = published.release(name, release)
    query = parse_rows_query(pinned, request.query_params.multi_items(), select=select, order=order,
                             reserved=RESERVED)
    etag = etag_for(pinned, f"export.{format}", canonical_query(request.query_params.multi_items(), ("release",)))
    headers = cache_headers(etag, release is not None, pinned.number)
    if (unchanged := not_modified(request, etag, headers)) is not None:
        return unchanged
    chunks = stream_export(engine, pinned, query, format, schema_fields(pinned), escape_formulas=escape_formulas)
    headers["Content-Disposition"] = f'attachment; filename="{name}-{pinned.number}.{format}"'
    if format == "parquet":
        headers["Content-Encoding"] = "identity"  # already compressed; keeps gzip off it
    return StreamingResponse(chunks, media_type=FORMATS[format], headers=headers)
