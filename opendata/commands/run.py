"""``opendata run JOB.yaml ...`` / ``opendata run --all [DIR]``: run publisher jobs now."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from opendata.commands._shared import EXIT_OK, EXIT_RUN_FAILED, emit, open_catalog
from opendata.errors import JobFileError, OpendataError
from opendata.settings import Settings
from publishers.job import discover_jobs
from publishers.runner import RunResult, run_job

HELP = "run publisher jobs now"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("jobs", nargs="*", type=Path, metavar="JOB.yaml")
    parser.add_argument("--all", nargs="?", const=True, default=None, metavar="DIR",
                        help="run every job under DIR (default: the datasets folder)")


def summary(result: RunResult) -> dict:
    if result.family:  # a family job (ocds): one dataset per table
        return {**_summary(result), "family": [_summary(r) for r in result.family]}
    return _summary(result)


def _summary(result: RunResult) -> dict:
    run = result.run
    return {
        "dataset": run.dataset,
        "run_id": run.run_id,
        "state": run.state,
        "release": run.release,
        "rows_in": run.rows_in,
        "rows_out": run.rows_out,
        "seconds": {k: round(v, 3) for k, v in result.stages.items()},
        "error": run.error,
        "report_folder": run.report_folder,
    }


def line(result: RunResult) -> str:
    return "\n".join(_line(r) for r in (result, *result.family))


def _line(result: RunResult) -> str:
    run = result.run
    took = sum(result.stages.values())
    if run.state in ("succeeded", "awaiting-approval"):
        return (f"{run.dataset}: release {run.release} {run.state} "
                f"({run.rows_in} rows in, {run.rows_out} out, {took:.1f}s)")
    if run.state == "unchanged":
        current = f"release {run.release} stays current" if run.release else "no release"
        return f"{run.dataset}: unchanged: same data, schema and privacy policy; {current}, nothing published"
    return f"{run.dataset}: {run.state}: {run.error}\n  reports: {run.report_folder}"


def run_many(paths: list[Path], settings: Settings, as_json: bool) -> int:
    """Run each job; one job's bad file or failure does not stop the others."""
    catalog = open_catalog(settings)
    worst = EXIT_OK
    for path in paths:
        try:
            result = run_job(path, settings, catalog)
        except OpendataError as exc:
            worst = EXIT_RUN_FAILED
            if as_json:
                print(json.dumps({"job": str(path), "error": {"type": exc.code, "message": str(exc)}}))
            else:
                print(f"{path}: {exc}", file=sys.stderr)
            continue
        if not result.ok:
            worst = EXIT_RUN_FAILED
        print(json.dumps(summary(result)) if as_json else line(result))
    return worst


def run(args: argparse.Namespace, settings: Settings) -> int:
    paths: list[Path] = list(args.jobs)
    if args.all is not None:
        paths.extend(discover_jobs(settings.datasets_dir if args.all is True else Path(args.all)))
    if not paths:
        raise JobFileError("(none)", ["name a job file, or use --all [DIR] to run every job in a folder"])
    if len(paths) == 1 and args.all is None:
        # One job: a bad job file is bad input (exit 2), not a failed run.
        result = run_job(paths[0], settings, open_catalog(settings))
        emit(args, summary(result), line(result))
        return EXIT_OK if result.ok else EXIT_RUN_FAILED
    return run_many(paths, settings, args.json)
