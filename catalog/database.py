"""The catalog's database: the embedded SQLite file, or PostgreSQL shared by API replicas and workers.

Catalog modules write their SQL once, in SQLite's spelling (``?`` and ``:name`` placeholders,
``INSERT ... ON CONFLICT ... DO UPDATE``, ``RETURNING``), and run it through a ``CatalogConnection``,
which passes it to SQLite as it is or rewrites the placeholders for psycopg. The few real differences
(an identity column, the insertion order of runs, how a change is noticed, the lock that keeps two runs
of one job apart) are methods of the two database classes.

Rows read the same on both: by position (``row[0]``) and by name (``row["state"]``, ``dict(row)``).

PostgreSQL notes:
- one connection pool per process (a forked RQ work horse opens its own), connections in autocommit,
  ``transaction()`` is one BEGIN ... COMMIT;
- a statement-level trigger bumps ``catalog_version`` and sends a NOTIFY on every change to organisations,
  datasets and releases; an API replica LISTENs, so it knows its cached view is stale without a query per
  request (and reads the counter itself at least once a second, and whenever the listener is down);
- schema creation runs under an advisory lock, since ``CREATE TABLE IF NOT EXISTS`` races between
  processes starting together;
- a run holds a session advisory lock named after its job (``exclusive``), on whichever machine it runs.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import SecretStr

from opendata.errors import ConfigurationError, RunInProgress
from opendata.settings import Settings

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[Any] | dict[str, Any]

# Serialises schema creation across processes (an arbitrary, fixed advisory lock key).
SCHEMA_LOCK = 0x0DA7A_CA7
# What a PostgreSQL catalog adds to the shared schema: the change counter and its trigger.
POSTGRES_VERSION = """
CREATE TABLE IF NOT EXISTS catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version(id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('opendata_catalog', '');
    RETURN NULL;
END $$;
"""
VERSIONED_TABLES = ("organizations", "datasets", "releases")


class Row(tuple[Any, ...]):
    """A PostgreSQL row read like ``sqlite3.Row``: by position, by column name, and as a mapping."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    names = [column.name for column in cursor.description or []]
    index = {name: i for i, name in enumerate(names)}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, index)

    return make


_LITERALS = re.compile(r"('(?:[^']|'')*')")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """SQLite placeholders (``?``, ``:name``) as psycopg's (``%s``, ``%(name)s``); literals untouched."""
    parts = _LITERALS.split(sql)
    for i in range(0, len(parts), 2):  # even parts lie outside quoted literals
        text = parts[i].replace("%", "%%").replace("?", "%s")
        parts[i] = _NAMED.sub(r"%(\1)s", text)
    return "".join(parts)


class CatalogConnection:
    """One connection, whichever database: ``execute`` takes SQLite-spelled SQL."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    def execute(self, sql: str, params: Params = ()) -> Any:
        if self.dialect == "sqlite":
            return self.raw.execute(sql, params)
        return self.raw.execute(to_psycopg(sql), params if params else None)

    def executescript(self, script: str) -> None:
        if self.dialect == "sqlite":
            self.raw.executescript(script)
        else:
            self.raw.execute(script)


class ChangeProbe(Protocol):
    def version(self) -> int: ...

    def close(self) -> None: ...


class CatalogDatabase(Protocol):
    dialect: Dialect
    #: The column that orders rows of a table by insertion (SQLite's rowid, a sequence on PostgreSQL).
    insert_order: str
    #: An auto-numbered primary key column, in this database's DDL.
    identity: str

    def connect(self) -> Any: ...  # a context manager of CatalogConnection

    def transaction(self) -> Any: ...  # a context manager of CatalogConnection, BEGIN ... COMMIT

    def ensure_schema(self, key: str, script: str) -> None: ...

    def add_columns(self, table: str, columns: list[tuple[str, str]]) -> None: ...

    def change_probe(self) -> ChangeProbe: ...

    def exclusive(self, key: str, lock_folder: Path, busy: str) -> Any: ...  # a context manager; RunInProgress(busy)

    def describe(self) -> str: ...


def _ddl(script: str, dialect: Dialect) -> str:
    """Schema text written for SQLite, as PostgreSQL wants it (64-bit integers, identity columns)."""
    if dialect == "sqlite":
        return script
    script = script.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    return re.sub(r"\bINTEGER\b", "BIGINT", script)


class SqliteDatabase:
    """The embedded default: one SQLite file in WAL mode; each write is one ``BEGIN IMMEDIATE``."""

    dialect: Dialect = "sqlite"
    insert_order = "rowid"
    identity = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._schemas: set[str] = set()
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")

    @contextmanager
    def connect(self) -> Iterator[CatalogConnection]:
        raw = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("PRAGMA synchronous=FULL")
        try:
            yield CatalogConnection(raw, "sqlite")
        finally:
            raw.close()

    @contextmanager
    def transaction(self) -> Iterator[CatalogConnection]:
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def ensure_schema(self, key: str, script: str) -> None:
        if key in self._schemas:
            return
        with self.connect() as db:
            db.executescript(script)
        self._schemas.add(key)

    def add_columns(self, table: str, columns: list[tuple[str, str]]) -> None:
        with self.connect() as db:
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            for name, definition in columns:
                if name in present:
                    continue
                try:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise

    def change_probe(self) -> ChangeProbe:
        return _SqliteProbe(self.path)

    @contextmanager
    def exclusive(self, key: str, lock_folder: Path, busy: str) -> Iterator[None]:
        """A file lock in ``lock_folder``: one holder on this machine; the kernel frees it when the holder dies."""
        lock_folder.mkdir(parents=True, exist_ok=True)
        with open(lock_folder / f"{key}.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunInProgress(busy) from None
            handle.write(str(os.getpid()))
            handle.flush()
            yield

    def describe(self) -> str:
        return f"sqlite:{self.path}"


class _SqliteProbe:
    """``PRAGMA data_version`` on one kept connection: it changes when any other connection commits."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def version(self) -> int:
        with self._lock:
            row = self._db.execute("PRAGMA data_version").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()


class PostgresDatabase:
    """The catalog in PostgreSQL: what several API replicas and workers on other machines share."""

    dialect: Dialect = "postgresql"
    insert_order = "seq"
    identity = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str, pool_size: int = 8) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self._psycopg = psycopg
        try:  # one plain connection first: it fails at once, with the server's reason, when nothing answers
            psycopg.connect(url, connect_timeout=10).close()
            self.pool = ConnectionPool(
                url, min_size=1, max_size=pool_size, open=True, timeout=30, name="opendata-catalog",
                kwargs={"autocommit": True, "row_factory": _row_factory},
            )
        except psycopg.Error as exc:
            raise ConfigurationError(
                f"cannot reach the catalog database at {_redact(url)}: {str(exc).strip()}; check "
                "OPENDATA_CATALOG_URL and that PostgreSQL accepts connections"
            ) from exc
        self._schemas: set[str] = set()
        self._probes: weakref.WeakSet[_PostgresProbe] = weakref.WeakSet()
        self.ensure_schema("catalog_version", POSTGRES_VERSION)

    @contextmanager
    def connect(self) -> Iterator[CatalogConnection]:
        with self.pool.connection() as raw:
            yield CatalogConnection(raw, "postgresql")

    @contextmanager
    def transaction(self) -> Iterator[CatalogConnection]:
        with self.pool.connection() as raw:
            with raw.transaction():
                yield CatalogConnection(raw, "postgresql")
        for probe in list(self._probes):  # this process's own views see its writes at once, not at the NOTIFY
            probe.changed()

    def ensure_schema(self, key: str, script: str) -> None:
        if key in self._schemas:
            return
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            db.executescript(_ddl(script, "postgresql"))
            for table in VERSIONED_TABLES:  # a trigger once its table exists; never re-created (it locks the table)
                if db.execute("SELECT to_regclass(?)", (table,)).fetchone()[0] is None:
                    continue
                if db.execute("SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(?) AND tgname = ?",
                              (table, f"{table}_changed")).fetchone() is None:
                    db.execute(
                        f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                        "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
                    )
        self._schemas.add(key)

    def add_columns(self, table: str, columns: list[tuple[str, str]]) -> None:
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            for name, definition in columns:
                db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {_ddl(definition, 'postgresql')}")

    def change_probe(self) -> ChangeProbe:
        probe = _PostgresProbe(self)
        self._probes.add(probe)
        return probe

    @contextmanager
    def exclusive(self, key: str, lock_folder: Path, busy: str) -> Iterator[None]:
        """A session advisory lock on a connection of its own, held until the block ends: the server releases it
        when the holder's process dies (its session ends), on any machine."""
        with self._psycopg.connect(self.url, autocommit=True) as raw:
            found = raw.execute("SELECT hashtextextended(%s, 0)", (f"opendata:{key}",)).fetchone()
            assert found is not None
            got = raw.execute("SELECT pg_try_advisory_lock(%s)", (found[0],)).fetchone()
            if not got or not got[0]:
                raise RunInProgress(busy)
            try:
                yield
            finally:
                raw.execute("SELECT pg_advisory_unlock(%s)", (found[0],))

    def describe(self) -> str:
        return f"postgresql:{_redact(self.url)}"

    def close(self) -> None:
        self.pool.close()


class _PostgresProbe:
    """Notices catalog changes without a query per request: a thread LISTENs for the trigger's NOTIFY (sent
    on commit) and bumps a local counter. While the listener is down, and once every ``POLL_SECONDS`` in any
    case (a guard against a lost notification), ``version`` reads the database's counter instead."""

    POLL_SECONDS = 1.0

    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._local = 0
        self._seen = -1
        self._polled = 0.0
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="catalog-listener", daemon=True)
        self._thread.start()
        self._listening.wait(5)

    def _bump(self) -> None:
        with self._lock:
            self._local += 1

    def changed(self) -> None:
        """This process committed a transaction: the next ``version`` reads the counter, not waiting for the NOTIFY."""
        with self._lock:
            self._polled = 0.0

    def _listen(self) -> None:
        psycopg = self._database._psycopg
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._database.url, autocommit=True) as raw:
                    raw.execute("LISTEN opendata_catalog")
                    self._bump()  # whatever changed while no one listened is picked up now
                    self._listening.set()
                    while not self._stop.is_set():
                        for _ in raw.notifies(timeout=0.5):
                            self._bump()
            except psycopg.Error:
                self._listening.clear()
                self._bump()
                self._stop.wait(1.0)
        self._listening.clear()

    def version(self) -> int:
        now = time.monotonic()
        if not self._listening.is_set() or now - self._polled > self.POLL_SECONDS:
            with self._database.connect() as db:
                row = db.execute("SELECT version FROM catalog_version WHERE id = 1").fetchone()
            seen = int(row[0]) if row else 0
            with self._lock:
                self._polled = now
                if seen != self._seen:
                    self._seen = seen
                    self._local += 1
        with self._lock:
            return self._local

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._database._probes.discard(self)


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


_POOLS: dict[tuple[str, int], PostgresDatabase] = {}
_POOLS_LOCK = threading.Lock()


def open_database(url: str | None, sqlite_path: Path) -> CatalogDatabase:
    """The catalog database a setting names: PostgreSQL for a postgresql:// URL (one pool per process),
    else the embedded SQLite file."""
    if not url:
        return SqliteDatabase(sqlite_path)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigurationError(
            f"OPENDATA_CATALOG_URL must be a postgresql:// URL (or unset for the embedded SQLite file); got "
            f"{_redact(url)!r}"
        )
    key = (url, os.getpid())
    with _POOLS_LOCK:
        found = _POOLS.get(key)
        if found is None:
            found = _POOLS[key] = PostgresDatabase(url)
        return found


def close_databases() -> None:
    """Close every PostgreSQL pool this process opened (tests, and processes that switch catalogs)."""
    with _POOLS_LOCK:
        for database in _POOLS.values():
            database.close()
        _POOLS.clear()


def integrity_error(exc: BaseException) -> bool:
    """True when ``exc`` is a constraint violation from either database."""
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.errors.IntegrityError)



def catalog_database(settings: Settings) -> CatalogDatabase:
    """The catalog database the settings choose (OPENDATA_CATALOG_URL, else HOME/catalog.sqlite3)."""
    value = settings.catalog_url
    url = value.get_secret_value() if isinstance(value, SecretStr) else value
    return open_database(url, settings.paths.catalog_db)
