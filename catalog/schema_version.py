"""Which schema version a catalog database is at, and the upgrade to the version of this code (Alembic).

    opendata db current     the database's revision and this code's (``current``)
    opendata db upgrade     run the migrations up to this code's revision (``upgrade``)
    opendata db downgrade REVISION   back to an older revision, before rolling back the code (``downgrade``)

A process that opens the catalog checks its version first (``ensure_current``, once per database and
process): at this code's revision it goes on; an empty database (a new installation) is upgraded at once;
a catalog at an older revision, or made before versioned migrations existed, is refused with a message
naming ``opendata db upgrade``; one at a revision this code does not know (upgraded by a newer release) is
refused too: this code would misread it. Only ``opendata db upgrade`` (and ``opendata up``) change the
schema, so API replicas can use a database role that may only read (docs/deploy.md).

An upgrade is one transaction; on PostgreSQL it first takes an advisory lock, so processes that upgrade
together run the migrations once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import sqlalchemy
from sqlalchemy.engine import Connection

from catalog.database import CatalogDatabase
from opendata.errors import ConfigurationError, SchemaVersionMismatch

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

#: This code's schema revision: the newest migration in catalog/migrations/versions (a test keeps them equal).
#: Checking a catalog at it needs no Alembic import (processes start faster); anything else asks Alembic.
HEAD = "0004_release_dcat"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Serialises upgrades across processes (an arbitrary, fixed advisory lock key).
UPGRADE_LOCK = 0x0DA7A_CA7
# Tables of every catalog since the first release: one present means a catalog made before migrations.
CATALOG_TABLES = ("organizations", "datasets", "releases", "runs")

Status = Literal["current", "empty", "unversioned", "older", "newer"]


@dataclass(frozen=True)
class SchemaState:
    database: str
    current: str | None
    head: str
    status: Status

    def problem(self) -> str:
        """What is wrong and the command to run, for a catalog that is not at this code's revision."""
        if self.status == "newer":
            return (f"the catalog {self.database} is at schema revision {self.current}, which this code does not "
                    f"know (its newest is {self.head}): a newer release of the platform upgraded it. Run that "
                    "release (or upgrade this installation to it); `opendata db current` shows both revisions")
        at = "made before versioned migrations" if self.status == "unversioned" else f"at revision {self.current}"
        return (f"the catalog {self.database} is {at}, older than this code's schema revision {self.head}: run "
                "`opendata db upgrade` (with the database owner's role), then start this process again")


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision of catalog/migrations, as Alembic reads it (``HEAD`` is kept equal to it)."""
    found = _scripts().get_current_head()
    assert found is not None, "catalog/migrations has no revision"
    return found


def _current_revision(connection: Connection, tables: set[str]) -> str | None:
    """The revision Alembic stamped in ``alembic_version`` (None: no such table, or no row)."""
    if "alembic_version" not in tables:
        return None
    return connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar()


def _known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _state_on(connection: Connection, database: CatalogDatabase) -> SchemaState:
    # The tables first, then the stamp: an upgrade commits both at once, so a catalog that another process
    # upgrades meanwhile reads as empty (and is upgraded under the lock, finding nothing to do) or as current,
    # never as tables without a stamp.
    tables = set(sqlalchemy.inspect(connection).get_table_names())
    current = _current_revision(connection, tables)
    if current == HEAD:
        return SchemaState(database.describe(), current, HEAD, "current")
    target = head()
    if current == target:
        status: Status = "current"
    elif current is None:
        status = "unversioned" if tables.intersection(CATALOG_TABLES) else "empty"
    else:
        status = "older" if _known(current) else "newer"
    return SchemaState(database.describe(), current, target, status)


def state(database: CatalogDatabase) -> SchemaState:
    with database.engine.connect() as connection:
        return _state_on(connection, database)


def _checked_key(database: CatalogDatabase) -> tuple[object, ...]:
    path = getattr(database, "path", None)
    if isinstance(path, Path):  # the file itself: a catalog file replaced by another is checked again
        try:
            found = path.stat()
        except FileNotFoundError:
            return ()
        return (str(path), found.st_dev, found.st_ino, os.getpid())
    return (id(database), os.getpid())


_CHECKED: set[tuple[object, ...]] = set()


def forget_checks() -> None:
    _CHECKED.clear()


def ensure_current(database: CatalogDatabase) -> None:
    """Go on when the database is at this code's revision; make an empty one so; refuse any other."""
    key = _checked_key(database)
    if key and key in _CHECKED:
        return
    found = state(database)
    if found.status == "empty":
        upgrade(database)
    elif found.status != "current":
        raise SchemaVersionMismatch(found.problem())
    key = _checked_key(database)
    if key:
        _CHECKED.add(key)


def upgrade(database: CatalogDatabase) -> tuple[SchemaState, SchemaState]:
    """Run the migrations up to this code's revision in one transaction; the states before and after.
    A catalog at a revision this code does not know is refused (``SchemaVersionMismatch``), untouched."""
    return _migrate(database, "head")


def downgrade(database: CatalogDatabase, revision: str) -> tuple[SchemaState, SchemaState]:
    """Take the schema back to ``revision`` (``base``: before versioned migrations) with the downgrade steps
    of this code's migrations, in one transaction: what a rollback to an older release runs first."""
    return _migrate(database, revision, down=True)


def _migrate(database: CatalogDatabase, revision: str, down: bool = False) -> tuple[SchemaState, SchemaState]:
    if database.dialect == "sqlite":
        with database.engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                before = _migrate_on(connection, database, revision, down)
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
    else:
        with database.engine.begin() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
            before = _migrate_on(connection, database, revision, down)
    _CHECKED.discard(_checked_key(database))
    return before, state(database)


def _migrate_on(connection: Connection, database: CatalogDatabase, revision: str, down: bool) -> SchemaState:
    from alembic import command
    from alembic.util import CommandError

    before = _state_on(connection, database)
    if before.status == "newer":
        raise SchemaVersionMismatch(before.problem())
    try:
        if down:
            command.downgrade(_config(connection), revision)
        elif before.status != "current":
            command.upgrade(_config(connection), revision)
    except CommandError as exc:
        known = ", ".join(s.revision for s in _scripts().walk_revisions())
        raise ConfigurationError(f"cannot migrate the catalog to {revision!r}: {exc}; the revisions this code "
                                 f"knows are {known} and base") from exc
    return before
