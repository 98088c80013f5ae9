"""A release that needs a privacy officer: it waits unpublished, and a decision (CLI or API) settles it."""

from __future__ import annotations

import getpass
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.api_keys import ApiKeyStore
from catalog.approvals import Approvals
from catalog.store import Catalog
from opendata.cli import main
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_PRIVACY, JobWriter

WAITING_POLICY: dict[str, Any] = {**PEOPLE_PRIVACY, "requires_approval": True}
PAGE = "/datasets/service-requests/releases/1/privacy"
API = "/api/v1/datasets/service-requests/releases/1"


@pytest.fixture
def waiting(settings: Settings, write_job: JobWriter) -> Settings:
    result = run_job(write_job(privacy=WAITING_POLICY), settings)
    assert result.run.state == "awaiting-approval" and result.release is not None
    assert result.release.state == "awaiting-approval"
    return settings


def keys(settings: Settings) -> dict[str, str]:
    store = ApiKeyStore(settings.paths.catalog_db)
    return {role: store.create(f"{role}-key", role).key for role in ("developer", "officer")}


def test_a_waiting_release_is_not_public_anywhere(waiting: Settings) -> None:
    issued = keys(waiting)
    with TestClient(create_app(waiting)) as client:
        assert client.get("/api/v1/datasets/service-requests/rows").status_code == 404
        assert client.get(f"{API}/privacy-report").status_code == 404
        assert client.get(f"{API}/data.parquet").status_code == 404
        anonymous = client.get(PAGE)
        assert anonymous.status_code == 401 and "officer" in anonymous.text
        assert "pseudonymize" not in anonymous.text  # the locked page shows nothing of the report
        developer = client.get(PAGE, headers={"X-API-Key": issued["developer"]})
        assert developer.status_code == 403
        officer = client.get(PAGE, headers={"Authorization": f"Bearer {issued['officer']}"})
        assert officer.status_code == 200
        assert "Approve and publish" in officer.text and "contact_email" in officer.text
        assert officer.headers["cache-control"] == "no-store"


def test_the_officer_approves_over_the_api_and_the_release_is_published(waiting: Settings) -> None:
    issued = keys(waiting)
    with TestClient(create_app(waiting)) as client:
        body = {"reason": "notes redacted, e-mails pseudonymised; fine to publish"}
        assert client.post(f"{API}/approve", json=body).status_code == 401
        assert client.post(f"{API}/approve", json=body, headers={"X-API-Key": issued["developer"]}).status_code == 403
        done = client.post(f"{API}/approve", json=body, headers={"X-API-Key": issued["officer"]})
        assert done.status_code == 200, done.text
        assert done.json()["decision"] == "approved" and done.json()["decided_by"] == "officer-key"
        assert client.get("/api/v1/datasets/service-requests/rows").status_code == 200
        page = client.get(PAGE)  # published: public now, with the decision on it
        assert page.status_code == 200 and "officer-key" in page.text and "fine to publish" in page.text
        again = client.post(f"{API}/reject", json=body, headers={"X-API-Key": issued["officer"]})
        assert again.status_code == 409 and again.json()["error"]["type"] == "conflict"
        history = client.get(f"{API}/decisions", headers={"X-API-Key": issued["officer"]}).json()
        assert [d["decision"] for d in history["decisions"]] == ["approved"] and history["state"] == "published"
    run = Catalog(waiting.paths.catalog_db).runs("service-requests")[0]
    assert run.state == "succeeded"


def test_the_cli_rejects_and_keeps_who_when_and_why(waiting: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    home = ["--home", str(waiting.home)]
    with pytest.raises(SystemExit):  # --reason is required
        main([*home, "reject", "service-requests", "1", "--by", "A. Officer"])
    capsys.readouterr()
    assert main([*home, "reject", "service-requests", "1", "--reason", "x"]) == 2  # too short a reason
    reject = [*home, "reject", "service-requests", "1", "--reason", "free text still names callers"]
    assert main([*reject, "--by", "A. Officer"]) == 2  # another name without an officer key: refused
    assert "officer's key" in capsys.readouterr().err
    issued = keys(waiting)
    assert main([*reject, "--by", "A. Officer", "--key", issued["developer"]]) == 2  # not an officer's key
    assert main([*reject, "--by", "A. Officer", "--key", issued["officer"]]) == 0
    catalog = Catalog(waiting.paths.catalog_db)
    assert catalog.release("service-requests", 1, published_only=False).state == "rejected"
    assert catalog.releases("service-requests") == []
    (decision,) = Approvals(catalog).history("service-requests", 1)
    user = getpass.getuser()
    assert (decision.decision, decision.decided_by, decision.via) == (
        "rejected", f"A. Officer (key officer-key, os user {user})", "cli")
    assert decision.reason == "free text still names callers" and decision.decided_at.endswith("Z")
    assert main([*home, "approve", "service-requests", "1", "--reason", "changed my mind"]) == 2
    assert "rejected, not awaiting approval" in capsys.readouterr().err
    with TestClient(create_app(waiting)) as client:
        assert client.get("/api/v1/datasets/service-requests/rows").status_code == 404


def test_approving_is_one_transaction(waiting: Settings) -> None:
    # A failing write inside the decision leaves neither the decision nor the state change behind.
    catalog = Catalog(waiting.paths.catalog_db)
    approvals = Approvals(catalog)
    with sqlite3.connect(waiting.paths.catalog_db) as db:
        db.execute("CREATE TRIGGER refuse BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        approvals.decide("service-requests", 1, "approved", by="o", role="officer", reason="looks fine", via="cli")
    assert approvals.history("service-requests") == []
    assert catalog.release("service-requests", 1, published_only=False).state == "awaiting-approval"


def test_the_cli_records_the_operating_system_user(waiting: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENDATA_OFFICER", raising=False)
    monkeypatch.delenv("OPENDATA_OFFICER_KEY", raising=False)
    assert main(["--home", str(waiting.home), "approve", "service-requests", "1", "--reason", "k holds"]) == 0
    (decision,) = Approvals(Catalog(waiting.paths.catalog_db)).history("service-requests", 1)
    assert (decision.decided_by, decision.role, decision.via) == (getpass.getuser(), "officer", "cli")
