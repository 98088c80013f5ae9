"""Move an installation between the embedded default and the distributed deployment (``opendata migrate``).

The source is what the current settings name (HOME/catalog.sqlite3 and HOME/public/releases, or PostgreSQL
and S3); the target is another catalog database and, optionally, another release storage: PostgreSQL and
S3 on the way out, a SQLite file and a local folder on the way back. Release files are copied first and
checked against the sha256 the catalog recorded; the catalog rows follow in one transaction, so the target
never names a file it does not hold. Rows already in the target are kept, so a second run copies only
what is new (a release published on the old installation after the first run, say). The source is only
read: switching over is changing the settings once the copy is done.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.database import CatalogConnection, CatalogDatabase
from catalog.models import Release
from catalog.search_index import rebuild_documents
from catalog.storage import LocalStorage, ReleaseStorage
from catalog.store import Catalog
from opendata.errors import CatalogError

# Tables in the order their foreign keys need, with the columns that identify a row.
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("organizations", ("name",)),
    ("datasets", ("name",)),
    ("releases", ("dataset", "number")),
    ("runs", ("run_id",)),
    ("approvals", ("id",)),
    ("api_keys", ("id",)),
    ("job_cursors", ("dataset",)),
    ("ckan_packages", ("name",)),
    ("source_columns", ("dataset", "run_id")),
]


@dataclass
class MigrationReport:
    source: str
    target: str
    storage: str
    copied_rows: dict[str, int] = field(default_factory=dict)
    kept_rows: dict[str, int] = field(default_factory=dict)
    copied_files: int = 0
    copied_bytes: int = 0
    releases_moved: list[str] = field(default_factory=list)


def _table_exists(db: CatalogConnection, table: str) -> bool:
    if db.dialect == "sqlite":
        found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        return found is not None
    return db.execute("SELECT to_regclass(?)", (table,)).fetchone()[0] is not None


def _copy_release_files(release: Release, source: ReleaseStorage, target: ReleaseStorage,
                        report: MigrationReport) -> str:
    """Copy one release's files into the target storage, checked against the catalog; its new folder."""
    # Built next to a local target, so its publish is a rename on one file system.
    near = target.root if isinstance(target, LocalStorage) else None
    if near is not None:
        near.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".opendata-migrate-", dir=near) as scratch:
        build = Path(scratch) / "release"
        build.mkdir()
        for name, digest in sorted(release.files.items()):
            copied = hashlib.sha256()
            with open(build / name, "wb") as handle:  # streamed: a release file may not fit in memory
                for block in source.stream(release, name):
                    copied.update(block)
                    handle.write(block)
                    report.copied_bytes += len(block)
            if copied.hexdigest() != digest:
                raise CatalogError(
                    f"release {release.number} of '{release.dataset}': {name} does not match the sha256 the "
                    "catalog recorded; the source is damaged, nothing of this release was copied"
                )
            report.copied_files += 1
        return target.publish(build, release.dataset, release.number, release.run_id)


def migrate(source_catalog: Catalog, source_storage: ReleaseStorage, target_database: CatalogDatabase,
            target_storage: ReleaseStorage | None, legacy_source_columns: Path | None = None) -> MigrationReport:
    """Copy every catalog row, and every release's files when ``target_storage`` is given, into the target.
    ``legacy_source_columns`` is the folder where older installations kept each run's source columns."""
    target_catalog = Catalog(target_database)  # at this code's schema revision (an empty target is made so)
    report = MigrationReport(
        source=source_catalog.database.describe(), target=target_database.describe(),
        storage=type(target_storage or source_storage).__name__,
    )

    existing = {(r.dataset, r.number) for r in target_catalog.all_releases(published_only=False)}
    folders: dict[tuple[str, int], str] = {}
    if target_storage is not None:
        for release in source_catalog.all_releases(published_only=False):
            if (release.dataset, release.number) in existing:
                continue
            folders[(release.dataset, release.number)] = _copy_release_files(
                release, source_storage, target_storage, report)
            report.releases_moved.append(f"{release.dataset}/{release.number}")

    with source_catalog.database.connect() as src, target_database.transaction() as dst:
        for table, key in TABLES:
            if not _table_exists(src, table):
                continue
            # runs keep their order: the target numbers them again (rowid, or PostgreSQL's seq) as they come
            order = f" ORDER BY {source_catalog.database.insert_order}" if table == "runs" else ""
            rows = [dict(r) for r in src.execute(f"SELECT * FROM {table}{order}").fetchall()]
            copied = 0
            for row in rows:
                row.pop("seq", None)  # PostgreSQL's run order column: the target numbers runs itself
                if table == "releases":
                    moved = folders.get((row["dataset"], row["number"]))
                    if moved is not None:
                        row["folder"] = moved
                    elif target_storage is not None:
                        continue  # already in the target, with its own folder
                columns = ", ".join(row)
                inserted = dst.execute(
                    f"INSERT INTO {table}({columns}) VALUES ({', '.join(':' + c for c in row)}) "
                    f"ON CONFLICT({', '.join(key)}) DO NOTHING RETURNING 1",
                    row,
                ).fetchone()
                copied += inserted is not None
            report.copied_rows[table] = copied
            report.kept_rows[table] = len(rows) - copied
        if legacy_source_columns is not None:
            report.copied_rows["source_columns"] = report.copied_rows.get("source_columns", 0) + _legacy_columns(
                legacy_source_columns, dst)
        rebuild_documents(dst)  # the search index of what was copied (rows went in without the catalog's writes)
        if target_database.dialect == "postgresql":  # identities continue after the copied ids
            dst.execute(
                "SELECT setval(pg_get_serial_sequence('approvals', 'id'), "
                "coalesce((SELECT max(id) FROM approvals), 0) + 1, false)"
            )
    return report


def _legacy_columns(folder: Path, dst: CatalogConnection) -> int:
    copied = 0
    for path in sorted(folder.glob("*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        inserted = dst.execute(
            "INSERT INTO source_columns(dataset, run_id, columns, changes) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(dataset, run_id) DO NOTHING RETURNING 1",
            (path.parent.name, path.stem, json.dumps(document["columns"]), json.dumps(document.get("changes", []))),
        ).fetchone()
        copied += inserted is not None
    return copied


def summary(report: MigrationReport) -> dict[str, Any]:
    return {
        "source": report.source, "target": report.target, "storage": report.storage,
        "copied_rows": report.copied_rows, "kept_rows": report.kept_rows, "copied_files": report.copied_files,
        "copied_bytes": report.copied_bytes, "releases_moved": report.releases_moved,
    }
