"""What a result card shows besides the dataset: its latest release's date and rows, its coverage and formats.

One query for the latest releases of a page's hits (at most a page, 20); temporal coverage comes from the
facts stored with each release (``ReleaseFacts``, kept per release), spatial coverage from the job file's
``spatial`` places or, for data with a map, the word "mapped" (the dataset page draws it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from api.web.state import WebState
from catalog.geometry import geometry_columns
from catalog.models import Release
from catalog.release_storage import OutsideStorage
from catalog.search import SearchHit
from catalog.store import Catalog
from opendata.errors import CatalogError

LATITUDE = {"latitude", "lat"}


@dataclass(frozen=True)
class CardFacts:
    published_at: str | None
    rows: int
    temporal: str  # "2011-03-01 to 2011-11-03", or ""
    spatial: str  # "mapped (latitude/longitude)", "geometry", a count of places, or ""


def card_facts(web: WebState, catalog: Catalog, hits: list[SearchHit]) -> dict[str, CardFacts]:
    wanted = [(h.dataset.name, h.dataset.latest_release) for h in hits if h.dataset.latest_release]
    if not wanted:
        return {}
    # By the (state, dataset, number) index: an OR of (dataset, number) pairs made SQLite walk every published
    # release by state instead (90 ms at 50,000 datasets); the pairs not asked for are dropped here.
    names = sorted({name for name, _ in wanted})
    numbers = sorted({number for _, number in wanted})
    query = (f"SELECT * FROM releases WHERE state = 'published' AND dataset IN ({', '.join('?' for _ in names)}) "
             f"AND number IN ({', '.join('?' for _ in numbers)})")
    with catalog.database.connect() as db:
        rows = db.execute(query, [*names, *numbers]).fetchall()
    pairs = set(wanted)
    releases = {str(r["dataset"]): _release(r) for r in rows if (r["dataset"], r["number"]) in pairs}
    found = {}
    for hit in hits:
        release = releases.get(hit.dataset.name)
        if release is None:
            continue
        try:
            coverage = web.facts.coverage(release)
        except (CatalogError, OutsideStorage):  # a damaged release costs its card's coverage, not the page
            coverage = None
        temporal = f"{coverage.start[:10]} to {coverage.end[:10]}" if coverage else ""
        found[hit.dataset.name] = CardFacts(release.published_at, release.rows, temporal,
                                            _spatial(release, len(hit.dataset.spatial)))
    return found


def _spatial(release: Release, places: int) -> str:
    if geometry_columns(release.table_schema):
        return "geometry (mapped)"
    names = {str(f.get("name", "")).lower() for f in release.table_schema.get("fields", [])}
    if names & LATITUDE:
        return "coordinates (mapped)"
    if places:
        return f"{places} place{'s' if places != 1 else ''}"
    return ""


def _release(row: Any) -> Release:
    values = dict(row)
    values["table_schema"] = json.loads(values["table_schema"])
    values["files"] = json.loads(values["files"])
    return Release(**values)
