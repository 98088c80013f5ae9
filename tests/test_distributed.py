"""Beyond one machine: the demo datasets published into PostgreSQL + object storage, served by two replicas.

Every process here has a data folder of its own (``OPENDATA_HOME``): what they share is only the PostgreSQL
catalog, the S3 bucket (rclone) and, for the queue test, Redis, as on separate machines.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.store import open_catalog
from opendata.settings import Settings
from publishers.queue import QueueDispatcher
from tests import catalog_fixtures, object_store_fixtures, publishers_fixtures
from tests.conftest import PEOPLE_PRIVACY, PEOPLE_ROWS, JobWriter
from tests.object_store_fixtures import ObjectStore
from tests.publishers_fixtures import free_port, wait_for_port

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url
s3_storage = object_store_fixtures.s3_storage
redis_url = publishers_fixtures.redis_url

REPO = Path(__file__).resolve().parent.parent
DEMO = ["city-311-requests", "transit-calendar-dates", "transit-stop-times", "transit-stops", "transit-tap-ons",
        "transit-trips", "weather-alerts"]
DEMO += [f"public-contracts-{t}" for t in ("processes", "tenders", "lots", "items", "bids", "awards", "contracts",
                                           "transactions", "parties")]  # the procurement family
ROWS = "/api/v1/datasets/service-requests/rows"
AGGREGATE = "/api/v1/datasets/service-requests/aggregate"


@dataclass
class Cluster:
    env: dict[str, str]
    bucket: str
    store: ObjectStore

    def home_env(self, home: Path) -> dict[str, str]:
        return {**self.env, "OPENDATA_HOME": str(home)}

    def run(self, home: Path, *args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "opendata.cli", *args], env=self.home_env(home),
                              capture_output=True, text=True, timeout=600, cwd=REPO)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def cluster(tmp_path: Path, catalog_url: str, s3_storage: ObjectStore) -> Cluster:
    bucket = s3_storage.new_bucket()
    env = {
        **os.environ, **s3_storage.env(bucket), "OPENDATA_CATALOG_URL": catalog_url,
        "OPENDATA_PSEUDONYM_KEY": "test-key-not-secret", "OPENDATA_DATASETS_DIR": str(REPO / "datasets"),
        "OPENDATA_RATE_LIMIT_ANONYMOUS": "1000000", "OPENDATA_TEXT_WORKERS": "1",
    }
    env.pop("OPENDATA_HOME", None)
    return Cluster(env, bucket, s3_storage)


@pytest.fixture
def replicas(cluster: Cluster, tmp_path: Path) -> Iterator[list[str]]:
    """Two `opendata serve` processes, each with its own (empty) data folder."""
    processes, urls = [], []
    for name in ("replica-a", "replica-b"):
        port = free_port()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "opendata.cli", "serve", "--port", str(port)],
            env=cluster.home_env(tmp_path / name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
        ))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_for_port(int(url.rsplit(":", 1)[1]), 60)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def _write_rows(job: Path, rows: list[list[str]]) -> None:
    with open(job.parent / "data" / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["request_id", "opened", "category", "notes", "contact_email", "latitude"])
        writer.writerows(rows)


MORE_ROWS = [
    [str(n), f"2024-04-{n % 28 + 1:02d}T10:00:00", ("pothole", "noise", "graffiti")[n % 3],
     "Streetlight out near the park.", f"person{n}@example.test", "40.7"]
    for n in range(5, 205)
]


def test_two_replicas_serve_complete_releases_while_a_new_one_publishes(
    cluster: Cluster, replicas: list[str], tmp_path: Path, write_job: JobWriter
) -> None:
    worker = tmp_path / "worker"
    cluster.run(worker, "run", "--all")
    job = write_job(privacy=PEOPLE_PRIVACY)
    cluster.run(worker, "run", str(job))

    with httpx.Client(timeout=30) as client:
        for url in replicas:
            health = client.get(f"{url}/healthz").json()
            assert (health["catalog_database"], health["storage"]) == ("postgresql", "s3")
        listed = [sorted(d["name"] for d in client.get(f"{url}/api/v1/datasets").json()["datasets"])
                  for url in replicas]
        assert listed[0] == listed[1] == sorted([*DEMO, "service-requests"])
        flags = [client.get(f"{url}/api/v1/datasets/public-contracts-parties/releases/1/red-flags",
                            params={"group": "Buyer"}).json() for url in replicas]
        assert flags[0] == flags[1] and "NPA-B06" in flags[0]["Buyer"]  # red-flags.json from object storage

        answers: list[tuple[int, str, str, Any]] = []
        errors: list[str] = []
        stop = threading.Event()

        def query(index: int) -> None:
            with httpx.Client(timeout=30) as own:
                while not stop.is_set():
                    for replica, url in enumerate(replicas):
                        for path, params in ((ROWS, {"limit": "500"}),
                                             (AGGREGATE, {"group_by": "category", "order": "category"})):
                            response = own.get(url + path, params=params)
                            if response.status_code != 200:
                                errors.append(f"{url}{path}: {response.status_code} {response.text[:200]}")
                                continue
                            answers.append((replica, response.headers["x-release"], path, response.json()))

        threads = [threading.Thread(target=query, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        _write_rows(job, PEOPLE_ROWS + MORE_ROWS)
        cluster.run(worker, "run", str(job))  # release 2, while both replicas are queried
        published = len(answers)
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(30)

        assert not errors, errors[:3]
        expected = {
            (number, path): client.get(replicas[0] + path, params={**params, "release": number}).json()
            for number in ("1", "2")
            for path, params in ((ROWS, {"limit": "500"}), (AGGREGATE, {"group_by": "category", "order": "category"}))
        }
        assert len(expected[("1", ROWS)]["rows"]) == 4 and len(expected[("2", ROWS)]["rows"]) == 204
        for replica, release, path, body in answers:
            pinned = expected[(release, path)]
            assert body["rows"] == pinned["rows"], f"replica {replica} answered a partial release {release} ({path})"
        for replica in (0, 1):  # once a replica serves release 2 it never goes back to release 1
            seen = [release for r, release, _, _ in answers if r == replica]
            assert {"1", "2"} <= set(seen) and seen == sorted(seen), f"replica {replica} went back to an older release"
            assert all(release == "2" for r, release, _, _ in answers[published:] if r == replica)

        latest = [client.get(url + ROWS, params={"category": "noise"}) for url in replicas]
        assert latest[0].content == latest[1].content and latest[0].headers["etag"] == latest[1].headers["etag"]
        page = client.get(replicas[0] + ROWS, params={"limit": "10"}).json()
        following = [client.get(url + ROWS, params={"limit": "10", "cursor": page["next"]}) for url in replicas]
        assert following[0].content == following[1].content, "a cursor from one replica continues on the other"
        assert following[0].json()["rows"][0]["request_id"] > page["rows"][-1]["request_id"]
        etag = latest[0].headers["etag"]
        assert client.get(replicas[1] + ROWS, params={"category": "noise"},
                          headers={"If-None-Match": etag}).status_code == 304

    for name in ("replica-a", "replica-b", "worker"):
        home = tmp_path / name
        assert not (home / "catalog.sqlite3").exists(), f"{name} kept a catalog of its own"
        assert not list((home / "public" / "releases").glob("*/*")), f"{name} holds release files locally"
    keys = cluster.store.objects(cluster.bucket)
    assert sum(key.endswith("/data.parquet") for key in keys) == len(DEMO) + 2


def test_two_queue_workers_never_publish_one_release_twice(
    cluster: Cluster, tmp_path: Path, redis_url: str, write_job: JobWriter
) -> None:
    job = write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"})  # each run may publish
    _write_rows(job, PEOPLE_ROWS + MORE_ROWS)
    workers = [
        subprocess.Popen([sys.executable, "-m", "opendata.cli", "worker", "--queue", redis_url, "--name", name],
                         env=cluster.home_env(tmp_path / name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         cwd=REPO)
        for name in ("worker-a", "worker-b")
    ]
    settings = Settings(home=tmp_path / "scheduler", catalog_url=cluster.env["OPENDATA_CATALOG_URL"])
    try:
        dispatcher = QueueDispatcher(settings, redis_url)
        queued = [dispatcher.dispatch(job, "service-requests", trigger="manual") for _ in range(4)]
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if all(str(getattr(j.get_status(refresh=True), "value", "")) in ("finished", "failed") for j in queued):
                break
            time.sleep(0.25)
        results = [j.return_value() for j in queued]
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(30)
    assert all(r is not None for r in results), "every queued run ended"
    published = [r for r in results if r["state"] == "succeeded"]
    skipped = [r for r in results if r["skipped"]]
    assert len(published) + len(skipped) == 4 and published
    releases = open_catalog(settings).releases("service-requests")
    assert [r.number for r in releases] == list(range(1, len(published) + 1))
    assert len({r.run_id for r in releases}) == len(releases) == len({r.folder for r in releases})
    assert {r.run_id for r in releases} == {r["run_id"] for r in published}
    keys = cluster.store.objects(cluster.bucket)
    for release in releases:  # every recorded release is whole in the bucket, under its own run's key
        names = {k.rsplit("/", 1)[1] for k in keys if f"/{release.folder}/" in f"/{k}"}
        assert names == set(release.files), release.folder


def _lines(process: subprocess.Popen[str], into: list[str]) -> threading.Thread:
    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            into.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _wait_for(lines: list[str], text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not any(text in line for line in lines):
        assert time.monotonic() < deadline, f"no {text!r} in {lines}"
        time.sleep(0.1)


def test_one_scheduler_is_active_and_a_standby_takes_over_when_it_dies(cluster: Cluster, tmp_path: Path) -> None:
    jobs = tmp_path / "no-jobs"
    jobs.mkdir()
    started: list[subprocess.Popen[str]] = []
    output: list[list[str]] = []
    try:
        for name in ("scheduler-a", "scheduler-b"):
            process = subprocess.Popen([sys.executable, "-m", "opendata.cli", "scheduler", str(jobs)],
                                       env=cluster.home_env(tmp_path / name), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True, cwd=REPO)
            started.append(process)
            output.append([])
            _lines(process, output[-1])
            _wait_for(output[-1], "scheduler active" if name == "scheduler-a" else "standing by")
        started[0].kill()  # no goodbye: the server ends its session and frees the lock
        _wait_for(output[1], "scheduler active", 20)
        assert "postgresql:" in next(line for line in output[1] if "scheduler active" in line)
    finally:
        for process in started:
            process.kill()
            process.wait(10)
