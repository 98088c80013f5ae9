"""The catalog in PostgreSQL behaves as the embedded SQLite catalog does, and is shared across processes.

Each test below runs on both databases where the behaviour is the same; the PostgreSQL-only tests cover what
a shared catalog adds: the change counter replicas watch, the job lock across processes, clear errors.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.api_keys import ApiKeyStore
from catalog.approvals import Approvals
from catalog.database import PostgresDatabase, catalog_database
from catalog.models import Dataset, Release, Run
from catalog.store import Catalog, open_catalog
from opendata.errors import ApprovalError, CatalogError, ConfigurationError, RunInProgress
from opendata.settings import Settings
from publishers.runner import job_lock, run_job
from tests import catalog_fixtures
from tests.conftest import PEOPLE_HEADER, PEOPLE_PRIVACY, PEOPLE_ROWS, PEOPLE_SCHEMA, JobWriter

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test's settings, with the catalog in SQLite (the default) or in a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return settings
    url = request.getfixturevalue("catalog_url")
    return settings.model_copy(update={"catalog_url": url})


def _dataset(name: str = "trips") -> Dataset:
    return Dataset(name=name, organization="transit", title="Trips", description="Trips taken.", license="CC0-1.0",
                   tags=["transit"], timezone="UTC", updated_at="2026-11-28T10:00:00Z")


def _release(number: int, state: str = "published", dataset: str = "trips") -> Release:
    return Release(dataset=dataset, number=number, state=state, created_at="2026-11-28T10:00:00Z",
                   published_at="2026-11-28T10:00:01Z" if state == "published" else None, rows=3_000_000_000,
                   table_schema={"fields": [{"name": "id", "type": "integer"}]}, folder=f"{dataset}/{number}",
                   files={"data.parquet": "ab" * 32}, run_id=f"run-{number}", policy_hash="p")


def _run(run_id: str, started: str = "2026-11-28T10:00:00Z", dataset: str = "trips") -> Run:
    return Run(run_id=run_id, dataset=dataset, job_path="/jobs/trips.yaml", state="running", started_at=started)


def test_placeholders_are_bound_outside_literals_only(backend: Settings) -> None:
    """(The placeholders were rewritten by hand for psycopg before issue 18; SQLAlchemy binds them now.)"""
    with catalog_database(backend).connect() as db:
        cast = "'a'::text" if db.dialect == "postgresql" else "CAST('a' AS TEXT)"
        row = db.execute(f"SELECT '?', ':x', 'it''s ?', 5 % ?, {cast} WHERE 'ax' LIKE '%x' AND 1 = ?", (3, 1))
        assert tuple(row.fetchone()) == ("?", ":x", "it's ?", 2, "a")
        named = db.execute("SELECT :name, '12:30', 'x' || :name", {"name": "n"}).fetchone()
        assert tuple(named) == ("n", "12:30", "xn")


def test_datasets_releases_and_runs_round_trip(backend: Settings) -> None:
    catalog = open_catalog(backend)
    catalog.upsert_dataset(_dataset(), "Transit Authority")
    assert catalog.datasets() == []  # no published release yet
    assert catalog.next_release_number("trips") == 1
    catalog.record_release(_release(1), _run("r1").model_copy(update={"state": "succeeded", "release": 1}))
    catalog.record_release(_release(2, "awaiting-approval"), _run("r2", "2026-11-28T10:00:00Z"))
    assert [d.latest_release for d in catalog.datasets()] == [1]
    assert catalog.dataset("trips").tags == ["transit"]
    assert [r.number for r in catalog.releases("trips")] == [1]
    assert [r.number for r in catalog.releases("trips", published_only=False)] == [1, 2]
    release = catalog.release("trips")
    assert release.rows == 3_000_000_000 and release.files == {"data.parquet": "ab" * 32}  # 64-bit counts
    assert catalog.next_release_number("trips") == 3
    # runs started in the same second come back newest first, by insertion
    assert [r.run_id for r in catalog.runs("trips")] == ["r2", "r1"]
    assert [r.run_id for r in catalog.interrupted_runs("trips")] == ["r2"]
    catalog.set_release_state("trips", 2, "published")
    assert catalog.release("trips").number == 2
    assert [o.datasets for o in catalog.organizations()] == [1]
    with pytest.raises(CatalogError, match="already recorded by another run"):
        catalog.record_release(_release(2), _run("r3"))
    assert catalog.run("r1").release == 1
    with pytest.raises(CatalogError, match="does not exist"):
        catalog.run("nope")


def test_approvals_and_api_keys(backend: Settings) -> None:
    catalog = open_catalog(backend)
    catalog.upsert_dataset(_dataset(), "Transit Authority")
    catalog.record_release(_release(1, "awaiting-approval"), _run("r1").model_copy(
        update={"state": "awaiting-approval", "release": 1}))
    approvals = Approvals(catalog)
    decided = approvals.decide("trips", 1, "approved", by="Ada", role="officer", reason="checked the report",
                               via="cli")
    assert decided.id >= 1
    assert catalog.release("trips").state == "published" and catalog.run("r1").state == "succeeded"
    with pytest.raises(ApprovalError, match="not awaiting approval"):
        approvals.decide("trips", 1, "rejected", by="Ada", role="officer", reason="changed my mind", via="cli")
    assert [(d.decision, d.decided_by) for d in approvals.history("trips", 1)] == [("approved", "Ada")]

    keys = ApiKeyStore(catalog_database(backend))
    issued = keys.create("weather-app", "developer")
    found = keys.verify(issued.key)
    assert found is not None and found.name == "weather-app"
    assert keys.verify(issued.key + "x") is None
    keys.revoke(issued.api_key.id)
    assert keys.verify(issued.key) is None
    with pytest.raises(CatalogError, match="already revoked"):
        keys.revoke(issued.api_key.id)


def test_a_job_publishes_and_the_api_serves_it(backend: Settings, write_job: JobWriter) -> None:
    job = write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"})
    first = run_job(job, backend)
    second = run_job(job, backend)
    assert first.run.state == second.run.state == "succeeded"
    assert [first.release and first.release.number, second.release and second.release.number] == [1, 2]
    if backend.catalog_url is not None:
        assert not backend.paths.catalog_db.exists(), "a PostgreSQL catalog leaves no SQLite file behind"
    with TestClient(create_app(backend)) as client:
        page = client.get("/api/v1/datasets/service-requests/rows", params={"category": "pothole"})
        assert page.status_code == 200 and page.headers["x-release"] == "2"
        assert sorted(r["request_id"] for r in page.json()["rows"]) == [1, 4]
        runs = client.get("/api/v1/runs").json()
        assert [r["release"] for r in runs["runs"]][:2] == [2, 1]
        assert client.get("/api/v1/datasets/service-requests/releases/1").status_code == 200


def test_replicas_see_a_release_committed_by_another_process(catalog_url: str, settings: Settings) -> None:
    shared = settings.model_copy(update={"catalog_url": catalog_url})
    catalog = open_catalog(shared)
    catalog.upsert_dataset(_dataset(), "Transit Authority")
    probe = catalog.database.change_probe()
    before = probe.version()
    catalog.save_run(_run("r1"))
    assert probe.version() == before, "run history does not invalidate the replicas' view"
    writer = (
        "from catalog.database import open_database\n"
        "from catalog.store import Catalog\n"
        "from tests.test_catalog_postgres import _release, _run\n"
        f"Catalog(open_database({catalog_url!r}, None)).record_release(_release(1), _run('r2'))\n"
    )
    probe.POLL_SECONDS = 3600  # type: ignore[attr-defined]  # only the NOTIFY can tell it now
    subprocess.run([sys.executable, "-c", writer], check=True, cwd=Path(__file__).parent.parent, timeout=60)
    deadline = time.monotonic() + 2
    while probe.version() == before:
        assert time.monotonic() < deadline, "the probe never heard of the other process's commit"
        time.sleep(0.01)
    assert catalog.release("trips").number == 1
    probe.close()


def _hold_lock(url: str, home: Path, started: multiprocessing.synchronize.Event) -> None:
    with job_lock(Settings(home=home, catalog_url=url), "trips"):
        started.set()
        time.sleep(60)


def test_the_job_lock_spans_processes_and_dies_with_its_holder(catalog_url: str, settings: Settings) -> None:
    shared = settings.model_copy(update={"catalog_url": catalog_url})
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    holder = context.Process(target=_hold_lock, args=(catalog_url, settings.home / "other-worker", started))
    holder.start()
    try:
        assert started.wait(30)
        with pytest.raises(RunInProgress, match="another worker"), job_lock(shared, "trips"):
            pass
        with job_lock(shared, "buses"):
            pass  # other jobs are not held up
        with job_lock(shared, "scheduler"), catalog_database(shared).exclusive("scheduler", Path("/none"), "busy"):
            pass  # a job named like the scheduler's lock does not take it
    finally:
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
    deadline = time.monotonic() + 10
    while True:  # the server ends the dead session, and its lock with it
        try:
            with job_lock(shared, "trips"):
                break
        except RunInProgress:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_bad_catalog_urls_fail_clearly(settings: Settings, postgres_url: str) -> None:
    with pytest.raises(ConfigurationError, match="must be a postgresql:// URL"):
        Catalog(catalog_database(settings.model_copy(update={"catalog_url": "mysql://x@y/z"})))
    unreachable = "postgresql://opendata:hunter2@127.0.0.1:1/none?connect_timeout=1"
    with pytest.raises(ConfigurationError, match="OPENDATA_CATALOG_URL") as caught:
        PostgresDatabase(unreachable)
    assert "hunter2" not in str(caught.value)


def test_schema_drift_is_caught_when_the_next_run_is_on_another_worker(
    catalog_url: str, tmp_path: Path, write_job: JobWriter
) -> None:
    worker_a, worker_b = (Settings(home=tmp_path / name, pseudonym_key="test-key-not-secret", catalog_url=catalog_url)
                          for name in ("worker-a", "worker-b"))
    assert run_job(write_job(privacy=PEOPLE_PRIVACY), worker_a).run.state == "succeeded"
    schema = copy.deepcopy(PEOPLE_SCHEMA)
    schema["fields"].append({"name": "priority", "type": "string"})
    rows = [r + ["low"] for r in PEOPLE_ROWS]
    moved = run_job(write_job(header=[*PEOPLE_HEADER, "priority"], rows=rows, schema=schema, privacy=PEOPLE_PRIVACY),
                    worker_b)
    assert moved.run.state == "blocked" and "'priority'" in (moved.run.error or ""), moved.run.error
