"""Change notifications a client can follow: Server-Sent Events, and Atom feeds of releases.

``GET /api/v1/events`` streams ``release.published`` and ``release.withdrawn`` events (``text/event-stream``):
each has ``id``, ``event`` (its type) and ``data`` (JSON: dataset, release, rows, created_at, url). A client
that reconnects sends ``Last-Event-ID`` (browsers' EventSource does) and gets what it missed, in order,
then new events as they are committed; ``after=0`` replays from the start. Events live in the catalog
database, so any API replica answers the same stream (each polls the catalog every
``events_poll_seconds``). Idle streams get a comment line every ``events_heartbeat_seconds``.

The stream is for clients that ask for it (``Accept: text/event-stream``, as EventSource does); any other
request gets the events after its position as one JSON answer (``{"events": [...], "last_event_id": N}``),
so a script can poll and nothing that walks the API waits on an endless response.

Officers' events (``release.awaiting_approval``) are never on this stream, with or without a key: they
go only to webhooks an officer subscribed (``api.routes.subscriptions``).
"""

from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import PublishedDep, SettingsDep
from catalog.events import EVENT_TYPES, OFFICER_EVENT_TYPES, EventLog, event_json
from catalog.models import Release
from opendata.errors import QueryError

router = APIRouter(tags=["events"])
ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50


def _types(types: str | None) -> list[str] | None:
    if not types:
        return None
    found = [t.strip() for t in types.split(",") if t.strip()]
    for kind in found:
        if kind in OFFICER_EVENT_TYPES:
            raise QueryError(f"'{kind}' events are not on this stream: they go only to the webhooks an officer "
                             "subscribes (POST /api/v1/subscriptions with an officer key)", parameter="types")
        if kind not in EVENT_TYPES:
            raise QueryError(f"unknown event type '{kind}': use {', '.join(EVENT_TYPES)}", parameter="types")
    return found


def _start(last_event_id: str | None, after: int | None, log: EventLog) -> int:
    if last_event_id is not None:
        if not last_event_id.strip().isdigit() or int(last_event_id) > 2**63 - 1:
            raise QueryError("Last-Event-ID must be the id of an event (a whole number)", parameter="Last-Event-ID")
        return int(last_event_id)
    return after if after is not None else log.last_id()


@router.get(
    "/api/v1/events",
    name="events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}, "application/json": {}},
                     "description": "Server-Sent Events (Accept: text/event-stream), else the events as JSON"}},
    description="Server-Sent Events of releases: `release.published` and `release.withdrawn`, with dataset, "
    "release number and row count. Send `Last-Event-ID` to resume after an event (or `after=N`; `after=0` "
    "replays all); without either the stream starts with the next event. `dataset` and `types` narrow it. "
    "Without `Accept: text/event-stream` the answer is the events after the position as JSON.",
)
async def events(
    request: Request,
    published: PublishedDep,
    settings: SettingsDep,
    dataset: Annotated[str | None, Query(description="only this dataset's events")] = None,
    types: Annotated[str | None, Query(description="comma-separated event types", json_schema_extra={
        "pattern": r"^[\s,]*(?:(?:release\.published|release\.withdrawn)\s*(?:,[\s,]*|$))*$"})] = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="resume after this event id")] = None,
    last_event_id: Annotated[str, Header(alias="Last-Event-ID", pattern=r"^[0-9]{0,18}$",
                                         description="the id of the last event received")] = "",
) -> Response:
    log: EventLog = request.app.state.event_log
    kinds = _types(types)
    if dataset:
        published.dataset(dataset)
    position = await run_in_threadpool(_start, last_event_id or None, after, log)
    if "text/event-stream" not in request.headers.get("accept", ""):
        found = await run_in_threadpool(log.after, position, dataset=dataset, types=kinds)
        body = {"events": [json.loads(event_json(e)) for e in found],
                "last_event_id": found[-1].id if found else position}
        return Response(json.dumps(body), media_type="application/json")

    async def stream() -> AsyncIterator[str]:
        last = position
        yield f"retry: 3000\n: events after {last}\n\n"
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            found = await run_in_threadpool(log.after, last, dataset=dataset, types=kinds)
            for event in found:
                yield f"id: {event.id}\nevent: {event.type}\ndata: {event_json(event)}\n\n"
                last = event.id
            if found:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= settings.events_heartbeat_seconds:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(settings.events_poll_seconds)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _feed(request: Request, title: str, feed_id: str, releases: list[Release], self_url: str) -> Response:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    updated = max((r.published_at or r.created_at for r in releases), default="1970-01-01T00:00:00Z")
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url, type="application/atom+xml")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = request.app.state.settings.catalog_publisher
    base = str(request.base_url).rstrip("/")
    for release in releases:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        url = f"{base}/api/v1/datasets/{release.dataset}/releases/{release.number}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{release.dataset}: release {release.number}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = release.published_at or release.created_at
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url, type="application/json")
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = (
            f"Release {release.number} of {release.dataset}: {release.rows:,} rows, published "
            f"{release.published_at or release.created_at}."
        )
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def _newest(releases: list[Release]) -> list[Release]:
    return sorted(releases, key=lambda r: (r.published_at or r.created_at, r.dataset, r.number),
                  reverse=True)[:FEED_ENTRIES]


@router.get("/api/v1/releases.atom", name="catalog_feed", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}},
            description="An Atom feed of the newest published releases of every dataset.")
def catalog_feed(request: Request, published: PublishedDep) -> Response:
    state = published.state()
    releases = [r for found in state.releases.values() for r in found]
    settings = request.app.state.settings
    return _feed(request, f"{settings.catalog_title}: new releases", str(request.url), _newest(releases),
                 str(request.url))


@router.get("/api/v1/datasets/{name}/releases.atom", name="dataset_feed", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}},
            description="An Atom feed of a dataset's published releases, newest first.")
def dataset_feed(name: str, request: Request, published: PublishedDep) -> Response:
    dataset = published.dataset(name)
    releases = published.state().releases.get(name, [])
    return _feed(request, f"{dataset.title}: releases", str(request.url), _newest(list(releases)), str(request.url))
