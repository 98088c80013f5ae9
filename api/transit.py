"""Next departures at a stop, from a GTFS feed published as datasets: service days and calendar exceptions.

A feed ``F`` is the datasets its GTFS jobs publish, named by file: ``F-stop-times`` and ``F-trips``
(required), ``F-calendar`` and/or ``F-calendar-dates`` (at least one), ``F-routes``, ``F-stops`` and
``F-agency`` (optional: route names, the stop's name, the time zone). Columns keep their GTFS names.

GTFS times (``departure_time``) are published as text ``H:MM:SS`` whose hours may pass 24: a time is
counted from "noon minus 12 h" of its service day in the agency's time zone (``agency_timezone``, else
the stop-times dataset's ``timezone``), so ``25:10:00`` on service day D is 01:10 on D+1. A service runs
on day D when ``calendar`` has D between ``start_date`` and ``end_date`` with D's weekday set and
``calendar_dates`` does not remove it (``exception_type`` 2), or when ``calendar_dates`` adds it (1).
Dates may be published as dates or as GTFS text ``YYYYMMDD``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.catalog_view import CatalogView
from api.engine import QueryEngine
from catalog.models import Release
from opendata.errors import CatalogError, QueryError
from opendata.sql_text import quote_identifier

GTFS_TIME = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d)")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_WINDOW_HOURS = 48


def gtfs_seconds(value: str) -> int | None:
    """Seconds since the service day's "noon minus 12 h" of a GTFS time such as ``25:10:00``."""
    matched = GTFS_TIME.fullmatch(value.strip()) if value else None
    if matched is None:
        return None
    hours, minutes, seconds = (int(g) for g in matched.groups())
    return hours * 3600 + minutes * 60 + seconds


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def gtfs_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip().replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def service_day_start(day: date, zone: ZoneInfo) -> datetime:
    """GTFS's origin of a service day's times: noon minus 12 hours, local time (midnight except on DST days)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone) - timedelta(hours=12)


def active_services(
    day: date, calendar: Iterable[Mapping[str, Any]], exceptions: Iterable[Mapping[str, Any]]
) -> set[str]:
    """The service_ids that run on ``day``: the calendar's, then calendar_dates' additions and removals."""
    running: set[str] = set()
    for row in calendar:
        start, end = gtfs_date(row.get("start_date")), gtfs_date(row.get("end_date"))
        flag = str(row.get(WEEKDAYS[day.weekday()])).strip()
        if start and end and start <= day <= end and flag in ("1", "True", "true"):
            running.add(str(row["service_id"]))
    for row in exceptions:
        if gtfs_date(row.get("date")) != day:
            continue
        kind = str(row.get("exception_type")).strip()
        if kind == "1":
            running.add(str(row["service_id"]))
        elif kind == "2":
            running.discard(str(row["service_id"]))
    return running


@dataclass(frozen=True)
class Departure:
    trip_id: str
    route_id: str | None
    route_short_name: str | None
    headsign: str | None
    service_date: str
    departure_time: str
    departs_at: str
    stop_sequence: int | None


class Feed:
    """The published datasets of one GTFS feed, read through the API's query engine."""

    def __init__(self, view: CatalogView, engine: QueryEngine, name: str) -> None:
        self.view, self.engine, self.name = view, engine, name
        self.stop_times = self._release("stop-times", required=True)
        self.trips = self._release("trips", required=True)
        self.calendar = self._release("calendar")
        self.calendar_dates = self._release("calendar-dates")
        if self.calendar is None and self.calendar_dates is None:
            raise CatalogError(f"feed '{name}' has neither {name}-calendar nor {name}-calendar-dates published")

    def _release(self, part: str, required: bool = False) -> Release | None:
        dataset = f"{self.name}-{part}"
        if dataset not in self.view.state().datasets:
            if required:
                raise CatalogError(
                    f"feed '{self.name}' has no published dataset '{dataset}': a feed is the datasets "
                    f"{self.name}-stop-times, -trips, -calendar and/or -calendar-dates (see docs/api.md)"
                )
            return None
        return self.view.release(dataset)

    def _rows(self, release: Release | None, where: str = "true", params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        if release is None:
            return []
        source, source_params = self.engine.relation(release)
        return self.engine.execute(f"SELECT * FROM {source} WHERE {where}", [*source_params, *params]).to_pylist()

    def zone(self) -> ZoneInfo:
        agency = self._release("agency")
        names = [str(r.get("agency_timezone")) for r in self._rows(agency) if r.get("agency_timezone")]
        names.append(self.view.dataset(f"{self.name}-stop-times").timezone)
        try:
            return ZoneInfo(names[0])
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def departures(self, stop: str, after: datetime, hours: float, limit: int) -> tuple[str | None, list[Departure]]:
        if not 0 < hours <= MAX_WINDOW_HOURS:
            raise QueryError(f"hours must be above 0 and at most {MAX_WINDOW_HOURS}", parameter="hours")
        zone = self.zone()
        local = after.astimezone(zone) if after.tzinfo else after.replace(tzinfo=zone)
        until = local + timedelta(hours=hours)
        times = self._rows(self.stop_times, f"{quote_identifier('stop_id')} = ?", [stop])
        stops = self._release("stops")
        names = self._rows(stops, f"{quote_identifier('stop_id')} = ?", [stop]) if stops else []
        if not times and not names:
            raise CatalogError(f"stop '{stop}' is not a stop of feed '{self.name}'")
        trip_ids = sorted({r["trip_id"] for r in times}, key=str)  # bound as published (text or integer)
        trips = {str(r["trip_id"]): r for r in self._rows(
            self.trips, f"{quote_identifier('trip_id')} IN ({', '.join('?' for _ in trip_ids)})", trip_ids
        )} if trip_ids else {}
        routes = {str(r["route_id"]): r for r in self._rows(self._release("routes"))}
        calendar, exceptions = self._rows(self.calendar), self._rows(self.calendar_dates)
        found: list[tuple[datetime, Departure]] = []
        first_day = local.date() - timedelta(days=2)  # times run up to 48 h into a service day
        for offset in range((until.date() - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            running = active_services(day, calendar, exceptions)
            origin = service_day_start(day, zone)
            for row in times:
                trip = trips.get(str(row["trip_id"]))
                seconds = gtfs_seconds(str(row.get("departure_time") or row.get("arrival_time") or ""))
                if trip is None or seconds is None or str(trip.get("service_id")) not in running:
                    continue
                moment = (origin + timedelta(seconds=seconds)).astimezone(zone)
                if not local <= moment < until:
                    continue
                route = routes.get(str(trip.get("route_id")), {})
                sequence = row.get("stop_sequence")
                found.append((moment, Departure(
                    trip_id=str(row["trip_id"]), route_id=_text(trip.get("route_id")),
                    route_short_name=_text(route.get("route_short_name") or trip.get("route_short_name")),
                    headsign=_text(row.get("stop_headsign") or trip.get("trip_headsign") or trip.get("headsign")),
                    service_date=day.isoformat(), departure_time=str(row.get("departure_time")),
                    departs_at=moment.isoformat(), stop_sequence=int(sequence) if sequence not in (None, "") else None,
                )))
        found.sort(key=lambda item: (item[0], item[1].trip_id))
        stop_name = str(names[0].get("stop_name")) if names and names[0].get("stop_name") else None
        return stop_name, [d for _, d in found[:limit]]
