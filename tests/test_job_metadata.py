"""Job-file keys for harvesters (contact point, spatial and temporal coverage, EU themes) reach the catalog;
links that are not http(s) are refused with a clear error."""

from __future__ import annotations

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
