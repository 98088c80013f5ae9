"""``opendata up [DIR]``: run every job once, then serve the API (what ``make run`` calls)."""

from __future__ import annotations

import argparse
from pathlib import Path

from opendata.commands import serve
from opendata.commands.run import run_many
from opendata.settings import Settings
from publishers.job import discover_jobs

HELP = "run every job once, then serve the API"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, help="jobs folder (default: OPENDATA_DATASETS_DIR)")
    serve.add_arguments(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    run_many(discover_jobs(args.dir or settings.datasets_dir), settings, as_json=False)
    return serve.run(args, settings)
