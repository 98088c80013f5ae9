"""``opendata worker [--queue URL] [--name NAME] [--burst]``: run queued publisher jobs (RQ on Redis)."""

from __future__ import annotations

import argparse

from catalog.database import catalog_database
from opendata.commands._shared import EXIT_OK
from opendata.errors import ConfigurationError
from opendata.settings import Settings

HELP = "run publisher jobs from the distributed queue (RQ on Redis)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", metavar="URL", help="redis://host:port/db (default: OPENDATA_QUEUE_URL)")
    parser.add_argument("--name", help="worker name shown in the run history (default: host and pid)")
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from publishers.queue import work

    url = args.queue or settings.queue_url
    if not url:
        raise ConfigurationError("no queue URL: set OPENDATA_QUEUE_URL or pass --queue redis://host:port/0")
    settings.paths.ensure()
    catalog_database(settings)  # refuses a catalog at another schema version, naming `opendata db upgrade`
    work(url, name=args.name, burst=args.burst)
    return EXIT_OK
