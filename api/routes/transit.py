"""``GET /api/v1/transit/{dataset}/departures``: the next departures at a stop of a published GTFS feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, PublishedDep
from api.transit import Feed

router = APIRouter(prefix="/api/v1/transit", tags=["transit"])


class DeparturePublic(BaseModel):
    trip_id: str
    route_id: str | None
    route_short_name: str | None
    headsign: str | None
    service_date: str = Field(description="the GTFS service day the trip belongs to (ISO date)")
    departure_time: str = Field(description="the GTFS time as published: hours may pass 24 (25:10:00)")
    departs_at: str = Field(description="the moment it departs, RFC 3339 in the agency's time zone")
    stop_sequence: int | None


class DeparturesPublic(BaseModel):
    feed: str
    stop: str
    stop_name: str | None
    after: str
    departures: list[DeparturePublic]


@router.get(
    "/{dataset}/departures", name="departures", response_model=DeparturesPublic,
    description="Departures at `stop` from `after` (RFC 3339; default now) for `hours` (default 3), soonest "
    "first, at most `limit`. `{dataset}` names a feed: the datasets `{dataset}-stop-times`, `-trips`, "
    "`-calendar` and/or `-calendar-dates` (optional `-routes`, `-stops`, `-agency`). Service days come from the "
    "calendar and its exceptions; trips past midnight (GTFS times after 24:00) count on their service day.",
)
async def departures(
    dataset: str, published: PublishedDep, engine: EngineDep,
    stop: Annotated[str, Query(min_length=1, description="a stop_id of the feed")],
    after: Annotated[datetime | None, Query(description="from this moment (RFC 3339; naive means agency time)")] = None,
    hours: Annotated[float, Query(gt=0, le=48, description="how far ahead to look")] = 3.0,
    limit: Annotated[int, Query(ge=1, le=500, description="most departures to return")] = 20,
) -> Any:
    moment = after or datetime.now(UTC)

    def compute() -> DeparturesPublic:
        feed = Feed(published, engine, dataset)
        name, found = feed.departures(stop, moment, hours, limit)
        return DeparturesPublic(
            feed=dataset, stop=stop, stop_name=name, after=moment.isoformat(),
            departures=[DeparturePublic(**vars(d)) for d in found],
        )

    return await run_in_threadpool(compute)
