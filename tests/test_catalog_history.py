"""Release history: schema, row count and privacy changes between releases, as objects and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.history import diff_releases, release_history
from tests.web_fixtures import CatalogHome, build_catalog_home


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    return build_catalog_home(tmp_path)


def test_the_diff_names_schema_rows_and_privacy_changes(home: CatalogHome) -> None:
    first, second = home.catalog.releases("city-311-requests")
    reports = [
        json.loads((home.settings.paths.releases / r.folder / "privacy-report.json").read_text())
        for r in (first, second)
    ]
    diff = diff_releases(first, second, *reports)
    assert (diff.from_release, diff.to_release) == (1, 2)
    changes = {(c.name, c.change, c.before, c.after) for c in diff.schema_.changes}
    assert ("borough", "added", None, "string") in changes
    assert ("response_hours", "type-changed", "number", "integer") in changes
    assert diff.rows.model_dump() == {"before": 40, "after": 55, "delta": 15, "percent": 37.5}
    assert diff.privacy.compared and diff.privacy.policy_changed
    assert [(f.type, f.column) for f in diff.privacy.findings_added] == [("uncovered-quasi-identifier", "borough")]
    actions = {(a.column, a.action_before, a.action_after) for a in diff.privacy.actions}
    assert actions == {("notes", "keep", "redact"), ("borough", None, "keep")}
    assert "Rows: 40 → 55 (+37.5%)." in diff.summary
    assert "Column borough added (string)." in diff.summary
    assert "Column response_hours changed type: number → integer." in diff.summary
    assert "Column notes: privacy action keep → redact." in diff.summary


def test_a_missing_privacy_report_gives_a_smaller_diff_not_an_error(home: CatalogHome) -> None:
    first, second = home.catalog.releases("city-311-requests")
    diff = diff_releases(first, second, None, {"findings": "not a list"})
    assert not diff.privacy.compared and diff.privacy.policy_changed
    history = release_history([second, first], lambda release: None)
    assert [(d.from_release, d.to_release) for d in history] == [(1, 2)]
    with pytest.raises(ValueError, match="two datasets"):
        diff_releases(first, home.catalog.release("air-quality"))


def test_history_and_changes_as_json(home: CatalogHome) -> None:
    client = home.client()
    history = client.get("/api/v1/datasets/city-311-requests/history").json()
    assert history["releases"] == [1, 2]
    [change] = history["changes"]
    assert change["from_release"] == 1 and change["to_release"] == 2
    assert {(c["name"], c["change"]) for c in change["schema"]["changes"]} >= {
        ("borough", "added"), ("response_hours", "type-changed")
    }
    assert change["rows"]["delta"] == 15
    assert change["privacy"]["findings_added"][0]["column"] == "borough"

    assert client.get("/api/v1/datasets/city-311-requests/releases/2/changes").json() == change
    backwards = client.get("/api/v1/datasets/city-311-requests/releases/1/changes", params={"since": 2}).json()
    assert backwards["rows"]["delta"] == -15
    assert {c["change"] for c in backwards["schema"]["changes"]} >= {"removed", "type-changed"}

    first = client.get("/api/v1/datasets/city-311-requests/releases/1/changes")
    assert first.status_code == 400 and first.json()["error"]["detail"]["parameter"] == "since"
    assert client.get("/api/v1/datasets/city-311-requests/releases/2/changes?since=2").status_code == 400
    assert client.get("/api/v1/datasets/city-311-requests/releases/9/changes").json()["error"]["type"] == "not-found"
    assert client.get("/api/v1/datasets/bus-stops/history").status_code == 404  # nothing published
