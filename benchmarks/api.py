"""The query API against Datasette on the same 1,000,000 rows, both served on loopback in this run.

    .venv/bin/python -m benchmarks api          (first run: builds the data and /tmp/bench-datasette)

Data: 1M transit trips (trip_id, route of 200, day, stop, fare, delay, latitude, longitude). Ours: one
published release, laid out as the publish stage does with ``publish: {sort_by: [route, trip_id]}``
(zstd Parquet, 122,880-row groups), served by ``opendata serve`` (uvicorn, one process). Datasette: the
same rows in SQLite with an index on ``route``, served immutable with facet suggestions off (its fastest
configuration: with them on, a filtered page took 360 ms here), in its own venv.

Sequential requests on one keep-alive connection; p50/p99 latency and requests/s for
1. a filtered 100-row page (``route = R``, in trip_id order), cycling over 200 routes;
   the same with an explicit ``order=trip_id`` (ours: file order within a route, from memory), and with
   ``order=-trip_id`` (ours: an order index; Datasette ``_sort_desc=trip_id``);
2. a GROUP BY over all rows (count, sum(fare), avg(delay) by route);
3. page 5,000 of 100-row pages (rows 499,900-499,999) against page 1.
Ours runs twice: with the answer cache off (``OPENDATA_RESPONSE_CACHE_ENTRIES=0``: every request
computes its page) and on (the default). All three servers run at once and are measured in turns,
``BENCH_ROUNDS`` rounds (default 5); each figure is the median over the rounds, so load from other
work on the machine falls on all three alike.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx

WORK = Path(os.environ.get("BENCH_API_DIR", "/tmp/bench-api"))
DATASETTE_VENV = Path(os.environ.get("BENCH_DATASETTE_VENV", "/tmp/bench-datasette"))
ROWS = 1_000_000
ROUTES = 200
DATASET = "transit-trips"
SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "trip_id", "type": "integer"}, {"name": "route", "type": "string"},
        {"name": "day", "type": "date"}, {"name": "stop", "type": "integer"},
        {"name": "fare", "type": "number"}, {"name": "delay", "type": "integer"},
        {"name": "latitude", "type": "number"}, {"name": "longitude", "type": "number"},
    ],
    "primaryKey": ["trip_id"],
}
def trips_select(rows: int) -> str:
    """The benchmark's trips: ``rows`` of them, the same for any count (trip i is always the same)."""
    return f"""
SELECT i AS trip_id, 'R' || lpad(CAST(i * 7919 % {ROUTES} AS VARCHAR), 3, '0') AS route,
       DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS day, CAST(i * 13 % 5000 AS BIGINT) AS stop,
       (i % 500) / 100.0 AS fare, CAST(i * 31 % 900 - 100 AS BIGINT) AS delay,
       40.5 + (i % 1000) / 2000.0 AS latitude, -74.2 + (i % 777) / 1500.0 AS longitude
FROM range({rows}) t(i)
"""


SELECT = trips_select(ROWS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_home(home: Path, dataset: str = DATASET, rows: int = ROWS, title: str = "Transit trips",
               row_group_size: int = 122_880) -> None:
    """One published release of ``dataset`` (``rows`` trips), recorded in the catalog as the publish stage
    records it."""
    from catalog.models import Dataset, Release, Run
    from catalog.publish import sha256_file
    from catalog.store import Catalog
    from opendata.settings import Settings

    if (home / "done").exists():  # kept from an earlier run, perhaps by older code: brought to this code's schema
        from catalog.database import SqliteDatabase
        from catalog.schema_version import upgrade

        upgrade(SqliteDatabase(Settings(home=home).paths.catalog_db, check_schema=False))
        return
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    settings.paths.ensure()
    folder = settings.paths.release_dir(dataset, 1)
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"COPY ({trips_select(rows)} ORDER BY route, trip_id) TO '{folder / 'data.parquet'}' "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {row_group_size})"
    )
    con.close()
    catalog = Catalog(settings.paths.catalog_db)
    catalog.upsert_dataset(Dataset(name=dataset, organization="transit-agency", title=title,
                                   description="Benchmark trips", license="CC-BY-4.0",
                                   updated_at="2024-01-01T00:00:00Z"), "Transit agency")
    release = Release(dataset=dataset, number=1, state="published", created_at="2024-01-01T00:00:00Z",
                      published_at="2024-01-01T00:00:00Z", rows=rows, table_schema=SCHEMA,
                      folder=f"{dataset}/1", files={"data.parquet": sha256_file(folder / "data.parquet")},
                      run_id="bench", policy_hash="bench")
    catalog.record_release(release, Run(run_id="bench", dataset=dataset, job_path="bench", state="succeeded",
                                        started_at="2024-01-01T00:00:00Z", release=1))
    (home / "done").touch()


def build_sqlite(path: Path, rows: int = ROWS) -> None:
    """The same trips in SQLite for Datasette, with an index on ``route``."""
    if path.exists():
        return
    table = duckdb.sql(trips_select(rows) + " ORDER BY trip_id").fetchall()
    db = sqlite3.connect(path.with_suffix(".tmp"))
    db.execute("CREATE TABLE trips (trip_id INTEGER PRIMARY KEY, route TEXT, day TEXT, stop INTEGER, "
               "fare REAL, delay INTEGER, latitude REAL, longitude REAL)")
    db.executemany("INSERT INTO trips VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ((r[0], r[1], r[2].isoformat(), *r[3:]) for r in table))
    db.execute("CREATE INDEX trips_route ON trips(route)")
    db.commit()
    db.close()
    path.with_suffix(".tmp").rename(path)


def ensure_datasette() -> Path:
    binary = DATASETTE_VENV / "bin" / "datasette"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE_VENV)], check=True)
        subprocess.run([str(DATASETTE_VENV / "bin" / "pip"), "install", "-q", "datasette>=0.65,<1"], check=True)
    return binary


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start_ours(home: Path, cache_entries: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "OPENDATA_HOME": str(home), "OPENDATA_RATE_LIMIT_ANONYMOUS": "1000000000",
           "OPENDATA_RESPONSE_CACHE_ENTRIES": str(cache_entries), "OPENDATA_QUERY_TIMEOUT_SECONDS": "60"}
    process = subprocess.Popen([sys.executable, "-m", "opendata.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/healthz", process)
    return process, url


def start_datasette(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [str(ensure_datasette()), "serve", "-i", str(db), "-p", str(port), "--setting", "sql_time_limit_ms", "60000",
         "--setting", "num_sql_threads", "2", "--setting", "suggest_facets", "off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/-/versions.json", process)
    return process, url


def measure(client: httpx.Client, urls: Callable[[int], str], count: int, warmup: int = 5) -> dict[str, float]:
    for i in range(warmup):
        assert client.get(urls(i)).status_code == 200
    times: list[float] = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        response = client.get(urls(i))
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text[:300]
    total = time.perf_counter() - started
    times.sort()
    return {"p50_ms": statistics.median(times) * 1000, "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))]
            * 1000, "rps": count / total, "n": count}


def route(i: int) -> str:
    return f"R{i % ROUTES:03d}"


def our_deep_cursor(client: httpx.Client, url: str) -> str:
    """The cursor of page 5,000 (rows 499,900...) of 100-row pages, reached by following cursors."""
    rows_url = f"{url}/api/v1/datasets/{DATASET}/rows"
    cursor: str | None = None
    for _ in range(49):  # rows 0 .. 489,999 in 10,000-row pages
        cursor = client.get(rows_url, params={"limit": 10_000, **({"cursor": cursor} if cursor else {})}).json()["next"]
    for _ in range(99):  # rows 490,000 .. 499,899 in 100-row pages
        cursor = client.get(rows_url, params={"limit": 100, "cursor": cursor}).json()["next"]
    assert cursor is not None
    first = client.get(rows_url, params={"limit": 100, "cursor": cursor}).json()["rows"][0]
    assert first == client.get(rows_url, params={"limit": 1, "cursor": cursor}).json()["rows"][0]
    return cursor


def scenarios_ours(url: str, client: httpx.Client, n: int) -> dict[str, Callable[[int], str]]:
    base = f"{url}/api/v1/datasets/{DATASET}"
    deep = our_deep_cursor(client, url)
    group = f"{base}/aggregate?group_by=route&metrics=count,sum:fare,avg:delay"
    return {
        "filtered page": lambda i: f"{base}/rows?route={route(i)}&limit=100",
        "filtered, order=": lambda i: f"{base}/rows?route={route(i)}&limit=100&order=trip_id",
        "filtered, -trip_id": lambda i: f"{base}/rows?route={route(i)}&limit=100&order=-trip_id",
        "group by": lambda i: group,
        "page 1": lambda i: f"{base}/rows?limit=100",
        "page 5,000": lambda i: f"{base}/rows?limit=100&cursor={deep}",
    }


def scenarios_datasette(url: str, client: httpx.Client, n: int) -> dict[str, Callable[[int], str]]:
    table = f"{url}/trips/trips.json"
    sql = "select route, count(*), sum(fare), avg(delay) from trips group by route"
    filtered: Callable[[int], str] = lambda i: f"{table}?route={route(i)}&_sort=trip_id&_size=100"  # noqa: E731
    return {
        "filtered page": filtered,
        "filtered, order=": filtered,
        "filtered, -trip_id": lambda i: f"{table}?route={route(i)}&_sort_desc=trip_id&_size=100",
        "group by": lambda i: f"{url}/trips.json?sql={sql}",
        "page 1": lambda i: f"{table}?_size=100",
        "page 5,000": lambda i: f"{table}?_size=100&_next=499899",
    }


def first_filtered_page(url: str) -> float:
    """Milliseconds of the very first filtered page after start (loads the release into memory and indexes
    the route column)."""
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        assert client.get(f"{url}/api/v1/datasets/{DATASET}/rows?route=R000&limit=100").status_code == 200
        return (time.perf_counter() - started) * 1000


def show(name: str, results: dict[str, dict[str, float]]) -> None:
    for scenario, r in results.items():
        print(f"  {name:22s} {scenario:18s} p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:8.2f} ms  "
              f"{r['rps']:8.1f} req/s  (n={int(r['n'])} a round)")


def median_of_rounds(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def main() -> None:
    quick = os.environ.get("BENCH_QUICK") == "1"
    rounds = int(os.environ.get("BENCH_ROUNDS", "3" if quick else "5"))
    n = 200 if quick else 400  # a round of the filtered page visits every route once (quick) or twice
    WORK.mkdir(parents=True, exist_ok=True)
    home, db = WORK / "home", WORK / "trips.db"
    print(f"building {ROWS:,} rows in {WORK} (cached between runs) ...")
    build_home(home)
    build_sqlite(db)
    servers = {
        "datasette (indexed)": (lambda: start_datasette(db), scenarios_datasette),
        "ours, no answer cache": (lambda: start_ours(home, 0), scenarios_ours),
        "ours (default)": (lambda: start_ours(home, 4096), scenarios_ours),
    }
    started: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    clients: dict[str, httpx.Client] = {}
    try:
        urls: dict[str, dict[str, Callable[[int], str]]] = {}
        for name, (start, scenarios) in servers.items():
            started[name] = start()
            if name.startswith("ours"):
                print(f"  {name:22s} first filtered page after start: {first_filtered_page(started[name][1]):.0f} ms")
            clients[name] = httpx.Client(timeout=120)
            urls[name] = scenarios(started[name][1], clients[name], n)
        samples: dict[str, dict[str, list[dict[str, float]]]] = {name: {} for name in servers}
        for round_number in range(rounds):
            for scenario in urls["datasette (indexed)"]:
                for name in servers:
                    slow = scenario == "group by" and name.startswith("datasette")
                    count = (3 if quick else 5) if slow else (50 if scenario == "group by" else n)
                    result = measure(clients[name], urls[name][scenario], count, warmup=1 if slow else 5)
                    samples[name].setdefault(scenario, []).append(result)
            print(f"  round {round_number + 1}/{rounds} done")
    finally:
        for client in clients.values():
            client.close()
        for process, _ in started.values():
            process.terminate()
            process.wait(timeout=10)
    results = {name: {s: median_of_rounds(r) for s, r in found.items()} for name, found in samples.items()}
    print(f"medians of {rounds} rounds:")
    for name, found in results.items():
        show(name, found)
    baseline = results["datasette (indexed)"]
    print("ratios of requests/s against Datasette (goal: filtered page >= 3x, group by >= 10x):")
    for name in ("ours, no answer cache", "ours (default)"):
        ratios = ", ".join(f"{s} {results[name][s]['rps'] / baseline[s]['rps']:.1f}x" for s in baseline)
        print(f"  {name:22s} {ratios}")
    for name, r in results.items():
        print(f"  {name:22s} page 5,000 / page 1 p50: {r['page 5,000']['p50_ms'] / r['page 1']['p50_ms']:.2f}")


if __name__ == "__main__":
    main()
