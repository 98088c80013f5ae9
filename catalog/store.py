"""The catalog on the embedded default: one SQLite file with organisations, datasets, releases, runs.

Each write is one transaction, so a crash leaves either the old state or the new one. Readers (the API)
open their own connection per request; SQLite's WAL mode lets them read while a job publishes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.models import Dataset, Organization, Release, Run
from opendata.errors import CatalogError

SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY,
    organization TEXT NOT NULL REFERENCES organizations(name),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    license TEXT NOT NULL,
    tags TEXT NOT NULL,
    schedule TEXT,
    timezone TEXT NOT NULL,
    frequency TEXT,
    homepage TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    dataset TEXT NOT NULL REFERENCES datasets(name),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT,
    rows INTEGER NOT NULL,
    table_schema TEXT NOT NULL,
    folder TEXT NOT NULL,
    files TEXT NOT NULL,
    run_id TEXT NOT NULL,
    policy_hash TEXT NOT NULL,
    PRIMARY KEY (dataset, number)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    job_path TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    rows_in INTEGER,
    rows_out INTEGER,
    release INTEGER,
    error TEXT,
    report_folder TEXT,
    stages TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_dataset ON runs(dataset, started_at);
"""


# Columns added to a table after its first release: (name, SQL type and default), added when missing.
RUN_COLUMNS_ADDED = [
    ("attempt", "INTEGER NOT NULL DEFAULT 1"),
    ("trigger", "TEXT NOT NULL DEFAULT 'manual'"),
    ("worker", "TEXT"),
    ("rows_by_stage", "TEXT NOT NULL DEFAULT '{}'"),
]


def _add_missing_columns(db: sqlite3.Connection, table: str, columns: list[tuple[str, str]]) -> None:
    present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for name, definition in columns:
        if name not in present:
            try:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Catalog:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            _add_missing_columns(db, "runs", RUN_COLUMNS_ADDED)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=FULL")
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- organisations and datasets -------------------------------------------------------------
    def upsert_dataset(self, dataset: Dataset, organization_title: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO organizations(name, title) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET title = excluded.title",
                (dataset.organization, organization_title),
            )
            row = dataset.model_dump(exclude={"latest_release"})
            row["tags"] = json.dumps(row["tags"])
            columns = ", ".join(row)
            placeholders = ", ".join(f":{k}" for k in row)
            updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "name")
            db.execute(
                f"INSERT INTO datasets({columns}) VALUES ({placeholders}) "
                f"ON CONFLICT(name) DO UPDATE SET {updates}",
                row,
            )

    def upsert_organization(self, name: str, title: str) -> None:
        """Add an organisation, or retitle it (the CKAN organization_create action; datasets add theirs)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO organizations(name, title) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET title = excluded.title",
                (name, title),
            )

    def organizations(self) -> list[Organization]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT o.name, o.title, count(d.name) AS datasets FROM organizations o "
                "LEFT JOIN datasets d ON d.organization = o.name GROUP BY o.name ORDER BY o.name"
            ).fetchall()
        return [Organization(**dict(r)) for r in rows]

    def datasets(self, *, published_only: bool = True) -> list[Dataset]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT d.*, (SELECT max(number) FROM releases r WHERE r.dataset = d.name "
                "AND r.state = 'published') AS latest_release FROM datasets d ORDER BY d.name"
            ).fetchall()
        found = [_dataset(r) for r in rows]
        return [d for d in found if d.latest_release is not None] if published_only else found

    def dataset(self, name: str, *, published_only: bool = True) -> Dataset:
        for found in self.datasets(published_only=published_only):
            if found.name == name:
                return found
        raise CatalogError(f"dataset '{name}' does not exist or has no published release")

    # --- releases --------------------------------------------------------------------------------
    def next_release_number(self, dataset: str) -> int:
        with self._connect() as db:
            row = db.execute("SELECT max(number) FROM releases WHERE dataset = ?", (dataset,)).fetchone()
        return int(row[0] or 0) + 1

    def record_release(self, release: Release, run: Run) -> None:
        """Make a release visible and close its run, in one transaction."""
        row = release.model_dump()
        row["table_schema"] = json.dumps(row["table_schema"])
        row["files"] = json.dumps(row["files"])
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO releases({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
            )
            _write_run(db, run)

    def set_release_state(self, dataset: str, number: int, state: str) -> None:
        published_at = utc_now() if state == "published" else None
        with self.transaction() as db:
            db.execute(
                "UPDATE releases SET state = ?, published_at = coalesce(?, published_at) "
                "WHERE dataset = ? AND number = ?",
                (state, published_at, dataset, number),
            )

    def releases(self, dataset: str, *, published_only: bool = True) -> list[Release]:
        query = "SELECT * FROM releases WHERE dataset = ?"
        if published_only:
            query += " AND state = 'published'"
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY number", (dataset,)).fetchall()
        return [_release(r) for r in rows]

    def release(self, dataset: str, number: int | None = None, *, published_only: bool = True) -> Release:
        return pick_release(dataset, self.releases(dataset, published_only=published_only), number)

    def all_releases(self, *, published_only: bool = True) -> list[Release]:
        """Every release of every dataset, by dataset then number, in one query (search, DCAT, CKAN push)."""
        query = "SELECT * FROM releases"
        if published_only:
            query += " WHERE state = 'published'"
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY dataset, number").fetchall()
        return [_release(r) for r in rows]

    # --- runs --------------------------------------------------------------------------------------
    def save_run(self, run: Run) -> None:
        with self.transaction() as db:
            _write_run(db, run)

    def runs(self, dataset: str | None = None, limit: int = 50) -> list[Run]:
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if dataset:
            query += " WHERE dataset = ?"
            params = (dataset,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY started_at DESC, rowid DESC LIMIT ?", (*params, limit))
            return [_run(r) for r in rows.fetchall()]

    def run(self, run_id: str) -> Run:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise CatalogError(f"run '{run_id}' does not exist")
        return _run(row)

    def interrupted_runs(self, dataset: str) -> list[Run]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM runs WHERE dataset = ? AND state IN ('queued', 'running')", (dataset,)
            ).fetchall()
        return [_run(r) for r in rows]


def pick_release(dataset: str, found: list[Release], number: int | None) -> Release:
    """Release ``number`` of a dataset's releases (in number order), or the latest when it is None."""
    if not found:
        raise CatalogError(f"dataset '{dataset}' does not exist or has no published release")
    if number is None:
        return found[-1]
    for release in found:
        if release.number == number:
            return release
    numbers = ", ".join(str(r.number) for r in found)
    raise CatalogError(f"dataset '{dataset}' has no release {number}; its releases are {numbers}")


def _write_run(db: sqlite3.Connection, run: Run) -> None:
    row = run.model_dump()
    row["stages"] = json.dumps(row["stages"])
    row["rows_by_stage"] = json.dumps(row["rows_by_stage"])
    updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "run_id")
    db.execute(
        f"INSERT INTO runs({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)}) "
        f"ON CONFLICT(run_id) DO UPDATE SET {updates}",
        row,
    )


def _dataset(row: sqlite3.Row) -> Dataset:
    values = dict(row)
    values["tags"] = json.loads(values["tags"])
    return Dataset(**values)


def _release(row: sqlite3.Row) -> Release:
    values = dict(row)
    values["table_schema"] = json.loads(values["table_schema"])
    values["files"] = json.loads(values["files"])
    return Release(**values)


def _run(row: sqlite3.Row) -> Run:
    values = dict(row)
    values["stages"] = json.loads(values["stages"])
    values["rows_by_stage"] = json.loads(values.get("rows_by_stage") or "{}")
    return Run(**values)
