"""A kill -9 at any step of a run leaves the previous release serving; a rerun completes cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from catalog.publish import sha256_file
from catalog.store import Catalog
from opendata.settings import Settings
from tests.conftest import JobWriter


def _run(job: Path, home: Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENDATA_PSEUDONYM_KEY": "test-key-not-secret"}
    if crash_at:
        env["OPENDATA_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "opendata.cli", "--home", str(home), "run", str(job)],
        capture_output=True, text=True, env=env, timeout=300,
    )


def _assert_consistent(settings: Settings, expected_numbers: list[int]) -> None:
    catalog = Catalog(settings.paths.catalog_db)
    releases = catalog.releases("service-requests")
    assert [r.number for r in releases] == expected_numbers
    for release in releases:
        folder = settings.paths.releases / release.folder
        for name, digest in release.files.items():
            assert sha256_file(folder / name) == digest
        count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{folder / 'data.parquet'}')").fetchone()
        assert count is not None and count[0] == release.rows


@pytest.mark.parametrize(
    "crash_at", ["run:after-extract", "publish:before-rename", "publish:after-rename", "publish:after-commit"]
)
def test_kill_9_mid_run_loses_nothing(settings: Settings, write_job: JobWriter, crash_at: str) -> None:
    job = write_job(publish={"when_unchanged": "publish"})  # each run of the same source makes a release
    assert _run(job, settings.home).returncode == 0
    _assert_consistent(settings, [1])

    crashed = _run(job, settings.home, crash_at)
    assert crashed.returncode == -signal.SIGKILL
    committed = crash_at == "publish:after-commit"
    _assert_consistent(settings, [1, 2] if committed else [1])

    rerun = _run(job, settings.home)
    assert rerun.returncode == 0, rerun.stderr
    _assert_consistent(settings, [1, 2, 3] if committed else [1, 2])
    catalog = Catalog(settings.paths.catalog_db)
    states = [r.state for r in catalog.runs("service-requests")]
    assert states[0] == "succeeded" and "running" not in states
    if not committed:
        interrupted = [r for r in catalog.runs("service-requests") if r.state == "interrupted"]
        assert len(interrupted) == 1 and "interrupted" in (interrupted[0].error or "")
    orphans = {p.name for p in (settings.paths.releases / "service-requests").iterdir()}
    assert orphans == {str(r.number) for r in catalog.releases("service-requests")}
