"""The same jobs on a distributed queue: a real Redis, two real `opendata worker` processes (RQ)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from catalog.store import Catalog
from opendata.settings import Settings
from publishers.queue import QueueDispatcher
from tests import publishers_fixtures
from tests.publishers_fixtures import write_source_job

redis_url = publishers_fixtures.redis_url

CODES = [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"}]


def test_a_batch_of_jobs_runs_on_two_queue_workers(tmp_path: Path, settings: Settings, redis_url: str) -> None:
    jobs = []
    for i in range(4):
        folder = tmp_path / "jobs" / f"batch-{i}"
        folder.mkdir(parents=True)
        (folder / "rows.csv").write_text("id,code\n" + "".join(f"{n},C{n}\n" for n in range(i + 2)), encoding="utf-8")
        jobs.append(write_source_job(folder, f"batch-{i}", {"type": "csv", "path": "rows.csv"}, CODES))
    env = {**os.environ, "OPENDATA_HOME": str(settings.paths.root), "OPENDATA_PSEUDONYM_KEY": "test-key-not-secret"}
    workers = [
        subprocess.Popen([sys.executable, "-m", "opendata.cli", "worker", "--queue", redis_url, "--name", name],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name in ("worker-a", "worker-b")
    ]
    try:
        dispatcher = QueueDispatcher(settings, redis_url)
        queued = [dispatcher.dispatch(path, path.stem) for path in jobs]
        assert all(dispatcher.running(path.stem) for path in jobs[1:])  # queued or started, not yet done
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = {str(getattr(j.get_status(refresh=True), "value", "")) for j in queued}
            if states <= {"finished", "failed"}:
                break
            time.sleep(0.25)
        assert {str(getattr(j.get_status(refresh=True), "value", "")) for j in queued} == {"finished"}
        results = [j.return_value() for j in queued]
        assert [r["state"] for r in results] == ["succeeded"] * 4
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    catalog = Catalog(settings.paths.catalog_db)
    runs = [catalog.runs(f"batch-{i}")[0] for i in range(4)]
    assert [r.rows_out for r in runs] == [2, 3, 4, 5]
    assert {r.trigger for r in runs} == {"schedule"}
    assert {r.worker for r in runs} == {"worker-a", "worker-b"}
