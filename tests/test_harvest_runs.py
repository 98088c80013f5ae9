"""Harvests as jobs: a harvest file run supervised (time limit, one at a time), its history kept, and
scheduled by the same scheduler as the publisher jobs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from opendata.cli import main
from opendata.settings import Settings
from publishers.clock import ManualClock
from publishers.harvest.runs import history, run_harvest
from publishers.job import discover_jobs
from publishers.scheduler import Scheduler
from tests import publishers_fixtures
from tests.publishers_fixtures import LocalHttp

local_http = publishers_fixtures.local_http
redis_url = publishers_fixtures.redis_url


def _catalog(local_http: LocalHttp) -> str:
    local_http.route("/files/counts.csv", lambda *_: (200, {"Content-Type": "text/csv"},
                                                      b"site,count\nA,4\nB,7\n"))
    turtle = f"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<{local_http.base}/ds/counts> a dcat:Dataset ; dct:title "Cycle counts"@en ;
  dct:license <http://publications.europa.eu/resource/authority/licence/CC0> ;
  dcat:distribution [ a dcat:Distribution ; dcat:downloadURL <{local_http.base}/files/counts.csv> ;
                      dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ] ."""
    local_http.route("/catalog.ttl", lambda *_: (200, {"Content-Type": "text/turtle"}, turtle.encode()))
    return local_http.base + "/catalog.ttl"


def _spec(folder: Path, url: str, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "city.harvest.yaml"
    path.write_text(yaml.safe_dump({"name": "city", "kind": "dcat", "url": url, "into": "harvested", **extra}))
    return path


def test_a_harvest_file_runs_supervised_and_keeps_its_history(
    tmp_path: Path, local_http: LocalHttp, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path / "jobs", _catalog(local_http))
    assert main(["--home", str(settings.home), "harvest", "run", str(spec), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["state"] == "succeeded" and first["trigger"] == "manual"
    assert [(e["dataset"], e["outcome"]) for e in first["report"]["entries"]] == [("cycle-counts", "new")]
    assert len(list((tmp_path / "jobs" / "harvested").rglob("cycle-counts.yaml"))) == 1

    second = run_harvest(spec, settings)
    assert second.state == "succeeded" and second.report is not None
    assert second.report.entries[0].outcome == "skipped"
    runs = history(settings, "city")
    assert [r.run_id for r in runs] == [second.run_id, first["run_id"]]
    assert main(["--home", str(settings.home), "harvest", "history"]) == 0
    assert "city  succeeded  harvested" in capsys.readouterr().out
    assert discover_jobs(tmp_path / "jobs") == sorted((tmp_path / "jobs").rglob("cycle-counts.yaml"))


def test_a_hung_portal_is_killed_at_the_harvest_timeout(tmp_path: Path, local_http: LocalHttp,
                                                        settings: Settings) -> None:
    def hang(*_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(4)
        return 200, {}, b""

    local_http.route("/slow.ttl", hang)
    spec = _spec(tmp_path / "jobs", local_http.base + "/slow.ttl", timeout=1)
    started = time.monotonic()
    run = run_harvest(spec, settings)
    assert run.state == "timed-out" and "timed out after 1s and was killed" in str(run.error)
    assert time.monotonic() - started < 3.5
    assert history(settings)[0].state == "timed-out"


def test_a_failing_portal_is_a_failed_run_with_the_reason(tmp_path: Path, local_http: LocalHttp,
                                                          settings: Settings) -> None:
    local_http.route("/bad.ttl", lambda *_: (200, {"Content-Type": "text/turtle"}, b"<html>no"))
    run = run_harvest(_spec(tmp_path / "jobs", local_http.base + "/bad.ttl"), settings)
    assert run.state == "failed" and "not a DCAT catalog" in str(run.error)


def test_the_scheduler_fires_harvest_files_on_their_schedule(tmp_path: Path, settings: Settings) -> None:
    _spec(tmp_path / "jobs", "http://127.0.0.1:9/catalog.ttl", schedule="0 2 * * *")

    class Recorder:
        def __init__(self) -> None:
            self.fired: list[tuple[Path, str]] = []

        def dispatch(self, job_path: Path, name: str) -> None:
            self.fired.append((job_path, name))

        def running(self, name: str) -> bool:
            return False

    clock = ManualClock(datetime(2024, 6, 1, 1, 59, 0, tzinfo=UTC))
    recorder = Recorder()
    scheduler = Scheduler(settings, tmp_path / "jobs", recorder, clock=clock)
    assert scheduler.load() == []
    clock.advance(61)
    scheduler.tick()
    assert [name for _, name in recorder.fired] == ["harvest:city"]


def test_a_harvest_file_runs_on_a_queue_worker(tmp_path: Path, local_http: LocalHttp, settings: Settings,
                                               redis_url: str) -> None:
    import os
    import subprocess
    import sys

    from publishers.queue import QueueDispatcher

    spec = _spec(tmp_path / "jobs", _catalog(local_http))
    env = {**os.environ, "OPENDATA_HOME": str(settings.paths.root), "OPENDATA_PSEUDONYM_KEY": "test-key-not-secret"}
    worker = subprocess.Popen([sys.executable, "-m", "opendata.cli", "worker", "--queue", redis_url, "--name", "w1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        queued = QueueDispatcher(settings, redis_url).dispatch(spec, "harvest:city")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and str(getattr(queued.get_status(refresh=True), "value", "")) not in (
                "finished", "failed"):
            time.sleep(0.25)
        assert queued.return_value()["state"] == "succeeded"
    finally:
        worker.terminate()
        worker.wait(30)
    assert history(settings, "city")[0].trigger == "schedule"


def test_a_bad_harvest_file_is_refused_naming_each_key(tmp_path: Path, settings: Settings,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.harvest.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "kind": "socrata", "url": "http://x", "schedule": "0 2 * *"}))
    assert main(["--home", str(settings.home), "harvest", "run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "kind: Input should be 'ckan' or 'dcat'" in err and "schedule: schedule must be a five-field cron" in err
