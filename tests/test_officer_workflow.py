"""The privacy officer's workflow over HTTP against the real app: sign in once (a signed session cookie), the
inbox (page and API), the review page, approve in one step, reject after a confirmation, CSRF and revocation."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog.api_keys import ApiKeyStore
from catalog.store import Catalog
from tests.officer_fixtures import OfficerHome, build_officer_home, copy_home, csrf_of, sign_in

REVIEW = "/datasets/service-requests/releases/2/privacy"
FIRST = "/datasets/other-requests/releases/1/privacy"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> OfficerHome:
    return build_officer_home(tmp_path_factory.mktemp("officer"))


@pytest.fixture
def home(built: OfficerHome, tmp_path: Path) -> OfficerHome:
    return copy_home(built, tmp_path)


def state(home: OfficerHome, dataset: str, number: int) -> str:
    return Catalog(home.settings.paths.catalog_db).release(dataset, number, published_only=False).state


def test_the_inbox_api_lists_waiting_releases_oldest_first_with_their_changes(home: OfficerHome) -> None:
    with home.client() as client:
        assert client.get("/api/v1/approvals").status_code == 401
        assert client.get("/api/v1/approvals", headers={"X-API-Key": home.keys["developer"]}).status_code == 403
        answer = client.get("/api/v1/approvals", headers={"X-API-Key": home.keys["officer"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["count"] == 2
    first, second = body["releases"]
    assert (first["dataset"], first["number"], second["dataset"], second["number"]) == (
        "other-requests", 1, "service-requests", 2)
    assert first["created_at"] <= second["created_at"]
    assert first["previous_release"] is None and first["summary"][0].startswith("First release")
    assert second["previous_release"] == 1 and second["policy_changed"] is True
    assert "The privacy policy changed." in second["summary"]
    assert second["review_url"] == REVIEW and second["blocking_findings"] == 0
    assert second["changes"]["rows"] == {"before": 4, "after": 4, "delta": 0, "percent": 0.0}  # 5 in, 1 suppressed


def test_signing_in_once_sets_a_secure_httponly_session_cookie(home: OfficerHome) -> None:
    with home.client() as client:
        refused = client.get("/approvals")
        assert refused.status_code == 303 and refused.headers["location"] == "/sign-in?next=/approvals"
        assert client.post("/sign-in", data={"key": "od_nope_nope"}).status_code == 401
        developer = client.post("/sign-in", data={"key": home.keys["developer"]})
        assert developer.status_code == 403 and "officer" in developer.text and "set-cookie" not in developer.headers
        forged = client.post("/sign-in", data={"key": home.keys["officer"]}, headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403 and "set-cookie" not in forged.headers  # no login CSRF
        outside = client.post("/sign-in", data={"key": home.keys["officer"], "next": "https://evil.example/"})
        assert outside.headers["location"] == "/approvals"  # never sent elsewhere
        cookie = outside.headers["set-cookie"].lower()
        for flag in ("httponly", "secure", "samesite=lax", "max-age=28800", "path=/"):
            assert flag in cookie, cookie
        assert home.keys["officer"].lower() not in cookie  # the key itself never goes into the cookie
        inbox = client.get("/approvals")
        assert inbox.status_code == 200 and inbox.headers["cache-control"] == "no-store"
        assert f'href="{REVIEW}"' in inbox.text and f'href="{FIRST}"' in inbox.text
        assert inbox.text.index("other-requests") < inbox.text.index("service-requests")
        assert "The privacy policy changed." in inbox.text and "Signed in: officer-key" in inbox.text
        runs = client.get("/runs")  # the awaiting runs link their review page
        assert f'{REVIEW}">review release 2' in runs.text and f'{FIRST}">review release 1' in runs.text


def test_the_review_page_links_nothing_that_answers_404_before_approval(home: OfficerHome) -> None:
    with home.client() as client:
        anonymous = client.get(FIRST)
        assert anonymous.status_code == 401 and '/sign-in" method' not in anonymous.text
        assert re.search(r'action="[^"]*/sign-in"', anonymous.text)
        assert "contact_email" not in anonymous.text
        sign_in(client, home.keys["officer"], FIRST)
        page = client.get(FIRST)
        assert page.status_code == 200 and "Approve and publish" in page.text
        assert '/datasets/other-requests"' not in page.text and '/approvals"' in page.text
        links = set(re.findall(r'href="(?:https://testserver)?(/[^"#]*)"', page.text))
        assert links
        for link in sorted(links):
            answer = client.get(link)
            assert answer.status_code in (200, 303), f"{link} answered {answer.status_code}"


def test_approve_is_one_deliberate_action_behind_csrf(home: OfficerHome) -> None:
    with home.client() as client:
        csrf = sign_in(client, home.keys["officer"], REVIEW)
        approve = "/datasets/service-requests/releases/2/approve"
        reason = {"reason": "k = 2 holds after rounding; e-mails pseudonymised"}
        assert client.post(approve, data=reason).status_code == 403  # no CSRF token
        assert client.post(approve, data={**reason, "csrf": "0" * 64}).status_code == 403
        foreign = client.post(approve, data={**reason, "csrf": csrf}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert state(home, "service-requests", 2) == "awaiting-approval"
        short = client.post(approve, data={"reason": "ok", "csrf": csrf})
        assert short.status_code == 400 and "reason" in short.text
        done = client.post(approve, data={**reason, "csrf": csrf})
        assert done.status_code == 303 and done.headers["location"] == REVIEW + "?decided=approved"
        assert state(home, "service-requests", 2) == "published"
        page = client.get(done.headers["location"])
        assert "was approved by officer-key" in page.text and "Approve and publish" not in page.text
        again = client.post(approve, data={**reason, "csrf": csrf})
        assert again.status_code == 409 and "not awaiting approval" in again.text


def test_reject_asks_for_confirmation_first(home: OfficerHome) -> None:
    with home.client() as client:
        csrf = sign_in(client, home.keys["officer"], FIRST)
        reject = "/datasets/other-requests/releases/1/reject"
        reason = "latitude still too precise for this neighbourhood"
        asked = client.post(reject, data={"reason": reason, "csrf": csrf})
        assert asked.status_code == 200 and "Yes, reject release 1" in asked.text and reason in asked.text
        assert 'name="confirm" value="yes"' in asked.text
        assert state(home, "other-requests", 1) == "awaiting-approval"  # asking changed nothing
        assert client.post(reject, data={"reason": reason, "confirm": "yes"}).status_code == 403  # CSRF still
        done = client.post(reject, data={"reason": reason, "csrf": csrf, "confirm": "yes"})
        assert done.status_code == 303 and done.headers["location"].endswith("?decided=rejected")
        assert state(home, "other-requests", 1) == "rejected"
        inbox = client.get("/approvals")
        assert FIRST not in inbox.text and REVIEW in inbox.text


def test_sign_out_and_revoking_the_key_end_the_session(home: OfficerHome) -> None:
    with home.client() as client:
        csrf = sign_in(client, home.keys["officer"])
        token = client.cookies.get("opendata_session")
        assert token
        assert client.post("/sign-out", data={}).status_code == 403  # sign-out is CSRF-protected too
        out = client.post("/sign-out", data={"csrf": csrf})
        assert out.status_code == 303 and 'opendata_session=""' in out.headers["set-cookie"]
        assert client.get("/approvals").status_code == 303
        client.cookies.set("opendata_session", token, domain="testserver.local")  # a kept copy of the cookie
        assert client.get("/approvals").status_code == 303  # signed out in this process
        sign_in(client, home.keys["officer"])
        assert client.get("/approvals").status_code == 200
        ApiKeyStore(home.settings.paths.catalog_db).revoke(home.key_ids["officer"])
        assert client.get("/approvals").status_code == 303  # revoked key: its sessions end at once


def test_session_tokens_are_signed_and_expire(home: OfficerHome) -> None:
    with home.client() as client:
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        key = ApiKeyStore(home.settings.paths.catalog_db).get(home.key_ids["officer"])
        assert key is not None
        token = sessions.issue(key)
        assert sessions.officer(token).name == "officer-key"
        key_id, expires, nonce, signature = token.split(".")
        assert sessions.officer(f"{key_id}.{int(expires) + 3600}.{nonce}.{signature}") is None  # tampered
        assert sessions.officer(sessions.issue(key, now=time.time() - 9 * 3600)) is None  # expired (8 h)
        developer = ApiKeyStore(home.settings.paths.catalog_db).get(home.key_ids["developer"])
        assert developer is not None and sessions.officer(sessions.issue(developer)) is None


def test_the_report_explains_reconciles_and_shows_the_policy(home: OfficerHome) -> None:
    with home.client() as client:
        sign_in(client, home.keys["officer"], REVIEW)
        page = client.get(REVIEW).text
        pdf = client.get(REVIEW.replace("/privacy", "/privacy.pdf"))
        anonymous = TestClient(client.app, base_url="https://testserver")
        assert anonymous.get(REVIEW.replace("/privacy", "/privacy.pdf")).status_code == 401
    for words in ("What k-anonymity protects against", "What l-diversity protects against", "Equivalence class",
                  "Confidence", "Not in the policy", '<main id="main"', 'class="skip"', "Download PDF"):
        assert words in page, words
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">([^<]+)</td></tr>', page))
    assert rows["records in the source"] == "5"
    assert rows["below k = 2 before anonymisation (source values)"] == "5"  # raw latitudes: all unique
    assert rows["below k after the policy&#39;s actions (generalisation), before suppression"] == "1"
    assert rows["suppressed (removed from the release)"] == "1"
    assert rows["below k in the published table"] == "0" and rows["records published"] == "4"
    assert "those 1 were suppressed" in page
    assert "quasi_identifiers:" in page and "requires_approval: true" in page and "digits: 0" in page
    samples = page[page.index('id="samples-h"'):page.index('id="risk-h"')]
    assert '<code>latitude</code></th><td data-label="Action">generalize' in samples
    assert "<code>4*.7*****</code>" in samples and "40.712776" not in page  # masked source, never the value
    assert '<code>contact_email</code></th><td data-label="Action">pseudonymize' in samples
    assert "maria.gonzalez" not in page
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and "attachment" in pdf.headers["content-disposition"]
    assert csrf_of(page)
