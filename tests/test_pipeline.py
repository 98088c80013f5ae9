"""A job end to end: extract, anonymise, validate, publish; and the ways a run refuses to publish."""

from __future__ import annotations

import json

import duckdb
import pytest

from catalog.publish import sha256_file
from catalog.store import Catalog
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_HEADER, PEOPLE_ROWS, PEOPLE_SCHEMA, JobWriter


def test_a_job_publishes_a_numbered_typed_release_with_both_reports(
    settings: Settings, write_job: JobWriter
) -> None:
    result = run_job(write_job(), settings)
    assert result.run.state == "succeeded"
    assert result.release is not None and result.release.number == 1

    folder = settings.paths.releases / result.release.folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "data.parquet", "datapackage.json", "facts.json", "fingerprint.json", "privacy-report.json",
        "validation-report.json"]
    for name, digest in result.release.files.items():
        assert sha256_file(folder / name) == digest

    rows = duckdb.sql(f"SELECT * FROM read_parquet('{folder / 'data.parquet'}') ORDER BY request_id")
    types = dict(zip(rows.columns, [str(t) for t in rows.types], strict=True))
    assert types["request_id"] == "BIGINT" and types["opened"] == "TIMESTAMP WITH TIME ZONE"  # an instant
    assert types["latitude"] == "DOUBLE"
    published = rows.fetchall()
    assert [r[0] for r in published] == [1, 2, 3, 4]
    assert published[0][5] == 40.713  # latitude rounded to 3 digits

    package = json.loads((folder / "datapackage.json").read_text())
    assert package["version"] == "1" and package["resources"][0]["schema"] == PEOPLE_SCHEMA
    validation = json.loads((folder / "validation-report.json").read_text())
    assert validation["valid"] is True and validation["stats"]["rows"] == 4

    assert run_job(write_job(), settings).run.state == "unchanged", "the same source makes no release"
    again = run_job(write_job(publish={"when_unchanged": "publish"}), settings)
    assert again.release is not None and again.release.number == 2
    assert [r.number for r in Catalog(settings.paths.catalog_db).releases("service-requests")] == [1, 2]


def test_personal_values_do_not_reach_the_published_file(settings: Settings, write_job: JobWriter) -> None:
    result = run_job(write_job(), settings)
    assert result.release is not None
    folder = settings.paths.releases / result.release.folder
    published = duckdb.sql(f"SELECT * FROM read_parquet('{folder / 'data.parquet'}')").fetchall()
    text = json.dumps(published, default=str) + "".join(p.read_text() for p in folder.glob("*.json"))
    for secret in ("maria.gonzalez@example.test", "Maria Gonzalez", "Robert Johnson", "212-555-0147",
                   "rjohnson@example.test", "40.712776"):
        assert secret not in text


def test_an_uncovered_personal_data_column_blocks_the_release(settings: Settings, write_job: JobWriter) -> None:
    path = write_job(privacy={"columns": {"notes": "redact", "latitude": {"generalize": "round", "digits": 3}}})
    result = run_job(path, settings)
    assert result.run.state == "blocked"
    assert result.release is None and result.privacy is not None
    blocking = [f for f in result.privacy.findings if f.blocking]
    assert [f.column for f in blocking] == ["contact_email"]
    assert "EMAIL" in blocking[0].message and "contact_email" in (result.run.error or "")
    assert Catalog(settings.paths.catalog_db).releases("service-requests") == []
    assert not list(settings.paths.releases.glob("service-requests/*"))
    kept = settings.paths.blocked / "service-requests" / result.run.run_id / "privacy-report.json"
    assert kept.exists()


def test_an_invalid_table_is_quarantined_with_its_report(settings: Settings, write_job: JobWriter) -> None:
    rows = [list(r) for r in PEOPLE_ROWS]
    rows[2][0] = "three"        # type-error
    rows[3][2] = "streetlight"  # constraint-error (enum)
    result = run_job(write_job(rows=rows), settings)
    assert result.run.state == "quarantined"
    assert result.validation is not None
    found = {tuple(e) for e in result.validation.flatten(["rowNumber", "fieldName", "type"])}
    assert {(4, "request_id", "type-error"), (5, "category", "constraint-error")} <= found
    catalog = Catalog(settings.paths.catalog_db)
    assert catalog.releases("service-requests") == []
    folder = settings.paths.quarantine / "service-requests" / result.run.run_id
    assert json.loads((folder / "validation-report.json").read_text())["valid"] is False
    assert (folder / "anonymized.parquet").exists()
    assert settings.paths.public not in folder.parents


def test_a_quarantined_run_leaves_the_previous_release_serving(settings: Settings, write_job: JobWriter) -> None:
    assert run_job(write_job(), settings).run.state == "succeeded"
    bad = [list(r) for r in PEOPLE_ROWS]
    bad[0][1] = "first of March"
    assert run_job(write_job(rows=bad), settings).run.state == "quarantined"
    catalog = Catalog(settings.paths.catalog_db)
    assert catalog.release("service-requests").number == 1
    assert [r.state for r in catalog.runs("service-requests")] == ["quarantined", "succeeded"]


def test_raw_data_does_not_stay_in_staging(settings: Settings, write_job: JobWriter) -> None:
    run_job(write_job(), settings)
    assert list(settings.paths.staging.rglob("*.parquet")) == []


@pytest.mark.parametrize("header", [PEOPLE_HEADER[:-1] + ["request_id"]])
def test_a_source_with_duplicate_columns_fails_with_a_clear_error(
    settings: Settings, write_job: JobWriter, header: list[str]
) -> None:
    from opendata.errors import SourceError

    with pytest.raises(SourceError, match="duplicate column names in the header: request_id"):
        run_job(write_job(header=header), settings)
    run = Catalog(settings.paths.catalog_db).runs("service-requests")[0]
    assert run.state == "failed" and "duplicate column" in (run.error or "")


def test_profiles_samples_and_coverage_are_computed_once_at_publish(settings: Settings, write_job: JobWriter) -> None:
    from api.engine import QueryEngine
    from api.web.profile import ReleaseFacts, profile_release
    from catalog.release_facts import FACTS_VERSION

    result = run_job(write_job(), settings)
    assert result.release is not None
    folder = settings.paths.releases / result.release.folder
    stored = json.loads((folder / "facts.json").read_text())
    assert stored["version"] == FACTS_VERSION and stored["sample_columns"] and len(stored["sample_rows"]) > 0
    engine = QueryEngine(settings)
    computed = profile_release(engine, result.release)  # what the page would compute from the data
    facts = ReleaseFacts(engine)
    assert facts.profile(result.release) == computed
    # The DCAT facts: every other file's byte size, beside the coverage.
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.name != "facts.json"}
    assert stored["byte_sizes"] == sizes and set(sizes) == set(result.release.files) - {"facts.json"}
    (folder / "data.parquet").unlink()  # the page's facts come from the stored document, not the data
    assert ReleaseFacts(engine).profile(result.release) == computed
    assert ReleaseFacts(engine).sample(result.release)[0] == stored["sample_columns"]
    dcat = ReleaseFacts(engine).dcat(result.release)  # not the storage: the file is gone
    assert dcat.byte_sizes == sizes and dcat.coverage == facts.coverage(result.release)


def test_the_warm_up_profiles_only_releases_published_without_their_facts(
    settings: Settings, write_job: JobWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from api.engine import QueryEngine
    from api.web import state
    from api.web.profile import ReleaseFacts

    result = run_job(write_job(), settings)
    assert result.release is not None
    catalog = Catalog(settings.paths.catalog_db)
    monkeypatch.setattr(state, "WARM_DELAY_SECONDS", 0)

    def warmed() -> set[tuple[str, int]]:
        web = object.__new__(state.WebState)  # its warm-up alone, without the request that makes one
        web.facts = ReleaseFacts(QueryEngine(settings))
        web.warm(catalog)
        return {(what, number) for what, _, number, _ in web.facts._cache}

    assert warmed() == set()  # its facts are stored with it: read when a page shows them, not ahead
    # A release published before facts.json: the same data, recorded without the document.
    old = settings.paths.releases / result.release.folder
    legacy = result.release.model_copy(update={
        "number": 2, "folder": f"{result.release.dataset}/2",
        "files": {k: v for k, v in result.release.files.items() if k != "facts.json"}})
    shutil.copytree(old, settings.paths.releases / legacy.folder, ignore=shutil.ignore_patterns("facts.json"))
    catalog.record_release(legacy, result.run.model_copy(update={"run_id": "legacy-run", "release": 2}))
    assert warmed() == {("stored", 2), ("profile", 2), ("sample", 2), ("coverage", 2)}
