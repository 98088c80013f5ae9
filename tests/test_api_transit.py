"""Departures from a published GTFS feed: service days, calendar exceptions, and trips past midnight.

The feed is the GTFS sample feed (Google's "Demo Transit Authority", as shipped by gtfs-kit:
tests/data/gtfs/), each file published as its own dataset through the real publish path, with one trip
added to show GTFS times past 24:00: NIGHT1 on the FULLW service, leaving STAGECOACH at 24:30:00 and
reaching BEATTY_AIRPORT at 25:10:00. FULLW runs every day of 2007-2010 except 2007-06-04, which
calendar_dates removes (exception_type 2); WE runs on weekends.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.api_fixtures import ApiHome, build_home
from tests.geo_fixtures import publish_typed

FEED = Path(__file__).parent / "data" / "gtfs" / "sample_gtfs.zip"
NIGHT = [
    {"trip_id": "NIGHT1", "arrival_time": "24:30:00", "departure_time": "24:30:00", "stop_id": "STAGECOACH",
     "stop_sequence": "1"},
    {"trip_id": "NIGHT1", "arrival_time": "25:10:00", "departure_time": "25:10:00", "stop_id": "BEATTY_AIRPORT",
     "stop_sequence": "2"},
]
URL = "/api/v1/transit/demo/departures"


def member(name: str, extra: list[dict[str, str]] | None = None) -> tuple[pa.Table, dict[str, Any]]:
    with zipfile.ZipFile(FEED) as feed:
        rows = list(csv.DictReader(io.StringIO(feed.read(name).decode("utf-8-sig"))))
    rows += extra or []
    columns = list(rows[0])
    numbers = {"stop_lat", "stop_lon"}
    schema = {"fields": [{"name": c, "type": "number" if c in numbers else "string"} for c in columns]}
    return pa.table({c: [r.get(c) or "" for r in rows] for c in columns}), schema


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    home = build_home(tmp_path_factory.mktemp("gtfs"))
    parts = {"stop-times": ("stop_times.txt", NIGHT), "calendar": ("calendar.txt", None),
             "calendar-dates": ("calendar_dates.txt", None), "routes": ("routes.txt", None),
             "agency": ("agency.txt", None)}
    for part, (name, extra) in parts.items():
        table, schema = member(name, extra)
        publish_typed(home, f"demo-{part}", table, schema)
    trips, schema = member("trips.txt", [{"route_id": "STBA", "service_id": "FULLW", "trip_id": "NIGHT1",
                                          "trip_headsign": "Night shuttle"}])
    publish_typed(home, "demo-trips", trips, schema)
    stops, schema = member("stops.txt")
    publish_typed(home, "demo-stops", stops, schema, {"location": ("stop_lat", "stop_lon")})
    return home


def departures(home: ApiHome, **params: Any) -> list[tuple[str, str, str]]:
    response = home.client().get(URL, params=params)
    assert response.status_code == 200, response.text
    return [(d["trip_id"], d["service_date"], d["departs_at"]) for d in response.json()["departures"]]


def test_a_weekday_morning_at_a_stop(home: ApiHome) -> None:
    # Tuesday 2007-06-05, Los Angeles time (the agency's zone): FULLW runs, WE does not.
    got = departures(home, stop="BEATTY_AIRPORT", after="2007-06-05T07:00:00-07:00", hours=6)
    assert got == [
        ("AB1", "2007-06-05", "2007-06-05T08:00:00-07:00"),
        ("AB2", "2007-06-05", "2007-06-05T12:15:00-07:00"),
    ]
    body = home.client().get(URL, params={"stop": "BEATTY_AIRPORT", "after": "2007-06-05T07:00:00-07:00"}).json()
    assert body["stop_name"] == "Nye County Airport (Demo)"
    assert body["departures"][0]["route_short_name"] == "10" and body["departures"][0]["headsign"] == "to Bullfrog"


def test_weekend_service(home: ApiHome) -> None:
    # Saturday 2007-06-09: FULLW and WE both run.
    got = departures(home, stop="BEATTY_AIRPORT", after="2007-06-09T07:30:00-07:00", hours=6)
    assert [t for t, _, _ in got] == ["AAMV1", "AB1", "AAMV2", "AB2", "AAMV3"]  # ties by trip_id


def test_a_calendar_exception_removes_a_service_day(home: ApiHome) -> None:
    # Monday 2007-06-04: calendar_dates removes FULLW, and WE does not run on Mondays; only the night trip of
    # Sunday's service day (06-03) still reaches the stop, at 25:10 = 01:10 on the 4th.
    assert departures(home, stop="BEATTY_AIRPORT", after="2007-06-04T00:00:00-07:00", hours=20) == [
        ("NIGHT1", "2007-06-03", "2007-06-04T01:10:00-07:00")]
    assert departures(home, stop="BEATTY_AIRPORT", after="2007-06-04T02:00:00-07:00", hours=20) == []
    # The day after runs again.
    assert departures(home, stop="BULLFROG", after="2007-06-05T00:00:00-07:00", hours=24)[0][0] == "AB1"


def test_times_past_midnight_belong_to_their_service_day(home: ApiHome) -> None:
    # NIGHT1 of service day 2007-06-05 leaves STAGECOACH at 24:30 = 00:30 on 06-06.
    got = departures(home, stop="STAGECOACH", after="2007-06-06T00:00:00-07:00", hours=2)
    assert got == [("NIGHT1", "2007-06-05", "2007-06-06T00:30:00-07:00")]
    arrival = departures(home, stop="BEATTY_AIRPORT", after="2007-06-06T01:00:00-07:00", hours=1)
    assert arrival == [("NIGHT1", "2007-06-05", "2007-06-06T01:10:00-07:00")]
    # Service day 2007-06-04 is removed, so its night trip does not run on the early morning of 06-05.
    assert departures(home, stop="STAGECOACH", after="2007-06-05T00:00:00-07:00", hours=2) == []
    # A UTC instant is the same moment.
    assert departures(home, stop="STAGECOACH", after="2007-06-06T07:00:00Z", hours=2)[0][0] == "NIGHT1"


def test_bad_departure_requests(home: ApiHome) -> None:
    client = home.client()
    assert client.get(URL, params={"stop": "NOWHERE"}).status_code == 404
    assert client.get("/api/v1/transit/nofeed/departures", params={"stop": "X"}).status_code == 404
    assert client.get(URL, params={"stop": "AMV", "after": "yesterday"}).status_code == 400
    assert client.get(URL, params={"stop": "AMV", "hours": 100}).status_code == 400
