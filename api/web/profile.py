"""Column profiles, sample rows and temporal coverage of a release, as the pages show them.

The publish stage stores them with each release (``facts.json``, see :mod:`catalog.release_facts`); a
release published before that is profiled here when first shown, through the locked QueryEngine. Either
way the results are kept per release in ``ReleaseFacts`` (releases are immutable).

The DCAT catalog needs less of a release: its coverage and its files' byte sizes (``DcatFacts``), read
from the stored facts (or, for an older release, computed and measured once) and kept for many more
releases than the profiles (``DCAT_CAPACITY`` small entries), so a page of the DCAT catalog reads no file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from api.engine import QueryEngine
from catalog.dcat import Coverage
from catalog.models import Release
from catalog.release_dcat import DcatFacts
from catalog.release_facts import (
    FACTS_FILE,
    Bar,
    ColumnProfile,
    Facts,
    coverage_of_file,
    profile_file,
    read_facts,
    sample_file,
)
from catalog.release_storage import OutsideStorage
from opendata.errors import CatalogError

__all__ = ["Bar", "ColumnProfile", "DcatFacts", "ReleaseFacts", "profile_release", "sample_rows", "temporal_coverage"]


#: Releases whose DCAT facts are kept (a few hundred bytes each).
DCAT_CAPACITY = 20_000


def dcat_facts(engine: QueryEngine, release: Release, stored: Facts | None) -> DcatFacts:
    """From the stored facts when they hold byte sizes; else (older releases) the Parquet file measured in the
    storage and the coverage computed, once."""
    if stored is not None and stored.byte_sizes:
        return DcatFacts(stored.coverage, dict(stored.byte_sizes))
    # a missing or misplaced file costs the release its facts, not the page
    try:
        coverage = stored.coverage if stored is not None else temporal_coverage(engine, release)
    except (CatalogError, OutsideStorage):
        return DcatFacts(None, {})
    try:
        sizes = {"data.parquet": engine.storage.size(release, "data.parquet")}
    except (CatalogError, OutsideStorage, OSError):
        sizes = {}
    return DcatFacts(coverage, sizes)


def _runner(engine: QueryEngine) -> Any:
    return lambda sql, params: engine.execute(sql, params)


def profile_release(engine: QueryEngine, release: Release) -> list[ColumnProfile]:
    if not [f for f in release.table_schema.get("fields", []) if "name" in f]:
        return []
    return profile_file(_runner(engine), str(engine.release_file(release, "data.parquet")), release.table_schema)


def sample_rows(engine: QueryEngine, release: Release) -> tuple[list[str], list[list[str]]]:
    """The first rows of a release, as display strings."""
    if not [f for f in release.table_schema.get("fields", []) if "name" in f]:
        return [], []
    return sample_file(_runner(engine), str(engine.release_file(release, "data.parquet")), release.table_schema)


def temporal_coverage(engine: QueryEngine, release: Release) -> Coverage | None:
    """First and last value of the release's first date or datetime column."""
    if not any(f.get("type") in ("date", "datetime") for f in release.table_schema.get("fields", [])):
        return None
    return coverage_of_file(_runner(engine), str(engine.release_file(release, "data.parquet")), release.table_schema)


def stored_facts(engine: QueryEngine, release: Release) -> Facts | None:
    """The facts published with the release (``facts.json``), or None when it has none (older releases)."""
    if FACTS_FILE not in release.files:
        return None
    try:
        return read_facts(engine.storage.read_json(release, FACTS_FILE))
    except (CatalogError, OutsideStorage, ValueError):
        return None


class ReleaseFacts:
    """Per-release profiles, samples and coverage, computed once (releases are immutable)."""

    def __init__(self, engine: QueryEngine, capacity: int = 64) -> None:
        self.engine = engine
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, str, int, str], Any] = OrderedDict()
        self._dcat: OrderedDict[tuple[str, int, str], DcatFacts] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, what: str, release: Release, compute: Any) -> Any:
        """``compute(engine, release)``, once per release and ``what``."""
        # The folder is part of the key: a test home reusing a name and number gets fresh facts.
        key = (what, release.dataset, release.number, release.folder + release.files.get("data.parquet", ""))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute(self.engine, release)
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self.capacity * 3:
                self._cache.popitem(last=False)
        return value

    def stored(self, release: Release) -> Facts | None:
        result: Facts | None = self.remember("stored", release, stored_facts)
        return result

    def profile(self, release: Release) -> list[ColumnProfile]:
        stored = self.stored(release)
        if stored is not None:
            return stored.profiles
        result: list[ColumnProfile] = self.remember("profile", release, profile_release)
        return result

    def sample(self, release: Release) -> tuple[list[str], list[list[str]]]:
        stored = self.stored(release)
        if stored is not None:
            return stored.sample_columns, stored.sample_rows
        result: tuple[list[str], list[list[str]]] = self.remember("sample", release, sample_rows)
        return result

    def coverage(self, release: Release) -> Coverage | None:
        stored = self.stored(release)
        if stored is not None:
            return stored.coverage
        result: Coverage | None = self.remember("coverage", release, temporal_coverage)
        return result

    def dcat(self, release: Release) -> DcatFacts:
        """The release's DCAT facts, kept apart from the profiles (more releases, smaller entries)."""
        key = (release.dataset, release.number, release.folder + release.files.get("data.parquet", ""))
        with self._lock:
            found = self._dcat.get(key)
            if found is not None:
                self._dcat.move_to_end(key)
                return found
        found = dcat_facts(self.engine, release, stored_facts(self.engine, release))
        with self._lock:
            self._dcat[key] = found
            while len(self._dcat) > DCAT_CAPACITY:
                self._dcat.popitem(last=False)
        return found
