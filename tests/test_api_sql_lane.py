"""The lean SQL lane (``api/sql_lane.py``) and the per-query savings of the SQL engine (``api/sql_engine.py``).

A GET is answered by the lane, before FastAPI's routing, with the route's answer: the same JSON, status,
error shape and headers as the POST form (which the route answers), over a real uvicorn socket too; what
the route would refuse before a query goes on to it. The engine looks a release's file up once, runs
databases that hold only small in-memory copies on one thread, and writes dates as the JSON they become.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.catalog_view import CatalogView
from api.compress import gzip_body
from api.sql_engine import SqlEngine, dates_as_text
from api.sql_lane import SqlLane
from api.values import arrow_rows, dumps
from catalog.models import Release
from catalog.storage import LocalStorage
from tests.api_fixtures import DATASET, ApiHome, TestClient, build_home, requests_table
from tests.web_fixtures import LiveServer

SQL = "/api/v1/sql"
#: Answers and refusals of the engine: each GET (the lane) must answer as its POST (the route) does.
QUERIES = [
    "SELECT 1 AS one",
    f'SELECT * FROM "{DATASET}" ORDER BY request_id',  # over 1 KB: gzipped
    f'SELECT category, count(*) AS n FROM "{DATASET}@1" GROUP BY 1 ORDER BY 1',
    f'SELECT request_id, opened_on FROM "{DATASET}" WHERE category = \'noise\' ORDER BY 1 DESC LIMIT 5',
    "SELEC nothing",
    'SELECT * FROM "no-such-dataset"',
    "SELECT * FROM read_csv('/etc/passwd')",
    f'SELECT * FROM "{DATASET}" a, "{DATASET}" b',  # past the row cap
    "SELECT current_setting('threads')",
]
#: Headers the middleware outside the lanes adds, which GET and POST must share.
SHARED_HEADERS = ("content-type", "ratelimit-limit", "ratelimit-policy", "access-control-allow-origin",
                  "content-encoding", "vary")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    built = build_home(tmp_path_factory.mktemp("sqllane"), sql_row_cap=1000, cors_origins="https://example.org")
    built.publish(requests_table(300, first_id=1001))  # release 2
    return built


@pytest.fixture(scope="module")
def client(home: ApiHome) -> Iterator[TestClient]:
    with home.client() as found:
        yield found


def body(answer: httpx.Response) -> Any:
    found = answer.json()
    if isinstance(found, dict):
        found.pop("elapsed_ms", None)
    return found


def shared(answer: httpx.Response) -> dict[str, str | None]:
    return {name: answer.headers.get(name) for name in SHARED_HEADERS}


@pytest.mark.parametrize("sql", QUERIES)
def test_a_get_answers_as_the_route_answers_its_post(client: TestClient, sql: str) -> None:
    headers = {"Origin": "https://example.org", "Accept-Encoding": "gzip"}
    get = client.get(SQL, params={"sql": sql}, headers=headers)
    post = client.post(SQL, json={"sql": sql}, headers=headers)
    assert get.status_code == post.status_code and get.status_code in (200, 400)
    assert body(get) == body(post)
    assert shared(get) == shared(post)
    if get.status_code == 400:
        assert set(get.json()["error"]) == {"status", "type", "message", "detail"}


def test_the_lane_answers_a_get_itself_and_passes_the_rest_on(home: ApiHome) -> None:
    app = create_app(home.settings)  # its state: the SQL engine, the catalog view
    lane = SqlLane(route_teapot)

    async def in_the_app(scope: Scope, receive: Receive, send: Send) -> None:
        await lane({**scope, "app": app}, receive, send)

    client = TestClient(in_the_app)
    answer = client.get(SQL, params={"sql": f'SELECT count(*) AS n FROM "{DATASET}"'})
    assert answer.status_code == 200 and answer.json()["rows"] == [{"n": 300}]
    assert answer.json()["columns"] == ["n"] and answer.json()["row_count"] == 1
    refused = client.get(SQL, params={"sql": "SELEC 1"})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid-query"
    # what the route decides (a repeated, blank or missing sql, a POST, another path) goes on to it
    for params in ([("sql", "SELECT 1"), ("sql", "SELECT 2")], [("sql", " ")], [("sql", "")], []):
        assert client.get(SQL, params=params).status_code == 418, params
    assert client.post(SQL, json={"sql": "SELECT 1"}).status_code == 418
    assert client.get(SQL + "/tables").status_code == 418
    assert client.get(SQL, params={"sql": "SELECT 1 -- " + "x" * 5000}).status_code == 418


async def route_teapot(scope: Scope, receive: Receive, send: Send) -> None:
    await Response(b"the route", status_code=418)(scope, receive, send)


def test_what_the_route_decides_is_still_its_answer(client: TestClient) -> None:
    for params in ([("sql", "")], [("sql", " ")], []):
        answer = client.get(SQL, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["type"] in ("invalid-parameter", "invalid-query")
    over = client.get(SQL, params={"sql": "SELECT 1 -- " + "x" * 5000})
    assert over.status_code == 400 and over.json()["error"]["type"] == "invalid-parameter"
    twice = client.get(SQL, params=[("sql", "SELECT 1 AS n"), ("sql", "SELECT 2 AS n")])
    assert twice.status_code == 200 and twice.json()["rows"] == [{"n": 2}]  # FastAPI takes the last


def test_over_a_real_socket_the_answer_is_gzipped_and_whole(home: ApiHome) -> None:
    with LiveServer(home.settings, log_level="critical") as server:
        sql = f'SELECT * FROM "{DATASET}" ORDER BY request_id'
        with httpx.Client(base_url=server.url) as http:
            get = http.get(SQL, params={"sql": sql}, headers={"Accept-Encoding": "gzip"})
            post = http.post(SQL, json={"sql": sql}, headers={"Accept-Encoding": "identity"})
        assert get.headers["content-encoding"] == "gzip" and "Accept-Encoding" in get.headers["vary"]
        assert int(get.headers["content-length"]) < len(post.content) // 3
        assert body(get) == body(post) and len(get.json()["rows"]) == 300


def test_gzip_body_is_gzip_at_any_size() -> None:
    for size in (0, 1, 1023, 4096, 40_000, 300_000):
        data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        assert gzip.decompress(gzip_body(data)) == data


class CountingStorage(LocalStorage):
    """The local storage, counting the look-ups of release files."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.lookups = 0

    def exists(self, release: Release, name: str) -> bool:
        self.lookups += 1
        return super().exists(release, name)

    def duckdb_path(self, release: Release, name: str) -> str:
        self.lookups += 1
        return super().duckdb_path(release, name)


def test_a_release_file_is_looked_up_once(home: ApiHome) -> None:
    storage = CountingStorage(home.settings.paths.releases)
    engine, view = SqlEngine(home.settings, storage), CatalogView(home.catalog)
    try:
        sql = f'SELECT (SELECT count(*) FROM "{DATASET}") AS latest, (SELECT count(*) FROM "{DATASET}@1") AS first'
        assert engine.run(view, sql).rows == [{"latest": 300, "first": 250}]
        first = storage.lookups
        assert first > 0
        for _ in range(3):
            assert engine.run(view, sql).rows == [{"latest": 300, "first": 250}]
            assert engine.run(view, f'SELECT count(*) AS n FROM "{DATASET}@2"').rows == [{"n": 300}]
        assert storage.lookups == first  # release 2 again under its own name: the same release, the same file
    finally:
        engine.close()
        view.close()


def test_only_memory_copies_run_on_one_thread(home: ApiHome, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import sql_engine

    def threads(engine: SqlEngine, view: CatalogView, sql: str) -> int:
        releases = engine.releases(view, sql)
        with engine.database(engine.files(releases), False, sql_engine.release_cells(releases)) as con:
            found = con.execute("SELECT current_setting('threads')").fetchone()
        assert found is not None
        return int(found[0])

    view = CatalogView(home.catalog)
    engine = SqlEngine(home.settings)
    assert threads(engine, view, f'SELECT * FROM "{DATASET}"') == 1  # 300 rows: copied into memory
    assert threads(engine, view, "SELECT 1") == 1
    engine.close()
    monkeypatch.setattr(sql_engine, "MEMORY_TABLE_CELLS", 0)  # nothing copied: views over the Parquet files
    engine = SqlEngine(home.settings)
    assert threads(engine, view, f'SELECT * FROM "{DATASET}"') == home.settings.query_threads == 2
    engine.close()
    view.close()


@pytest.mark.parametrize("sql", [
    "SELECT DATE '2024-03-01' AS d, 1 AS x UNION ALL SELECT NULL, 2", "SELECT DATE 'infinity' AS d",
    "SELECT DATE '-infinity' AS d", "SELECT DATE '10000-01-01' AS d",
    "SELECT DATE '0001-01-01' AS d UNION ALL SELECT DATE '9999-12-31'", "SELECT NULL::DATE AS d",
    "SELECT DATE '2024-01-01' AS d WHERE false",
])
def test_dates_as_text_are_the_json_of_the_dates(sql: str) -> None:
    table = duckdb.sql(sql).to_arrow_table()
    assert dumps(arrow_rows(dates_as_text(table))) == dumps(arrow_rows(table))
