"""Per-request time of ``GET /api/v1/datasets/{name}/releases/{n}/red-flags`` on the demo and a large result.

    .venv/bin/python -m benchmarks red_flags [--releases 100000] [--requests 20]

Two published procurement releases in one catalog (built once under ``BENCH_PROCUREMENT_DIR``/red-flags-home):
the demo agency's red flags (its 301 processes and the OCP sample, the demo settings), and the result of
Cardinal's indicators over N benchmark compiled releases (``benchmarks procurement``'s file). The real app
(``create_app``) answers in this process through FastAPI's TestClient; per release, the median and p90
milliseconds of ``--requests`` sequential requests for: every group, ``group=Buyer``, ``code=R024``
(the first request of each kind is shown apart: it is the one that reads the file).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

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


def main(argv: list[str] | None = None) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from opendata.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m benchmarks red_flags")
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv or [])
    home = WORK / f"red-flags-home-{args.releases}"
    sizes = build_home(home, args.releases)
    with TestClient(create_app(Settings(home=home))) as client:
        for name, size in sizes.items():
            print(f"{name}: red-flags.json {size / 1e6:,.1f} MB")
            for label, params in QUERIES.items():
                url = f"/api/v1/datasets/{name}/releases/1/red-flags"
                times = []
                for _ in range(args.requests + 1):
                    started = time.perf_counter()
                    answer = client.get(url, params=params)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, answer.text
                first, rest = times[0], sorted(times[1:])
                print(f"  {label:>11}: first {first:,.1f} ms, then median {statistics.median(rest):,.1f} ms, "
                      f"p90 {rest[int(len(rest) * 0.9) - 1]:,.1f} ms ({len(answer.content) / 1e6:,.2f} MB answer)")
