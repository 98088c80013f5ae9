"""``opendata sweep [--older-than HOURS] [--dry-run]``: delete release folders no catalog row names.

A run that crashed after putting its files in place but before its catalog commit (or that lost a race
for a release number) leaves a folder that is never read. Such folders are only removed once older than
``--older-than`` hours (default 24), since a run in progress sits between its upload and its commit; a
folder any release of the catalog names, in any state, is never touched.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from catalog.storage import open_storage
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.errors import ConfigurationError
from opendata.settings import Settings

HELP = "delete release folders that no catalog release names (left by crashed runs), past an age"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", type=float, default=24.0, metavar="HOURS",
                        help="only folders last written this many hours ago or more (default 24)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.older_than < 0:
        raise ConfigurationError(f"--older-than must be 0 hours or more, not {args.older_than:g}")
    catalog = open_catalog(settings)
    storage = open_storage(settings)
    recorded = {release.folder for release in catalog.all_releases(published_only=False)}
    cutoff = datetime.now(UTC) - timedelta(hours=args.older_than)
    stored = storage.folders()
    orphans = sorted(f for f, written in stored.items() if f not in recorded and written <= cutoff)
    young = sorted(f for f, written in stored.items() if f not in recorded and written > cutoff)
    removed = {} if args.dry_run else {folder: storage.remove(folder) for folder in orphans}
    verb = "would delete" if args.dry_run else "deleted"
    lines = [f"{verb} {folder}" + ("" if args.dry_run else f" ({removed[folder]} files)") for folder in orphans]
    lines.append(f"{len(orphans)} orphaned folder(s) {verb}; {len(young)} younger than {args.older_than:g} h kept; "
                 f"{len(stored) - len(orphans) - len(young)} recorded release folder(s) untouched")
    emit(args, {"orphans": orphans, "deleted": removed, "kept_young": young, "dry_run": args.dry_run},
         "\n".join(lines))
    return EXIT_OK
