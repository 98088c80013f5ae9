"""Runs that agencies can rely on: incremental pulls, retries, time limits, no overlap, crash recovery,
progress and secrets, each against real files, a real PostgreSQL and a real local HTTP server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from catalog.store import Catalog
from opendata.errors import RunInProgress
from opendata.settings import Settings
from publishers.runner import job_lock, run_job
from publishers.supervise import run_with_retries, settings_environment
from tests import publishers_fixtures
from tests.publishers_fixtures import LocalHttp, write_source_job

local_http = publishers_fixtures.local_http
postgres_url = publishers_fixtures.postgres_url

CODES = [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"}]
READINGS = [{"name": "id", "type": "integer"}, {"name": "updated_at", "type": "datetime"},
            {"name": "level", "type": "number"}]


def _release_rows(settings: Settings, name: str) -> list[dict[str, object]]:
    release = Catalog(settings.paths.catalog_db).release(name)
    table = pq.read_table(settings.paths.releases / release.folder / "data.parquet")
    return sorted(table.to_pylist(), key=lambda r: r["id"])  # type: ignore[arg-type, return-value]


def test_incremental_full_release_merges_new_and_changed_rows_from_postgres(
    tmp_path: Path, settings: Settings, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS gauges")
        db.execute("CREATE TABLE gauges (id int PRIMARY KEY, updated_at timestamp, level numeric)")
        db.execute("INSERT INTO gauges VALUES (1, '2024-05-01 10:00', 1.5), (2, '2024-05-01 11:00', 2.5)")
    job = write_source_job(tmp_path, "gauges", {"type": "sql", "url": postgres_url, "table": "gauges"}, READINGS,
                           primaryKey=["id"], incremental={"cursor": "updated_at", "release": "full"})
    first = run_job(job, settings)
    assert first.run.state == "succeeded" and first.run.rows_in == 2
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE gauges SET level = 9.75, updated_at = '2024-05-02 08:00' WHERE id = 2")
        db.execute("INSERT INTO gauges VALUES (3, '2024-05-02 09:00', 3.5)")
    second = run_job(job, settings)
    assert second.run.rows_in == 2, "only the changed and the new row leave the database"
    assert [(r["id"], r["level"]) for r in _release_rows(settings, "gauges")] == [(1, 1.5), (2, 9.75), (3, 3.5)]
    third = run_job(job, settings)
    assert third.run.state == "unchanged" and third.run.rows_in == 0 and third.release is None
    assert third.ok and third.run.release == 2, "nothing new past the cursor: release 2 stays current"
    assert Catalog(settings.paths.catalog_db).release("gauges").number == 2


def test_incremental_increment_release_holds_only_the_new_rows(tmp_path: Path, settings: Settings) -> None:
    db = sqlite3.connect(tmp_path / "agency.db")
    db.execute("CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT)")
    db.executemany("INSERT INTO codes VALUES (?, ?)", [(1, "A"), (2, "B")])
    db.commit()
    job = write_source_job(tmp_path, "codes", {"type": "sql", "url": "sqlite:///agency.db", "table": "codes"},
                           CODES, incremental={"cursor": "id", "release": "increment"})
    run_job(job, settings)
    db.executemany("INSERT INTO codes VALUES (?, ?)", [(10, "J"), (11, "K")])
    db.commit()
    db.close()
    run_job(job, settings)
    assert [r["id"] for r in _release_rows(settings, "codes")] == [10, 11]


def test_incremental_cursor_on_a_file_source_filters_after_reading(tmp_path: Path, settings: Settings) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("id,code\n1,A\n2,B\n", encoding="utf-8")
    job = write_source_job(tmp_path, "file-codes", {"type": "csv", "path": "rows.csv"}, CODES, primaryKey=["id"],
                           incremental={"cursor": "id"})
    run_job(job, settings)
    data.write_text("id,code\n1,A\n2,B\n9,Z\n", encoding="utf-8")
    assert run_job(job, settings).run.rows_in == 1
    assert [r["id"] for r in _release_rows(settings, "file-codes")] == [1, 2, 9]


def _flaky(failures: int) -> tuple[list[int], object]:
    calls = [0]

    def handler(*_: object) -> tuple[int, dict[str, str], bytes]:
        calls[0] += 1
        if calls[0] <= failures:
            return 503, {}, b"busy"
        return 200, {"Content-Type": "application/json"}, json.dumps([{"id": 1, "code": "A"}]).encode()

    return calls, handler


def test_a_transient_failure_is_retried_with_backoff_then_succeeds(
    tmp_path: Path, settings: Settings, local_http: LocalHttp
) -> None:
    calls, handler = _flaky(2)
    local_http.route("/items", handler)  # type: ignore[arg-type]
    job = write_source_job(tmp_path, "flaky", {"type": "http_json", "url": local_http.base + "/items"}, CODES,
                           retries={"attempts": 3, "backoff_seconds": 0.2})
    waits: list[float] = []
    outcome = run_with_retries(job, settings, sleep=lambda s: (waits.append(s), time.sleep(s)))
    assert outcome.ok and outcome.attempts == 3
    assert waits == [0.2, 0.4]
    runs = Catalog(settings.paths.catalog_db).runs("flaky")
    assert [(r.attempt, r.state) for r in reversed(runs)] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert "503" in (runs[-1].error or "")


def test_a_terminal_failure_is_not_retried(tmp_path: Path, settings: Settings, local_http: LocalHttp) -> None:
    local_http.route("/items", lambda *_: (401, {}, b"{}"))
    job = write_source_job(tmp_path, "denied", {"type": "http_json", "url": local_http.base + "/items"}, CODES,
                           retries={"attempts": 3, "backoff_seconds": 0})
    outcome = run_with_retries(job, settings)
    assert not outcome.ok and outcome.attempts == 1
    assert len(Catalog(settings.paths.catalog_db).runs("denied")) == 1


def _hanging(seconds: float) -> object:
    def handler(*_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(seconds)
        return 200, {}, b"[]"

    return handler


def test_a_hung_run_is_killed_at_its_timeout_and_frees_its_lock(
    tmp_path: Path, settings: Settings, local_http: LocalHttp
) -> None:
    local_http.route("/hang", _hanging(60))  # type: ignore[arg-type]
    job = write_source_job(tmp_path, "hung", {"type": "http_json", "url": local_http.base + "/hang", "timeout": 300},
                           CODES, timeout=4)
    started = time.monotonic()
    outcome = run_with_retries(job, settings)
    assert time.monotonic() - started < 20
    assert outcome.timed_out and outcome.run is not None
    assert outcome.run.state == "failed" and "timed out after 4s" in (outcome.run.error or "")
    assert not any((settings.paths.staging / "hung").glob("*")), "the killed run's staging is removed"
    with job_lock(settings, "hung"):
        pass  # the kernel released the killed process's lock


def test_a_run_killed_before_it_recorded_itself_is_still_in_the_history(tmp_path: Path, settings: Settings) -> None:
    # 50 ms is less than the child needs to import the pipeline, so it dies before writing its run row.
    (tmp_path / "rows.csv").write_text("id,code\n1,A\n", encoding="utf-8")
    job = write_source_job(tmp_path, "early", {"type": "csv", "path": "rows.csv"}, CODES, timeout=0.05)
    outcome = run_with_retries(job, settings)
    assert outcome.timed_out and outcome.run is not None
    assert outcome.run.state == "failed" and outcome.run.ended_at is not None
    assert "timed out after 0.05s" in (outcome.run.public_error or "")
    assert [r.run_id for r in Catalog(settings.paths.catalog_db).runs("early")] == [outcome.run.run_id]


def test_two_runs_of_one_job_never_overlap(tmp_path: Path, settings: Settings, local_http: LocalHttp) -> None:
    local_http.route("/slow", _hanging(8))  # type: ignore[arg-type]
    job = write_source_job(tmp_path, "slow", {"type": "http_json", "url": local_http.base + "/slow",
                                              "columns": ["id", "code"]}, CODES)
    first = threading.Thread(target=run_with_retries, args=(job, settings))
    first.start()
    deadline = time.monotonic() + 15
    while not local_http.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(RunInProgress, match="already running"):
        run_job(job, settings)
    second = run_with_retries(job, settings)
    assert second.skipped == "job 'slow' is already running"
    first.join(30)
    assert [r.state for r in Catalog(settings.paths.catalog_db).runs("slow")] == ["succeeded"]


def test_a_rerun_after_a_crash_resumes_cleanly(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "rows.csv").write_text("id,code\n1,A\n", encoding="utf-8")
    job = write_source_job(tmp_path, "crashy", {"type": "csv", "path": "rows.csv"}, CODES)
    env = {**settings_environment(settings), "OPENDATA_CRASH_AT": "run:after-extract"}
    crashed = subprocess.run([sys.executable, "-m", "publishers.child", str(job), "--run-id", "crashed-run"],
                             env=env, capture_output=True)
    assert crashed.returncode == -9
    catalog = Catalog(settings.paths.catalog_db)
    assert catalog.run("crashed-run").state == "running"
    assert (settings.paths.staging / "crashy" / "crashed-run" / "raw.parquet").exists()
    again = run_job(job, settings)
    assert again.run.state == "succeeded" and again.release is not None and again.release.number == 1
    assert catalog.run("crashed-run").state == "interrupted"
    assert not (settings.paths.staging / "crashy" / "crashed-run").exists()


class Recorder:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def advance(self, stage: str, rows: int) -> None:
        self.rows[stage] = self.rows.get(stage, 0) + rows

    def close(self) -> None:
        pass


def test_progress_counts_rows_through_every_stage(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "rows.csv").write_text("id,code\n" + "".join(f"{i},C{i % 9}\n" for i in range(1, 1001)))
    job = write_source_job(tmp_path, "counted", {"type": "csv", "path": "rows.csv"}, CODES)
    recorder = Recorder()
    result = run_job(job, settings, progress=recorder)
    assert recorder.rows == {"extract": 1000, "anonymize": 1000, "validate": 1000, "publish": 1000}
    assert result.run.rows_by_stage == recorder.rows


def test_secrets_from_the_environment_never_reach_the_run_history(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.publishers_fixtures import free_port

    monkeypatch.setenv("AGENCY_DB_PASSWORD", "pa55-w0rd-xyz")
    url = f"postgresql://agency:${{AGENCY_DB_PASSWORD}}@127.0.0.1:{free_port()}/agency?application_name=pa55-w0rd-xyz"
    job = write_source_job(tmp_path, "secretive", {"type": "sql", "url": url, "table": "t"}, CODES,
                           retries={"attempts": 1})
    outcome = run_with_retries(job, settings)
    assert outcome.run is not None and outcome.run.state == "failed"
    stored = Catalog(settings.paths.catalog_db).runs("secretive")[0]
    assert "pa55-w0rd-xyz" not in stored.model_dump_json()
