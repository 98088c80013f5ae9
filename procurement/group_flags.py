"""An organisation group of a family run's red flags (``Tenderer``, ``Buyer``, ``ProcuringEntity``), kept in
a SQLite file in staging as the flags are raised.

These groups grow with the organisations flagged (some 300 bytes each as dicts), and unlike the ``OCID``
group (``procurement.ocid_flags``) their flags come in any key order: R028, R030 and R035 per process, then
R024, R058, R025, R048 and P003 at the end. So each flag is a row keyed by (key, code), upserted: a code
raised again keeps its place and takes the last value, as a dict does. A key's place is the sequence number
of its first flag (table ``keys``), a code's the sequence number it was first raised at (table ``flags``).
Values are kept as ``repr(float)`` text, since SQLite would turn NaN into NULL. Flags wait in a buffer and
are written a few thousand at a time in one transaction, with a small page cache (1 MB).

Read back, the group is exactly the dict the flags would have built: ``items()`` in the order keys were
first flagged, each key's codes in the order first raised; ``sorted_items()`` in code-point order (SQLite's
BINARY collation compares UTF-8 bytes, which order as code points do). :meth:`GroupFlags.renamed` and
:meth:`GroupFlags.numbered` write the renamed copies the publishing side needs (people's pseudonyms, the
job's policy on organisation ids) to another file beside it, with a dict comprehension's semantics.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

#: Flags held before a write; a transaction each time.
BATCH = 5_000
_SCHEMA = """
CREATE TABLE keys (key TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE flags (key TEXT NOT NULL, code TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT NOT NULL,
                    PRIMARY KEY (key, code)) WITHOUT ROWID;
CREATE INDEX keys_position ON keys (position);
"""
_ITEMS = ("SELECT k.key, f.code, f.value FROM keys AS k CROSS JOIN flags AS f ON f.key = k.key "
          "ORDER BY k.position, f.seq")
_SORTED = "SELECT key, code, value FROM flags ORDER BY key, seq"

Codes = dict[str, float]


@runtime_checkable
class StagedGroup(Protocol):
    """A group read from staging item by item (:class:`GroupFlags`, ``procurement.ocid_flags.OcidFlags``),
    in the order a dict of it would give and in key order, never held whole."""

    def items(self) -> Iterator[tuple[str, Codes]]: ...

    def sorted_items(self) -> Iterator[tuple[str, Codes]]: ...


def _grouped(rows: Iterator[tuple[str, str, str]]) -> Iterator[tuple[str, Codes]]:
    """Rows (key, code, value) of each key together, as (key, {code: value})."""
    current: str | None = None
    codes: Codes = {}
    for key, code, value in rows:
        if key != current:
            if current is not None:
                yield current, codes
            current, codes = key, {}
        codes[code] = float(value)
    if current is not None:
        yield current, codes


class GroupFlags(Mapping[str, Codes]):
    """A mapping organisation id -> {code: value} kept in the SQLite file ``path`` (made anew); :meth:`add`
    raises a flag."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self.path = path
        # A family run may score in one thread and publish in another, never both at once.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1024; "
                               "PRAGMA temp_store=FILE;" + _SCHEMA)
        self._pending: list[tuple[str, str, int, str]] = []
        self._seq = 0
        self._copies = 0

    def add(self, key: str, code: str, value: float) -> None:
        self._pending.append((key, code, self._seq, repr(float(value))))
        self._seq += 1
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Writes the flags held, in one transaction."""
        if not self._pending:
            return
        with self._transaction():
            self._db.executemany("INSERT INTO keys (key, position) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                 ((key, seq) for key, _, seq, _ in self._pending))
            self._db.executemany("INSERT INTO flags (key, code, seq, value) VALUES (?, ?, ?, ?) "
                                 "ON CONFLICT DO UPDATE SET value = excluded.value", self._pending)
        self._pending = []

    def _transaction(self) -> sqlite3.Connection:
        self._db.execute("BEGIN")
        return self._db  # the connection's context manager commits, or rolls back on an error

    def _rows(self, query: str, *parameters: object) -> Iterator[tuple[str, str, str]]:
        self.flush()
        yield from self._db.execute(query, parameters)

    def items(self) -> Iterator[tuple[str, Codes]]:  # type: ignore[override]
        """In the order keys were first flagged, each key's codes in the order first raised."""
        return _grouped(self._rows(_ITEMS))

    def sorted_items(self) -> Iterator[tuple[str, Codes]]:
        """In key order (code-point order, as ``sorted`` and ``json.dumps(sort_keys=True)`` order them)."""
        return _grouped(self._rows(_SORTED))

    def __getitem__(self, key: str) -> Codes:
        found = {code: float(value) for _, code, value in
                 self._rows("SELECT key, code, value FROM flags WHERE key = ? ORDER BY seq", key)}
        if not found:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.items())

    def __len__(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT count(*) FROM keys").fetchone()[0])

    def __bool__(self) -> bool:
        self.flush()
        return self._db.execute("SELECT 1 FROM keys LIMIT 1").fetchone() is not None

    def close(self) -> None:
        """Writes what is held and lets go of the page cache until the next read; the file stays, to be read
        or renamed."""
        self.flush()
        self._db.execute("PRAGMA shrink_memory")

    def _copy(self, fill: Callable[[sqlite3.Connection], None]) -> GroupFlags:
        self.flush()
        self._copies += 1
        copy = GroupFlags(self.path.with_name(f"{self.path.stem}-{self._copies}{self.path.suffix}"))
        copy._db.execute("ATTACH DATABASE ? AS source", (str(self.path),))
        try:
            fill(copy._db)  # a few statements, each its own transaction
        finally:
            copy._db.execute("DETACH DATABASE source")
        return copy

    def renamed(self, rename: Callable[[str], str]) -> GroupFlags:
        """A copy with each key renamed, as ``{rename(k): v for k, v in self.items()}`` is: a new key made by
        two old ones keeps the place of the first and the codes of the last."""

        def fill(db: sqlite3.Connection) -> None:
            db.create_function("rename", 1, rename, deterministic=True)
            db.executescript("""
                CREATE TEMP TABLE renames AS SELECT rename(key) AS new, key, position FROM source.keys;
                INSERT INTO keys (key, position) SELECT new, min(position) FROM renames GROUP BY new;
                INSERT INTO flags (key, code, seq, value)
                    SELECT w.new, f.code, f.seq, f.value
                    FROM (SELECT new, key, max(position) FROM renames GROUP BY new) AS w
                    CROSS JOIN source.flags AS f ON f.key = w.key;
                DROP TABLE renames;
            """)  # SQLite's max() in a GROUP BY takes the other bare columns from the row with the maximum

        return self._copy(fill)

    def numbered(self, prefix: str) -> GroupFlags:
        """A copy keyed ``prefix`` + N, N counting the keys in key order from 1, as
        ``{f"{prefix}{n}": self[k] for n, k in enumerate(sorted(self), start=1)}`` is."""

        def fill(db: sqlite3.Connection) -> None:
            db.executescript("""
                CREATE TEMP TABLE numbers AS
                    SELECT key, row_number() OVER (ORDER BY key) AS n FROM source.keys;
            """)
            db.execute("INSERT INTO keys (key, position) SELECT ? || n, n FROM numbers", (prefix,))
            db.execute("INSERT INTO flags (key, code, seq, value) SELECT ? || n.n, f.code, f.seq, f.value "
                       "FROM numbers AS n CROSS JOIN source.flags AS f ON f.key = n.key", (prefix,))
            db.execute("DROP TABLE numbers")

        return self._copy(fill)
