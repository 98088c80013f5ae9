"""The developer examples in docs/examples/ run against the demo: its jobs published, the API on uvicorn."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendata.settings import Settings
from publishers.runner import run_job
from tests.web_fixtures import LiveServer

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO / "datasets"
JOBS = ["weather/alerts.yaml", "transit/stops.yaml", "transit/trips.yaml", "transit/stop-times.yaml",
        "transit/calendar-dates.yaml"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(home=tmp_path_factory.mktemp("examples"), pseudonym_key="demo-key-for-the-test-only",
                        webhook_dispatch=False)
    settings.paths.ensure()
    for job in JOBS:
        assert run_job(DATASETS / job, settings).run.state == "succeeded", job
    with LiveServer(settings) as server:
        yield server.url


def example(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(REPO / "docs" / "examples" / name), *args], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_weather_alerts_for_my_location(api: str) -> None:
    out = example("alerts_for_my_location.py", "--api", api, "--lat", "31.8", "--lon", "-86.55",
                  "--now", "2018-08-15T23:00:00")
    lines = out.strip().splitlines()
    # The one CAP polygon of the snapshot over that farm, active until 23:45 UTC.
    assert len(lines) == 1 and "Special Weather Statement until 2018-08-15T23:45:00" in lines[0], out
    later = example("alerts_for_my_location.py", "--api", api, "--lat", "31.8", "--lon", "-86.55",
                    "--now", "2018-08-16T00:00:00")
    assert later.strip() == "no active alert covers this place"
    nowhere = example("alerts_for_my_location.py", "--api", api, "--lat", "0", "--lon", "-30", "--now",
                      "2018-08-16T00:00:00")
    assert nowhere.strip() == "no active alert covers this place"


def test_next_departures_near_me(api: str) -> None:
    out = example("next_departures.py", "--api", api, "--lat", "44.95", "--lon", "-93.25",
                  "--after", "2024-03-05T07:55:00-06:00", "--count", "3")
    lines = out.strip().splitlines()
    assert " m away" in lines[0] and len(lines) == 4, out
    clocks = [line.split()[0] for line in lines[1:]]
    assert clocks == sorted(clocks) and all("07:55" <= c for c in clocks)
    # The Night Owl (route 62) runs past midnight: its 24:xx calls belong to the previous service day.
    db = sqlite3.connect(DATASETS / "transit" / "data" / "transit.sqlite")
    lat, lon = db.execute("SELECT stop_lat, stop_lon FROM stops JOIN route_stops USING (stop_id) "
                          "WHERE route_id = 'R62' ORDER BY stop_sequence LIMIT 1").fetchone()
    db.close()
    night = example("next_departures.py", "--api", api, "--lat", str(lat), "--lon", str(lon),
                    "--after", "2024-03-06T00:00:00-06:00", "--count", "3")
    assert "route 62" in night and "GTFS 24:" in night, night
