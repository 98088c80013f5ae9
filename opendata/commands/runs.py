"""``opendata runs [NAME]``: the run history, and scheduled datasets whose release is overdue."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from catalog.models import Run
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.settings import Settings
from publishers.liveness import as_shown, find_interrupted
from publishers.missed import MissedRelease, missed_releases

HELP = "show recent runs and missed releases"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--missed", action="store_true", help="only the datasets whose release is overdue")


def _seconds(run: Run) -> str:
    total = sum(run.stages.values())
    return f"{total:.1f}s" if run.stages else "-"


def run_line(run: Run) -> str:
    rows = f"{run.rows_in if run.rows_in is not None else '-'}→{run.rows_out if run.rows_out is not None else '-'}"
    retry = f" try {run.attempt}" if run.attempt > 1 else ""
    return (f"{run.started_at}\t{run.dataset}\t{run.state}{retry}\trelease {run.release or '-'}\t{rows} rows\t"
            f"{_seconds(run)}\t{run.error or ''}")


def missed_line(missed: MissedRelease) -> str:
    last = f"release {missed.last_release} at {missed.last_release_at}" if missed.last_release else "no release yet"
    why = f"; last run {missed.last_run_state}" + (f": {missed.last_error}" if missed.last_error else "")
    return f"MISSED\t{missed.dataset}\tdue {missed.due_at} ('{missed.schedule}' {missed.timezone}), {last}{why}"


def run(args: argparse.Namespace, settings: Settings) -> int:
    catalog = open_catalog(settings)
    missed = [m for m in missed_releases(catalog, datetime.now(UTC), settings.missed_release_grace_seconds)
              if args.name is None or m.dataset == args.name]
    if args.missed:
        emit(args, [m.model_dump() for m in missed], "\n".join(missed_line(m) for m in missed) or "no missed releases")
        return EXIT_OK
    dead = find_interrupted(settings, catalog)  # runs whose process died show as interrupted at once
    runs = as_shown(catalog.runs(args.name, limit=args.limit), dead)
    lines = [missed_line(m) for m in missed] + [run_line(r) for r in runs]
    emit(args, [r.model_dump() for r in runs], "\n".join(lines) or "no runs")
    return EXIT_OK
