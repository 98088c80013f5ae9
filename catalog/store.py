"""The catalog: organisations, datasets, releases, runs, in SQLite (embedded default) or PostgreSQL.

Each write is one transaction, so a crash leaves either the old state or the new one. Readers (the API)
read while a job publishes (SQLite's WAL mode; PostgreSQL's MVCC). ``catalog.database`` hides which.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog import events, release_dcat
from catalog.database import CatalogConnection, CatalogDatabase, SqliteDatabase, catalog_database, integrity_error
from catalog.models import METADATA_FIELDS, Dataset, Organization, Release, Run
from catalog.release_dcat import DcatFacts
from catalog.search_index import ensure_search_index, record_of_row, refresh_documents, refresh_organization
from opendata.errors import CatalogError
from opendata.settings import Settings


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Catalog:
    """Organisations, datasets, releases and runs, in the database ``source`` names (a SQLite file's path,
    or an open ``CatalogDatabase``: see ``catalog.database``)."""

    def __init__(self, source: Path | CatalogDatabase) -> None:
        self.database: CatalogDatabase = SqliteDatabase(source) if isinstance(source, Path) else source
        self._run_sequence: str | None = None  # PostgreSQL: the sequence behind runs.seq ("" when unreadable)
        ensure_search_index(self.database)

    @contextmanager
    def _connect(self) -> Iterator[CatalogConnection]:
        with self.database.connect() as db:
            yield db

    @contextmanager
    def transaction(self) -> Iterator[CatalogConnection]:
        with self.database.transaction() as db:
            yield db

    # --- organisations and datasets -------------------------------------------------------------
    def upsert_dataset(self, dataset: Dataset, organization_title: str) -> None:
        with self.transaction() as db:
            retitled = _retitles(db, dataset.organization, organization_title)
            db.execute(
                "INSERT INTO organizations(name, title) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET title = excluded.title",
                (dataset.organization, organization_title),
            )
            row = dataset.model_dump(exclude={"latest_release", *METADATA_FIELDS})
            row["tags"] = json.dumps(row["tags"])
            row["metadata"] = json.dumps(dataset.model_dump(include=set(METADATA_FIELDS), exclude_none=True))
            profile = dataset.organization_profile
            row["organization_profile"] = profile.model_dump_json() if profile is not None else None
            columns = ", ".join(row)
            placeholders = ", ".join(f":{k}" for k in row)
            updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "name")
            db.execute(
                f"INSERT INTO datasets({columns}) VALUES ({placeholders}) "
                f"ON CONFLICT(name) DO UPDATE SET {updates}",
                row,
            )
            if retitled:
                refresh_organization(db, dataset.organization)
            else:
                refresh_documents(db, [dataset.name])

    def record_transfer(self, dataset: str, from_organization: str, to_organization: str, job_path: str) -> None:
        """Record that ``dataset`` moves between organisations (a job file's ``transfer_from``)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO dataset_transfers(dataset, from_organization, to_organization, job_path, at) "
                "VALUES (?, ?, ?, ?, ?)", (dataset, from_organization, to_organization, job_path, utc_now()),
            )

    def transfers(self, dataset: str) -> list[dict[str, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT dataset, from_organization, to_organization, job_path, at FROM dataset_transfers "
                "WHERE dataset = ? ORDER BY at", (dataset,),
            ).fetchall()
        return [dict(r) for r in rows]

    def upsert_organization(self, name: str, title: str) -> None:
        """Add an organisation, or retitle it (the CKAN organization_create action; datasets add theirs)."""
        with self.transaction() as db:
            retitled = _retitles(db, name, title)
            db.execute(
                "INSERT INTO organizations(name, title) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET title = excluded.title",
                (name, title),
            )
            if retitled:
                refresh_organization(db, name)

    def organizations(self) -> list[Organization]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT o.name, o.title, count(d.name) AS datasets FROM organizations o "
                "LEFT JOIN datasets d ON d.organization = o.name GROUP BY o.name ORDER BY o.name"
            ).fetchall()
        return [Organization(**dict(r)) for r in rows]

    def organization(self, name: str) -> Organization | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT o.name, o.title, (SELECT count(*) FROM datasets d WHERE d.organization = o.name) AS datasets "
                "FROM organizations o WHERE o.name = ?", (name,)
            ).fetchone()
        return Organization(**dict(row)) if row is not None else None

    def organization_count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM organizations").fetchone()[0])

    def datasets(self, *, published_only: bool = True) -> list[Dataset]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT d.*, (SELECT max(number) FROM releases r WHERE r.dataset = d.name "
                "AND r.state = 'published') AS latest_release FROM datasets d ORDER BY d.name"
            ).fetchall()
        found = [_dataset(r) for r in rows]
        return [d for d in found if d.latest_release is not None] if published_only else found

    def dataset(self, name: str, *, published_only: bool = True) -> Dataset:
        """One dataset, by its primary key."""
        with self._connect() as db:
            row = db.execute(
                "SELECT d.*, (SELECT max(number) FROM releases r WHERE r.dataset = d.name "
                "AND r.state = 'published') AS latest_release FROM datasets d WHERE d.name = ?", (name,)
            ).fetchone()
        if row is None or (published_only and row["latest_release"] is None):
            raise CatalogError(f"dataset '{name}' does not exist or has no published release")
        return _dataset(row)

    def published_dataset(self, name: str) -> tuple[Dataset | None, list[Release]]:
        """A dataset and its published releases (oldest first); (None, []) when it has none published."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE name = ?", (name,)).fetchone()
            found = db.execute(
                "SELECT * FROM releases WHERE dataset = ? AND state = 'published' ORDER BY number", (name,)
            ).fetchall() if row is not None else []
        releases = [_release(r) for r in found]
        if row is None or not releases:
            return None, []
        values = dict(row)
        values["latest_release"] = releases[-1].number
        return _dataset(values), releases

    def published_datasets(self, names: list[str]) -> list[tuple[Dataset, list[Release]]]:
        """Several datasets (in the order named) with their published releases, oldest first, in two
        queries by key; a name without a published release is left out."""
        if not names:
            return []
        marks = ", ".join("?" for _ in names)
        with self._connect() as db:
            dataset_rows = db.execute(f"SELECT * FROM datasets WHERE name IN ({marks})", names).fetchall()
            release_rows = db.execute(
                f"SELECT * FROM releases WHERE dataset IN ({marks}) AND state = 'published' ORDER BY dataset, number",
                names,
            ).fetchall()
        releases: dict[str, list[Release]] = {}
        for row in release_rows:
            releases.setdefault(row["dataset"], []).append(_release(row))
        rows = {row["name"]: row for row in dataset_rows}
        found = []
        for name in names:
            if name in rows and releases.get(name):
                values = dict(rows[name])
                values["latest_release"] = releases[name][-1].number
                found.append((_dataset(values), releases[name]))
        return found

    def release_dcat(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], DcatFacts]:
        """The DCAT facts kept with the releases named (dataset, number), by key (one query a few hundred)."""
        with self._connect() as db:
            return release_dcat.read(db, keys)

    def organization_titles(self, names: list[str]) -> dict[str, str]:
        """Organisation name -> title, for the names given (one query by key)."""
        if not names:
            return {}
        marks = ", ".join("?" for _ in names)
        with self._connect() as db:
            rows = db.execute(f"SELECT name, title FROM organizations WHERE name IN ({marks})", names).fetchall()
        return {str(r["name"]): str(r["title"]) for r in rows}

    def published_names(self, limit: int | None = None, offset: int = 0) -> tuple[list[str], int]:
        """Names of the published datasets in name order (a page of them), and how many there are."""
        with self._connect() as db:
            total = int(db.execute("SELECT count(*) FROM search_documents").fetchone()[0])
            query = "SELECT name FROM search_documents ORDER BY name"
            params: tuple[Any, ...] = ()
            if limit is not None:
                query += " LIMIT ? OFFSET ?"
                params = (limit, offset)
            names = [str(name) for name in db.execute(query, params).column()]
        return names, total

    def recently_updated(self, limit: int) -> list[str]:
        """Names of the published datasets updated most recently, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT name FROM search_documents ORDER BY updated_at DESC, name LIMIT ?", (limit,))
            return [str(r[0]) for r in rows.fetchall()]

    def published_counts(self) -> dict[str, int]:
        """Organisation -> its number of published datasets."""
        with self._connect() as db:
            rows = db.execute("SELECT organization, count(*) FROM search_documents GROUP BY organization").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def published(self) -> tuple[dict[str, Dataset], dict[str, list[Release]]]:
        """Every published dataset and its published releases (oldest first), in one query."""
        datasets: dict[str, Dataset] = {}
        releases: dict[str, list[Release]] = {}
        with self._connect() as db:
            dataset_rows = db.execute(
                "SELECT d.*, (SELECT max(number) FROM releases r WHERE r.dataset = d.name "
                "AND r.state = 'published') AS latest_release FROM datasets d "
                "WHERE EXISTS (SELECT 1 FROM releases r WHERE r.dataset = d.name AND r.state = 'published') "
                "ORDER BY d.name"
            ).fetchall()
            release_rows = db.execute(
                "SELECT * FROM releases WHERE state = 'published' ORDER BY dataset, number"
            ).fetchall()
        for row in dataset_rows:
            datasets[row["name"]] = _dataset(row)
        for row in release_rows:
            releases.setdefault(row["dataset"], []).append(_release(row))
        return datasets, releases

    # --- releases --------------------------------------------------------------------------------
    def next_release_number(self, dataset: str) -> int:
        with self._connect() as db:
            row = db.execute("SELECT max(number) FROM releases WHERE dataset = ?", (dataset,)).fetchone()
        return int(row[0] or 0) + 1

    def record_release(self, release: Release, run: Run, dcat: DcatFacts | None = None) -> None:
        """Make a release visible and close its run, in one transaction; ``dcat``: its DCAT facts, kept with
        it (``catalog.release_dcat``)."""
        row = release.model_dump()
        row["table_schema"] = json.dumps(row["table_schema"])
        row["files"] = json.dumps(row["files"])
        try:
            with self.transaction() as db:
                db.execute(
                    f"INSERT INTO releases({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
                )
                _write_run(db, run)
                if dcat is not None:
                    release_dcat.insert(db, release.dataset, release.number, dcat)
                if release.state == "published":
                    refresh_documents(db, [release.dataset])
                    events.record_event(db, "release.published", release.dataset, release.number, release.rows,
                                        release.published_at or utc_now())
                elif release.state == "awaiting-approval":  # officers' webhooks hear of it (never the public stream)
                    events.record_event(db, "release.awaiting_approval", release.dataset, release.number,
                                        release.rows, release.created_at)
        except Exception as exc:
            if integrity_error(exc):  # the job lock makes this unreachable unless two catalogs race
                raise CatalogError(
                    f"release {release.number} of '{release.dataset}' was already recorded by another run; "
                    "this run's release is not published"
                ) from exc
            raise

    def set_release_state(self, dataset: str, number: int, state: str) -> None:
        published_at = utc_now() if state == "published" else None
        with self.transaction() as db:
            before = db.execute("SELECT state, rows FROM releases WHERE dataset = ? AND number = ?",
                                (dataset, number)).fetchone()
            db.execute(
                "UPDATE releases SET state = ?, published_at = coalesce(?, published_at) "
                "WHERE dataset = ? AND number = ?",
                (state, published_at, dataset, number),
            )
            refresh_documents(db, [dataset])
            if before is not None and before["state"] != state and "published" in (state, before["state"]):
                kind: events.EventType = "release.published" if state == "published" else "release.withdrawn"
                events.record_event(db, kind, dataset, number, int(before["rows"]), utc_now())

    def withdraw_release(self, dataset: str, number: int) -> Release:
        """Take a published release back: no longer readable through the API; a ``release.withdrawn`` event."""
        release = self.release(dataset, number)  # CatalogError unless published
        self.set_release_state(dataset, number, "withdrawn")
        return release.model_copy(update={"state": "withdrawn"})

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

    def scheduled(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Each scheduled dataset (or just ``dataset``) with what missed-release checks need, in one query: its
        latest release that is not rejected (number, created_at), its latest run (state, error), when its
        first run started and when its latest ``unchanged`` run started."""
        order = self.database.insert_order
        query = (
            "SELECT d.name, d.schedule, d.timezone, "
            "(SELECT r.number FROM releases r WHERE r.dataset = d.name AND r.state <> 'rejected' "
            " ORDER BY r.number DESC LIMIT 1) AS last_release, "
            "(SELECT r.created_at FROM releases r WHERE r.dataset = d.name AND r.state <> 'rejected' "
            " ORDER BY r.number DESC LIMIT 1) AS last_release_at, "
            f"(SELECT u.state FROM runs u WHERE u.dataset = d.name ORDER BY u.started_at DESC, u.{order} DESC "
            " LIMIT 1) AS last_run_state, "
            # the public side's error: never the private message, which may quote the source
            "(SELECT CASE WHEN u.public_error IS NOT NULL THEN u.public_error WHEN u.error IS NOT NULL THEN "
            "'the run ended ' || u.state || '; its private report holds the details' END "
            f"FROM runs u WHERE u.dataset = d.name ORDER BY u.started_at DESC, u.{order} DESC "
            " LIMIT 1) AS last_error, "
            "(SELECT min(u.started_at) FROM runs u WHERE u.dataset = d.name) AS first_run_at, "
            # a run that found the source unchanged keeps the latest release current
            "(SELECT max(u.started_at) FROM runs u WHERE u.dataset = d.name AND u.state = 'unchanged') "
            " AS last_unchanged_at "
            "FROM datasets d WHERE d.schedule IS NOT NULL AND d.schedule <> ''"
        )
        params: tuple[Any, ...] = ()
        if dataset is not None:
            query += " AND d.name = ?"
            params = (dataset,)
        with self._connect() as db:
            return [dict(r) for r in db.execute(query + " ORDER BY d.name", params).fetchall()]

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
            order = self.database.insert_order
            rows = db.execute(query + f" ORDER BY started_at DESC, {order} DESC LIMIT ?", (*params, limit))
            return [_run(r) for r in rows.fetchall()]

    def runs_page(
        self, dataset: str | None = None, state: str | None = None, *, limit: int = 50, offset: int = 0,
        published_only: bool = False, count: bool = True,
    ) -> tuple[list[Run], int]:
        """A page of runs, newest first (of one dataset, in one state, when given; of datasets with a
        published release only, for the public side), and how many match (-1 without ``count``: the count
        visits every matching run, the page only its own)."""
        condition, params = _runs_condition(dataset, state, published_only)
        order = self.database.insert_order
        with self._connect() as db:
            total = int(db.execute(f"SELECT count(*) FROM runs{condition}", params).fetchone()[0]) if count else -1
            rows = db.execute(f"SELECT * FROM runs{condition} ORDER BY started_at DESC, {order} DESC LIMIT ? OFFSET ?",
                              (*params, limit, offset)).fetchall()
        return [_run(r) for r in rows], total

    def runs_total(self, dataset: str | None = None, *, published_only: bool = False) -> tuple[int, bool]:
        """How many runs ``runs_page`` would page through (without a state filter), and whether that count is
        exact for the ``runs_mark`` read before it. On SQLite always (one writer; the mark is the newest
        committed run). On PostgreSQL a run's insert takes its sequence number before it commits, holding the
        table's RowExclusiveLock (taken before the number, released after the commit is visible) until then:
        when no transaction holds that lock after the mark was read, every run the mark counts had committed
        before the count's snapshot."""
        condition, params = _runs_condition(dataset, None, published_only)
        with self._connect() as db:
            quiet = True
            if self.database.dialect == "postgresql":  # pg_locks: readable by every role, not MVCC (live)
                quiet = db.execute(
                    "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation' "
                    "AND relation = CAST('runs' AS regclass) AND mode = 'RowExclusiveLock' "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))").fetchone()[0]
            total = int(db.execute(f"SELECT count(*) FROM runs{condition}", params).fetchone()[0])
        return total, bool(quiet)

    def runs_mark(self) -> int:
        """A number that moves whenever a run is added (runs are never deleted), read in one indexed step:
        SQLite's newest rowid; on PostgreSQL the last value of the sequence behind ``runs.seq`` (that column
        has no index, so ``max(seq)`` would visit every run), or ``max(seq)`` for a role that may not read the
        sequence (docs/deploy.md grants it to replicas). The sequence moves when an insert takes its number,
        before that insert commits: ``api.runs_totals`` keeps a total only once the mark has settled."""
        with self._connect() as db:
            if self.database.dialect == "postgresql":
                if self._run_sequence is None:
                    row = db.execute("SELECT s, s IS NOT NULL AND has_sequence_privilege(s, 'SELECT, USAGE') "
                                     "FROM (SELECT pg_get_serial_sequence('runs', 'seq') AS s) q").fetchone()
                    self._run_sequence = str(row[0]) if row[1] else ""
                if self._run_sequence:
                    row = db.execute("SELECT pg_sequence_last_value(CAST(? AS regclass))",
                                     (self._run_sequence,)).fetchone()
                    return int(row[0] or 0)
            row = db.execute(f"SELECT max({self.database.insert_order}) FROM runs").fetchone()
        return int(row[0] or 0)

    def run(self, run_id: str) -> Run:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise CatalogError(f"run '{run_id}' does not exist")
        return _run(row)

    def mark_interrupted(self, run: Run, why: str) -> bool:
        """Record ``run`` as interrupted if it is still the same try in state ``running``; whether it was."""
        with self.transaction() as db:
            changed = db.execute(
                "UPDATE runs SET state = 'interrupted', ended_at = ?, error = ?, public_error = ? "
                "WHERE run_id = ? AND state = 'running' AND attempt = ? AND started_at = ?",
                (utc_now(), why, why, run.run_id, run.attempt, run.started_at),
            ).rowcount
        return bool(changed)

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


def _retitles(db: CatalogConnection, organization: str, title: str) -> bool:
    """Whether writing ``title`` changes an existing organisation's title (its datasets' documents hold it)."""
    row = db.execute("SELECT title FROM organizations WHERE name = ?", (organization,)).fetchone()
    return row is not None and row[0] != title


def _write_run(db: CatalogConnection, run: Run) -> None:
    row = run.model_dump()
    row["stages"] = json.dumps(row["stages"])
    row["rows_by_stage"] = json.dumps(row["rows_by_stage"])
    updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "run_id")
    db.execute(
        f"INSERT INTO runs({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)}) "
        f"ON CONFLICT(run_id) DO UPDATE SET {updates}",
        row,
    )


def dataset_from_row(row: Any) -> Dataset:
    """A ``Dataset`` from a row of ``datasets`` (plus its ``latest_release``)."""
    return _dataset(row)


def _dataset(row: Any) -> Dataset:
    return record_of_row(row)


def _release(row: Any) -> Release:
    values = dict(row)
    values["table_schema"] = json.loads(values["table_schema"])
    values["files"] = json.loads(values["files"])
    return Release(**values)


def _runs_condition(dataset: str | None, state: str | None, published_only: bool) -> tuple[str, list[str]]:
    """The WHERE clause of a runs listing, with its parameters."""
    where, params = [], []
    if published_only:  # per run, so the page walks runs newest first and stops at its limit
        where.append("EXISTS (SELECT 1 FROM releases p WHERE p.dataset = runs.dataset AND p.state = 'published')")
    if dataset:
        where.append("dataset = ?")
        params.append(dataset)
    if state:
        where.append("state = ?")
        params.append(state)
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


def _run(row: Any) -> Run:
    values = dict(row)
    values.pop("seq", None)
    values["stages"] = json.loads(values["stages"])
    values["rows_by_stage"] = json.loads(values.get("rows_by_stage") or "{}")
    return Run(**values)


def open_catalog(settings: Settings) -> Catalog:
    """The catalog the settings choose: PostgreSQL when OPENDATA_CATALOG_URL is set, else HOME/catalog.sqlite3."""
    return Catalog(catalog_database(settings))
