"""Stored hits (migration 0002): each search document stores its dataset's record and the API's public summary,
written in the transaction that changes the dataset or its releases. The listing spliced from the stored
summaries is byte for byte what the response model makes from the datasets' records; an organisation's
profile is its stored column's. Real app, real catalogs, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from starlette.requests import Request

from api.app import create_app
from api.present import Links, dataset_summary
from api.routes.datasets import DatasetsSearchPublic, FacetValuePublic
from api.schemas import DatasetSummaryPublic
from api.web.organization_view import organization_profile
from catalog.models import Dataset, OrganizationProfile
from catalog.search import CatalogSearch, SearchQuery
from catalog.search_index import HitSummary
from catalog.store import Catalog, open_catalog, utc_now
from opendata.settings import Settings
from tests import catalog_fixtures
from tests.test_catalog_scale import add

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url

#: Text a serialiser could write in more than one way: quotes, backslashes, controls, non-ASCII, emoji.
AWKWARD = 'Qualité de l’air "PM2.5" \\ tab\tnewline\n\x01 – 空气 🌫 </script>'


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "sqlite":
        return settings
    return settings.model_copy(update={"catalog_url": request.getfixturevalue("catalog_url")})


def _catalog(settings: Settings) -> Catalog:
    settings.paths.ensure()
    catalog = open_catalog(settings)
    for i in range(14):
        add(catalog, settings, i, title=f"{AWKWARD} {i}" if i % 4 == 0 else None,
            description=AWKWARD if i % 3 == 0 else "")
    add(catalog, settings, 3)  # a second release: latest_release 2
    return catalog


def _links(app: object) -> Links:
    scope = {"type": "http", "app": app, "router": app.router, "scheme": "http",  # type: ignore[attr-defined]
             "server": ("testserver", 80), "path": "/", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver")]}
    return Links(Request(scope))


def _model_built(app: object, catalog: Catalog, search: CatalogSearch, params: dict[str, str],
                 **options: object) -> bytes:
    """The listing as the response model makes it from each hit's dataset record read from ``datasets``."""
    query = SearchQuery(q=params.get("q"), organization=params.get("organization"), tag=params.get("tag"))
    result = search.find(query, sort=params.get("sort"), **options)  # type: ignore[arg-type]
    links = _links(app)
    datasets = []
    for hit in result.hits:
        dataset, releases = catalog.published_dataset(hit.dataset.name)
        assert dataset is not None and releases
        datasets.append(dataset_summary(links, dataset.model_copy(update={"latest_release": releases[-1].number})))
    answer = DatasetsSearchPublic(
        datasets=datasets, count=len(datasets), q=query.q,
        facets={k: [FacetValuePublic(**v.model_dump()) for v in values] for k, values in result.facets.items()},
        total=result.total, limit=int(options["limit"]), next=None, sort=params.get("sort") or "relevance",
        corrected=result.corrected, suggestion=result.suggestion,
    )
    return TypeAdapter(DatasetsSearchPublic).dump_json(answer)


def test_the_stored_listing_is_byte_for_byte_the_model_built_one(backend: Settings) -> None:
    catalog = _catalog(backend)
    app = create_app(backend)
    search = CatalogSearch(catalog)
    with TestClient(app) as client:
        for params in ({}, {"q": "air"}, {"q": "newline"}, {"organization": "org-1"}, {"sort": "updated"},
                       {"tag": "daily", "sort": "name"}, {"q": "airr"}):
            answer = client.get("/api/v1/datasets", params={**params, "limit": "100"})
            assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
            assert answer.json()["count"] > 0, params
            assert answer.content == _model_built(app, catalog, search, params, limit=100), params
        first = client.get("/api/v1/datasets", params={"limit": "4"}).json()  # paged: the cursor is the same too
        assert first["next"] and len(first["datasets"]) == 4
        # Documents written by the previous release's code during a rolling upgrade (the columns' default):
        # their hits are read from ``datasets``, the answer the same.
        with catalog.database.transaction() as db:
            db.execute("UPDATE search_documents SET record = '{}', summary = '{}' WHERE name IN ('ds-000', 'ds-003')")
        for params in ({}, {"q": "air"}):
            answer = client.get("/api/v1/datasets", params={**params, "limit": "100"})
            assert answer.content == _model_built(app, catalog, search, params, limit=100), params
        assert [h.dataset.name for h in search.search(SearchQuery()).hits if h.dataset.name == "ds-003"]
        catalog.upsert_dataset(catalog.published_dataset("ds-003")[0], "Organisation org-0")  # type: ignore[arg-type]
        assert _stored(catalog, "ds-003")[1]["name"] == "ds-003"  # the next write stores it
        add(catalog, backend, 0, title=f"{AWKWARD} 0", description=AWKWARD)  # and so does a publish
    for name in catalog.published_names(None, 0)[0]:
        dataset, releases = catalog.published_dataset(name)
        assert dataset is not None
        with catalog.database.connect() as db:
            record, summary = db.execute("SELECT record, summary FROM search_documents WHERE name = ?",
                                         (name,)).fetchone()
        assert Dataset.model_validate_json(record) == dataset.model_copy(
            update={"latest_release": releases[-1].number})
        assert json.loads(summary)["latest_release"] == releases[-1].number


def test_the_summary_is_the_public_summary_without_its_url() -> None:
    assert list(DatasetSummaryPublic.model_fields) == [*HitSummary.model_fields, "url"]


def _stored(catalog: Catalog, name: str) -> tuple[Dataset, dict[str, object]]:
    with catalog.database.connect() as db:
        record, summary = db.execute("SELECT record, summary FROM search_documents WHERE name = ?",
                                     (name,)).fetchone()
    return Dataset.model_validate_json(record), json.loads(summary)


def test_a_metadata_change_and_a_publish_update_the_stored_hit_at_once(backend: Settings) -> None:
    catalog = _catalog(backend)
    name = "ds-005"
    dataset, _ = catalog.published_dataset(name)
    assert dataset is not None
    changed = dataset.model_copy(update={"title": "Renamed ✓", "description": "New words.", "tags": ["new"],
                                         "updated_at": utc_now()})
    catalog.upsert_dataset(changed, "Organisation org-2")
    record, summary = _stored(catalog, name)
    assert (record.title, record.description, record.tags) == ("Renamed ✓", "New words.", ["new"])
    assert (summary["title"], summary["tags"], summary["latest_release"]) == ("Renamed ✓", ["new"], 1)
    add(catalog, backend, 5, title="Renamed again")  # its next release, recorded as the publish stage does
    record, summary = _stored(catalog, name)
    assert (record.latest_release, summary["latest_release"], summary["title"]) == (2, 2, "Renamed again")
    catalog.withdraw_release(name, 2)
    assert _stored(catalog, name)[1]["latest_release"] == 1


def test_a_publish_that_fails_after_the_index_keeps_the_stored_hit(settings: Settings) -> None:
    """The document is written in the release's own transaction: when the transaction fails after it (here the
    event insert, refused by a trigger), the stored hit is the one before, with the release."""
    catalog = _catalog(settings)
    before = _stored(catalog, "ds-002")[1]
    with sqlite3.connect(settings.paths.catalog_db) as db:
        db.execute("CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT events_refused(); END")
    with pytest.raises(Exception, match="events_refused"):
        add(catalog, settings, 2)  # the same title and description: only the release would change the summary
    assert _stored(catalog, "ds-002")[1] == before and catalog.next_release_number("ds-002") == 2
    with sqlite3.connect(settings.paths.catalog_db) as db:
        db.execute("DROP TRIGGER refuse_events")
    add(catalog, settings, 2)
    assert _stored(catalog, "ds-002")[1] == {**before, "latest_release": 2}


def test_the_organisation_profile_is_the_newest_stored_one(backend: Settings) -> None:
    catalog = _catalog(backend)
    older = OrganizationProfile(description="Older words.", website="https://old.example.gov/")
    newer = OrganizationProfile(description="Newer words.", contact="data@new.example.gov")
    base = dict(organization="org-x", description="d", license="CC0-1.0")
    catalog.upsert_dataset(Dataset(name="p-1", title="P 1", organization_profile=older,
                                   updated_at="2024-01-01T00:00:00Z", **base), "X")
    catalog.upsert_dataset(Dataset(name="p-2", title="P 2", updated_at="2024-06-01T00:00:00Z", **base), "X")
    assert organization_profile(catalog, "org-x") == older  # the newest dataset gives none
    catalog.upsert_dataset(Dataset(name="p-3", title="P 3", organization_profile=newer,
                                   updated_at="2024-03-01T00:00:00Z", **base), "X")
    assert organization_profile(catalog, "org-x") == newer
    catalog.upsert_dataset(Dataset(name="p-3", title="P 3", updated_at="2024-07-01T00:00:00Z", **base), "X")
    assert organization_profile(catalog, "org-x") == older  # its job file dropped the keys
    assert organization_profile(catalog, "org-1") is None
    if catalog.database.dialect == "sqlite":  # one indexed lookup, not a scan of the organisation's datasets
        with catalog.database.connect() as db:
            plan = " ".join(str(r[-1]) for r in db.execute(
                "EXPLAIN QUERY PLAN SELECT organization_profile FROM datasets WHERE organization = 'org-x' "
                "AND organization_profile IS NOT NULL ORDER BY updated_at DESC LIMIT 1").fetchall())
        assert "USING INDEX datasets_with_organization_profile" in plan and "TEMP B-TREE" not in plan
