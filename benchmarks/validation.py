"""Validation speed: our DuckDB validator against frictionless.validate on the same CSV, same run.

A 1,000,000-row, 12-column table with a few percent invalid cells (tests.validation_fixtures's
generator: type and constraint errors, duplicate keys, short, long and blank rows). Ours runs on the
whole file; frictionless runs on the first 50,000 rows (its full run takes minutes) and its time is
extrapolated linearly to the full file, which the printout says. Both find the same errors on the sample.

    .venv/bin/python -m benchmarks validation [ROWS] [SAMPLE_ROWS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1_000_000
SAMPLE = 50_000
REPEATS = 3


def _timed(fn, repeats: int = REPEATS) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _head(source: Path, target: Path, rows: int) -> None:
    with open(source, encoding="utf-8") as handle, open(target, "w", encoding="utf-8") as out:
        for i, line in enumerate(handle):
            if i > rows:
                break
            out.write(line)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[2:] if argv is None and len(sys.argv) > 2 else (argv or [])
    rows = int(argv[0]) if argv else ROWS
    sample = int(argv[1]) if len(argv) > 1 else SAMPLE
    from tests.validation_fixtures import GENERATED_SCHEMA, frictionless_found, our_found, write_generated_table
    from validation import check_file

    folder = Path(tempfile.gettempdir()) / "opendata-bench-validation"
    folder.mkdir(exist_ok=True)
    full = folder / f"table-{rows}.csv"
    if not full.exists():
        print(f"writing {rows:,} rows to {full} ...", flush=True)
        write_generated_table(full, rows, seed=42, bad_share=0.02)
    head = folder / f"table-{rows}-head-{sample}.csv"
    _head(full, head, sample)

    ours_s, checked = _timed(lambda: check_file(full, GENERATED_SCHEMA))
    report = checked.report  # type: ignore[attr-defined]
    print(f"ours, {rows:,} rows x 12 fields: median {ours_s:.2f} s of {REPEATS} ({rows / ours_s:,.0f} rows/s), "
          f"{report.stats['errors']:,} errors")

    ours_sample_s, ours_sample = _timed(lambda: check_file(head, GENERATED_SCHEMA))
    fl_s, fl_sample = _timed(lambda: frictionless_found(head, GENERATED_SCHEMA))
    same = our_found(ours_sample) == fl_sample  # type: ignore[arg-type]
    print(f"sample of {sample:,} rows: ours {ours_sample_s:.2f} s, frictionless.validate {fl_s:.2f} s "
          f"({sample / fl_s:,.0f} rows/s); same {len(fl_sample):,} (row, field, type) errors: {same}")  # type: ignore[arg-type]
    fl_full = fl_s * rows / sample
    print(f"frictionless extrapolated to {rows:,} rows: {fl_full:.0f} s (linear from the {sample:,}-row sample)")
    print(f"ratio: ours is {fl_full / ours_s:.0f}x faster on the full file "
          f"({fl_s / ours_sample_s:.0f}x on the sample itself)")
    if not same:
        raise SystemExit("the two validators disagree on the sample")


if __name__ == "__main__":
    main(sys.argv[1:])
