"""Job-file keys for harvesters (contact point, spatial and temporal coverage, EU themes) reach the catalog;
links that are not http(s) are refused with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.store import Catalog
from opendata.errors import JobFileError
from opendata.settings import Settings
from publishers.job import load_job
from publishers.runner import run_job
from tests.conftest import JobWriter

FACTS = {
    "homepage": "https://example.gov/311",
    "contact_point": {"name": "311 Open Data Team", "email": "opendata@example.gov"},
    "spatial": "http://sws.geonames.org/5128581/",
    "temporal_coverage": {"start": "2024-03-01", "end": "2024-03-31"},
    "theme": ["gove", "SOCI"],
}


def test_the_facts_reach_the_catalog(settings: Settings, write_job: JobWriter) -> None:
    result = run_job(write_job(**FACTS), settings)
    assert result.release is not None
    dataset = Catalog(settings.paths.catalog_db).dataset("service-requests")
    assert dataset.contact_point is not None and dataset.contact_point.email == "opendata@example.gov"
    assert dataset.spatial == ["http://sws.geonames.org/5128581/"]
    assert dataset.temporal_coverage is not None and dataset.temporal_coverage.end == "2024-03-31"
    assert dataset.themes == ["GOVE", "SOCI"]


@pytest.mark.parametrize("key, value, says", [
    ("homepage", "javascript:alert(1)", "homepage must be an http:// or https:// URL"),
    ("homepage", "JaVaScRiPt:alert(document.cookie)", "homepage must be an http:// or https:// URL"),
    ("homepage", "data:text/html,<script>alert(1)</script>", "homepage must be an http:// or https:// URL"),
    ("homepage", "//evil.example/x", "homepage must be an http:// or https:// URL"),
    ("spatial", ["javascript:alert(1)"], "spatial must be an http:// or https:// URL"),
    ("contact_point", {"name": "x", "url": "javascript:alert(1)"}, "contact_point.url must be"),
    ("contact_point", {"name": "x"}, "contact_point needs an email or a url"),
    ("contact_point", {"name": "x", "email": "not an address"}, "must be an e-mail address"),
    ("temporal_coverage", {"start": "2024-05-01", "end": "2024-01-01"}, "ends (2024-01-01) before it starts"),
    ("theme", ["WEATHER"], "theme WEATHER is not an EU data theme"),
])
def test_bad_facts_are_refused_by_name(write_job: JobWriter, key: str, value: object, says: str) -> None:
    with pytest.raises(JobFileError) as refused:
        load_job(write_job(**{key: value}))
    assert says in str(refused.value)


def test_another_organisation_cannot_take_a_dataset_over(
    settings: Settings, write_job: JobWriter, tmp_path: Path
) -> None:
    assert run_job(write_job(), settings).release is not None  # organisation test-city
    rival = write_job(organization="rival-agency")
    with pytest.raises(JobFileError) as refused:
        run_job(rival, settings)
    assert "belongs to organisation 'test-city'" in str(refused.value) and "transfer_from" in str(refused.value)
    catalog = Catalog(settings.paths.catalog_db)
    assert catalog.dataset("service-requests").organization == "test-city"
    assert [r.number for r in catalog.releases("service-requests")] == [1]

    moved = run_job(write_job(organization="rival-agency", transfer_from="test-city"), settings)
    assert moved.release is not None and moved.release.number == 2
    assert catalog.dataset("service-requests").organization == "rival-agency"
    [transfer] = catalog.transfers("service-requests")
    assert transfer["from_organization"] == "test-city" and transfer["to_organization"] == "rival-agency"


def test_two_job_files_cannot_share_a_name(settings: Settings, write_job: JobWriter, tmp_path: Path) -> None:
    first = write_job()
    assert run_job(first, settings).release is not None
    second = tmp_path / "elsewhere" / "copy.yaml"
    second.parent.mkdir()
    second.write_text(first.read_text().replace("data/rows.csv", str(first.parent / "data" / "rows.csv"))
                      .replace("table.schema.json", str(first.parent / "table.schema.json")))
    with pytest.raises(JobFileError) as refused:
        run_job(second, settings)
    assert "two job files declare dataset 'service-requests'" in str(refused.value)
    first.unlink()  # the old file gone: the new one takes over the name (its source is the same: unchanged)
    taken = run_job(second, settings)
    assert taken.ok and taken.run.state == "unchanged" and taken.run.release == 1


def test_the_page_never_links_a_script_homepage(tmp_path: Path) -> None:
    from catalog.models import Dataset
    from tests.web_fixtures import build_catalog_home

    home = build_catalog_home(tmp_path / "web")
    stored = home.catalog.dataset("air-quality")
    home.catalog.upsert_dataset(Dataset(**{**stored.model_dump(), "homepage": "javascript:alert(1)"}),
                                "Environment Agency")  # stored before links were checked
    page = home.client().get("/datasets/air-quality").text
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown as text only


def test_organisation_keys_are_checked_and_reach_the_organisation_page(tmp_path: Path) -> None:
    import yaml

    from publishers.job_metadata import organization_profile

    source = Path(__file__).resolve().parent.parent / "datasets" / "city" / "requests.yaml"
    job = load_job(source)
    profile = organization_profile(job)
    assert profile is not None and profile.website == "https://portal.311.nyc.gov/"
    assert profile.description.startswith("311 is New York City's line")
    document = yaml.safe_load(source.read_text())
    for key, value, wanted in [("organization_website", "javascript:alert(1)", "http:// or https:// URL"),
                               ("organization_contact", "call us", "e-mail address or an http(s) URL")]:
        changed = tmp_path / "datasets" / "city"
        changed.mkdir(parents=True, exist_ok=True)
        for extra in source.parent.iterdir():
            if extra.is_file() and extra.name != "requests.yaml" and not (changed / extra.name).exists():
                (changed / extra.name).symlink_to(extra)
        if not (changed / "data").exists():
            (changed / "data").symlink_to(source.parent / "data")
        (changed / "requests.yaml").write_text(yaml.safe_dump({**document, key: value}))
        with pytest.raises(JobFileError) as caught:
            load_job(changed / "requests.yaml")
        assert wanted in str(caught.value) and key in str(caught.value)
