"""``opendata runs [NAME]``: the run history."""

from __future__ import annotations

import argparse

from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.settings import Settings

HELP = "show recent runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?")
    parser.add_argument("--limit", type=int, default=20)


def run(args: argparse.Namespace, settings: Settings) -> int:
    runs = open_catalog(settings).runs(args.name, limit=args.limit)
    text = "\n".join(
        f"{r.started_at}\t{r.dataset}\t{r.state}\trelease {r.release or '-'}\t{r.error or ''}" for r in runs
    ) or "no runs"
    emit(args, [r.model_dump() for r in runs], text)
    return EXIT_OK
