"""What the catalog's database layer (SQLAlchemy Core, since issue 18) costs per request, against the
hand-written layer of tag stop-20 on the same data and machine.

    .venv/bin/python -m benchmarks catalog_layer            (needs git: the baseline runs from a worktree of stop-20)
    .venv/bin/python -m benchmarks catalog_layer postgres   (the catalog in a throwaway PostgreSQL server)

Both codes run in turns in child processes on the same home layout (the embedded SQLite catalog; one
dataset of 1,000 rows): the FastAPI app in-process (``TestClient``), ``BENCH_REQUESTS`` requests (default
400) of each path after a warm-up, ``BENCH_ROUNDS`` rounds (default 3); each figure is the median
request time over all rounds, in microseconds, and the ratio is this code's over stop-20's.
1. ``GET /api/v1/datasets/NAME/rows?limit=100``: a cached rows page (the answer cache on, the default);
2. ``GET /api/v1/datasets/NAME``: the dataset's metadata;
3. ``GET /api/v1/runs``: the run history (a catalog query per request);
4. ``Catalog.release(NAME)`` and ``Catalog.runs()`` called directly: the layer alone, no HTTP.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "stop-20"
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

# Runs in a child process whose working directory (and first sys.path entry) is the code being measured.
MEASURE = r'''
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
from fastapi.testclient import TestClient
from api.app import create_app
from catalog.models import Dataset, Release, Run
from catalog.publish import sha256_file
from catalog.store import open_catalog
from opendata.settings import Settings

home, requests = Path(sys.argv[1]), int(sys.argv[2])
settings = Settings(home=home, pseudonym_key="bench-key-not-secret", rate_limit_anonymous=10**9,
                    catalog_url=sys.argv[3] if len(sys.argv) > 3 else None)
settings.paths.ensure()
catalog = open_catalog(settings)
if catalog.releases("trips", published_only=False) == []:
    folder = settings.paths.release_dir("trips", 1)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"trip_id": list(range(1000)), "route": [f"R{i % 20}" for i in range(1000)]}),
                   folder / "data.parquet")
    schema = {"fields": [{"name": "trip_id", "type": "integer"}, {"name": "route", "type": "string"}]}
    catalog.upsert_dataset(Dataset(name="trips", organization="transit", title="Trips", description="Trips",
                                   license="CC-BY-4.0", updated_at="2024-01-01T00:00:00Z"), "Transit")
    for n in range(30):
        catalog.save_run(Run(run_id=f"r{n:03d}", dataset="trips", job_path="bench", state="failed",
                             started_at=f"2024-01-01T00:{n:02d}:00Z"))
    catalog.record_release(
        Release(dataset="trips", number=1, state="published", created_at="2024-01-01T00:00:00Z",
                published_at="2024-01-01T00:00:00Z", rows=1000, table_schema=schema, folder="trips/1",
                files={"data.parquet": sha256_file(folder / "data.parquet")}, run_id="bench", policy_hash="b"),
        Run(run_id="bench", dataset="trips", job_path="bench", state="succeeded",
            started_at="2024-01-01T01:00:00Z", release=1))

def timed(call):
    for _ in range(20):
        call()
    found = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        found.append((time.perf_counter() - started) * 1e6)
    return found

out = {}
with TestClient(create_app(settings)) as client:
    def get(path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, response.text
        return call
    out["rows page (cached)"] = timed(get("/api/v1/datasets/trips/rows?limit=100"))
    out["dataset metadata"] = timed(get("/api/v1/datasets/trips"))
    out["run history"] = timed(get("/api/v1/runs"))
out["Catalog.release"] = timed(lambda: catalog.release("trips"))
out["Catalog.runs"] = timed(lambda: catalog.runs("trips"))
print(json.dumps(out))
'''


def _measure(tree: Path, home: Path, url: str | None) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(tree), "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(home), str(REQUESTS), *([url] if url else [])],
                          cwd=tree, env=env,
                          check=True, capture_output=True, text=True)
    found: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main(args: list[str]) -> None:
    if args[:1] == ["postgres"]:
        sys.path.insert(0, str(REPO))
        from tests.catalog_fixtures import new_database
        from tests.publishers_fixtures import throwaway_postgres

        with throwaway_postgres() as server:
            _compare(new_database(server), new_database(server))
    else:
        _compare(None, None)


def _compare(baseline_url: str | None, our_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-catalog-layer-") as scratch:
        baseline = Path(scratch) / "baseline"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(baseline), BASELINE],
                       check=True)
        try:
            ours: dict[str, list[float]] = {}
            theirs: dict[str, list[float]] = {}
            for _ in range(ROUNDS):  # in turns, so load from other work falls on both alike
                for name, times in _measure(baseline, Path(scratch) / "home-baseline", baseline_url).items():
                    theirs.setdefault(name, []).extend(times)
                for name, times in _measure(REPO, Path(scratch) / "home-ours", our_url).items():
                    ours.setdefault(name, []).extend(times)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=False)
    where = "PostgreSQL" if our_url else "SQLite"
    print(f"median microseconds per call, {ROUNDS} rounds x {REQUESTS} calls ({where} catalog)")
    print(f"{'path':<22}{BASELINE:>12}{'this code':>12}{'ratio':>8}")
    for name in ours:
        before, after = statistics.median(theirs[name]), statistics.median(ours[name])
        print(f"{name:<22}{before:>12.0f}{after:>12.0f}{after / before:>8.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
