"""Per-request time of ``GET /api/v1/datasets/{name}/releases/{n}/red-flags`` on the demo and a large result.

    .venv/bin/python -m benchmarks red_flags [--releases 100000] [--requests 20]

Two published procurement releases in one catalog (built once under ``BENCH_PROCUREMENT_DIR``/red-flags-home):
the demo agency's red flags (its 301 processes and the OCP sample, the demo settings), and the result of
Cardinal's indicators over N benchmark compiled releases (``benchmarks procurement``'s file). The real app
(``create_app``) answers in this process through FastAPI's TestClient; per release, the median and p90
milliseconds of ``--requests`` sequential requests for: every group, ``group=Buyer``, ``code=R024``
(the first request of each kind is shown apart: it is the one that reads the file).

``--pages``: the HTML pages of one buyer and one supplier (``/procurement/{family}/buyers/{id}``,
``.../suppliers/{id}``) and the family index, on a family ``bench-N`` published from the same N compiled
releases (its processes, bids, awards and parties tables flattened as the family run flattens them, and the
red-flags.json beside processes); same figures per page. Each page reads the release's red-flags.json
through ``procurement.served`` (parsed once per immutable file), as the API does.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.procurement import WORK, build

DEMO = Path(__file__).resolve().parent.parent / "datasets" / "procurement"
QUERIES = {"all groups": {}, "group=Buyer": {"group": "Buyer"}, "code=R024": {"code": "R024"}}


def _demo_result(staging: Path) -> bytes:
    from procurement.prepare import prepare
    from procurement.settings import load_settings

    prepared = prepare([DEMO / "data" / "releases.jsonl", DEMO / "data" / "ocds-sample-data.json"], staging,
                       load_settings(DEMO / "indicators.ini"))
    return orjson.dumps(prepared.scores.as_cardinal())


def _large_result(releases: int) -> bytes:
    from procurement.parallel import score_file
    from procurement.settings import IndicatorSettings

    path = WORK / f"compiled-{releases}.jsonl"
    if not path.exists():
        build(path, releases)
    return orjson.dumps(score_file(path, IndicatorSettings()).as_cardinal())


def build_home(home: Path, releases: int) -> dict[str, int]:
    """The two releases, recorded in the catalog as the family run records them; their red-flags.json sizes."""
    from catalog.models import Dataset, Release, Run
    from catalog.publish import sha256_file
    from catalog.store import Catalog
    from opendata.settings import Settings

    if (home / "done").exists():
        return orjson.loads((home / "done").read_bytes())  # type: ignore[no-any-return]
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    settings.paths.ensure()
    catalog = Catalog(settings.paths.catalog_db)
    sizes: dict[str, int] = {}
    for name, made in (("demo-processes", lambda: _demo_result(home / "staging")),
                       (f"bench-{releases}-processes", lambda: _large_result(releases))):
        folder = settings.paths.release_dir(name, 1)
        folder.mkdir(parents=True)
        (folder / "red-flags.json").write_bytes(made())
        sizes[name] = (folder / "red-flags.json").stat().st_size
        catalog.upsert_dataset(Dataset(name=name, organization="procurement-agency", title=name,
                                       description="Benchmark red flags", license="CC-BY-4.0",
                                       updated_at="2024-01-01T00:00:00Z"), "Procurement agency")
        release = Release(dataset=name, number=1, state="published", created_at="2024-01-01T00:00:00Z",
                          published_at="2024-01-01T00:00:00Z", rows=0, table_schema={"fields": []},
                          folder=f"{name}/1", files={"red-flags.json": sha256_file(folder / "red-flags.json")},
                          run_id=f"bench-{name}", policy_hash="bench")
        catalog.record_release(release, Run(run_id=f"bench-{name}", dataset=name, job_path="bench",
                                            state="succeeded", started_at="2024-01-01T00:00:00Z", release=1))
    shutil.rmtree(home / "staging", ignore_errors=True)
    (home / "done").write_bytes(orjson.dumps(sizes))
    return sizes


PAGE_TABLES = ("processes", "bids", "awards", "parties")


def build_family(home: Path, releases: int) -> str:
    """The family ``bench-N`` (``PAGE_TABLES``) from N compiled releases; its name."""
    from catalog.models import Dataset, Release, Run
    from catalog.publish import sha256_file
    from catalog.store import Catalog
    from opendata.settings import Settings
    from procurement.parallel import score_file
    from procurement.parts import part_paths
    from procurement.prepare import _flatten
    from procurement.settings import IndicatorSettings
    from procurement.tables import NOBODY, table_schema

    family = f"bench-{releases}"
    if (home / "done").exists():
        return family
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    settings.paths.ensure()
    catalog = Catalog(settings.paths.catalog_db)
    path = WORK / f"compiled-{releases}.jsonl"
    if not path.exists():
        build(path, releases)
    scores = score_file(path, IndicatorSettings())
    (home / "staging").mkdir()
    # One part per table (no rotation), moved as the release's data.parquet, as before the parts.
    tables, rows = _flatten(path, home / "staging", scores, NOBODY, part_row_groups=sys.maxsize)
    for table in PAGE_TABLES:
        name = f"{family}-{table}"
        folder = settings.paths.release_dir(name, 1)
        folder.mkdir(parents=True)
        shutil.move(part_paths(tables[table])[0], folder / "data.parquet")
        files = {"data.parquet": sha256_file(folder / "data.parquet")}
        if table == "processes":
            (folder / "red-flags.json").write_bytes(orjson.dumps(scores.as_cardinal()))
            files["red-flags.json"] = sha256_file(folder / "red-flags.json")
        catalog.upsert_dataset(Dataset(name=name, organization="procurement-agency", title=name,
                                       description="Benchmark family", license="CC-BY-4.0",
                                       updated_at="2024-01-01T00:00:00Z"), "Procurement agency")
        release = Release(dataset=name, number=1, state="published", created_at="2024-01-01T00:00:00Z",
                          published_at="2024-01-01T00:00:00Z", rows=rows[table], table_schema=table_schema(table),
                          folder=f"{name}/1", files=files, run_id=f"bench-{name}", policy_hash="bench")
        catalog.record_release(release, Run(run_id=f"bench-{name}", dataset=name, job_path="bench",
                                            state="succeeded", started_at="2024-01-01T00:00:00Z", release=1))
    shutil.rmtree(home / "staging", ignore_errors=True)
    (home / "done").write_bytes(b"{}")
    return family


def _timed(client: Any, label: str, url: str, params: dict[str, str], requests: int) -> None:
    times = []
    for _ in range(requests + 1):
        started = time.perf_counter()
        answer = client.get(url, params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    first, rest = times[0], sorted(times[1:])
    print(f"  {label:>11}: first {first:,.1f} ms, then median {statistics.median(rest):,.1f} ms, "
          f"p90 {rest[int(len(rest) * 0.9) - 1]:,.1f} ms ({len(answer.content) / 1e6:,.2f} MB answer)", flush=True)


def pages(releases: int, requests: int) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from opendata.settings import Settings

    home = WORK / f"pages-home-{releases}"
    family = build_family(home, releases)
    flags = Settings(home=home).paths.release_dir(f"{family}-processes", 1) / "red-flags.json"
    with TestClient(create_app(Settings(home=home))) as client:
        print(f"{family}: red-flags.json {flags.stat().st_size / 1e6:,.1f} MB")
        for label, url in (("buyer B1", f"/procurement/{family}/buyers/B1"),
                           ("supplier T1", f"/procurement/{family}/suppliers/T1")):
            _timed(client, label, url, {}, requests)


def main(argv: list[str] | None = None) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from opendata.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m benchmarks red_flags")
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pages", action="store_true", help="the buyer and supplier HTML pages instead")
    args = parser.parse_args(argv or [])
    if args.pages:
        pages(args.releases, args.requests)
        return
    home = WORK / f"red-flags-home-{args.releases}"
    sizes = build_home(home, args.releases)
    with TestClient(create_app(Settings(home=home))) as client:
        for name, size in sizes.items():
            print(f"{name}: red-flags.json {size / 1e6:,.1f} MB")
            for label, params in QUERIES.items():
                _timed(client, label, f"/api/v1/datasets/{name}/releases/1/red-flags", params, args.requests)
