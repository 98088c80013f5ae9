"""National size: the catalog's requests at 50, 5,000 and 50,000 datasets, p50/p95 and the ratio against 50.

    .venv/bin/python -m benchmarks catalog                       (sizes 50,5000,50000; SQLite catalog)
    .venv/bin/python -m benchmarks catalog --sizes 50,5000       (fewer sizes)
    .venv/bin/python -m benchmarks catalog --postgres URL        (the catalog in PostgreSQL, a database per size)
    .venv/bin/python -m benchmarks catalog --postgres auto       (... on a throwaway PostgreSQL server)

Each catalog is built once (kept under ``/tmp/bench-catalog-N``, or a PostgreSQL database per size) through
the catalog's own recording code (``Catalog.upsert_dataset`` and ``Catalog.record_release``): small datasets
with one to three releases, every release's ``data.parquet`` a hard link to one tiny Parquet file and its
``facts.json`` (profile, sample, coverage, byte sizes) written as the publish stage writes it. The server
is ``opendata serve`` in a subprocess (so its resident memory is its own); one keep-alive client sends
sequential requests, once the server is at rest after its bounded warm-up ("warm-up after start": the first
page starts the background profiling of those of the 100 latest datasets published without facts, here
none). "first SQL" is the first query after the
server starts and the first query of a release published while it runs (its catalog commit, then the
query); "first CKAN" is the first ``package_show`` of that new release. "DCAT page from scratch" is a page
of 100 datasets of ``/catalog.jsonld`` (and of ``/catalog.ttl``) under a Host the server has not seen, so no
fragment of it is kept and every dataset's fragment is written; "kept" the same page again. The same page is also built
in-process the old way (one rdflib graph, serialised by rdflib) and from fresh fragments, with the ratio.
Memory is the server's resident set after all the reads. "server CPU ms" is the server process's CPU time
per request, averaged over the repetitions: on a shared machine it moves far less with other processes'
load than the wall-clock percentiles do, so its ratio against 50 is the steadier one.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import SecretStr

from catalog import release_dcat
from catalog.database import CatalogDatabase, SqliteDatabase, catalog_database
from catalog.models import Dataset, Release, Run
from catalog.publish import write_json
from catalog.release_facts import FACTS_FILE, compute_facts, with_byte_sizes
from catalog.schema_version import upgrade
from catalog.storage import open_storage
from catalog.store import Catalog, utc_now
from opendata.settings import Settings

WORDS = ["air", "water", "transit", "budget", "school", "permit", "noise", "tree", "crime", "housing",
         "energy", "waste", "road", "health", "library", "park", "tax", "bus", "bridge", "flood"]
ORGANIZATIONS = 40
REPEAT = 15
SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "station", "type": "string"},
                     {"name": "value", "type": "number", "description": "measured value"}]}


def dataset_of(i: int) -> Dataset:
    a, b = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
    return Dataset(
        name=f"ds-{i:05d}", organization=f"org-{i % ORGANIZATIONS:02d}", title=f"{a.title()} {b} records {i}",
        description=f"Daily {a} and {b} measurements from district {i % 97}.", license="CC-BY-4.0",
        tags=[a, b], updated_at=utc_now(),
    )


LINKS_PER_FILE = 20_000  # below the file system's limit of hard links to one file


def shared_parquet(home: Path, copy: int = 0) -> Path:
    path = home / f"shared-data-{copy}.parquet"
    if not path.exists():
        table = pa.table({"id": list(range(20)), "station": [f"s{i % 4}" for i in range(20)],
                          "value": [float(i) for i in range(20)]})
        pq.write_table(table, path)
    return path


@functools.cache
def shared_facts(home: Path) -> dict[str, Any]:
    return compute_facts(shared_parquet(home), SCHEMA)


def record(catalog: Catalog, home: Path, dataset: str, number: int) -> None:
    """One release of ``dataset`` recorded as the publish stage records it (files in place, then the commit)."""
    folder = home / "public" / "releases" / dataset / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "data.parquet").exists():
        source = shared_parquet(home, int(dataset.rsplit("-", 1)[1]) * 3 // LINKS_PER_FILE)
        os.link(source, folder / "data.parquet")
    for name in ("privacy-report.json", "validation-report.json", "datapackage.json"):
        (folder / name).write_text("{}\n")
    # As the publish stage stores them: the file's facts (computed once, every release shares the file) and
    # the byte sizes of this release's files.
    facts = with_byte_sizes(shared_facts(home), folder)
    write_json(folder / FACTS_FILE, facts)
    now = utc_now()
    run = Run(run_id=f"{dataset}-{number}-{time.time_ns()}", dataset=dataset, job_path=f"datasets/{dataset}.yaml",
              state="succeeded", started_at=now, ended_at=now, rows_in=20, rows_out=20, release=number)
    release = Release(dataset=dataset, number=number, state="published", created_at=now, published_at=now,
                      rows=20, table_schema=SCHEMA, folder=f"{dataset}/{number}",
                      files={"data.parquet": "0" * 64, "privacy-report.json": "0" * 64,
                             "validation-report.json": "0" * 64, "datapackage.json": "0" * 64,
                             FACTS_FILE: "0" * 64},
                      run_id=run.run_id, policy_hash="0" * 64)
    catalog.record_release(release, run, release_dcat.of_facts(facts))


def build(settings: Settings, size: int) -> None:
    home = settings.home
    done = home / f"built-{size}"
    if done.exists():  # kept from an earlier run, perhaps by older code: brought to this code's schema
        upgrade(_database(settings))
        catalog = Catalog(home / "catalog.sqlite3") if settings.catalog_url is None else _postgres_catalog(settings)
        release_dcat.backfill(catalog, open_storage(settings))  # as `opendata db upgrade` does
        return
    catalog = Catalog(home / "catalog.sqlite3") if settings.catalog_url is None else _postgres_catalog(settings)
    started = time.perf_counter()
    for i in range(size):
        dataset = dataset_of(i)
        catalog.upsert_dataset(dataset, f"Organisation {dataset.organization}")
        for number in range(catalog.next_release_number(dataset.name), 2 + i % 3):  # resumes an unfinished build
            record(catalog, home, dataset.name, number)
    done.write_text(f"{time.perf_counter() - started:.1f} s\n")
    print(f"  built {size:,} datasets in {done.read_text().strip()}", flush=True)


def _database(settings: Settings) -> CatalogDatabase:
    """The catalog's database, its schema not checked (``build`` upgrades a kept one before opening it)."""
    if settings.catalog_url is None:
        return SqliteDatabase(settings.home / "catalog.sqlite3", check_schema=False)
    return catalog_database(settings, check_schema=False)


def _postgres_catalog(settings: Settings) -> Catalog:
    from catalog.store import open_catalog

    return open_catalog(settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def settle(pid: int, timeout: float = 120.0) -> float:
    """Wait until the server uses under 5% of a core for a second (its background work done); the seconds
    waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            break
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


REQUESTS = {
    "search ?q=air": "/api/v1/datasets?q=air",
    "list /api/v1/datasets": "/api/v1/datasets",
    "list page 2 (cursor)": None,  # filled in from the first page's next cursor, when the API pages
    "list ?limit=50": "/api/v1/datasets?limit=50",  # the same page at every size (50 datasets hold only 50)
    "/catalog page": "/catalog",
    "/catalog?q=air page": "/catalog?q=air",
    "organisation page": "/organizations/org-07",
    "dataset detail": "/api/v1/datasets/ds-00042",
    "CKAN package_search": "/api/3/action/package_search?q=air",
    "CKAN package_list": "/api/3/action/package_list",
    "/api/v1/runs": "/api/v1/runs",
    "/runs page": "/runs",
    "SQL SELECT 1": "/api/v1/sql?sql=SELECT%201",
    "SQL small table": "/api/v1/sql?sql=SELECT%20count(*)%20FROM%20%22ds-00042%22",
}


def measure(settings: Settings, size: int, repeat: int) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "OPENDATA_HOME": str(settings.home), "OPENDATA_RATE_LIMIT_ANONYMOUS": "100000000",
           "OPENDATA_RATE_LIMIT_KEYED": "100000000"}
    if settings.catalog_url is not None:
        env["OPENDATA_CATALOG_URL"] = settings.catalog_url.get_secret_value()
    server = subprocess.Popen([sys.executable, "-m", "opendata.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    figures: dict[str, float] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            _wait(client, server)

            def timed(path: str) -> float:
                start = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                return elapsed

            def timed_on(path: str, host: str) -> float:
                start = time.perf_counter()
                response = client.get(path, headers={"Host": host})
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                return elapsed

            pages = max(1, size // 100)
            figures["first SQL after start ms"] = timed(REQUESTS["SQL small table"] or "")
            first = client.get("/api/v1/datasets").json()
            cursor = first.get("next")
            # The first page starts the server's bounded warm-up (the latest releases of at most 100 datasets
            # profiled in the background); the figures below are of the server at rest, after it.
            figures["warm-up after start s"] = settle(server.pid)
            def series(label: str, sent: list[str]) -> None:
                """p50 and p95 of the requests ``sent``, and the server's own CPU time per request (user +
                system, its threads together): what a request costs it, much less moved by other processes
                on a loaded machine than wall clock."""
                before = cpu_seconds(server.pid)
                times = [timed(path) for path in sent]
                figures[f"{label} p50"] = statistics.median(times)
                figures[f"{label} p95"] = percentile(times, 0.95)
                figures[f"{label} server CPU ms"] = (cpu_seconds(server.pid) - before) * 1000 / len(sent)

            # A search no one has made before: every repetition a word of its own (search keeps a query's
            # ranking and counts until the catalog changes, so the repeated "?q=air" below is the kept case).
            series("search, each query new", [f"/api/v1/datasets?q={w}" for w in WORDS if w != "air"][:repeat])
            paths = dict(REQUESTS)
            paths["list page 2 (cursor)"] = f"/api/v1/datasets?cursor={cursor}" if cursor else None
            for label, path in paths.items():
                if path is not None:
                    series(label, [path] * repeat)
            # A DCAT page of 100 datasets built from scratch: each repetition under a Host the server has not
            # seen, so no fragment of it is kept (the page's base URL is in every URI); then the same page again
            # (its fragments kept). The old path (one rdflib graph, serialised by rdflib) is timed in-process.
            built = [timed_on(f"/catalog.jsonld?page={1 + i % pages}", f"bench-{i}.example") for i in range(repeat)]
            figures["DCAT page from scratch p50"] = statistics.median(built)
            figures["DCAT page from scratch p95"] = percentile(built, 0.95)
            figures["DCAT page kept p50"] = statistics.median([timed("/catalog.jsonld") for _ in range(repeat)])
            turtle = [timed_on(f"/catalog.ttl?page={1 + i % pages}", f"bench-t{i}.example") for i in range(repeat)]
            figures["DCAT Turtle from scratch p50"] = statistics.median(turtle)
            runs_page = client.get("/runs").text
            figures["/runs page runs shown"] = float(runs_page.count('<code class="muted">'))
            figures["server memory before openapi MB"] = rss_mb(server.pid)
            figures["/openapi.json MB"] = len(client.get("/openapi.json").content) / 1e6
            # A release published while the server runs: its first SQL query and first CKAN call.
            catalog = Catalog(settings.home / "catalog.sqlite3") if settings.catalog_url is None \
                else _postgres_catalog(settings)
            name = "ds-00001"
            number = catalog.next_release_number(name)
            record(catalog, settings.home, name, number)
            figures["first SQL after publish ms"] = timed(
                f"/api/v1/sql?sql=SELECT%20count(*)%20FROM%20%22{name}@{number}%22")
            figures["first CKAN after publish ms"] = timed(f"/api/3/action/package_show?id={name}")
            figures["server memory MB"] = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    figures.update(dcat_paths(settings, max(3, repeat // 5)))
    return figures


def dcat_paths(settings: Settings, repeat: int) -> dict[str, float]:
    """A page of 100 datasets of the DCAT catalog built in-process from the same records: the old path (one
    rdflib graph, serialised by rdflib's JSON-LD writer) against the page written from fresh fragments."""
    from api.app import create_app
    from api.web.open_metadata import about, page_records, release_facts, snapshot
    from api.web.profile import ReleaseFacts
    from catalog.dcat import build_graph, serialize
    from catalog.dcat_page import FragmentCache, page_document

    app = create_app(settings)
    facts = release_facts(ReleaseFacts(app.state.engine))
    base = "http://bench.example"
    records = page_records(app.state.catalog, f"{base}/catalog.jsonld", 1, 100)

    def clock(call: Callable[[], object]) -> float:
        start = time.perf_counter()
        call()
        return (time.perf_counter() - start) * 1000

    new = [clock(lambda: page_document("json-ld", base, about(settings), records, FragmentCache(), facts))
           for _ in range(repeat)]
    old = [clock(lambda: serialize(build_graph(snapshot(facts, settings, records), base), "json-ld"))
           for _ in range(repeat)]
    app.state.engine.close()
    return {"DCAT page rdflib (old) in-process ms": statistics.median(old),
            "DCAT page fragments in-process ms": statistics.median(new),
            "DCAT old / fragments (x faster)": statistics.median(old) / statistics.median(new)}


def _wait(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start in 120 s")


def _settings(size: int, postgres: str | None) -> Settings:
    home = Path(os.environ.get("BENCH_CATALOG_HOME", "/tmp")) / (f"bench-catalog-{size}" + ("-pg" if postgres else ""))
    if postgres is None:
        return Settings(home=home)
    import psycopg

    name = f"bench_catalog_{size}"
    with psycopg.connect(postgres, autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            if home.exists():
                shutil.rmtree(home)
            db.execute(f"CREATE DATABASE {name}")
    return Settings(home=home, catalog_url=SecretStr(postgres.rsplit("/", 1)[0] + "/" + name))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks catalog")
    parser.add_argument("--sizes", default="50,5000,50000", help="comma-separated dataset counts")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="requests per figure")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: catalogs live in databases on it ('auto': "
                        "a throwaway server of Debian's PostgreSQL, as the tests start)")
    args = parser.parse_args(argv)
    if args.postgres == "auto":
        from tests.publishers_fixtures import throwaway_postgres

        with throwaway_postgres() as url:
            run(args, url)
    else:
        run(args, args.postgres)


def run(args: argparse.Namespace, postgres: str | None) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        settings = _settings(size, postgres)
        settings.home.mkdir(parents=True, exist_ok=True)
        build(settings, size)
        results[size] = measure(settings, size, args.repeat)
        print(f"  measured {size:,}", flush=True)
    base = sizes[0]
    header = f"{'figure':<34}" + "".join(f"{s:>12,}" for s in sizes) + "".join(f"{'x' + str(s):>9}" for s in sizes[1:])
    print(header)
    for label in results[base]:
        values = [results[s].get(label, float("nan")) for s in sizes]
        ratios = [v / values[0] if values[0] else float("nan") for v in values[1:]]
        print(f"{label:<34}" + "".join(f"{v:12.1f}" for v in values) + "".join(f"{r:9.1f}" for r in ratios))
