"""The catalog's database: the embedded SQLite file, or PostgreSQL shared by API replicas and workers.

SQLAlchemy Core does the dialect work: one ``Engine`` per database and process (its pool; a forked RQ work
horse makes its own), the driver's placeholders, types and quoting. Catalog modules keep their SQL as text
in the spelling both databases share (``INSERT ... ON CONFLICT ... DO UPDATE``, ``RETURNING``) with bound
parameters (``:name`` with a mapping, or ``?`` with a sequence), and run it through a ``CatalogConnection``.
The schema is not created here: it is ``catalog.schema`` (SQLAlchemy ``MetaData``), made and changed by the
Alembic migrations of ``catalog/migrations`` (``opendata db upgrade``); ``catalog.schema_version`` checks
that a database is at the version the code expects before anything reads it.

Rows read the same on both: by position (``row[0]``) and by name (``row["state"]``, ``dict(row)``).

What differs is kept as methods of the two database classes:
- SQLite: WAL mode, each write one ``BEGIN IMMEDIATE``; a change is noticed by ``PRAGMA data_version``; the
  lock that keeps two runs of one job apart is a file lock.
- PostgreSQL: connections in autocommit for reads, ``transaction()`` is one BEGIN ... COMMIT; a statement
  trigger (made by the migrations) bumps ``catalog_version`` and sends a NOTIFY on every change to
  organisations, datasets and releases; an API replica LISTENs, so it knows its cached view is stale without
  a query per request (and reads the counter itself at least once a second, and whenever the listener is
  down); a run holds a session advisory lock named after its job (``exclusive``), on whichever machine.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import sqlalchemy
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.pool import NullPool

from opendata.errors import ConfigurationError, RunInProgress
from opendata.settings import Settings

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[Any] | Mapping[str, Any]



class Row(tuple[Any, ...]):
    """A row read like ``sqlite3.Row``: by position, by column name, and as a mapping (``dict(row)``)."""

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


class Result:
    """What ``execute`` returns: ``fetchone``, ``fetchall``, iteration and ``rowcount``, with ``Row`` rows."""

    __slots__ = ("_result", "_index")

    def __init__(self, result: CursorResult[Any]) -> None:
        self._result = result
        self._index = _index(tuple(result.keys())) if result.returns_rows else {}

    @property
    def rowcount(self) -> int:
        return int(self._result.rowcount)

    def fetchone(self) -> Any:  # Row | None, typed as the DB-API's cursor is (callers index a row they know is there)
        if not self._result.returns_rows:
            return None
        found = self._result.fetchone()
        return None if found is None else Row(found, self._index)

    def fetchall(self) -> list[Row]:
        if not self._result.returns_rows:
            return []
        index = self._index
        return [Row(found, index) for found in self._result.fetchall()]

    def plain(self) -> list[Sequence[Any]]:
        """Every row, read by position only (a long read, e.g. a search's ranking, without a ``Row`` made for
        each)."""
        if not self._result.returns_rows:
            return []
        return list(self._result.all())

    def column(self) -> list[Any]:
        """Every row's first value (a long list of names is read without a ``Row`` made for each)."""
        if not self._result.returns_rows:
            return []
        return list(self._result.scalars().all())

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


@lru_cache(maxsize=256)
def _index(keys: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(keys)}


_LITERALS = re.compile(r"('(?:[^']|'')*')")


@lru_cache(maxsize=1024)
def statement(sql: str) -> tuple[sqlalchemy.TextClause, tuple[str, ...]]:
    """``sql`` as a SQLAlchemy ``text()`` clause, with the names its ``?`` parameters are bound to, in order.

    SQLAlchemy renders the bound parameters in the driver's own style; a colon inside a quoted literal
    (``'12:30'``) stays text."""
    names: list[str] = []
    parts = _LITERALS.split(sql)
    for i, part in enumerate(parts):
        if i % 2:  # a quoted literal: no parameters in it
            parts[i] = part.replace(":", "\\:")
            continue
        pieces = part.split("?")
        for j in range(1, len(pieces)):
            names.append(f"p{len(names)}")
            pieces[j] = f":{names[-1]}" + pieces[j]
        parts[i] = "".join(pieces)
    return sqlalchemy.text("".join(parts)), tuple(names)


class CatalogConnection:
    """One connection, whichever database: ``execute`` takes SQL text and its bound parameters."""

    def __init__(self, connection: Connection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def execute(self, sql: str, params: Params = ()) -> Result:
        clause, names = statement(sql)
        if isinstance(params, Mapping):
            bound: Mapping[str, Any] = params
        elif names:
            if len(names) != len(params):
                raise ValueError(f"{len(names)} parameters in the statement, {len(params)} given: {sql[:80]!r}")
            bound = dict(zip(names, params, strict=True))
        else:
            bound = {}
        try:
            return Result(self.connection.execute(clause, bound))
        except sqlalchemy.exc.DBAPIError as exc:  # the driver's own error, as callers have always caught it
            if isinstance(exc.orig, Exception):
                raise exc.orig from exc
            raise


class ChangeProbe(Protocol):
    def version(self) -> int: ...

    def close(self) -> None: ...


class CatalogDatabase(Protocol):
    dialect: Dialect
    engine: Engine
    #: The column that orders rows of a table by insertion (SQLite's rowid, a sequence on PostgreSQL).
    insert_order: str

    def connect(self) -> Any: ...  # a context manager of CatalogConnection (autocommit: each statement its own)

    def transaction(self) -> Any: ...  # a context manager of CatalogConnection, BEGIN ... COMMIT

    def change_probe(self) -> ChangeProbe: ...

    def exclusive(self, key: str, lock_folder: Path, busy: str) -> Any: ...  # a context manager; RunInProgress(busy)

    def describe(self) -> str: ...


_ENGINES: dict[tuple[str, int], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _sqlite_engine(path: Path) -> Engine:
    key = (f"sqlite:{path}", os.getpid())
    with _ENGINES_LOCK:
        found = _ENGINES.get(key)
        if found is None:
            found = _ENGINES[key] = sqlalchemy.create_engine(
                sqlalchemy.URL.create("sqlite+pysqlite", database=str(path)),
                isolation_level="AUTOCOMMIT",  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
                connect_args={"timeout": 30, "check_same_thread": False},
                pool_size=8, max_overflow=16, pool_timeout=30,
            )
            event.listen(found, "connect", _sqlite_pragmas)
            event.listen(found, "checkout", _same_file)
        return found


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _sqlite_pragmas(raw: Any, record: Any) -> None:
    cursor = raw.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    cursor.close()
    record.info["file"] = (path, _file_id(path))


def _same_file(_raw: Any, record: Any, _proxy: Any) -> None:
    """A pooled connection to a catalog file that was since replaced (deleted, copied over) is dropped, and
    the pool opens the file that is there now."""
    path, opened = record.info.get("file", ("", None))
    if path and _file_id(path) != opened:
        raise sqlalchemy.exc.DisconnectionError(f"{path} was replaced")


class SqliteDatabase:
    """The embedded default: one SQLite file in WAL mode; each write is one ``BEGIN IMMEDIATE``."""

    dialect: Dialect = "sqlite"
    insert_order = "rowid"

    def __init__(self, path: Path, check_schema: bool = True) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = _sqlite_engine(path)
        if check_schema:
            from catalog.schema_version import ensure_current

            ensure_current(self)

    @contextmanager
    def connect(self) -> Iterator[CatalogConnection]:
        with self.engine.connect() as connection:
            yield CatalogConnection(connection, "sqlite")

    @contextmanager
    def transaction(self) -> Iterator[CatalogConnection]:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield CatalogConnection(connection, "sqlite")
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")

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
        self._path = path
        self._db: sqlite3.Connection | None = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def version(self) -> int:
        with self._lock:
            if self._db is None:  # closed by an app's shutdown, asked again by its next start
                self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            row = self._db.execute("PRAGMA data_version").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class PostgresDatabase:
    """The catalog in PostgreSQL: what several API replicas and workers on other machines share."""

    dialect: Dialect = "postgresql"
    insert_order = "seq"

    def __init__(self, url: str, pool_size: int = 8, check_schema: bool = True) -> None:
        import psycopg

        self.url = url
        self._psycopg = psycopg
        address = sqlalchemy.make_url(url).set(drivername="postgresql+psycopg")
        self.engine = sqlalchemy.create_engine(address, pool_size=pool_size, max_overflow=0, pool_timeout=30,
                                               connect_args={"connect_timeout": 10})
        self._reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # The advisory lock of a run lives on a connection of its own, outside the pool, as long as the run.
        self._locks = sqlalchemy.create_engine(address, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                               connect_args={"connect_timeout": 10})
        try:  # one connection first: it fails at once, with the server's reason, when nothing answers
            with self._reads.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except sqlalchemy.exc.OperationalError as exc:
            self.engine.dispose()
            raise ConfigurationError(
                f"cannot reach the catalog database at {_redact(url)}: {str(exc.orig).strip()}; check "
                "OPENDATA_CATALOG_URL and that PostgreSQL accepts connections"
            ) from exc
        self._probes: weakref.WeakSet[_PostgresProbe] = weakref.WeakSet()
        if check_schema:
            from catalog.schema_version import ensure_current

            ensure_current(self)

    @contextmanager
    def connect(self) -> Iterator[CatalogConnection]:
        with self._reads.connect() as connection:
            yield CatalogConnection(connection, "postgresql")

    @contextmanager
    def transaction(self) -> Iterator[CatalogConnection]:
        with self.engine.begin() as connection:
            yield CatalogConnection(connection, "postgresql")
        for probe in list(self._probes):  # this process's own views see its writes at once, not at the NOTIFY
            probe.changed()

    def change_probe(self) -> ChangeProbe:
        probe = _PostgresProbe(self)
        self._probes.add(probe)
        return probe

    @contextmanager
    def exclusive(self, key: str, lock_folder: Path, busy: str) -> Iterator[None]:
        """A session advisory lock on a connection of its own, held until the block ends: the server releases it
        when the holder's process dies (its session ends), on any machine."""
        with self._locks.connect() as connection:
            lock = connection.execute(sqlalchemy.text("SELECT hashtextextended(:key, 0)"),
                                      {"key": f"opendata:{key}"}).scalar_one()
            if not connection.execute(sqlalchemy.text("SELECT pg_try_advisory_lock(:lock)"), {"lock": lock}).scalar():
                raise RunInProgress(busy)
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:lock)"), {"lock": lock})

    def describe(self) -> str:
        return f"postgresql:{_redact(self.url)}"

    def close(self) -> None:
        self.engine.dispose()
        self._locks.dispose()


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
        psycopg = self._database._psycopg  # LISTEN is the driver's: a connection of its own, outside the pool
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


def open_database(url: str | None, sqlite_path: Path, check_schema: bool = True) -> CatalogDatabase:
    """The catalog database a setting names: PostgreSQL for a postgresql:// URL (one pool per process),
    else the embedded SQLite file. Unless ``check_schema`` is off (``opendata db``), the database must be at
    the schema version of this code (an empty one is made so): see ``catalog.schema_version``."""
    if not url:
        return SqliteDatabase(sqlite_path, check_schema=check_schema)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigurationError(
            f"OPENDATA_CATALOG_URL must be a postgresql:// URL (or unset for the embedded SQLite file); got "
            f"{_redact(url)!r}"
        )
    key = (url, os.getpid())
    with _POOLS_LOCK:
        found = _POOLS.get(key)
        if found is None:
            found = _POOLS[key] = PostgresDatabase(url, check_schema=False)
    if check_schema:
        from catalog.schema_version import ensure_current

        ensure_current(found)
    return found


def close_databases() -> None:
    """Close every PostgreSQL pool this process opened (tests, and processes that switch catalogs); the next
    open checks each catalog's schema revision again."""
    from catalog.schema_version import forget_checks

    forget_checks()
    with _POOLS_LOCK:
        for database in _POOLS.values():
            database.close()
        _POOLS.clear()
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def integrity_error(exc: BaseException) -> bool:
    """True when ``exc`` is a constraint violation from either database."""
    if isinstance(exc, sqlalchemy.exc.IntegrityError | sqlite3.IntegrityError):
        return True
    import psycopg

    return isinstance(exc, psycopg.errors.IntegrityError)


def catalog_url(settings: Settings) -> str | None:
    value = settings.catalog_url
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def catalog_database(settings: Settings, check_schema: bool = True) -> CatalogDatabase:
    """The catalog database the settings choose (OPENDATA_CATALOG_URL, else HOME/catalog.sqlite3)."""
    return open_database(catalog_url(settings), settings.paths.catalog_db, check_schema=check_schema)
