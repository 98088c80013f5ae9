"""Cardinal's 11 red-flag indicators over N compiled releases with bids: rows/s and peak memory.

    .venv/bin/python -m benchmarks procurement [--releases 1000000] [--rounds 1]

Data (built once per size under ``BENCH_PROCUREMENT_DIR``, default /tmp/bench-procurement): N compiled
releases, one JSON line each (about 900 bytes), 2,000 buyers, 20,000 tenderers, 2-6 bids per process with
statuses, one active award, items with CPV codes, tender periods; seeded, so every run scores the same file.

Measured, each in a fresh child process so that peak memory (``ru_maxrss``) is the run's own:
1. baseline: read and parse every line (orjson), nothing else;
2. indicators: read, parse and score every line with every indicator enabled, then finish the outliers
   (quartiles, fences) and build Cardinal's result object: ``procurement.parallel.score_file``, the file in
   parts on one worker process per core (``--workers 1``: one pass), as ``opendata procurement indicators``
   runs. It prints a digest of the result and findings, the same for any number of workers.
Printed: seconds (median over rounds), releases/s, CPU seconds (user + system of the run and its workers: on a
shared machine the wall clock also counts other work's turns), peak RSS (and the workers'), and the ratio
of (2) to (1). The goal is 1,000,000 releases under 60 s and 2 GB on 2 cores.

``--merge N1,N2,...``: the family run's read + merge + check + score + flatten (``procurement.prepare``) of
N releases (two per process, as JSON lines) at each size, with its peak RSS and a sha256 of what it staged
(compiled releases, the tables' Parquet files, the red flags and findings), to show that memory does not
grow with the number of releases (the publish stages after it are chunked already; the red flags are kept in
staging, per process and per organisation, ``procurement.ocid_flags`` and ``procurement.group_flags``), e.g.
``--merge 100000,300000,1000000``; then ``red-flags.json`` written from staging as the family run writes it
(its own sha256, and the peak with it). It prints the ratio of the largest size's peak to the smallest's.
The output sha256 covers the compiled releases' bytes, each table's rows as the family's connector reads them
(batches of 50,000 rows, the same from one file as from a table's parts) and the red flags and findings (read
into memory after the peak is taken); it is not comparable with the runs before the tables were staged as
parts (those hashed the single files' bytes).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from procurement.parallel import workers_available

WORK = Path(os.environ.get("BENCH_PROCUREMENT_DIR", "/tmp/bench-procurement"))
METHODS = ["open", "open", "open", "selective", "limited", "direct"]
STATUSES = ["valid"] * 8 + ["disqualified", "withdrawn", "pending"]


def build(path: Path, releases: int) -> None:
    rng = random.Random(14)
    tmp = path.with_suffix(".partial")
    with open(tmp, "wb") as out:
        for n in range(releases):
            bidders = rng.sample(range(20_000), rng.randint(2, 6))
            base = rng.randint(1_000, 900_000)
            bids = [{"id": str(i), "status": rng.choice(STATUSES), "date": f"2024-0{rng.randint(1, 9)}-1{i}T10:00:00Z",
                     "tenderers": [{"id": f"T{b}"}],
                     "value": {"amount": round(base * (1 + rng.random() / 4), 2), "currency": "USD"}}
                    for i, b in enumerate(bidders)]
            valid = [b for b in bids if b["status"] == "valid"] or bids[:1]
            winner = min(valid, key=lambda b: b["value"]["amount"])  # type: ignore[index]
            day = rng.randint(1, 20)
            release = {
                "ocid": f"ocds-bench-{n}", "buyer": {"id": f"B{rng.randrange(2_000)}"},
                "tender": {"procurementMethod": rng.choice(METHODS), "numberOfTenderers": len(bids),
                           "procuringEntity": {"id": f"P{rng.randrange(2_000)}"},
                           "tenderPeriod": {"startDate": f"2024-01-{day:02d}T00:00:00Z",
                                            "endDate": f"2024-02-{rng.randint(1, 28):02d}T00:00:00Z"}},
                "bids": {"details": bids},
                "awards": [{"status": "active", "suppliers": [winner["tenderers"][0]],  # type: ignore[index]
                            "items": [{"classification": {"id": f"{rng.randint(10, 99)}000000"}}]}],
            }
            out.write(orjson.dumps(release) + b"\n")
    tmp.replace(path)


CHILD = """
import hashlib, resource, sys, time, orjson
from pathlib import Path
path, mode, workers = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
count = 0
if mode == "baseline":
    with open(path, "rb") as handle:
        for line in handle:
            orjson.loads(line)
            count += 1
else:
    from procurement.parallel import score_file
    from procurement.settings import IndicatorSettings
    scores = score_file(path, IndicatorSettings(), workers=workers)
    count = scores.processes + scores.findings.counts["missing-ocid"]
    result = scores.as_cardinal()
    flagged = sum(len(v) for k, v in result.items() if k != "Meta")
    digest = hashlib.sha256(orjson.dumps(result) + orjson.dumps(scores.findings.as_dict())).hexdigest()[:16]
    print("flagged", flagged, "result sha256", digest, file=sys.stderr)
seconds = time.perf_counter() - started
me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
print(count, seconds, me.ru_maxrss, cpu, children.ru_maxrss)
"""


MERGE_CHILD = """
import hashlib, resource, sys, time, orjson
from pathlib import Path
from procurement.flags_json import write_document
from procurement.parts import read_batches
from procurement.prepare import prepare
started = time.perf_counter()
prepared = prepare([Path(sys.argv[1])], Path(sys.argv[2]), memory_limit=sys.argv[3])
seconds, rss = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
write_document(prepared.scores.as_cardinal(lazy=True), Path(sys.argv[2]) / "red-flags.json")  # as the family run
written = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
flags = hashlib.sha256((Path(sys.argv[2]) / "red-flags.json").read_bytes()).hexdigest()[:16]
digest = hashlib.sha256()
with open(prepared.compiled_path, "rb") as handle:
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
for name in sorted(prepared.tables):  # the rows, as the family's connector reads them from the table's parts
    for batch in read_batches(prepared.tables[name], batch_size=50_000):
        digest.update(orjson.dumps(batch.to_pydict()))
digest.update(orjson.dumps(prepared.scores.as_cardinal()) + orjson.dumps(prepared.findings.as_dict()))
print(prepared.processes, seconds, rss, digest.hexdigest()[:16], written, flags)
"""


def build_releases(path: Path, releases: int) -> None:
    """Two releases per process (tender, then award), as an agency publishes them."""
    rng = random.Random(15)
    tmp = path.with_suffix(".partial")
    with open(tmp, "wb") as out:
        for n in range(releases // 2):
            ocid = f"ocds-bench-{n}"
            bids: list[dict[str, Any]] = [
                {"id": str(i), "status": "valid", "tenderers": [{"id": f"T{rng.randrange(20_000)}", "name": "x"}],
                 "value": {"amount": rng.randint(1_000, 90_000), "currency": "USD"}} for i in range(3)]
            tender = {"ocid": ocid, "id": f"{ocid}-1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"],
                      "initiationType": "tender", "buyer": {"id": f"B{n % 2_000}", "name": "Buyer"},
                      "tender": {"id": "t", "procurementMethod": "open", "tenderPeriod": {
                          "startDate": "2024-01-01T00:00:00Z", "endDate": "2024-02-01T00:00:00Z"}}}
            award = {"ocid": ocid, "id": f"{ocid}-2", "date": "2024-03-01T00:00:00Z", "tag": ["award"],
                     "initiationType": "tender", "bids": {"details": bids},
                     "awards": [{"id": "a", "status": "active", "suppliers": [bids[0]["tenderers"][0]]}]}
            out.write(orjson.dumps(award) + b"\n")  # out of order on purpose: the merge sorts
            out.write(orjson.dumps(tender) + b"\n")
    tmp.replace(path)


def merge(sizes: list[int], memory_limit: str = "256MB", keep: bool = False) -> None:
    peaks: list[float] = []
    for size in sizes:
        path = WORK / f"releases-{size}.jsonl"
        if not path.exists():
            build_releases(path, size)
        staging = WORK / f"prepare-{size}"
        done = subprocess.run([sys.executable, "-c", MERGE_CHILD, str(path), str(staging), memory_limit],
                              capture_output=True,
                              text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        processes, seconds, rss, digest, written, flags = done.stdout.strip().splitlines()[-1].split()
        print(f"merge+flatten: {size:,} releases ({int(processes):,} processes) in {float(seconds):.1f}s = "
              f"{size / float(seconds):,.0f} releases/s, peak RSS {int(rss) / 1024:,.0f} MB, "
              f"output sha256 {digest}; then red-flags.json written from staging: peak RSS "
              f"{int(written) / 1024:,.0f} MB, its sha256 {flags}", flush=True)
        peaks.append(int(written) / 1024)
        if not keep:
            shutil.rmtree(staging, ignore_errors=True)
    if len(peaks) > 1:
        print(f"peak RSS, largest / smallest size: {peaks[-1] / peaks[0]:.2f}x for {sizes[-1] / sizes[0]:.0f}x the "
              "releases (bounded: the merge sorts its keys in runs of a fixed size, merged from disk; the red flags "
              "raised per process and those raised per organisation are kept in staging)")


def measure(path: Path, mode: str, workers: int) -> tuple[int, float, int, float, int]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), mode, str(workers)], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    count, seconds, rss, cpu, worker_rss = done.stdout.split()
    if done.stderr.strip():
        print("   ", done.stderr.strip())
    return int(count), float(seconds), int(rss), float(cpu), int(worker_rss)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks procurement")
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "1")))
    parser.add_argument("--merge", help="sizes for the merge + flatten run, e.g. 50000,200000")
    parser.add_argument("--merge-memory", default="256MB",
                        help="memory_limit passed to prepare for --merge (the merge no longer sorts in DuckDB: it "
                        "sorts fixed-size runs of keys, so this changes nothing)")
    parser.add_argument("--merge-keep", action="store_true",
                        help="keep each size's staging folder (prepare-N under BENCH_PROCUREMENT_DIR) to compare")
    parser.add_argument("--workers", type=int, default=0,
                        help="scoring processes (default: one per core; 1: one pass, as before)")
    args = parser.parse_args(argv or [])
    WORK.mkdir(parents=True, exist_ok=True)
    if args.merge:
        merge([int(n) for n in args.merge.split(",")], args.merge_memory, args.merge_keep)
        return
    path = WORK / f"compiled-{args.releases}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        build(path, args.releases)
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s")
    workers = args.workers or workers_available()
    figures: dict[str, list[tuple[int, float, int, float, int]]] = {"baseline": [], "indicators": []}
    for _ in range(args.rounds):
        for mode in figures:
            figures[mode].append(measure(path, mode, workers))
    medians = {}
    for mode, runs in figures.items():
        count = runs[0][0]
        seconds = statistics.median(r[1] for r in runs)
        rss_mb = max(r[2] for r in runs) / 1024
        worker_mb = max(r[4] for r in runs) / 1024
        cpu = statistics.median(r[3] for r in runs)
        medians[mode] = seconds
        peak = f"peak RSS {rss_mb:,.0f} MB"
        if mode == "indicators" and workers > 1:
            peak += (f" + {workers} workers of up to {worker_mb:,.0f} MB each "
                     f"(at most {rss_mb + workers * worker_mb:,.0f} MB together)")
        print(f"{mode:>11}: {count:,} releases in {seconds:.1f}s = {count / seconds:,.0f} releases/s, "
              f"{cpu:.1f} CPU s, {peak}")
    print(f"indicators ({workers} worker{'s' if workers > 1 else ''}) / parse-only (one process): "
          f"{medians['indicators'] / medians['baseline']:.1f}x (goal for 1,000,000 releases: under 60 s and "
          "2,048 MB)")
