"""A PostgreSQL table published end to end: rows/s per stage and peak memory, against the baseline.

``python -m benchmarks pipeline`` (``BENCH_PIPELINE_ROWS``, default 5,000,000; ``BENCH_PIPELINE_SIZES`` to
compare sizes, default "1000000,<rows>"). Each measurement runs in a fresh process so its peak resident
memory (ru_maxrss) is its own:

* baseline extract: the previous extract stage (one Python ``as_text`` call per value, every batch kept in
  a list, then one table);
* stream: the streaming half of the extract stage (each batch appended to staging Parquet);
* extract: the extract stage as the runner calls it;
* baseline-run: the previous whole-table stages (the staged table read back whole, ``anonymize_table``,
  ``check_table``, ``write_typed_parquet``), with the same extract in front;
* run: the whole job (extract, anonymise, validate, publish) through ``run_job``: per-stage seconds from
  the run record, and per-stage peak resident memory from a thread sampling it every 20 ms.

Memory that stays flat from the small to the large table is what "bounded" means here: the run reads
the staged Parquet in chunks and lets DuckDB (under ``OPENDATA_RUN_MEMORY_LIMIT``) scan it for the
global steps, so its peak should not grow with the table (see docs/jobs.md).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

KEY = "benchmark-key-not-a-secret"
STAGES = ("extract", "anonymize", "validate", "publish")
SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "station", "type": "string"},
        {"name": "taken", "type": "datetime"},
        {"name": "level", "type": "number"},
        {"name": "status", "type": "string", "constraints": {"enum": ["ok", "high", "low"]}},
    ],
    "primaryKey": ["id"],
    "missingValues": [""],
}


def _write_job(folder: Path, url: str, rows: int) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gauges.schema.json").write_text(json.dumps(SCHEMA))
    job = {
        "name": "gauges", "title": "River gauges", "organization": "water", "license": "CC0-1.0",
        "source": {"type": "sql", "url": url, "query": f"SELECT * FROM gauges WHERE id <= {rows}"},
        "schema": "gauges.schema.json",
        "privacy": {"columns": {"id": "keep", "station": "keep", "taken": "keep", "status": "keep",
                                "level": {"generalize": "round", "digits": 1}}},
    }
    path = folder / "gauges.yaml"
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return path


def _measure(mode: str, job_path: Path, home: Path) -> dict[str, float]:
    """One measurement in a fresh process: ``python -m benchmarks.pipeline <mode> <job> <home>``."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.pipeline", mode, str(job_path), str(home)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} failed: {out.stderr[-2000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _child(mode: str, job_path: str, home: str) -> None:
    from pydantic import SecretStr

    from opendata.settings import Settings
    from publishers.job import load_job

    job = load_job(job_path)
    staging = Path(home) / "bench-staging"
    result: dict[str, float] = {}
    started = time.perf_counter()
    if mode == "baseline-extract":
        import psycopg
        import pyarrow as pa

        from publishers.sources import as_text

        # The previous stage, as it was: as_text per value, every batch kept in a list, then one table.
        source = job.source
        assert source.type == "sql" and source.query is not None
        batches = []
        with psycopg.connect(source.url) as connection, connection.cursor(name="baseline") as cursor:
            cursor.itersize = 50_000
            cursor.execute(source.query)
            names = [d.name for d in cursor.description or []]
            schema = pa.schema([(n, pa.string()) for n in names])
            while chunk := cursor.fetchmany(50_000):
                columns = [[as_text(row[i]) for row in chunk] for i in range(len(names))]
                batches.append(pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], schema=schema))
        rows = pa.Table.from_batches(batches).num_rows
        result["extract"] = time.perf_counter() - started
    elif mode == "stream":
        from publishers.extract import stream_to_staging

        path, _ = stream_to_staging(job, staging)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
        result["extract"] = time.perf_counter() - started
    elif mode == "extract":
        from publishers.extract import extract

        rows = extract(job, "bench", staging).rows
        result["extract"] = time.perf_counter() - started
    elif mode == "baseline-run":
        rows = _baseline_run(job, Settings(home=Path(home), pseudonym_key=SecretStr(KEY)), staging, result)
    else:
        from publishers.progress import NoProgress
        from publishers.runner import run_job

        sampler = RssSampler()
        run = run_job(job_path, Settings(home=Path(home), pseudonym_key=SecretStr(KEY)), progress=NoProgress()).run
        sampler.stop()
        if run.state != "succeeded":
            raise SystemExit(f"run ended {run.state}: {run.error}")
        rows = run.rows_out or 0
        result.update(run.stages)
        result.update(sampler.peaks(sampler.started, run.stages))
    result["rows"] = rows
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _baseline_run(job: Any, settings: Any, staging: Path, result: dict[str, float]) -> int:
    """The previous runner's stages, each on the whole table (no catalog: only the data work)."""
    import pyarrow.parquet as pq

    from anonymize import anonymize_table
    from catalog.typed_table import write_typed_parquet
    from publishers.extract import stream_to_staging
    from validation.table_check import check_table

    sampler = RssSampler()
    mark = time.perf_counter()
    path, _ = stream_to_staging(job, staging)
    table = pq.read_table(path, memory_map=True)
    result["extract"] = time.perf_counter() - mark
    mark = time.perf_counter()
    anonymized, privacy = anonymize_table(table, job, settings, "bench")
    result["anonymize"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report = check_table(anonymized.table, job.table_schema).report
    result["validate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rows = write_typed_parquet(anonymized.table, job.table_schema, staging / "data.parquet", job.publish.sort_by)
    result["publish"] = time.perf_counter() - mark
    sampler.stop()
    if privacy.blocked or not report.valid:
        raise SystemExit("baseline run did not pass its privacy and validation checks")
    stages = {k: result[k] for k in STAGES}
    result.update(sampler.peaks(sampler.started, stages))
    return rows


class RssSampler:
    """Resident memory sampled every ``interval`` seconds in a thread, to attribute peaks to stages."""

    def __init__(self, interval: float = 0.02) -> None:
        self.started = time.perf_counter()
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self, interval: float) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), _rss_mb()))
            time.sleep(interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peaks(self, start: float, stages: dict[str, float]) -> dict[str, float]:
        """Peak MB within each stage's window; stages ran one after the other from ``start``."""
        out: dict[str, float] = {}
        for stage in [s for s in STAGES if s in stages]:
            end = start + stages[stage]
            inside = [mb for t, mb in self.samples if start <= t <= end]
            out[f"peak_{stage}"] = max(inside, default=0.0)
            start = end
        return out


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    import psycopg

    from tests.publishers_fixtures import throwaway_postgres

    rows = int(os.environ.get("BENCH_PIPELINE_ROWS", "5000000"))
    sizes = [int(s) for s in os.environ.get("BENCH_PIPELINE_SIZES", f"1000000,{rows}").split(",")]
    repeats = int(os.environ.get("BENCH_PIPELINE_REPEATS", "1"))
    modes = os.environ.get("BENCH_PIPELINE_MODES", "baseline-extract,stream,extract,baseline-run,run").split(",")
    with throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE TABLE gauges (id bigint PRIMARY KEY, station text, taken timestamptz, "
                       "level double precision, status text)")
            db.execute(
                "INSERT INTO gauges SELECT g, 'ST' || lpad((g %% 997)::text, 4, '0'), "
                "timestamptz '2020-01-01 00:00:00+00' + g * interval '1 minute', (g %% 1000) / 7.0, "
                "(ARRAY['ok', 'high', 'low'])[1 + g %% 3] FROM generate_series(1, %s) g", (max(sizes),))
        print(f"loaded {max(sizes):,} rows into PostgreSQL in {time.perf_counter() - started:.1f}s")
        print(f"{'rows':>10} {'measure':<17} {'stage':<10} {'seconds':>8} {'rows/s':>11} {'peak MB':>8}")
        by_size: dict[int, dict[str, dict[str, float]]] = {}
        for size in sizes:
            job = _write_job(Path(tmp) / f"job-{size}", url, size)
            measured: dict[str, dict[str, float]] = {}
            for mode in modes:
                runs = [_measure(mode, job, Path(tmp) / f"home-{size}-{mode}-{i}") for i in range(repeats)]
                measured[mode] = {k: _median([r[k] for r in runs]) for k in runs[0]}
                for stage in [k for k in runs[0] if k not in ("rows", "peak_mb") and not k.startswith("peak_")]:
                    seconds = measured[mode][stage]
                    peak = measured[mode].get(f"peak_{stage}", measured[mode]["peak_mb"])
                    print(f"{size:>10,} {mode:<17} {stage:<10} {seconds:>8.2f} {size / seconds:>11,.0f} {peak:>8.0f}")
                if mode.endswith("run"):
                    total = sum(measured[mode][s] for s in STAGES if s in measured[mode])
                    print(f"{size:>10,} {mode:<17} {'all':<10} {total:>8.2f} {size / total:>11,.0f} "
                          f"{measured[mode]['peak_mb']:>8.0f}")
            by_size[size] = measured
            base = measured.get("baseline-extract")
            for mode in [m for m in ("stream", "extract") if m in measured and base]:
                new = measured[mode]
                assert base is not None
                print(f"{size:>10,} {mode} vs baseline extract: {base['extract'] / new['extract']:.2f}x rows/s, "
                      f"{new['peak_mb'] / base['peak_mb']:.2f}x peak memory")
            if "run" in measured and "baseline-run" in measured:
                new, old = measured["run"], measured["baseline-run"]
                totals = [sum(m[s] for s in STAGES) for m in (old, new)]
                print(f"{size:>10,} run vs baseline run: {totals[0] / totals[1]:.2f}x rows/s, "
                      f"{new['peak_mb'] / old['peak_mb']:.2f}x peak memory")
        if len(by_size) > 1:
            small, large = min(by_size), max(by_size)
            for mode in [m for m in ("baseline-run", "run") if m in by_size[small]]:
                growth = by_size[large][mode]["peak_mb"] / by_size[small][mode]["peak_mb"]
                print(f"{mode}: peak memory at {large:,} rows is {growth:.2f}x the peak at {small:,} rows "
                      f"({large / small:.0f}x the rows)")


if __name__ == "__main__" and len(sys.argv) == 4:
    _child(sys.argv[1], sys.argv[2], sys.argv[3])
