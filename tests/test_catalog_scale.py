"""Lists at catalog size: every list is paged with a total, search is answered by the database's own
full-text index (SQLite FTS5, or PostgreSQL tsvector + GIN), and paging stays exact while releases are
published. Each test runs on both catalog databases where the behaviour is the same."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.models import Dataset, Release, Run
from catalog.search import CatalogSearch, SearchQuery
from catalog.store import Catalog, open_catalog, utc_now
from opendata.settings import Settings
from tests import catalog_fixtures

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url

WORDS = ["air", "water", "transit", "budget", "school", "noise"]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "sqlite":
        return settings
    return settings.model_copy(update={"catalog_url": request.getfixturevalue("catalog_url")})


def add(catalog: Catalog, settings: Settings, i: int, *, title: str | None = None, description: str = "",
        organization: str | None = None, columns: tuple[str, ...] = ("station", "value")) -> str:
    """Dataset ``i`` with one more published release, recorded as the publish stage records one."""
    name = f"ds-{i:03d}"
    word = WORDS[i % len(WORDS)]
    dataset = Dataset(name=name, organization=organization or f"org-{i % 3}", title=title or f"{word.title()} {i}",
                      description=description or f"Daily {word} figures.", license="CC0-1.0" if i % 2 else "CC-BY-4.0",
                      tags=[word, "daily"], updated_at=utc_now())
    catalog.upsert_dataset(dataset, f"Organisation {dataset.organization}")
    number = catalog.next_release_number(name)
    folder = settings.paths.releases / name / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({c: [1, 2] for c in columns}), folder / "data.parquet")
    run = Run(run_id=f"{name}-{number}-{time.time_ns()}", dataset=name, job_path="jobs/x.yaml", state="succeeded",
              started_at=utc_now(), ended_at=utc_now(), release=number)
    release = Release(dataset=name, number=number, state="published", created_at=utc_now(), published_at=utc_now(),
                      rows=2, table_schema={"fields": [{"name": c, "type": "integer"} for c in columns]},
                      folder=f"{name}/{number}", files={"data.parquet": "0" * 64, "datapackage.json": "0" * 64},
                      run_id=run.run_id, policy_hash="p")
    catalog.record_release(release, run)
    return name


def test_search_ranks_pages_and_counts_facets_in_the_database(backend: Settings) -> None:
    catalog = open_catalog(backend)
    for i in range(12):
        add(catalog, backend, i)
    add(catalog, backend, 40, title="Bus timetables", description="Includes air conditioning status.")
    add(catalog, backend, 41, title="Air monitors", columns=("borough", "pm25"))
    search = CatalogSearch(catalog)

    ranked = search.search(SearchQuery(q="air"), limit=3)
    assert ranked.total == 4  # ds-000, ds-006, ds-041 (titles) and ds-040 (description)
    assert ranked.hits[-1].dataset.name != "ds-040" and ranked.hits[0].score >= ranked.hits[-1].score > 0
    rest = search.search(SearchQuery(q="air"), limit=3, offset=3)
    assert [h.dataset.name for h in rest.hits] == ["ds-040"]  # a description match ranks last
    assert [h.dataset.name for h in search.search(SearchQuery(q="boro")).hits] == ["ds-041"]  # a column, by prefix
    assert search.search(SearchQuery(q="boro")).hits[0].matched_columns == ["borough"]
    assert search.search(SearchQuery(q="timetable")).total == 1  # stemmed

    everything = search.search(SearchQuery(), limit=5)
    assert everything.total == 14 and everything.count == 5 and everything.after is not None
    facets = {name: {v.value: v.count for v in values} for name, values in everything.facets.items()}
    assert facets["tag"]["daily"] == 14 and facets["tag"]["air"] == 2
    assert facets["organization"] == {"org-0": 4, "org-1": 5, "org-2": 5}
    assert facets["format"] == {"Parquet": 14, "CSV": 14, "JSON": 14, "Data Package": 14}
    assert {v.title for v in everything.facets["organization"]} == {"Organisation org-0", "Organisation org-1",
                                                                    "Organisation org-2"}
    narrowed = search.search(SearchQuery(tag="air", license="CC-BY-4.0"))
    assert [h.dataset.name for h in narrowed.hits] == ["ds-000", "ds-006"]
    assert {v.value for v in narrowed.facets["license"]} == {"CC-BY-4.0"}

    catalog.upsert_organization("org-1", "Renamed agency")  # documents follow a retitled organisation
    assert search.search(SearchQuery(q="renamed")).total == 5


def test_paging_returns_every_dataset_exactly_once_while_releases_are_published(backend: Settings) -> None:
    catalog = open_catalog(backend)
    present = {add(catalog, backend, i) for i in range(23)}
    client = TestClient(create_app(backend))
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        body = client.get("/api/v1/datasets", params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        assert body["count"] == len(body["datasets"]) <= 4 and body["limit"] == 4
        seen += [d["name"] for d in body["datasets"]]
        pages += 1
        # Between pages: new releases of listed and unlisted datasets, and new datasets on either side.
        add(catalog, backend, pages % 23)
        add(catalog, backend, 100 + pages, title=("A" if pages % 2 else "Z") + f" new dataset {pages}")
        cursor = body["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a dataset was listed twice"
    assert present <= set(seen), "a dataset present throughout was missed"
    assert body["total"] >= 23

    tampered = client.get("/api/v1/datasets", params={"cursor": "x" + (cursor or "abc")})
    assert tampered.status_code == 400 and tampered.json()["error"]["type"] == "invalid-query"
    other = client.get("/api/v1/datasets", params={"limit": 2}).json()["next"]
    wrong = client.get("/api/v1/datasets", params={"cursor": other, "tag": "air"})
    assert wrong.status_code == 400 and "another query" in wrong.json()["error"]["message"]


def test_every_list_is_paged_with_a_total(backend: Settings) -> None:
    catalog = open_catalog(backend)
    for i in range(25):
        add(catalog, backend, i)
    client = TestClient(create_app(backend))

    searched = client.get("/api/v1/datasets", params={"q": "air", "limit": 2}).json()
    assert searched["total"] == 5 and searched["count"] == 2 and searched["next"]
    second = client.get("/api/v1/datasets", params={"q": "air", "limit": 2, "cursor": searched["next"]}).json()
    assert not {d["name"] for d in second["datasets"]} & {d["name"] for d in searched["datasets"]}

    assert client.get("/api/3/action/package_list", params={"limit": 3, "offset": 2}).json()["result"] == [
        "ds-002", "ds-003", "ds-004"]
    assert len(client.get("/api/3/action/package_list").json()["result"]) == 25
    found = client.get("/api/3/action/package_search", params={"q": "air", "rows": 2, "sort": "name asc"}).json()
    assert found["result"]["count"] == 5 and [p["name"] for p in found["result"]["results"]] == ["ds-000", "ds-006"]

    runs = client.get("/api/v1/runs", params={"limit": 10, "offset": 20}).json()
    assert runs["total"] == 25 and runs["count"] == 5 and runs["offset"] == 20

    tables = client.get("/api/v1/sql/tables", params={"limit": 2, "offset": 1}).json()
    assert tables["datasets"] == 25 and set(tables["tables"]) == {"ds-001", "ds-001@1", "ds-002", "ds-002@1"}

    page = client.get("/catalog")
    assert page.status_code == 200 and "25 datasets" in page.text and "Page 1 of 2" in page.text
    assert "ds-0" in client.get("/catalog", params={"page": 2}).text
    organization = client.get("/organizations/org-1")
    assert organization.status_code == 200 and "8 published datasets" in organization.text


def test_sql_binds_only_the_named_tables_and_sees_a_new_release_at_once(backend: Settings) -> None:
    catalog = open_catalog(backend)
    for i in range(3):
        add(catalog, backend, i)
    client = TestClient(create_app(backend))

    def sql(text: str) -> dict[str, object]:
        response = client.get("/api/v1/sql", params={"sql": text})
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    assert sql("SELECT 1 AS one")["rows"] == [{"one": 1}]
    assert sql('SELECT count(*) AS n FROM "ds-001"')["rows"] == [{"n": 2}]
    add(catalog, backend, 1, columns=("station", "value", "extra"))
    started = time.perf_counter()
    assert sql('SELECT count(*) AS n FROM "ds-001@2"')["rows"] == [{"n": 2}]
    assert time.perf_counter() - started < 1.0
    assert "extra" in sql('SELECT * FROM "ds-001" LIMIT 1')["columns"]
    missing = client.get("/api/v1/sql", params={"sql": 'SELECT * FROM "ds-001@9"'})
    assert missing.status_code == 400 and "no published table" in missing.json()["error"]["message"]


def test_an_existing_catalog_is_indexed_once_when_opened(settings: Settings) -> None:
    catalog = Catalog(settings.paths.catalog_db)
    add(catalog, settings, 1)
    with catalog.database.transaction() as db:  # as a catalog from before the index: no documents, no layout
        db.execute("DELETE FROM search_documents")
        db.execute("DELETE FROM search_layout")
    assert CatalogSearch(catalog).search(SearchQuery()).total == 0
    reopened = Catalog(Path(os.fspath(settings.paths.catalog_db)))
    assert [h.dataset.name for h in CatalogSearch(reopened).search(SearchQuery(q="water")).hits] == ["ds-001"]


def test_kept_totals_and_facets_follow_a_publish(backend: Settings) -> None:
    catalog = open_catalog(backend)
    for i in range(3):
        add(catalog, backend, i)
    client = TestClient(create_app(backend))
    before = client.get("/api/v1/datasets").json()
    assert before["total"] == 3 and client.get("/api/v1/datasets").json()["facets"] == before["facets"]
    assert [d["name"] for d in client.get("/api/v1/datasets", params={"q": "daily"}).json()["datasets"]] == [
        "ds-000", "ds-001", "ds-002"]
    add(catalog, backend, 9, organization="org-new", title="Daily daily figures")
    after = client.get("/api/v1/datasets").json()
    assert after["total"] == 4 and "org-new" in {v["value"] for v in after["facets"]["organization"]}
    ranked = client.get("/api/v1/datasets", params={"q": "daily"}).json()
    assert ranked["total"] == 4 and ranked["datasets"][0]["name"] == "ds-009"  # a title match ranks first


def test_the_runs_page_is_paged_like_the_runs_api(settings: Settings) -> None:
    catalog = open_catalog(settings)
    names = [add(catalog, settings, i) for i in range(3)]
    for i in range(117):  # 120 runs in all: pages of 50, 50 and 20
        catalog.save_run(Run(run_id=f"extra-{i:03d}", dataset=names[i % 3], job_path="jobs/x.yaml", state="failed",
                             started_at=f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z", error="e"))
    client = TestClient(create_app(settings))
    seen: list[str] = []
    link: str | None = "/runs"
    pages = 0
    while link is not None:
        page = client.get(link)
        assert page.status_code == 200
        pages += 1
        found = re.findall(r'<code class="muted">([^<]+)</code>', page.text)
        assert len(found) <= 50
        seen += found
        following = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        link = following.group(1).replace("&amp;", "&") if following else None
    assert pages == 3 and len(seen) == 120 and len(set(seen)) == 120
    assert "Page 2 of 3" in client.get("/runs", params={"page": 2}).text
    assert client.get("/api/v1/runs", params={"limit": 50}).json()["total"] == 120
    one = client.get("/runs", params={"dataset": names[0]}).text
    assert "Runs 1–40 of 40." in one and 'rel="next"' not in one


def _all_runs(client: TestClient, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    offset, total = 0, -1
    while True:
        body = client.get("/api/v1/runs", params={"limit": limit, "offset": offset}).json()
        assert body["count"] == len(body["runs"]) <= limit
        total = body["total"]
        seen += [r["run_id"] for r in body["runs"]]
        offset += body["count"]
        if offset >= total or not body["runs"]:
            return seen, total


def test_runs_paging_lists_every_run_once_and_the_kept_total_follows_new_runs(backend: Settings) -> None:
    catalog = open_catalog(backend)
    names = [add(catalog, backend, i) for i in range(4)]
    for i in range(33):  # runs started in the same second keep their insert order, newest first
        catalog.save_run(Run(run_id=f"extra-{i:03d}", dataset=names[i % 4], job_path="jobs/x.yaml", state="failed",
                             started_at="2024-01-01T00:00:00Z", error="e"))
    client = TestClient(create_app(backend))
    seen, total = _all_runs(client, 5)
    assert total == 37 and len(seen) == 37 and len(set(seen)) == 37, "a run listed twice or missed"
    assert [s for s in seen if s.startswith("extra-")] == [f"extra-{i:03d}" for i in reversed(range(33))]
    assert _all_runs(client, 5) == (seen, total), "the kept total gives the same pages"
    mark = catalog.runs_mark()
    catalog.save_run(Run(run_id="newest", dataset=names[0], job_path="jobs/x.yaml", state="failed",
                         started_at=utc_now(), error="e"))
    assert catalog.runs_mark() > mark, "a new run moves the mark"
    again, total = _all_runs(client, 7)
    assert total == 38 and again[0] == "newest" and sorted(again) == sorted([*seen, "newest"])


def test_a_runs_total_counted_while_a_run_insert_is_in_flight_is_not_kept(catalog_url: str,
                                                                           settings: Settings) -> None:
    """PostgreSQL's runs mark (a sequence) moves when the insert takes its number, before it commits: a total
    counted in between must not be kept under that mark."""
    import psycopg

    backend = settings.model_copy(update={"catalog_url": catalog_url})
    catalog = open_catalog(backend)
    name = add(catalog, backend, 1)
    client = TestClient(create_app(backend))
    assert client.get("/api/v1/runs").json()["total"] == 1
    with psycopg.connect(catalog_url) as writer:  # a transaction, open until the block ends
        writer.execute("INSERT INTO runs(run_id, dataset, job_path, state, started_at) "
                       "VALUES ('in-flight', %s, 'jobs/x.yaml', 'failed', '2024-01-01T00:00:00Z')", (name,))
        assert client.get("/api/v1/runs").json()["total"] == 1, "not committed yet"
    assert client.get("/api/v1/runs").json()["total"] == 2, "committed: counted again, not the kept 1"


def test_a_role_that_may_not_read_the_runs_sequence_gets_the_mark_from_the_runs(catalog_url: str,
                                                                               settings: Settings) -> None:
    import psycopg

    owner = open_catalog(settings.model_copy(update={"catalog_url": catalog_url}))
    add(owner, settings, 1)
    role = "runs_reader_" + catalog_url.rsplit("_", 1)[1]
    with psycopg.connect(catalog_url, autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
        db.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")  # not the sequence
    reader = Catalog(open_catalog(settings.model_copy(update={
        "catalog_url": catalog_url.replace("postgresql://opendata@", f"postgresql://{role}@")})).database)
    assert reader.runs_mark() == owner.runs_mark() == 1
    owner.save_run(Run(run_id="next", dataset="ds-001", job_path="jobs/x.yaml", state="failed",
                       started_at=utc_now(), error="e"))
    assert reader.runs_mark() == owner.runs_mark() == 2
