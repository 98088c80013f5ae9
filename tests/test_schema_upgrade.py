"""Versioned catalog migrations: a catalog made by the previous landed version (tag stop-20) upgrades and serves
the same, on SQLite and PostgreSQL; a catalog newer than the code is refused; replicas can read with a role
that may only SELECT; the migrations make exactly ``catalog.schema``.

The stop-20 catalogs are tests/data/stop20/{sqlite,postgres}, made by tests/data/stop20/make_fixtures.py
with that version's code (the SQLite file and a plain-SQL pg_dump, with the release files they name).
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from catalog.approvals import Approvals
from catalog.database import CatalogDatabase, catalog_database, close_databases
from catalog.schema import metadata
from catalog.schema_version import HEAD, head, state
from catalog.store import open_catalog
from opendata.cli import main
from opendata.errors import SchemaVersionMismatch
from opendata.settings import Settings
from publishers.runner import run_job
from tests import catalog_fixtures
from tests.conftest import PEOPLE_PRIVACY, JobWriter

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url

STOP20 = Path(__file__).resolve().parent / "data" / "stop20"
FUTURE = "9999_from_a_newer_release"


def _settings(tmp_path: Path, kind: str, url: str | None = None) -> tuple[Settings, dict[str, Any]]:
    """A home holding the stop-20 installation's release files (and its SQLite catalog, for ``sqlite``)."""
    home = tmp_path / "home"
    shutil.copytree(STOP20 / kind / "home", home)
    if kind == "sqlite":
        shutil.copy(STOP20 / "sqlite" / "catalog.sqlite3", home / "catalog.sqlite3")
    settings = Settings(home=home, pseudonym_key="fixture-key-not-secret", datasets_dir=tmp_path / "jobs",
                        catalog_url=SecretStr(url) if url else None)
    settings.paths.ensure()
    expected: dict[str, Any] = json.loads((STOP20 / kind / "expected.json").read_text())
    return settings, expected


def _restore(url: str) -> None:
    psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    dump = STOP20 / "postgres" / "catalog.sql"
    subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(dump)], check=True,
                   capture_output=True)


def _cli(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``opendata ARGS`` on the installation of ``settings`` (its home, and its catalog URL if any)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as env:
        if settings.catalog_url is not None:
            env.setenv("OPENDATA_CATALOG_URL", settings.catalog_url.get_secret_value())
        else:
            env.delenv("OPENDATA_CATALOG_URL", raising=False)
        code = main(["--home", str(settings.home), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rows(database: CatalogDatabase, sql: str) -> list[dict[str, Any]]:
    with database.connect() as db:
        return [dict(r) for r in db.execute(sql).fetchall()]


def _upgrade_and_check(settings: Settings, expected: dict[str, Any], capsys: pytest.CaptureFixture[str],
                       write_job: JobWriter) -> None:
    with pytest.raises(SchemaVersionMismatch, match="made before versioned migrations.*opendata db upgrade"):
        catalog_database(settings)
    code, _, err = _cli(settings, capsys, "serve")
    assert code == 2 and "opendata db upgrade" in err, "a serving process refuses the old schema"
    code, out, _ = _cli(settings, capsys, "db", "current", "--json")
    assert code == 1 and json.loads(out)["status"] == "unversioned"

    code, out, _ = _cli(settings, capsys, "db", "upgrade", "--json")
    assert code == 0, out
    upgraded = json.loads(out)
    assert upgraded["before"]["current"] is None and upgraded["after"]["current"] == HEAD
    code, out, _ = _cli(settings, capsys, "db", "current", "--json")
    assert code == 0 and json.loads(out) | {"database": ""} == {"database": "", "current": HEAD, "head": HEAD,
                                                                "status": "current"}

    database = catalog_database(settings)
    assert _rows(database, "SELECT name, organization, title FROM datasets ORDER BY name") == expected["datasets"]
    assert _rows(database, "SELECT dataset, number, state, rows, run_id FROM releases ORDER BY dataset, number") \
        == expected["releases"]
    assert _rows(database, "SELECT run_id, dataset, state, release, rows_in, rows_out FROM runs ORDER BY run_id") \
        == expected["runs"]
    assert _rows(database, "SELECT dataset, number, decision, decided_by, reason FROM approvals ORDER BY id") \
        == expected["approvals"]
    assert _rows(database, "SELECT id, name, role FROM api_keys ORDER BY id") == expected["api_keys"]
    assert _rows(database, "SELECT dataset, cursor_column, value FROM job_cursors ORDER BY dataset") \
        == expected["cursors"]
    (decision,) = Approvals(open_catalog(settings)).history("reviewed-requests", 1)
    assert (decision.decided_by, decision.reason) == ("Ada", "report read")

    published = sorted({r["dataset"] for r in expected["releases"] if r["state"] == "published"})
    key = {"X-API-Key": expected["api_key"]}
    with TestClient(create_app(settings)) as client:
        listed = client.get("/api/v1/datasets").json()["datasets"]
        assert sorted(d["name"] for d in listed) == published
        for name in published:
            release = max(r["number"] for r in expected["releases"] if r["dataset"] == name)
            page = client.get(f"/api/v1/datasets/{name}/rows", headers=key)
            assert page.status_code == 200 and page.headers["x-release"] == str(release), page.text
            rows = [r["rows"] for r in expected["releases"] if (r["dataset"], r["number"]) == (name, release)]
            assert len(page.json()["rows"]) == rows[0]
        pinned = client.get("/api/v1/datasets/service-requests/rows", params={"release": 1}, headers=key)
        assert pinned.status_code == 200 and len(pinned.json()["rows"]) == 3
        assert client.get("/api/v1/datasets/held-requests/rows").status_code == 404, "still awaiting approval"
        runs = client.get("/api/v1/runs", params={"limit": 50}).json()["runs"]
        assert sorted(r["run_id"] for r in runs) == sorted(r["run_id"] for r in expected["runs"]
                                                           if r["dataset"] in published), "public datasets' runs"
        assert client.get("/api/v1/search", params={"q": "codes"}).status_code in (200, 404)

    run_job(write_job(privacy=PEOPLE_PRIVACY, organization="test-agency"), settings)  # the next release
    assert open_catalog(settings).release("service-requests").number == 3


def test_a_stop20_sqlite_catalog_upgrades_and_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_job: JobWriter
) -> None:
    settings, expected = _settings(tmp_path, "sqlite")
    _upgrade_and_check(settings, expected, capsys, write_job)
    _assert_schema_is_metadata(catalog_database(settings))


def test_a_stop20_postgresql_dump_upgrades_and_serves(
    tmp_path: Path, catalog_url: str, capsys: pytest.CaptureFixture[str], write_job: JobWriter
) -> None:
    _restore(catalog_url)
    settings, expected = _settings(tmp_path, "postgres", catalog_url)
    _upgrade_and_check(settings, expected, capsys, write_job)
    _assert_schema_is_metadata(catalog_database(settings))


def _stamp_future(database: CatalogDatabase) -> None:
    with database.transaction() as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (FUTURE,))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_catalog_newer_than_the_code_is_refused_untouched(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    url = request.getfixturevalue("catalog_url") if kind == "postgresql" else None
    settings = Settings(home=tmp_path / "home", pseudonym_key="test-key-not-secret",
                        catalog_url=SecretStr(url) if url else None)
    settings.paths.ensure()
    database = catalog_database(settings)  # a new catalog: made at this code's revision
    assert state(database).status == "current"
    _stamp_future(database)
    close_databases()
    with pytest.raises(SchemaVersionMismatch, match=f"{FUTURE}, which this code does not know"):
        catalog_database(settings)
    for verb in (["serve"], ["scheduler"], ["worker", "--queue", "redis://127.0.0.1:1/0"], ["db", "upgrade"]):
        code, _, err = _cli(settings, capsys, *verb)
        assert code == 2 and "newer release" in err and "opendata db current" in err, (verb, err)
    code, out, _ = _cli(settings, capsys, "db", "current", "--json")
    assert code == 1 and json.loads(out)["current"] == FUTURE and json.loads(out)["status"] == "newer"
    assert state(catalog_database(settings, check_schema=False)).current == FUTURE, "left as it was"


def test_a_replica_with_a_select_only_role_serves_reads(
    tmp_path: Path, catalog_url: str, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = Settings(home=tmp_path / "home", pseudonym_key="test-key-not-secret", datasets_dir=tmp_path / "jobs",
                     catalog_url=SecretStr(catalog_url))
    owner.paths.ensure()
    code, _, err = _cli(owner, capsys, "db", "upgrade")
    assert code == 0, err
    run_job(write_job(privacy=PEOPLE_PRIVACY), owner)
    with psycopg.connect(catalog_url, autocommit=True) as db:  # docs/deploy.md: the replica role
        db.execute("DROP ROLE IF EXISTS opendata_replica")
        db.execute("CREATE ROLE opendata_replica LOGIN")
        db.execute("GRANT USAGE ON SCHEMA public TO opendata_replica")
        db.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO opendata_replica")
    replica_url = catalog_url.replace("postgresql://opendata@", "postgresql://opendata_replica@")
    replica = owner.model_copy(update={"catalog_url": SecretStr(replica_url)})
    with TestClient(create_app(replica)) as client:
        assert [d["name"] for d in client.get("/api/v1/datasets").json()["datasets"]] == ["service-requests"]
        page = client.get("/api/v1/datasets/service-requests/rows", params={"category": "pothole"})
        assert page.status_code == 200 and len(page.json()["rows"]) == 2
        assert client.get("/api/v1/datasets/service-requests").status_code == 200
        assert client.get("/api/v1/runs").status_code == 200
        assert client.get("/healthz").json()["catalog_database"] == "postgresql"
        assert client.get("/datasets/service-requests").status_code == 200, "the HTML page"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        with catalog_database(replica).transaction() as db:
            db.execute("DELETE FROM releases")
    assert open_catalog(owner).release("service-requests").number == 1


def test_head_constant_is_the_newest_migration() -> None:
    assert head() == HEAD


def _assert_schema_is_metadata(database: CatalogDatabase) -> None:
    """What Alembic would generate against the migrated database: nothing (beside each database's own extras)."""
    extras = {"search_fts", "catalog_version", "alembic_version"}

    def include(obj: Any, name: str | None, kind: str, reflected: bool, _compare_to: Any) -> bool:
        if kind == "table":
            return not (name or "").startswith("search_fts") and name not in extras
        if kind == "column" and (name, obj.table.name) in {("seq", "runs"), ("document", "search_documents")}:
            return False
        return not (kind == "index" and name == "search_documents_fts")

    def quirk(diff: Any) -> bool:
        """SQLite's own reading: a one-column TEXT PRIMARY KEY of the old DDL admits NULL (the code never writes
        one), and a DOUBLE PRECISION column reads back as REAL (its affinity)."""
        change = diff[0] if isinstance(diff, list) else diff
        if database.dialect != "sqlite":
            return False
        if change[0] == "modify_nullable":
            return bool(metadata.tables[change[2]].c[change[3]].primary_key)
        return change[0] == "modify_type" and str(change[5]) == "REAL" and str(change[6]) == "DOUBLE PRECISION"

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include, "compare_type": True})
        assert [d for d in compare_metadata(context, metadata) if not quirk(d)] == []


def test_a_rollback_downgrades_to_base_keeping_every_row_and_upgrades_again(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    run_job(write_job(privacy=PEOPLE_PRIVACY), settings)
    code, out, _ = _cli(settings, capsys, "db", "downgrade", "base", "--json")
    assert code == 0 and json.loads(out)["after"]["status"] == "unversioned"
    with pytest.raises(SchemaVersionMismatch, match="opendata db upgrade"):
        catalog_database(settings)
    code, _, err = _cli(settings, capsys, "db", "downgrade", "0000_no_such_revision")
    assert code == 2 and "0001_baseline" in err
    assert _cli(settings, capsys, "db", "upgrade")[0] == 0
    assert open_catalog(settings).release("service-requests").number == 1
