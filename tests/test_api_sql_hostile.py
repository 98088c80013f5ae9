"""Read-only SQL: what developers may ask, and a list of hostile queries that must each fail cleanly.

Every hostile query gets a 400 in the one error shape, nothing of the private side leaks into the
answer, and the engine keeps answering afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.api_fixtures import DATASET, STAGING_MARKER, ApiHome, TestClient, build_home, requests_table

SQL = "/api/v1/sql"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    built = build_home(tmp_path_factory.mktemp("sql"), query_timeout_seconds=0.5, sql_row_cap=500,
                       sql_memory_limit="64MB")
    built.publish(requests_table(300, first_id=1001))  # release 2
    built.write_staging()
    return built


@pytest.fixture(scope="module")
def client(home: ApiHome) -> TestClient:
    return home.client()


def run(client: TestClient, sql: str, method: str = "GET") -> Any:
    if method == "POST":
        return client.post(SQL, json={"sql": sql})
    return client.get(SQL, params={"sql": sql})


def paths(home: ApiHome) -> dict[str, str]:
    staging_csv, staging_parquet = home.write_staging()
    awaiting = home.settings.paths.releases / "air-quality" / "1" / "data.parquet"
    published = home.settings.paths.releases / DATASET / "1" / "data.parquet"
    return {"csv": str(staging_csv), "parquet": str(staging_parquet), "awaiting": str(awaiting),
            "published": str(published), "catalog": str(home.settings.paths.catalog_db),
            "home": str(home.settings.paths.root)}


HOSTILE: list[tuple[str, str]] = [
    ("read /etc/passwd with read_csv", "SELECT * FROM read_csv('/etc/passwd')"),
    ("read /etc/passwd with read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd')"),
    ("read /etc/passwd by replacement scan", "SELECT * FROM '/etc/passwd'"),
    ("read_text of a system file", "SELECT * FROM read_text('/etc/hostname')"),
    ("read_blob of a system file", "SELECT * FROM read_blob('/etc/hostname')"),
    ("glob the file system", "SELECT * FROM glob('/*')"),
    ("staging CSV", "SELECT * FROM read_csv('{csv}')"),
    ("staging Parquet", "SELECT * FROM read_parquet('{parquet}')"),
    ("staging Parquet by replacement scan", "SELECT * FROM '{parquet}'"),
    ("release awaiting approval", "SELECT * FROM read_parquet('{awaiting}')"),
    ("awaiting dataset by name", 'SELECT * FROM "air-quality"'),
    ("awaiting release by name", 'SELECT * FROM "air-quality@1"'),
    ("published file by path (table functions are off)", "SELECT * FROM read_parquet('{published}')"),
    ("path traversal from the releases folder",
     "SELECT * FROM read_parquet('{published}/../../../../private/staging/raw.parquet')"),
    ("ATTACH the catalog database", "ATTACH '{catalog}' AS cat"),
    ("ATTACH in memory", "ATTACH ':memory:' AS scratch"),
    ("sqlite_scan of the catalog", "SELECT * FROM sqlite_scan('{catalog}', 'api_keys')"),
    ("COPY a table to a file", "COPY (SELECT 1) TO '{home}/public/releases/evil.csv'"),
    ("COPY from a file", "COPY t FROM '/etc/passwd'"),
    ("EXPORT DATABASE", "EXPORT DATABASE '{home}/public/releases/dump'"),
    ("INSTALL an extension", "INSTALL httpfs"),
    ("LOAD an extension", "LOAD httpfs"),
    ("SET a setting", "SET enable_external_access = true"),
    ("RESET a setting", "RESET allowed_paths"),
    ("PRAGMA", "PRAGMA database_list"),
    ("CALL a pragma", "CALL pragma_version()"),
    ("read a setting", "SELECT current_setting('allowed_paths')"),
    ("duckdb_settings()", "SELECT * FROM duckdb_settings()"),
    ("duckdb_tables view", "SELECT * FROM duckdb_tables"),
    ("information_schema", "SELECT * FROM information_schema.tables"),
    ("query() table function", "SELECT * FROM query('SELECT 1')"),
    ("CREATE TABLE", "CREATE TABLE evil AS SELECT 1"),
    ("CREATE VIEW over a file", "CREATE VIEW v AS SELECT * FROM read_csv('/etc/passwd')"),
    ("DROP a dataset view", 'DROP VIEW "city-311-requests"'),
    ("INSERT", 'INSERT INTO "city-311-requests" VALUES (1)'),
    ("DELETE", 'DELETE FROM "city-311-requests"'),
    ("UPDATE", "UPDATE \"city-311-requests\" SET category = 'x'"),
    ("two statements, the second harmful", 'SELECT 1; COPY (SELECT 1) TO \'/tmp/evil.csv\''),
    ("a file read hidden in a CTE", "WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x"),
    ("a file read hidden in a subquery", "SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))"),
    ("a file read hidden in a join", 'SELECT * FROM "city-311-requests" JOIN read_csv(\'/etc/passwd\') ON true'),
    ("a qualified table in another catalog", "SELECT * FROM system.main.duckdb_settings"),
    ("httpfs URL", "SELECT * FROM read_parquet('https://example.com/x.parquet')"),
    ("getenv", "SELECT getenv('HOME')"),
    ("time travel clause", 'SELECT * FROM "city-311-requests" AT (VERSION => 1)'),
    ("cross-join bomb", 'SELECT sum(a.response_hours * b.response_hours - c.response_hours + d.request_id) '
                        'FROM "city-311-requests" a, "city-311-requests" b, "city-311-requests" c, '
                        '"city-311-requests" d'),
    ("generator bomb", "SELECT count(*) FROM range(1000000000000)"),
    ("recursive CTE without end", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                                  "SELECT max(n) FROM r"),
    ("memory bomb", "SELECT list(repeat('x', 1000)) FROM range(10000000)"),
    ("result over the row cap", 'SELECT * FROM "city-311-requests@1", range(10)'),
    ("not SQL at all", "this is not sql"),
    ("empty", "   "),
]


@pytest.mark.parametrize(("label", "template"), HOSTILE, ids=[label for label, _ in HOSTILE])
def test_hostile_sql_fails_cleanly(home: ApiHome, client: TestClient, label: str, template: str) -> None:
    sql = template.format(**paths(home))
    for method in ("GET", "POST"):
        response = run(client, sql, method)
        assert response.status_code == 400, (label, response.text)
        error = response.json()["error"]
        assert list(error) == ["status", "type", "message", "detail"]
        assert error["type"] in ("invalid-query", "query-timeout", "query-too-large", "invalid-parameter")
        assert STAGING_MARKER not in response.text and "root:" not in response.text
        assert "Traceback" not in response.text
    assert run(client, f'SELECT count(*) AS n FROM "{DATASET}"').json()["rows"] == [{"n": 300}]


def test_there_are_at_least_thirty_hostile_queries() -> None:
    assert len(HOSTILE) >= 30


def test_each_limit_answers_with_its_own_error(client: TestClient) -> None:
    timeout = run(client, "SELECT count(*) FROM range(1000000000000)").json()["error"]
    assert timeout["type"] == "query-timeout" and "time limit of 0.5 s" in timeout["message"]
    cap = run(client, 'SELECT * FROM "city-311-requests@1", range(10)').json()["error"]
    assert cap["type"] == "query-too-large" and "row cap of 500" in cap["message"]
    memory = run(client, "SELECT list(repeat('x', 1000)) FROM range(10000000)").json()["error"]
    assert memory["type"] in ("query-too-large", "query-timeout")


def test_files_are_refused_even_past_the_guard(home: ApiHome) -> None:
    from api.catalog_view import CatalogView
    from api.sql_engine import SqlEngine

    engine = SqlEngine(home.settings)
    view = CatalogView(home.catalog)
    tables = engine.bound(view, f'SELECT * FROM "{DATASET}" JOIN "{DATASET}@1" USING (category)')
    assert set(tables) == {DATASET, f"{DATASET}@1"}  # bound to what the query names, nothing else
    with engine.database(tables) as con:
        assert con.execute(f'SELECT count(*) FROM "{DATASET}@1"').fetchone() == (250,)
        for path in ("/etc/passwd", paths(home)["csv"], paths(home)["awaiting"], tables[DATASET] + "x"):
            with pytest.raises(Exception, match="(?i)permission|not allowed|disabled"):
                con.execute(f"SELECT * FROM read_csv('{path}')").fetchall()
        with pytest.raises(duckdb.CatalogException):  # a published table the query did not name is not bound
            con.execute(f'SELECT * FROM "{DATASET}@2"').fetchall()
        with pytest.raises(Exception, match="(?i)lock"):
            con.execute("SET enable_external_access = true")
    engine.close()
    view.close()


def test_select_over_datasets_and_pinned_releases(client: TestClient) -> None:
    latest = run(client, f'SELECT min(request_id) AS lo, count(*) AS n FROM "{DATASET}"').json()
    assert latest["rows"] == [{"lo": 1001, "n": 300}] and latest["columns"] == ["lo", "n"]
    pinned = run(client, f'SELECT count(*) AS n FROM "{DATASET}@1"', "POST").json()
    assert pinned["rows"] == [{"n": 250}]
    joined = run(client, f'SELECT count(*) AS n FROM "{DATASET}@1" a JOIN "{DATASET}@2" b USING (category)')
    assert joined.status_code == 200
    cte = run(client, f'WITH c AS (SELECT category FROM "{DATASET}") SELECT count(DISTINCT category) AS k FROM c')
    assert cte.json()["rows"] == [{"k": 4}]
    assert run(client, "SELECT sum(range) AS s FROM range(10)").json()["rows"] == [{"s": 45}]


def test_tables_lists_what_sql_can_read(client: TestClient) -> None:
    body = client.get(f"{SQL}/tables").json()
    assert set(body["tables"]) == {DATASET, f"{DATASET}@1", f"{DATASET}@2"}
    assert "category" in body["tables"][DATASET] and body["row_cap"] == 500


def test_a_new_release_is_queryable_at_once(tmp_path: Path) -> None:
    fresh = build_home(tmp_path)
    client = fresh.client()
    assert run(client, f'SELECT count(*) AS n FROM "{DATASET}"').json()["rows"] == [{"n": 250}]
    fresh.publish(requests_table(7))
    assert run(client, f'SELECT count(*) AS n FROM "{DATASET}"').json()["rows"] == [{"n": 7}]
    assert run(client, f'SELECT count(*) AS n FROM "{DATASET}@2"').json()["rows"] == [{"n": 7}]
