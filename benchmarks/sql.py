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
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.api import build_home, build_sqlite, measure, median_of_rounds, start_datasette, start_ours

WORK = Path(os.environ.get("BENCH_SQL_DIR", "/tmp/bench-sql"))
ROWS = 10_000
ROUTES = 200
DATASET = "transit-small"
CONNECTIONS = 16


def queries(table: str) -> dict[str, Callable[[int], str]]:
    return {
        "SELECT 1": lambda i: "SELECT 1",
        "filter, 50 rows": lambda i: (f"SELECT trip_id, route, day, fare, delay FROM {table} "
                                      f"WHERE route = 'R{i % ROUTES:03d}' ORDER BY trip_id LIMIT 50"),
        "group by": lambda i: f"SELECT route, count(*), sum(fare), avg(delay) FROM {table} GROUP BY route",
    }


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
    build_home(home, DATASET, ROWS, title="Transit trips (small)", row_group_size=122_880)
    build_sqlite(db, ROWS)
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
