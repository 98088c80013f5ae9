"""``opendata migrate --to-catalog postgresql://... [--to-storage s3://bucket/prefix]``: copy an installation
(the catalog the current settings name, and its release files) into PostgreSQL and object storage."""

from __future__ import annotations

import argparse

from catalog.database import open_database
from catalog.storage import open_storage
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.errors import ConfigurationError
from opendata.migration import migrate, summary
from opendata.settings import Settings

HELP = "copy the catalog into PostgreSQL and release files into object storage (the source is only read)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to-catalog", required=True, metavar="URL",
                        help="PostgreSQL URL of the target catalog (postgresql://user:password@host:5432/db)")
    parser.add_argument("--to-storage", metavar="URL",
                        help="s3://bucket/prefix to copy release files to (endpoint and keys from OPENDATA_S3_*); "
                        "omitted, release files stay where they are")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.to_storage and not args.to_storage.startswith("s3://"):
        raise ConfigurationError(f"--to-storage must be s3://bucket/prefix, not {args.to_storage!r}")
    source = open_catalog(settings)
    target = open_database(args.to_catalog, settings.paths.catalog_db)
    if target.describe() == source.database.describe():
        raise ConfigurationError("the target catalog is the catalog the current settings already use")
    target_storage = open_storage(settings.model_copy(update={"storage_url": args.to_storage})) \
        if args.to_storage else None
    report = migrate(source, open_storage(settings), target, target_storage,
                     legacy_source_columns=settings.paths.private / "source-columns")
    copied = ", ".join(f"{table} {n}" for table, n in report.copied_rows.items() if n) or "nothing new"
    lines = [
        f"copied from {report.source} to {report.target}: {copied}",
        f"release files: {report.copied_files} files, {report.copied_bytes / 1e6:.1f} MB "
        f"({len(report.releases_moved)} releases)" if target_storage else "release files: left where they are",
        "switch over with OPENDATA_CATALOG_URL=<the target URL>"
        + (f" OPENDATA_STORAGE_URL={args.to_storage}" if args.to_storage else ""),
    ]
    emit(args, summary(report), "\n".join(lines))
    return EXIT_OK
