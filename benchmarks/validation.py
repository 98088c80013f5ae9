"""Validation speed: our DuckDB validator against frictionless.validate on the same CSV, same run.

A 1,000,000-row, 12-column table with a few percent invalid cells (tests.validation_fixtures's
generator: type and constraint errors, duplicate keys, short, long and blank rows). Timed, median of 3:

- ``validate_file``: the report (every error counted, the first 1,000 listed), what ``opendata validate``
  prints and what frictionless.validate returns;
- ``check_file``: the same plus every row error with its message as Arrow (what ``quarantine_rows`` uses).

frictionless runs on the first 50,000 rows (its full run takes minutes) and its time is extrapolated
linearly, which the printout says; with ``--full-frictionless`` it also runs once on the whole file (about
1.5 minutes). The errors are compared as (rowNumber, fieldName, type) sets: on the sample, and on the whole
file with ``--full-frictionless``.

    .venv/bin/python -m benchmarks validation
    .venv/bin/python -m benchmarks.validation [--full-frictionless] [ROWS] [SAMPLE_ROWS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS = 1_000_000
SAMPLE = 50_000
REPEATS = 3


def _timed(fn: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
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
    args = list(argv or [])
    full_frictionless = "--full-frictionless" in args
    numbers = [a for a in args if not a.startswith("--")]
    rows = int(numbers[0]) if numbers else ROWS
    sample = int(numbers[1]) if len(numbers) > 1 else SAMPLE
    from tests.validation_fixtures import GENERATED_SCHEMA, frictionless_found, our_found, write_generated_table
    from validation import check_file, validate_file

    folder = Path(tempfile.gettempdir()) / "opendata-bench-validation"
    folder.mkdir(exist_ok=True)
    full = folder / f"table-{rows}.csv"
    if not full.exists():
        print(f"writing {rows:,} rows to {full} ...", flush=True)
        write_generated_table(full, rows, seed=42, bad_share=0.02)
    head = folder / f"table-{rows}-head-{sample}.csv"
    _head(full, head, sample)

    ours_s, report = _timed(lambda: validate_file(full, GENERATED_SCHEMA))
    print(f"ours, validate_file, {rows:,} rows x 12 fields: median {ours_s:.2f} s of {REPEATS} "
          f"({rows / ours_s:,.0f} rows/s), {report.stats['errors']:,} errors counted, "
          f"{len(report.errors):,} listed")
    check_s, checked = _timed(lambda: check_file(full, GENERATED_SCHEMA))
    print(f"ours, check_file (also every row error as Arrow): median {check_s:.2f} s, "
          f"{checked.row_errors.num_rows:,} row errors")
    if checked.report.stats["errors"] != report.stats["errors"]:
        raise SystemExit("validate_file and check_file count different errors")

    ours_sample_s, ours_sample = _timed(lambda: check_file(head, GENERATED_SCHEMA))
    fl_s, fl_sample = _timed(lambda: frictionless_found(head, GENERATED_SCHEMA))
    same = our_found(ours_sample) == fl_sample
    print(f"sample of {sample:,} rows: ours {ours_sample_s:.2f} s, frictionless.validate {fl_s:.2f} s "
          f"({sample / fl_s:,.0f} rows/s); same {len(fl_sample):,} (row, field, type) errors: {same}")
    fl_full = fl_s * rows / sample
    print(f"frictionless extrapolated to {rows:,} rows: {fl_full:.0f} s (linear from the {sample:,}-row sample)")
    print(f"ratio: validate_file is {fl_full / ours_s:.0f}x faster than frictionless.validate on the full file "
          f"(check_file {fl_full / check_s:.0f}x; {fl_s / ours_sample_s:.0f}x on the sample itself)")
    if full_frictionless:
        started = time.perf_counter()
        fl_all = frictionless_found(full, GENERATED_SCHEMA, limit_errors=10 * rows)
        fl_all_s = time.perf_counter() - started
        same_all = our_found(checked) == fl_all
        print(f"frictionless.validate on all {rows:,} rows, once: {fl_all_s:.0f} s ({fl_all_s / ours_s:.0f}x ours); "
              f"same {len(fl_all):,} (row, field, type) errors: {same_all}")
        same = same and same_all
    if not same:
        raise SystemExit("the two validators disagree")


if __name__ == "__main__":
    main(sys.argv[1:])
