"""``opendata migrate --to-catalog URL [--to-storage URL]``: copy an installation (the catalog the current
settings name, and its release files) into another catalog and storage: PostgreSQL and S3 on the way out of
the embedded default, a SQLite file and a local folder on the way back."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog.database import CatalogDatabase, SqliteDatabase, open_database
from catalog.storage import LocalStorage, ReleaseStorage, open_storage
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.errors import ConfigurationError
from opendata.migration import migrate, summary
from opendata.settings import Settings

HELP = "copy the catalog and release files to another database and storage (the source is only read)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to-catalog", required=True, metavar="URL",
                        help="target catalog: postgresql://user:password@host:5432/db, or "
                        "sqlite:////abs/catalog.sqlite3 to come back to an embedded installation")
    parser.add_argument("--to-storage", metavar="URL",
                        help="where to copy release files: s3://bucket/prefix (endpoint and keys from "
                        "OPENDATA_S3_*) or file:///abs/releases-folder; omitted, release files stay where they are")


def _absolute(path: str) -> Path:
    """The path of a ``scheme:///path`` URL (written with three or four slashes)."""
    return Path("/" + path.lstrip("/"))


def _database(url: str, settings: Settings) -> CatalogDatabase:
    if url.startswith("sqlite:///"):
        return SqliteDatabase(_absolute(url.removeprefix("sqlite:///")))
    return open_database(url, settings.paths.catalog_db)


def _storage(url: str, settings: Settings) -> ReleaseStorage:
    if url.startswith("file:///"):
        return LocalStorage(_absolute(url.removeprefix("file:///")))
    if url.startswith("s3://"):
        return open_storage(settings.model_copy(update={"storage_url": url}))
    raise ConfigurationError(f"--to-storage must be s3://bucket/prefix or file:///abs/folder, not {url!r}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.to_catalog.startswith("sqlite:") and not args.to_catalog.startswith("sqlite:///"):
        raise ConfigurationError(f"--to-catalog sqlite URLs are sqlite:////absolute/path, not {args.to_catalog!r}")
    target_storage = _storage(args.to_storage, settings) if args.to_storage else None
    source = open_catalog(settings)
    target = _database(args.to_catalog, settings)
    if target.describe() == source.database.describe():
        raise ConfigurationError("the target catalog is the catalog the current settings already use")
    report = migrate(source, open_storage(settings), target, target_storage,
                     legacy_source_columns=settings.paths.private / "source-columns")
    copied = ", ".join(f"{table} {n}" for table, n in report.copied_rows.items() if n) or "nothing new"
    lines = [
        f"copied from {report.source} to {report.target}: {copied}",
        f"release files: {report.copied_files} files, {report.copied_bytes / 1e6:.1f} MB "
        f"({len(report.releases_moved)} releases)" if target_storage else "release files: left where they are",
    ]
    emit(args, summary(report), "\n".join(lines))
    return EXIT_OK
