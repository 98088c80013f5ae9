"""Cron schedules in the agency's time zone (with a clock the test moves), no overlapping runs, and
missed releases flagged in the API and the CLI."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.models import Dataset, Run
from catalog.store import Catalog
from opendata.cli import main
from opendata.settings import Settings
from publishers.clock import ManualClock
from publishers.missed import missed_releases, parse_utc
from publishers.runner import run_job
from publishers.scheduler import EmbeddedDispatcher, Scheduler, next_fire
from tests import publishers_fixtures
from tests.publishers_fixtures import LocalHttp, write_source_job

local_http = publishers_fixtures.local_http

CODES = [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"}]


def _csv_job(folder: Path, name: str, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rows.csv").write_text("id,code\n1,A\n2,B\n", encoding="utf-8")
    return write_source_job(folder, name, {"type": "csv", "path": "rows.csv"}, CODES, **extra)


def test_next_fire_follows_the_agency_time_zone_across_daylight_saving() -> None:
    winter = next_fire("0 3 * * *", "Europe/Paris", datetime(2024, 1, 15, 12, tzinfo=UTC))
    summer = next_fire("0 3 * * *", "Europe/Paris", datetime(2024, 7, 15, 12, tzinfo=UTC))
    assert winter == datetime(2024, 1, 16, 2, tzinfo=UTC)
    assert summer == datetime(2024, 7, 16, 1, tzinfo=UTC)
    assert next_fire("30 6 * * 1", "America/New_York", datetime(2024, 3, 6, tzinfo=UTC)) == datetime(
        2024, 3, 11, 10, 30, tzinfo=UTC)  # the Monday after the spring change: EDT, UTC-4


def test_a_cron_schedule_fires_at_its_local_time(tmp_path: Path, settings: Settings) -> None:
    _csv_job(tmp_path / "jobs" / "paris", "paris-codes", schedule="0 3 * * *", timezone="Europe/Paris")
    _csv_job(tmp_path / "jobs" / "never", "unscheduled-codes")
    clock = ManualClock(datetime(2024, 6, 1, 0, 59, 0, tzinfo=UTC))  # 02:59 in Paris (CEST)
    dispatcher = EmbeddedDispatcher(settings)
    scheduler = Scheduler(settings=settings, jobs_dir=tmp_path / "jobs", dispatcher=dispatcher, clock=clock)
    scheduler.load()
    assert list(scheduler.entries) == ["paris-codes"]
    assert scheduler.tick() == []
    clock.set(datetime(2024, 6, 1, 0, 59, 59, tzinfo=UTC))
    assert scheduler.tick() == []
    clock.set(datetime(2024, 6, 1, 1, 0, 0, tzinfo=UTC))  # 03:00 in Paris
    fired = scheduler.tick()
    assert [(f.name, f.action, f.scheduled_for) for f in fired] == [
        ("paris-codes", "dispatched", datetime(2024, 6, 1, 1, tzinfo=UTC))]
    assert scheduler.tick() == []  # once per fire time
    dispatcher.wait(60)
    runs = Catalog(settings.paths.catalog_db).runs("paris-codes")
    assert [(r.state, r.trigger) for r in runs] == [("succeeded", "schedule")]
    assert scheduler.entries["paris-codes"].next_fire == datetime(2024, 6, 2, 1, tzinfo=UTC)


def test_a_fire_while_the_previous_run_goes_on_is_skipped(
    tmp_path: Path, settings: Settings, local_http: LocalHttp
) -> None:
    def slow(*_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(4)
        return 200, {}, b'[{"id": 1, "code": "A"}]'

    local_http.route("/slow", slow)
    write_source_job(tmp_path / "jobs", "every-minute", {"type": "http_json", "url": local_http.base + "/slow"},
                     CODES, schedule="* * * * *")
    clock = ManualClock(datetime(2024, 6, 1, 12, 0, 30, tzinfo=UTC))
    dispatcher = EmbeddedDispatcher(settings)
    scheduler = Scheduler(settings=settings, jobs_dir=tmp_path / "jobs", dispatcher=dispatcher, clock=clock)
    scheduler.load()
    clock.advance(30)
    assert [f.action for f in scheduler.tick()] == ["dispatched"]
    clock.advance(60)
    assert [f.action for f in scheduler.tick()] == ["skipped: still running"]
    dispatcher.wait(60)
    assert len(Catalog(settings.paths.catalog_db).runs("every-minute")) == 1


def test_a_missed_release_is_flagged_in_the_api(tmp_path: Path, settings: Settings) -> None:
    job = _csv_job(tmp_path / "jobs" / "ny", "ny-codes", schedule="0 6 * * *", timezone="America/New_York")
    released = run_job(job, settings).release
    assert released is not None
    made = parse_utc(released.created_at)
    catalog = Catalog(settings.paths.catalog_db)
    assert missed_releases(catalog, made + timedelta(minutes=5), grace_seconds=3600) == []
    later = made + timedelta(days=2)
    flagged = missed_releases(catalog, later, grace_seconds=3600)
    assert [(m.dataset, m.last_release) for m in flagged] == [("ny-codes", 1)]
    due = parse_utc(flagged[0].due_at)
    assert due > made and due.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).hour == 6

    app = create_app(settings)
    app.state.clock = ManualClock(later)
    with TestClient(app) as client:
        body = client.get("/api/v1/runs").json()
        assert body["missed"][0]["dataset"] == "ny-codes"
        assert body["runs"][0]["state"] == "succeeded" and "job_path" not in body["runs"][0]
        assert body["runs"][0]["rows_by_stage"]["publish"] == 2
        one = client.get(f"/api/v1/runs/{body['runs'][0]['run_id']}")
        assert one.status_code == 200 and one.json()["release"] == 1
        assert client.get("/api/v1/runs/missed").json()[0]["due_at"] == flagged[0].due_at
        missing = client.get("/api/v1/runs/no-such-run")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not-found"
    app.state.clock = ManualClock(made + timedelta(minutes=5))
    with TestClient(app) as client:
        assert client.get("/api/v1/runs").json()["missed"] == []


def test_a_dataset_that_never_released_is_flagged_in_the_cli(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Catalog(settings.paths.catalog_db)
    catalog.upsert_dataset(Dataset(name="river-levels", organization="water", title="River levels",
                                   description="", license="CC0-1.0", schedule="*/15 * * * *",
                                   timezone="Australia/Sydney", updated_at="2024-01-01T00:00:00Z"), "Water")
    catalog.save_run(Run(run_id="r1", dataset="river-levels", job_path="x.yaml", state="failed",
                         started_at="2024-01-01T00:00:00Z", ended_at="2024-01-01T00:00:05Z",
                         error="cannot connect to PostgreSQL"))
    assert main(["--home", str(settings.home), "runs", "--missed", "--json"]) == 0
    flagged = json.loads(capsys.readouterr().out)
    assert [(m["dataset"], m["last_release"], m["last_run_state"]) for m in flagged] == [
        ("river-levels", None, "failed")]
    assert main(["--home", str(settings.home), "runs"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("MISSED\triver-levels")
