"""Rows pages from memory (api/release_tables.py, api/rows_lane.py) against the DuckDB path, side by side.

Every page of every query is fetched both ways, following each path's own cursors, and must be the same
rows in the same order with the same ``next`` token; the real app with the in-memory path turned off
(``release_memory_rows=0``) must give the same bytes and headers as the app with it on.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from api import release_tables
from api.app import create_app
from api.cursor import decode_cursor, filters_hash
from api.engine import QueryEngine
from api.query import fetch_rows, parse_rows_query
from api.release_tables import ReleaseTables
from api.values import dumps
from catalog.models import Release
from tests.api_fixtures import DATASET, ApiHome, TestClient, build_home, requests_table

ROWS = f"/api/v1/datasets/{DATASET}/rows"

#: Query parameters (besides limit and cursor) the in-memory path answers.
FAST_QUERIES: list[dict[str, str]] = [
    {},
    {"category": "graffiti"},
    {"category": "pothole", "select": "request_id,ward name"},
    {"category": "no-such-category"},
    {"request_id": "17"},
    {"closed": "true"},
    {"opened_on": "2024-01-04"},
    {"ward name": "Ward 3", "select": "opened_on,category"},
]
#: Queries that need DuckDB: ordered, several filters, other operators, floats and datetimes.
DUCKDB_QUERIES: list[dict[str, str]] = [
    {"order": "ward name"},
    {"category": "graffiti", "closed": "false"},
    {"request_id__gt": "100"},
    {"response_hours": "8.5"},
    {"opened_at": "2024-01-02T08:01:00"},
]


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    """Release 1: 250 rows with values spread through the file; release 2: 300 rows sorted by category
    (each category one contiguous block, as the publish stage lays a release out), 16 rows a group."""
    home = build_home(tmp_path)
    table = requests_table(300, first_id=1000)
    home.publish(table.sort_by([("category", "ascending"), ("request_id", "ascending")]), row_group_size=16)
    return home


def releases(home: ApiHome) -> list[Release]:
    return home.catalog.releases(DATASET)


def pages(home: ApiHome, release: Release, params: dict[str, str], limit: int, fast: bool, dataset: str = DATASET
          ) -> list[tuple[bytes, Any]]:
    """Every page of the query, following that path's cursors: (rows as JSON, next token)."""
    engine = QueryEngine(home.settings)
    tables = ReleaseTables(engine, home.settings.release_memory_rows)
    items = [(k, v) for k, v in params.items()]
    query = parse_rows_query(release, items, select=params.get("select"), order=params.get("order"))
    fhash = filters_hash(dataset, query.hash_key())
    found: list[tuple[bytes, Any]] = []
    position = None
    try:
        while True:
            if fast:
                page = tables.page(release, query, limit=limit, position=position, filters_hash=fhash)
                assert page is not None, f"{params} should be answered from memory"
            else:
                page = fetch_rows(engine, release, query, limit=limit, position=position, filters_hash=fhash)
            found.append((dumps(page.rows), page.next_cursor))
            if page.next_cursor is None:
                return found
            position = decode_cursor(page.next_cursor)
    finally:
        engine.close()


@pytest.mark.parametrize("params", FAST_QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
@pytest.mark.parametrize("limit", [5, 100])
def test_memory_pages_equal_duckdb_pages(home: ApiHome, params: dict[str, str], limit: int) -> None:
    for release in releases(home):
        fast = pages(home, release, params, limit, fast=True)
        slow = pages(home, release, params, limit, fast=False)
        assert fast == slow
        assert len(fast) >= 1


@pytest.mark.parametrize("params", DUCKDB_QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_queries_the_index_cannot_answer_go_to_duckdb(home: ApiHome, params: dict[str, str]) -> None:
    engine = QueryEngine(home.settings)
    try:
        tables = ReleaseTables(engine, home.settings.release_memory_rows)
        release = releases(home)[-1]
        query = parse_rows_query(release, list(params.items()), order=params.get("order"))
        fhash = filters_hash(DATASET, query.hash_key())
        assert tables.page(release, query, limit=10, position=None, filters_hash=fhash) is None
        assert not tables.warm(release, query, None)
    finally:
        engine.close()


#: Ordered queries: from memory where the order is file order over the rows the filter picks (release 2 is
#: sorted by category then request_id), from DuckDB where it is not (release 1, or an unsorted column).
ORDERED_QUERIES: list[dict[str, str]] = [
    {"order": "category"},
    {"order": "request_id"},
    {"order": "-request_id"},
    {"category": "pothole", "order": "request_id"},
    {"category": "graffiti", "order": "-request_id"},
    {"category": "graffiti", "order": "ward name"},
]


@pytest.mark.parametrize("params", ORDERED_QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_ordered_pages_in_file_order_come_from_memory_and_equal_duckdb_pages(home: ApiHome, params: dict[str, str]
                                                                             ) -> None:
    answered = 0
    for release in releases(home):
        engine = QueryEngine(home.settings)
        try:
            query = parse_rows_query(release, [(k, v) for k, v in params.items()], order=params.get("order"))
            first = ReleaseTables(engine, 10_000).page(release, query, limit=7, position=None, filters_hash="x")
        finally:
            engine.close()
        if first is None:
            continue
        answered += 1
        assert pages(home, release, params, 7, fast=True) == pages(home, release, params, 7, fast=False)
    if params in (ORDERED_QUERIES[0], ORDERED_QUERIES[3]):
        assert answered >= 1, "release 2's layout makes this order file order"


def test_an_ordered_cursor_is_read_by_the_memory_path_only_where_it_is_file_order(home: ApiHome) -> None:
    client = home.client()
    first = client.get(ROWS, params={"order": "category", "limit": 5}).json()
    assert decode_cursor(first["next"]).after_values == ("graffiti",)
    engine = QueryEngine(home.settings)
    try:
        latest, earlier = releases(home)[-1], releases(home)[0]
        tables = ReleaseTables(engine, 10_000)
        sorted_page = tables.page(latest, parse_rows_query(latest, [], order="category"), limit=5,
                                  position=decode_cursor(first["next"]), filters_hash="x")
        assert sorted_page is not None
        unsorted = tables.page(earlier, parse_rows_query(earlier, [], order="category"), limit=5, position=None,
                               filters_hash="x")
        assert unsorted is None
    finally:
        engine.close()


def app_answers(client: TestClient, params: dict[str, str]) -> list[tuple[int, bytes, dict[str, str]]]:
    """Each page of a query through the app (following ``next``): status, body, headers that must agree."""
    answers = []
    cursor = None
    for _ in range(100):
        response = client.get(ROWS, params={**params, **({"cursor": cursor} if cursor else {})})
        headers = {k: v for k, v in response.headers.items() if k not in ("ratelimit-remaining", "ratelimit-reset")}
        answers.append((response.status_code, response.content, headers))
        if response.status_code != 200 or params.get("format") == "csv":
            return answers
        cursor = response.json()["next"]
        if cursor is None:
            return answers
    raise AssertionError("paging did not end")


APP_QUERIES: list[dict[str, str]] = [
    *({**q, "limit": "40"} for q in FAST_QUERIES),
    *({**q, "limit": "60"} for q in DUCKDB_QUERIES),
    {"category": "graffiti", "release": "1", "limit": "30"},
    {"category": "graffiti", "format": "csv", "limit": "5"},
    {"limit": "0"}, {"limit": "+5"}, {"limit": "100000"}, {"release": "9"}, {"nope": "1"},
    {"category": "a", "limit": "2", "cursor": "garbage"},
    {"limit": "5", "format": "xml"}, {"closed": "maybe"},
]


@pytest.mark.parametrize("cache", [0, 4096])
def test_the_app_answers_the_same_with_and_without_the_memory_path(tmp_path: Path, cache: int) -> None:
    home = build_home(tmp_path, response_cache_entries=cache)
    home.publish(requests_table(300, first_id=1000).sort_by("category"), row_group_size=16)
    with_memory = home.client()
    settings = home.settings.model_copy(update={"release_memory_rows": 0})
    duckdb_only = TestClient(create_app(settings))
    for params in APP_QUERIES:
        for _ in range(2):  # the second time from the answer cache (when on) or a loaded release
            assert app_answers(with_memory, params) == app_answers(duckdb_only, params), params
    assert with_memory.app.state.release_tables.loaded(releases(home)[-1])  # type: ignore[attr-defined]
    assert not duckdb_only.app.state.release_tables.loaded(releases(home)[-1])  # type: ignore[attr-defined]


def test_memory_answers_keep_the_http_manners(home: ApiHome) -> None:
    client = home.client()
    params = {"category": "graffiti", "limit": "10"}
    client.get(ROWS, params=params)  # loads and indexes the release
    response = client.get(ROWS, params=params, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["x-release"] == "2"
    assert response.headers["cache-control"] == "public, no-cache"
    assert response.headers["ratelimit-limit"] == str(home.settings.rate_limit_anonymous)
    assert response.headers["x-next-cursor"] == response.json()["next"]
    assert 'rel="next"' in response.headers["link"]
    again = client.get(ROWS, params=params, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    pinned = client.get(ROWS, params={**params, "cursor": response.json()["next"]})
    assert pinned.headers["cache-control"].endswith("immutable")
    assert {r["category"] for r in pinned.json()["rows"]} == {"graffiti"}


def test_releases_share_the_memory_budget_least_recent_out(home: ApiHome) -> None:
    engine = QueryEngine(home.settings)
    try:
        first, second = releases(home)
        tables = ReleaseTables(engine, memory_rows=400)
        for release in (first, second):
            query = parse_rows_query(release, [])
            assert tables.page(release, query, limit=5, position=None, filters_hash="h") is not None
        assert tables.loaded(second) and not tables.loaded(first)  # 250 + 300 rows > 400
        small = ReleaseTables(engine, memory_rows=100)
        assert small.page(first, parse_rows_query(first, []), limit=5, position=None, filters_hash="h") is None
    finally:
        engine.close()


def test_a_column_with_too_many_values_is_not_indexed(home: ApiHome, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(release_tables, "MAX_INDEXED_VALUES", 10)
    engine = QueryEngine(home.settings)
    try:
        release = releases(home)[-1]
        tables = ReleaseTables(engine, 10_000)
        by_id = parse_rows_query(release, [("request_id", "1001")])
        assert tables.page(release, by_id, limit=5, position=None, filters_hash="h") is None
        by_category = parse_rows_query(release, [("category", "noise")])
        assert tables.page(release, by_category, limit=5, position=None, filters_hash="h") is not None
    finally:
        engine.close()


def test_value_index_blocks_hold_each_value_in_file_order() -> None:
    index = release_tables.ValueIndex.build(pa.chunked_array([["b", "a", None], ["b", "a", "b"]]))
    assert index is not None
    assert index.rows_after("b", -1, 10).tolist() == [0, 3, 5]
    assert index.rows_after("b", 0, 1).tolist() == [3]
    assert index.rows_after("a", 4, 10).tolist() == []
    assert index.rows_after("zzz", -1, 10).tolist() == []


TYPED_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "key", "type": "string"}, {"name": "tiny", "type": "integer"}, {"name": "big", "type": "integer"},
    {"name": "unsigned", "type": "integer"}, {"name": "maybe_int", "type": "integer"},
    {"name": "single", "type": "number"}, {"name": "double", "type": "number"},
    {"name": "maybe_double", "type": "number"}, {"name": "day", "type": "date"},
    {"name": "flag", "type": "boolean"}, {"name": "text", "type": "string"},
]}
ODD_TEXT = ['plain', 'qu"ote', "back\\slash", "tab\tnew\nline\x01", "Zürich ☃ 😀 中文", "", None, "%s %d {x}"]
ODD_FLOATS = [0.0, -0.0, 1e300, -2.5e-308, 5e-324, 0.1, float("nan"), float("inf"), float("-inf"), 1e16, 123456.789]


def typed_table(rows: int) -> pa.Table:
    def cycle(values: list[Any]) -> list[Any]:
        return [values[i % len(values)] for i in range(rows)]

    return pa.table({
        "key": sorted(cycle(["a", "b", "c"])),
        "tiny": pa.array(cycle([-128, 0, 127]), pa.int8()),
        "big": pa.array(cycle([2**63 - 1, -(2**63), 2**53 + 1, 0]), pa.int64()),
        "unsigned": pa.array(cycle([2**64 - 1, 0, 2**63]), pa.uint64()),
        "maybe_int": pa.array(cycle([1, None, -7]), pa.int32()),
        "single": pa.array(cycle([0.1, 3.4e38, -1.5, 1e-45]), pa.float32()),
        "double": pa.array(cycle(ODD_FLOATS), pa.float64()),
        "maybe_double": pa.array(cycle([None, 2.5, float("nan")]), pa.float64()),
        "day": pa.array(cycle([date(1, 1, 1), date(9999, 12, 31), None, date(2024, 2, 29)]), pa.date32()),
        "flag": pa.array(cycle([True, None, False]), pa.bool_()),
        "text": pa.array(cycle(ODD_TEXT), pa.string()),
    })


def typed_release(tmp_path: Path) -> tuple[ApiHome, Release]:
    """A home holding the "typed" dataset: one release of every cell type, in row groups of 16."""
    home = build_home(tmp_path)
    home.add_dataset("typed")
    home.publish(typed_table(90), dataset="typed", schema=TYPED_SCHEMA, row_group_size=16)
    return home, home.catalog.releases("typed")[-1]


TYPED_QUERIES: list[dict[str, str]] = [
    {}, {"key": "b"}, {"key": "a", "select": "text,double,day"}, {"order": "key"}, {"key": "c", "order": "key"},
]


@pytest.mark.parametrize("params", TYPED_QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_memory_pages_of_every_cell_type_equal_duckdb_pages(tmp_path: Path, params: dict[str, str]) -> None:
    """Big and unsigned integers, float32, NaN and infinities, -0.0, nulls in every type, far dates and text
    JSON must escape: the memory path's bytes are the DuckDB path's."""
    home, release = typed_release(tmp_path)
    for limit in (7, 100):
        fast = pages(home, release, params, limit, fast=True, dataset="typed")
        assert fast == pages(home, release, params, limit, fast=False, dataset="typed")
    body = fast[0][0].decode()
    assert "select" in params or ('"unsigned":18446744073709551615' in body and '"day":"0001-01-01"' in body)


def test_the_next_link_is_starlettes_with_the_cursor_last() -> None:
    from starlette.datastructures import URL

    from api.routes.rows import with_cursor

    for url in ["http://h/a/rows?route=R1&limit=100&cursor=abc&x=&y=1&y=2", "http://h:8/a%3Fb/rows",
                "https://h/rows?a=%20b+c&cursor=1&cursor=2", "http://h/rows?order=-x,y&select=a%2Cb&w%C3%BC=%E2%98%83"]:
        assert with_cursor(URL(url), "c2.N/+=x") == str(URL(url).include_query_params(cursor="c2.N/+=x"))


#: Orders that are not file order, answered from memory by an order index (integers, dates, booleans;
#: ties broken by file row, nulls last both ways) on both releases and the typed release.
INDEXED_ORDERS: list[dict[str, str]] = [
    {"order": "-request_id"}, {"order": "opened_on"}, {"order": "-opened_on"},
    {"category": "graffiti", "order": "-opened_on"}, {"category": "pothole", "order": "closed"},
    {"closed": "true", "order": "-request_id"}, {"category": "no-such-category", "order": "opened_on"},
]
TYPED_ORDERS: list[dict[str, str]] = [
    {"order": "maybe_int"}, {"key": "b", "order": "-maybe_int"}, {"order": "-big"}, {"order": "unsigned"},
    {"key": "a", "order": "day"}, {"order": "-day"}, {"order": "-flag"}, {"key": "c", "order": "tiny"},
]


@pytest.mark.parametrize("params", INDEXED_ORDERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("limit", [6, 100])
def test_other_orders_come_from_an_order_index_and_equal_duckdb_pages(home: ApiHome, params: dict[str, str],
                                                                     limit: int) -> None:
    for release in releases(home):
        assert pages(home, release, params, limit, fast=True) == pages(home, release, params, limit, fast=False)


@pytest.mark.parametrize("params", TYPED_ORDERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_order_indexes_of_every_orderable_type_equal_duckdb_pages(tmp_path: Path, params: dict[str, str]) -> None:
    home, release = typed_release(tmp_path)
    for limit in (4, 100):
        fast = pages(home, release, params, limit, fast=True, dataset="typed")
        assert fast == pages(home, release, params, limit, fast=False, dataset="typed")


def test_orders_numpy_cannot_match_duckdb_on_and_past_the_cap_go_to_duckdb(
        home: ApiHome, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = QueryEngine(home.settings)
    try:
        release = releases(home)[0]
        tables = ReleaseTables(engine, 10_000)
        for order in ("ward name", "-response_hours", "opened_at"):  # text, float, timestamp
            query = parse_rows_query(release, [], order=order)
            assert tables.page(release, query, limit=5, position=None, filters_hash="h") is None
        monkeypatch.setattr(release_tables, "MAX_ORDER_INDEXES", 1)
        first = parse_rows_query(release, [], order="-request_id")
        assert tables.page(release, first, limit=5, position=None, filters_hash="h") is not None
        assert tables.warm(release, first, None)
        second = parse_rows_query(release, [], order="opened_on")
        assert tables.page(release, second, limit=5, position=None, filters_hash="h") is None
        assert not tables.warm(release, second, None)
    finally:
        engine.close()
