"""A release's DCAT facts (temporal coverage, byte size of each file), kept in the catalog beside the release.

The publish stage computes them once (``catalog.release_facts``: ``facts.json`` keeps them with the profiles)
and ``Catalog.record_release`` writes them to ``release_dcat`` in the transaction that records the release
(migration 0004). A page of the DCAT catalog reads its releases' rows in one query (``read``), so a page made
from scratch reads no file of any release. Releases recorded before that revision are given theirs from their
``facts.json`` by ``backfill`` (``opendata db upgrade`` runs it); a release still without a row has its facts
read from its files, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.database import CatalogConnection
from catalog.models import Release
from opendata.errors import CatalogError

if TYPE_CHECKING:
    from catalog.dcat import Coverage
    from catalog.release_storage import ReleaseStorage
    from catalog.store import Catalog

#: Releases read or backfilled a statement at a time.
CHUNK = 500


@dataclass(frozen=True)
class DcatFacts:
    """What the DCAT catalog says of a release besides its catalog record: coverage and byte sizes."""

    coverage: Coverage | None
    byte_sizes: dict[str, int] = field(default_factory=dict)


def of_facts(document: Mapping[str, Any]) -> DcatFacts | None:
    """The DCAT facts in a stored ``facts.json`` document (``release_facts.with_byte_sizes``), or None when it
    holds no byte sizes (a document written before they were) or is not shaped as one."""
    sizes = document.get("byte_sizes")
    if not isinstance(sizes, dict) or not sizes:
        return None
    from catalog.dcat import Coverage  # rdflib's import, only where a coverage is read

    covered = document.get("coverage")
    try:
        coverage = Coverage(**covered) if isinstance(covered, dict) else None
        return DcatFacts(coverage, {str(name): int(size) for name, size in sizes.items()})
    except (TypeError, ValueError):
        return None


def insert(db: CatalogConnection, dataset: str, number: int, facts: DcatFacts) -> None:
    db.execute(
        "INSERT INTO release_dcat(dataset, number, coverage, byte_sizes) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (dataset, number) DO NOTHING",
        (dataset, number, json.dumps(asdict(facts.coverage)) if facts.coverage else None,
         json.dumps(facts.byte_sizes, sort_keys=True)),
    )


def read(db: CatalogConnection, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], DcatFacts]:
    """The facts of the releases named (dataset, number) that have a row, by key (each row read as the
    document it was written from, by ``of_facts``)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, int], DcatFacts] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        names = sorted({dataset for dataset, _ in chunk})
        marks = ", ".join("?" for _ in names)
        asked = set(chunk)
        for dataset, number, coverage, sizes in db.execute(
                f"SELECT dataset, number, coverage, byte_sizes FROM release_dcat WHERE dataset IN ({marks})",
                names).fetchall():
            key = (str(dataset), int(number))
            facts = of_facts({"coverage": json.loads(coverage) if coverage else None,
                              "byte_sizes": json.loads(sizes)}) if key in asked else None
            if facts is not None:
                found[key] = facts
    return found


def backfill(catalog: Catalog, storage: ReleaseStorage) -> tuple[int, int]:
    """Give every published release without a row the facts its ``facts.json`` holds; (rows written,
    releases left without: no file, or one without byte sizes). Idempotent; each chunk one transaction."""
    from catalog.release_facts import FACTS_FILE  # DuckDB's and pyarrow's imports, only for a backfill
    from catalog.release_storage import OutsideStorage

    with catalog.database.connect() as db:
        rows = db.execute(
            "SELECT r.dataset, r.number, r.folder, r.files FROM releases r WHERE r.state = 'published' AND NOT "
            "EXISTS (SELECT 1 FROM release_dcat f WHERE f.dataset = r.dataset AND f.number = r.number) "
            "ORDER BY r.dataset, r.number").fetchall()
    written = left = 0
    for start in range(0, len(rows), CHUNK):
        found: list[tuple[str, int, DcatFacts]] = []
        for dataset, number, folder, files in rows[start:start + CHUNK]:
            names = json.loads(files)
            facts = None
            if FACTS_FILE in names:
                release = Release.model_construct(dataset=dataset, number=int(number), folder=folder, files=names)
                try:
                    document = storage.read_json(release, FACTS_FILE)
                    facts = of_facts(document) if isinstance(document, dict) else None
                except (CatalogError, OutsideStorage, OSError, ValueError):
                    facts = None
            if facts is None:
                left += 1
            else:
                found.append((str(dataset), int(number), facts))
        if found:
            with catalog.transaction() as db:
                for dataset, number, facts in found:
                    insert(db, dataset, number, facts)
            written += len(found)
    return written, left
