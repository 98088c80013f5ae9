"""The published part of the catalog as the API reads it: per dataset, cached, checked by the change counter.

The hot paths (rows, aggregates, SQL, CKAN) ask "which releases of X are published" on every request.
Reading and parsing them each time costs more than the DuckDB query behind a small page, so this view keeps
the datasets recently asked for (at most ``CACHED_DATASETS``, least recently used out) and asks the database
only for its change counter (SQLite's ``PRAGMA data_version``; on PostgreSQL a row a trigger bumps on every
change to datasets and releases, heard by LISTEN). An entry read at an older version is read again, one
dataset by its key: a release published while the API runs, by any worker, is visible to the very next
request of every replica, and a request's cost does not grow with the number of datasets.

``state()`` is the whole published catalog at once, for the few readers that need all of it; it is read in
two queries and kept until the next change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from catalog.models import Dataset, Release
from catalog.store import Catalog, pick_release
from opendata.errors import CatalogError

CACHED_DATASETS = 4096


@dataclass(frozen=True)
class PublishedState:
    """Published datasets and their published releases, oldest first, at one catalog version."""

    version: int
    datasets: dict[str, Dataset] = field(default_factory=dict)
    releases: dict[str, list[Release]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    version: int
    dataset: Dataset | None
    releases: list[Release]


class CatalogView:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._probe = catalog.database.change_probe()
        self._state: PublishedState | None = None
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def version(self) -> int:
        with self._lock:
            return self._probe.version()

    def state(self) -> PublishedState:
        version = self.version()
        with self._lock:
            if self._state is not None and self._state.version == version:
                return self._state
        datasets, releases = self.catalog.published()
        state = PublishedState(version, datasets, releases)
        with self._lock:
            self._state = state
        return state

    def _entry(self, name: str) -> _Entry:
        version = self.version()
        with self._lock:
            found = self._entries.get(name)
            if found is not None and found.version == version:
                self._entries.move_to_end(name)
                return found
        dataset, releases = self.catalog.published_dataset(name)
        entry = _Entry(version, dataset, releases)
        with self._lock:
            self._entries[name] = entry
            self._entries.move_to_end(name)
            while len(self._entries) > CACHED_DATASETS:
                self._entries.popitem(last=False)
        return entry

    def exists(self, name: str) -> bool:
        return self._entry(name).dataset is not None

    def dataset(self, name: str) -> Dataset:
        found = self._entry(name).dataset
        if found is None:
            raise CatalogError(f"dataset '{name}' does not exist or has no published release")
        return found

    def releases(self, name: str) -> list[Release]:
        """The published releases of a dataset, oldest first (empty when it has none)."""
        return self._entry(name).releases

    def latest(self, name: str) -> Release | None:
        found = self._entry(name).releases
        return found[-1] if found else None

    def release(self, name: str, number: int | None = None) -> Release:
        return pick_release(name, self._entry(name).releases, number)

    def close(self) -> None:
        self._probe.close()
