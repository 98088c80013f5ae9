"""A real home for the officer's workflow: releases made by the real pipeline, two of them awaiting approval.

- ``other-requests``: its first release, awaiting approval (no public release: the review page's breadcrumb
  must not lead to its 404 dataset page);
- ``service-requests``: release 1 published without review, then release 2 awaiting approval under a new
  policy with quasi-identifiers (category, latitude rounded to whole degrees) and k = 2, so records are
  generalised and suppressed and the report has numbers to reconcile.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.api_keys import ApiKeyStore
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_HEADER, PEOPLE_PRIVACY, PEOPLE_ROWS, PEOPLE_SCHEMA

QI_POLICY: dict[str, Any] = {
    "columns": {"notes": "redact", "contact_email": "pseudonymize", "latitude": {"generalize": "round", "digits": 0}},
    "quasi_identifiers": ["category", "latitude"], "k": 2, "requires_approval": True,
}
EXTRA_ROW = ["5", "2024-03-04T10:00:00", "noise", "Streetlight out on Elm Street.", "", "40.701"]


@dataclass
class OfficerHome:
    settings: Settings
    keys: dict[str, str]  # role -> key
    key_ids: dict[str, str]

    def client(self) -> TestClient:
        # https: the session cookie is Secure, and httpx sends it over https only (as browsers do).
        return TestClient(create_app(self.settings), base_url="https://testserver", follow_redirects=False)


def write_job(jobs: Path, name: str, privacy: dict[str, Any], rows: list[list[str]]) -> Path:
    """A CSV-sourced job like tests/conftest.py's ``write_job`` (a function here: built once per module)."""
    folder = jobs / name
    (folder / "data").mkdir(parents=True, exist_ok=True)
    with open(folder / "data" / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([PEOPLE_HEADER, *rows])
    (folder / "table.schema.json").write_text(json.dumps(PEOPLE_SCHEMA))
    job = {"name": name, "title": name.replace("-", " ").capitalize(), "organization": "test-city",
           "license": "CC-BY-4.0", "source": {"type": "csv", "path": "data/rows.csv"}, "schema": "table.schema.json",
           "privacy": privacy}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return path


def build_officer_home(root: Path, more: tuple[str, ...] = ()) -> OfficerHome:
    """Made once per test module (three real runs); each test works on a copy (``copy_home``)."""
    settings = Settings(home=root / "home", pseudonym_key="test-key-not-secret", datasets_dir=root / "jobs",
                        rate_limit_anonymous=100_000)
    settings.paths.ensure()
    jobs = root / "jobs"
    assert run_job(write_job(jobs, "other-requests", QI_POLICY, PEOPLE_ROWS), settings).run.state == "awaiting-approval"
    assert run_job(write_job(jobs, "service-requests", PEOPLE_PRIVACY, PEOPLE_ROWS), settings).run.state == "succeeded"
    second = run_job(write_job(jobs, "service-requests", QI_POLICY, [*PEOPLE_ROWS, EXTRA_ROW]), settings)
    assert second.run.state == "awaiting-approval", second.run.error
    for name in more:  # further first releases awaiting approval
        assert run_job(write_job(jobs, name, QI_POLICY, PEOPLE_ROWS), settings).run.state == "awaiting-approval"
    store = ApiKeyStore(settings.paths.catalog_db)
    issued = {role: store.create(f"{role}-key", role) for role in ("developer", "officer")}  # type: ignore[arg-type]
    return OfficerHome(settings, {r: i.key for r, i in issued.items()}, {r: i.api_key.id for r, i in issued.items()})


def copy_home(home: OfficerHome, target: Path) -> OfficerHome:
    shutil.copytree(home.settings.home, target / "home")
    settings = home.settings.model_copy(update={"home": target / "home"})
    settings.__dict__.pop("paths", None)  # the cached HomePaths of the original
    return OfficerHome(settings, home.keys, home.key_ids)


def sign_in(client: TestClient, key: str, next_page: str = "/approvals") -> str:
    """Sign in through the form; the CSRF token of the session (read from the next page's forms)."""
    answer = client.post("/sign-in", data={"key": key, "next": next_page})
    assert answer.status_code == 303 and answer.headers["location"] == next_page, answer.text
    page = client.get(next_page)
    return csrf_of(page.text)


def csrf_of(html: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)
