"""``opendata up [DIR]``: run every job once, start the scheduler in the background, serve the API
(what ``make run`` calls)."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from catalog import release_dcat
from catalog.database import catalog_database
from catalog.schema_version import upgrade
from catalog.storage import open_storage
from catalog.store import Catalog
from opendata.commands import serve
from opendata.commands.run import run_many
from opendata.commands.scheduler import start_in_background
from opendata.settings import Settings
from publishers.job import discover_jobs

HELP = "run every job once, then serve the API with the scheduler running in the background"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, help="jobs folder (default: OPENDATA_DATASETS_DIR)")
    parser.add_argument("--no-scheduler", action="store_true", help="do not run jobs on their schedules")
    serve.add_arguments(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    jobs_dir = args.dir or settings.datasets_dir
    settings.paths.ensure()
    database = catalog_database(settings, check_schema=False)
    upgrade(database)  # `opendata db upgrade`: one command starts it all
    release_dcat.backfill(Catalog(database), open_storage(settings))
    run_many(discover_jobs(jobs_dir), settings, as_json=False)
    stop = threading.Event()
    if not args.no_scheduler:
        start_in_background(settings, jobs_dir, stop)
    try:
        return serve.run(args, settings)
    finally:
        stop.set()
