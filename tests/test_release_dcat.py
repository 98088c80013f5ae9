"""DCAT facts kept in the catalog (migration 0004): a publish writes each release's coverage and byte sizes
to ``release_dcat`` with the release; a DCAT page reads them from there (not from each ``facts.json``);
``opendata db upgrade`` gives releases recorded before the migration theirs from their ``facts.json``; a
release without a row still has its facts, read from its files. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog import release_dcat
from catalog.dcat import Coverage
from catalog.release_dcat import DcatFacts
from catalog.storage import open_storage
from catalog.store import Catalog, open_catalog
from opendata.cli import main
from opendata.settings import Settings
from publishers.runner import run_job
from tests import catalog_fixtures, test_catalog_scale
from tests.conftest import JobWriter

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url
backend = test_catalog_scale.backend  # on SQLite and on PostgreSQL


def _published(settings: Settings, write_job: JobWriter) -> tuple[Catalog, str, dict[str, object]]:
    result = run_job(write_job(), settings)
    assert result.release is not None and result.release.state == "published"
    stored = json.loads((settings.paths.releases / result.release.folder / "facts.json").read_text())
    return open_catalog(settings), result.release.dataset, stored


def test_a_publish_keeps_the_release_dcat_facts_with_the_release(backend: Settings, write_job: JobWriter) -> None:
    catalog, name, stored = _published(backend, write_job)
    kept = catalog.release_dcat([(name, 1), (name, 2), ("no-such-dataset", 1)])
    assert set(kept) == {(name, 1)}
    folder = backend.paths.releases / name / "1"
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.name != "facts.json"}
    assert kept[(name, 1)].byte_sizes == sizes == stored["byte_sizes"]
    assert stored["coverage"] is not None  # the job's table has a date column
    assert kept[(name, 1)].coverage == Coverage(**stored["coverage"])  # type: ignore[arg-type]


def _size_in_page(settings: Settings, path: str = "/catalog.ttl") -> str:
    with TestClient(create_app(settings)) as client:
        response = client.get(path)
    assert response.status_code == 200
    return response.text


def test_a_dcat_page_reads_the_facts_the_catalog_keeps(settings: Settings, write_job: JobWriter) -> None:
    catalog, name, stored = _published(settings, write_job)
    true_size = str(stored["byte_sizes"]["data.parquet"])  # type: ignore[index]
    with catalog.transaction() as db:  # a size no file has: the page can only have read it from the catalog
        db.execute("UPDATE release_dcat SET byte_sizes = ? WHERE dataset = ?",
                   (json.dumps({**stored["byte_sizes"], "data.parquet": 987654321}), name))  # type: ignore[dict-item]
    page = _size_in_page(settings)
    assert '"987654321"^^xsd:nonNegativeInteger' in page and f'"{true_size}"^^' not in page
    for syntax in ("/catalog.jsonld",):
        assert "987654321" in _size_in_page(settings, syntax)


def test_the_backfill_gives_older_releases_their_facts_and_the_page_reads_files_until_then(
        settings: Settings, write_job: JobWriter) -> None:
    catalog, name, stored = _published(settings, write_job)
    before = catalog.release_dcat([(name, 1)])[(name, 1)]
    with catalog.transaction() as db:  # as the previous release's code recorded it: no row
        db.execute("DELETE FROM release_dcat WHERE dataset = ?", (name,))
    assert catalog.release_dcat([(name, 1)]) == {}
    true_size = stored["byte_sizes"]["data.parquet"]  # type: ignore[index]
    assert f'"{true_size}"^^xsd:nonNegativeInteger' in _size_in_page(settings)  # read from facts.json

    written, left = release_dcat.backfill(catalog, open_storage(settings))
    assert (written, left) == (1, 0)
    assert catalog.release_dcat([(name, 1)])[(name, 1)] == before
    assert release_dcat.backfill(catalog, open_storage(settings)) == (0, 0)  # once


def test_the_upgrade_command_backfills(settings: Settings, write_job: JobWriter, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    catalog, name, _ = _published(settings, write_job)
    before = catalog.release_dcat([(name, 1)])[(name, 1)]
    with catalog.transaction() as db:
        db.execute("DELETE FROM release_dcat WHERE dataset = ?", (name,))
    monkeypatch.setenv("OPENDATA_HOME", str(settings.home))
    assert main(["db", "upgrade", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dcat_facts"] == {"written": 1, "without": 0}
    assert catalog.release_dcat([(name, 1)])[(name, 1)] == before


def test_a_facts_file_without_byte_sizes_leaves_the_release_to_its_files(settings: Settings,
                                                                         write_job: JobWriter) -> None:
    catalog, name, stored = _published(settings, write_job)
    with catalog.transaction() as db:
        db.execute("DELETE FROM release_dcat WHERE dataset = ?", (name,))
    path = settings.paths.releases / name / "1" / "facts.json"
    path.write_text(json.dumps({k: v for k, v in stored.items() if k != "byte_sizes"}))
    assert release_dcat.backfill(catalog, open_storage(settings)) == (0, 1)
    assert release_dcat.of_facts({"byte_sizes": {"a": "x"}}) is None  # not a size: no facts, no error
    assert release_dcat.of_facts({"byte_sizes": {"a": 3}, "coverage": {"start": "2020"}}) is None
    assert release_dcat.of_facts({"byte_sizes": {"a": 3}, "coverage": None}) == DcatFacts(None, {"a": 3})
