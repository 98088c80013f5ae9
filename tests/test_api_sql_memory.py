"""Small releases are copied into their bound SQL database's memory (``api.sql_engine``): the answers are
those of the views over the Parquet files (same columns, rows and types, geometry included, on the real
NYC 311 extract), the copies stay within their budget, and the locked database still refuses files."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from api import sql_engine
from api.catalog_view import CatalogView
from api.sql_engine import SqlEngine
from opendata.errors import QueryError
from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table
from tests.geo_fixtures import publish_nyc_311

QUERIES = [
    f'SELECT * FROM "{DATASET}" ORDER BY request_id',
    f'SELECT category, count(*) AS n, min(request_id) AS first FROM "{DATASET}" GROUP BY 1 ORDER BY 1',
    f'SELECT * FROM "{DATASET}@1" WHERE category = \'noise\' ORDER BY request_id DESC LIMIT 7',
    f'SELECT a.request_id FROM "{DATASET}@1" a JOIN "{DATASET}" b USING (request_id) ORDER BY 1 LIMIT 20',
    'SELECT * FROM "nyc-311" ORDER BY "Unique Key" LIMIT 40',
    'SELECT "Unique Key", ST_AsText(location) AS wkt FROM "nyc-311" WHERE location IS NOT NULL '
    'ORDER BY "Unique Key" DESC LIMIT 25',
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    built = build_home(tmp_path_factory.mktemp("sqlmem"))
    built.publish(requests_table(300, first_id=1001))  # release 2
    publish_nyc_311(built)
    return built


@pytest.fixture
def view(home: ApiHome) -> Iterator[CatalogView]:
    found = CatalogView(home.catalog)
    yield found
    found.close()


def answers(home: ApiHome, view: CatalogView) -> list[tuple[list[str], list[str], list[dict[str, object]]]]:
    engine = SqlEngine(home.settings)
    try:
        return [(r.columns, r.types, r.rows) for r in (engine.run(view, sql) for sql in QUERIES)]
    finally:
        engine.close()


def kinds(engine: SqlEngine, view: CatalogView, sql: str) -> dict[str, str]:
    """Table name -> 'table' (a copy in memory) or 'view' (over the Parquet file), in the bound database."""
    releases = engine.releases(view, sql)
    with engine.database(engine.files(releases), False, sql_engine.release_cells(releases)) as con:
        found = {name: "table" for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        found.update({name: "view" for (name,) in
                      con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()})
    return found


def test_copies_answer_as_the_views_do(home: ApiHome, view: CatalogView, monkeypatch: pytest.MonkeyPatch) -> None:
    copied = answers(home, view)
    monkeypatch.setattr(sql_engine, "MEMORY_TABLE_CELLS", 0)
    viewed = answers(home, view)
    assert copied == viewed
    assert len(copied[0][2]) == 300 and len(copied[4][2]) == 40 and copied[5][2][0]["wkt"].startswith("POINT")


def test_small_releases_are_copied_and_large_ones_stay_views(home: ApiHome, view: CatalogView,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sql = f'SELECT count(*) FROM "{DATASET}@1" JOIN "{DATASET}" USING (request_id)'
    engine = SqlEngine(home.settings)
    assert kinds(engine, view, sql) == {f"{DATASET}@1": "table", DATASET: "table"}
    cells = sql_engine.release_cells(engine.releases(view, sql))
    assert cells[f"{DATASET}@1"] < cells[DATASET]  # 250 and 300 rows, the same columns
    engine.close()
    monkeypatch.setattr(sql_engine, "MEMORY_TABLE_CELLS", cells[DATASET])  # room for one of the two: the smaller
    engine = SqlEngine(home.settings)
    assert kinds(engine, view, sql) == {f"{DATASET}@1": "table", DATASET: "view"}
    engine.close()


def test_idle_copies_stay_within_the_budget(home: ApiHome, view: CatalogView, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = SqlEngine(home.settings)
    one = sql_engine.release_cells(engine.releases(view, f'SELECT 1 FROM "{DATASET}"'))[DATASET]
    monkeypatch.setattr(sql_engine, "MEMORY_CELLS_BUDGET", one)
    engine.run(view, f'SELECT count(*) FROM "{DATASET}"')
    engine.run(view, f'SELECT count(*) FROM "{DATASET}@1"')  # a second copy would pass the budget
    assert len(engine._idle) == 1 and engine._copied_cells() <= one
    engine.run(view, "SELECT 1")  # nothing copied: kept beside the one copy
    assert len(engine._idle) == 2 and engine._copied_cells() <= one
    engine.close()


def test_a_copy_is_locked_as_a_view_is(home: ApiHome, view: CatalogView) -> None:
    engine = SqlEngine(home.settings)
    releases = engine.releases(view, f'SELECT * FROM "{DATASET}"')
    with engine.database(engine.files(releases), False, sql_engine.release_cells(releases)) as con:
        assert con.execute(f'SELECT count(*) FROM "{DATASET}"').fetchone() == (300,)
        with pytest.raises(duckdb.Error, match="(?i)permission|not allowed|disabled"):
            con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error, match="(?i)lock"):
            con.execute("SET late_materialization_max_rows = 50")
        assert con.execute("SELECT current_setting('late_materialization_max_rows')").fetchone() == (0,)
    engine.close()


def test_a_query_asked_again_is_not_parsed_again(home: ApiHome, view: CatalogView,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from api import sql_guard

    parsed: list[str] = []
    real = sql_guard.parse_tree
    monkeypatch.setattr(sql_guard, "parse_tree", lambda sql: parsed.append(sql) or real(sql))
    sql_guard._kept_tree.cache_clear()
    engine = SqlEngine(home.settings)
    sql = f'SELECT count(*) AS n FROM "{DATASET}" -- polled'
    assert [engine.run(view, sql).rows for _ in range(3)] == [[{"n": 300}]] * 3
    assert parsed == [sql]
    hostile = "SELECT * FROM read_csv('/etc/passwd')"
    for _ in range(2):  # the guard checks the kept tree each time
        with pytest.raises(QueryError, match="read_csv"):
            engine.run(view, hostile)
    assert parsed == [sql, hostile]
    engine.close()
