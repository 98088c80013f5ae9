"""A run killed mid-way (kill -9 of its process) shows as interrupted at once, not running, on `opendata runs`,
GET /api/v1/runs and the /runs page: on the embedded SQLite catalog and on a shared PostgreSQL one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.database import close_databases
from catalog.store import Catalog, open_catalog
from opendata.settings import Settings
from publishers.liveness import find_interrupted, lock_held
from publishers.runner import job_lock, run_job
from tests import publishers_fixtures
from tests.catalog_fixtures import new_database
from tests.publishers_fixtures import LocalHttp, write_source_job

local_http = publishers_fixtures.local_http
postgres_url = publishers_fixtures.postgres_url

CODES = [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"}]
KEY = "test-key-not-secret"


def _wait(what: str, done: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENDATA_PSEUDONYM_KEY": KEY}
    if settings.catalog_url:
        env["OPENDATA_CATALOG_URL"] = settings.catalog_url
    return subprocess.run([sys.executable, "-m", "opendata.cli", "--home", str(settings.home), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> object:
    if request.param == "sqlite":
        yield settings
        return
    yield settings.model_copy(update={"catalog_url": new_database(request.getfixturevalue("postgres_url"))})
    close_databases()


def test_a_killed_run_is_interrupted_at_once_everywhere(
    tmp_path: Path, backend: Settings, local_http: LocalHttp
) -> None:
    settings = backend
    calls: list[int] = []

    def source(*_: object) -> tuple[int, dict[str, str], bytes]:
        calls.append(1)
        if len(calls) > 1:
            time.sleep(60)  # the second run hangs in extract until it is killed
        return 200, {"Content-Type": "application/json"}, b'[{"id": 1, "code": "A"}]'

    local_http.route("/codes", source)
    job = write_source_job(tmp_path / "jobs", "codes", {"type": "http_json", "url": local_http.base + "/codes",
                                                        "timeout": 120}, CODES)
    assert run_job(job, settings).release is not None  # published, so the public views list its runs
    catalog = open_catalog(settings)

    env = {**os.environ, "OPENDATA_PSEUDONYM_KEY": KEY}
    if settings.catalog_url:
        env["OPENDATA_CATALOG_URL"] = settings.catalog_url
    process = subprocess.Popen([sys.executable, "-m", "opendata.cli", "--home", str(settings.home), "run", str(job)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait("the run to reach its source", lambda: len(calls) > 1)
        running = catalog.runs("codes")[0]
        assert running.state == "running"
        # Alive: every reader shows it running (its lock is held), and the probe leaves it be
        assert lock_held(settings, catalog, "codes") and find_interrupted(settings, catalog) == set()
        with TestClient(create_app(settings)) as client:
            assert client.get("/api/v1/runs").json()["runs"][0]["state"] == "running"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)

    if settings.catalog_url:  # the server ends the killed session when it reads the closed socket
        _wait("PostgreSQL to drop the killed session's lock", lambda: not lock_held(settings, catalog, "codes"), 10)
    listed = _cli(settings, "runs", "codes", "--json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [r["state"] for r in runs] == ["interrupted", "succeeded"] and runs[0]["run_id"] == running.run_id
    assert "interrupted" in runs[0]["error"] and runs[0]["ended_at"]
    assert catalog.run(running.run_id).state == "interrupted", "the reader recorded it"
    with TestClient(create_app(settings)) as client:
        shown = client.get("/api/v1/runs", params={"state": "interrupted"}).json()
        assert [r["run_id"] for r in shown["runs"]] == [running.run_id] and "interrupted" in shown["runs"][0]["error"]
        assert client.get(f"/api/v1/runs/{running.run_id}").json()["state"] == "interrupted"
        assert 'class="state state-interrupted">interrupted<' in client.get("/runs").text
    assert (settings.paths.staging / "codes" / running.run_id).exists()  # the dead run's staging, on its disk

    local_http.route("/codes", lambda *_: (200, {"Content-Type": "application/json"}, b'[{"id": 2, "code": "B"}]'))
    rerun = run_job(job, settings)
    assert rerun.release is not None and rerun.release.number == 2
    assert not (settings.paths.staging / "codes" / running.run_id).exists(), "the next run removed it"
    assert [r.state for r in Catalog(catalog.database).runs("codes")] == ["succeeded", "interrupted", "succeeded"]


def test_a_run_that_ends_between_two_reads_is_left_alone(settings: Settings, tmp_path: Path) -> None:
    """A record read `running` whose run then ends keeps the state its run recorded."""
    catalog = open_catalog(settings)
    data = tmp_path / "codes.csv"
    data.write_text("id,code\n1,A\n", encoding="utf-8")
    job = write_source_job(tmp_path, "codes", {"type": "csv", "path": "codes.csv"}, CODES)
    done = run_job(job, settings).run
    with job_lock(settings, "codes", catalog):  # held: the probe finds no dead run
        catalog.save_run(done.model_copy(update={"state": "running", "ended_at": None}))
        assert find_interrupted(settings, catalog) == set()
        catalog.save_run(done)  # it ends, then lets go of its lock
    assert find_interrupted(settings, catalog) == set() and catalog.run(done.run_id).state == "succeeded"
