"""Read-only SQL against Datasette's on a small table, both served on loopback in this run.

    .venv/bin/python -m benchmarks sql          (first run: builds the data; Datasette's venv is shared
                                                 with ``benchmarks api``)

Data: 10,000 transit trips (the columns of ``benchmarks api``), one published release for ours
(``opendata serve``, uvicorn, one process), the same rows in SQLite with an index on ``route`` for
Datasette. Queries, the same text on both sides (only the table's name differs):
1. ``SELECT 1``;
2. a filter: the trips of one route, 50 rows, ordered by trip_id (cycling over the 200 routes);
3. a GROUP BY over the table (count, sum(fare), avg(delay) by route).
Each is measured sequentially on one keep-alive connection (p50/p99, requests/s) and with 16 connections
at once (requests/s), the servers in turns, ``BENCH_ROUNDS`` rounds (default 5), medians over rounds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx

from benchmarks.api import SCHEMA, measure, median_of_rounds, start_datasette, start_ours

WORK = Path(os.environ.get("BENCH_SQL_DIR", "/tmp/bench-sql"))
ROWS = 10_000
ROUTES = 200
DATASET = "transit-small"
CONNECTIONS = 16
SELECT = f"""
SELECT i AS trip_id, 'R' || lpad(CAST(i * 7919 % {ROUTES} AS VARCHAR), 3, '0') AS route,
       DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS day, CAST(i * 13 % 5000 AS BIGINT) AS stop,
       (i % 500) / 100.0 AS fare, CAST(i * 31 % 900 - 100 AS BIGINT) AS delay,
       40.5 + (i % 1000) / 2000.0 AS latitude, -74.2 + (i % 777) / 1500.0 AS longitude
FROM range({ROWS}) t(i)
"""


def queries(table: str) -> dict[str, Callable[[int], str]]:
    return {
        "SELECT 1": lambda i: "SELECT 1",
        "filter, 50 rows": lambda i: (f"SELECT trip_id, route, day, fare, delay FROM {table} "
                                      f"WHERE route = 'R{i % ROUTES:03d}' ORDER BY trip_id LIMIT 50"),
        "group by": lambda i: f"SELECT route, count(*), sum(fare), avg(delay) FROM {table} GROUP BY route",
    }


def build_home(home: Path) -> None:
    from catalog.models import Dataset, Release, Run
    from catalog.publish import sha256_file
    from catalog.store import Catalog
    from opendata.settings import Settings

    if (home / "done").exists():
        from catalog.schema_version import upgrade

        upgrade(Catalog(Settings(home=home).paths.catalog_db).database)
        return
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    settings.paths.ensure()
    folder = settings.paths.release_dir(DATASET, 1)
    folder.mkdir(parents=True)
    duckdb.execute(f"COPY ({SELECT} ORDER BY route, trip_id) TO '{folder / 'data.parquet'}' "
                   "(FORMAT parquet, COMPRESSION zstd)")
    catalog = Catalog(settings.paths.catalog_db)
    catalog.upsert_dataset(Dataset(name=DATASET, organization="transit-agency", title="Transit trips (small)",
                                   description="Benchmark trips", license="CC-BY-4.0",
                                   updated_at="2024-01-01T00:00:00Z"), "Transit agency")
    release = Release(dataset=DATASET, number=1, state="published", created_at="2024-01-01T00:00:00Z",
                      published_at="2024-01-01T00:00:00Z", rows=ROWS, table_schema=SCHEMA,
                      folder=f"{DATASET}/1", files={"data.parquet": sha256_file(folder / "data.parquet")},
                      run_id="bench", policy_hash="bench")
    catalog.record_release(release, Run(run_id="bench", dataset=DATASET, job_path="bench", state="succeeded",
                                        started_at="2024-01-01T00:00:00Z", release=1))
    (home / "done").touch()


def build_sqlite(path: Path) -> None:
    if path.exists():
        return
    rows = duckdb.sql(SELECT + " ORDER BY trip_id").fetchall()
    db = sqlite3.connect(path.with_suffix(".tmp"))
    db.execute("CREATE TABLE trips (trip_id INTEGER PRIMARY KEY, route TEXT, day TEXT, stop INTEGER, "
               "fare REAL, delay INTEGER, latitude REAL, longitude REAL)")
    db.executemany("INSERT INTO trips VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ((r[0], r[1], r[2].isoformat(), *r[3:]) for r in rows))
    db.execute("CREATE INDEX trips_route ON trips(route)")
    db.commit()
    db.close()
    path.with_suffix(".tmp").rename(path)


def address(prefix: str, make: Callable[[int], str], suffix: str) -> Callable[[int], str]:
    return lambda i: f"{prefix}{make(i)}{suffix}"


def concurrent_rps(urls: Callable[[int], str], count: int) -> float:
    """Requests/s of ``count`` requests spread over CONNECTIONS connections at once."""
    async def run() -> float:
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            todo = iter(range(count))

            async def worker() -> None:
                for i in todo:
                    response = await client.get(urls(i))
                    assert response.status_code == 200, response.text[:300]

            await asyncio.gather(*(client.get(urls(i)) for i in range(CONNECTIONS)))  # open the connections
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
            return count / (time.perf_counter() - started)

    return asyncio.run(run())


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    n = 400
    WORK.mkdir(parents=True, exist_ok=True)
    home, db = WORK / "home", WORK / "trips.db"
    build_home(home)
    build_sqlite(db)
    started: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    clients: dict[str, httpx.Client] = {}
    try:
        started["datasette (indexed)"] = start_datasette(db)
        started["ours"] = start_ours(home, 0)  # answer cache off: every request runs its query
        urls: dict[str, dict[str, Callable[[int], str]]] = {}
        for name, (_, url) in started.items():
            clients[name] = httpx.Client(timeout=120)
            if name == "ours":
                urls[name] = {q: address(f"{url}/api/v1/sql?sql=", make, "")
                              for q, make in queries(f'"{DATASET}"').items()}
            else:
                urls[name] = {q: address(f"{url}/trips.json?sql=", make, "&_shape=array")
                              for q, make in queries("trips").items()}
        same = [clients[name].get(urls[name]["filter, 50 rows"](7)).json() for name in started]
        assert [r["trip_id"] for r in same[1]["rows"]] == [r["trip_id"] for r in same[0]], f"different answers: {same}"
        samples: dict[str, dict[str, list[dict[str, float]]]] = {name: {} for name in started}
        for round_number in range(rounds):
            for query in queries("t"):
                for name in started:
                    result = measure(clients[name], urls[name][query], n)
                    result["rps16"] = concurrent_rps(urls[name][query], n)
                    samples[name].setdefault(query, []).append(result)
            print(f"  round {round_number + 1}/{rounds} done")
    finally:
        for client in clients.values():
            client.close()
        for process, _ in started.values():
            process.terminate()
            process.wait(timeout=10)
    results = {name: {q: median_of_rounds(r) for q, r in found.items()} for name, found in samples.items()}
    print(f"{ROWS:,} rows, medians of {rounds} rounds:")
    for name, found in results.items():
        for query, r in found.items():
            print(f"  {name:20s} {query:16s} p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                  f"{r['rps']:7.1f} req/s sequential  {r['rps16']:7.1f} req/s at {CONNECTIONS} connections")
    print("ours against Datasette, requests/s (goal: at least 1x; SELECT 1 p50 under 3 ms):")
    for query in results["ours"]:
        ours, theirs = results["ours"][query], results["datasette (indexed)"][query]
        print(f"  {query:16s} sequential {ours['rps'] / theirs['rps']:.2f}x, "
              f"{CONNECTIONS} connections {ours['rps16'] / theirs['rps16']:.2f}x  "
              f"(p50 {ours['p50_ms']:.2f} ms against {theirs['p50_ms']:.2f})")
    print(f"  median p50 over queries, ours: {statistics.median(r['p50_ms'] for r in results['ours'].values()):.2f} ms")


if __name__ == "__main__":
    main()
