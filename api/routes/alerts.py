"""``GET /api/v1/datasets/{name}/alerts.atom``: a CAP dataset's active alerts re-served as a CAP 1.2 Atom feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.cap import REQUIRED, cap_atom_feed, cap_time
from api.deps import EngineDep, PublishedDep
from api.query import fetch_rows, parse_rows_query, schema_fields
from catalog.geometry import geometry_columns
from opendata.errors import QueryError

router = APIRouter(prefix="/api/v1/datasets", tags=["alerts"])
MAX_ALERTS = 5000


@router.get(
    "/{name}/alerts.atom", name="cap_alerts_feed", response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
    description="The dataset's active alerts (not expired at `at`, default now; or without expiry) as an Atom "
    "feed of CAP 1.2 `<alert>` messages, one an entry, for existing CAP clients. Needs a dataset with CAP "
    "columns (the `cap_atom` source's, or the weather demo's).",
)
async def cap_alerts_feed(
    name: str, request: Request, published: PublishedDep, engine: EngineDep,
    at: Annotated[datetime | None, Query(description="the moment alerts must be active at (RFC 3339)")] = None,
    release: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="release number (default: latest)")] = None,
) -> Response:
    published.dataset(name)
    pinned = published.release(name, release)
    fields = schema_fields(pinned)
    missing = [c for c in (*REQUIRED, "expires") if c not in fields]
    if missing:
        raise QueryError(f"dataset '{name}' has no CAP alert columns ({', '.join(missing)} missing)",
                         parameter="name")
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    if fields["expires"].get("type") == "datetime":
        moment_text = moment.replace(tzinfo=None).isoformat(timespec="seconds")
    else:
        moment_text = moment.isoformat(timespec="seconds")
    query = parse_rows_query(pinned, [("expires__gt", moment_text), ("or", "expires__isnull")])
    page = await run_in_threadpool(
        fetch_rows, engine, pinned, query, limit=MAX_ALERTS, position=None, filters_hash="cap"
    )
    geometry = next((c for c in ("area", "polygon") if c in geometry_columns(pinned.table_schema)), None)
    settings = request.app.state.settings
    body = cap_atom_feed(
        page.rows, title=f"{published.dataset(name).title}: active alerts", feed_id=str(request.url),
        self_url=str(request.url), geometry_column=geometry, sender=settings.catalog_publisher,
        updated=cap_time(pinned.published_at or pinned.created_at) or cap_time(moment) or "",
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")
