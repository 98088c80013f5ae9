"""The published part of the catalog, kept in memory and refreshed when the catalog file changes.

The hot paths (rows, aggregates, SQL, CKAN) ask "which releases of X are published" on every request.
Reading and parsing them from SQLite each time costs more than the DuckDB query behind a small page,
so this view keeps them and asks the database only for its change counter (SQLite's ``PRAGMA
data_version``; on PostgreSQL a row a trigger bumps on every change to datasets and releases). A release
published while the API runs, by any worker, is visible to the very next request of every replica.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from catalog.models import Dataset, Release
from catalog.store import Catalog, pick_release
from opendata.errors import CatalogError


@dataclass(frozen=True)
class PublishedState:
    """Published datasets and their published releases, oldest first, at one catalog version."""

    version: int
    datasets: dict[str, Dataset] = field(default_factory=dict)
    releases: dict[str, list[Release]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> tuple[tuple[str, int], ...]:
        """What the SQL engine is built from: every published (dataset, release number)."""
        return tuple((name, r.number) for name, found in sorted(self.releases.items()) for r in found)


class CatalogView:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._probe = catalog.database.change_probe()
        self._state: PublishedState | None = None

    def state(self) -> PublishedState:
        with self._lock:
            version = self._probe.version()
            if self._state is not None and self._state.version == version:
                return self._state
        datasets = {d.name: d for d in self.catalog.datasets()}
        releases = {name: self.catalog.releases(name) for name in datasets}
        state = PublishedState(version, datasets, releases)
        with self._lock:
            self._state = state
        return state

    def dataset(self, name: str) -> Dataset:
        found = self.state().datasets.get(name)
        if found is None:
            raise CatalogError(f"dataset '{name}' does not exist or has no published release")
        return found

    def release(self, name: str, number: int | None = None) -> Release:
        return pick_release(name, self.state().releases.get(name) or [], number)

    def close(self) -> None:
        self._probe.close()
