"""Signing out on one API replica ends the session on every replica that shares Redis
(``OPENDATA_SHARED_STATE_URL``): two instances of the real app over one home and one real Redis
(Debian's redis-server). Without the shared store a replica only knows its own sign-outs, and a Redis that
does not answer fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.api_keys import ApiKeyStore
from opendata.settings import Settings
from tests import publishers_fixtures
from tests.api_fixtures import build_home
from tests.officer_fixtures import sign_in
from tests.web_fixtures import free_port

redis_url = publishers_fixtures.redis_url
COOKIE = "opendata_session"


def replica(settings: Settings) -> TestClient:
    # https: the session cookie is Secure, and httpx sends it over https only (as browsers do)
    return TestClient(create_app(settings), base_url="https://testserver", follow_redirects=False)


def officer_settings(tmp_path: Path, **extra: object) -> tuple[Settings, str]:
    home = build_home(tmp_path, webhook_dispatch=False, **extra)  # "air-quality" waits for approval
    return home.settings, ApiKeyStore(home.catalog.database).create("dana", "officer").key


def signed_in_on_both(first: TestClient, second: TestClient, key: str) -> tuple[str, str]:
    """Sign in on ``first`` and carry the cookie to ``second``; (the token, the session's CSRF token)."""
    csrf = sign_in(first, key)
    token = first.cookies.get(COOKIE)
    assert token
    second.cookies.set(COOKIE, token, domain="testserver.local")
    assert second.get("/approvals").status_code == 200  # one secret: the other replica accepts the session
    return token, csrf


def test_a_sign_out_on_one_replica_ends_the_session_on_the_other(tmp_path: Path, redis_url: str) -> None:
    settings, key = officer_settings(tmp_path, shared_state_url=redis_url)
    with replica(settings) as first, replica(settings) as second:
        _, csrf = signed_in_on_both(first, second, key)
        assert first.post("/sign-out", data={"csrf": csrf}).status_code == 303
        assert second.get("/approvals").status_code == 303  # to the sign-in page: refused there too
        assert second.get("/approvals").headers["location"].startswith("/sign-in")
        sign_in(second, key)  # signing in again makes a new session, which both accept
        first.cookies.set(COOKIE, second.cookies.get(COOKIE) or "", domain="testserver.local")
        assert first.get("/approvals").status_code == 200


def test_without_the_shared_store_a_replica_knows_only_its_own_sign_outs(tmp_path: Path) -> None:
    settings, key = officer_settings(tmp_path)
    with replica(settings) as first, replica(settings) as second:
        token, csrf = signed_in_on_both(first, second, key)
        assert first.post("/sign-out", data={"csrf": csrf}).status_code == 303
        first.cookies.set(COOKIE, token, domain="testserver.local")
        assert first.get("/approvals").status_code == 303
        assert second.get("/approvals").status_code == 200  # what the shared store is for


def test_a_redis_that_does_not_answer_fails_closed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings, key = officer_settings(tmp_path, shared_state_url=f"redis://127.0.0.1:{free_port()}/0")
    with replica(settings) as client:
        client.post("/sign-in", data={"key": key, "next": "/approvals"})
        assert client.cookies.get(COOKIE)  # signed in (the cookie is issued) ...
        assert client.get("/approvals").status_code == 303  # ... but no replica can tell it is still live
    assert any("signed-out sessions" in r.getMessage() for r in caplog.records)



def test_a_redis_outage_is_asked_again_at_most_once_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """After Redis fails to answer, sessions are refused without asking it until ``RETRY_SECONDS`` have
    passed, so an outage costs one socket timeout a second, not one per page (each try logs a warning)."""
    from api.web import session

    def tries() -> int:
        return sum(r.name == "api.web.session" and "signed-out sessions" in r.getMessage() for r in caplog.records)

    monkeypatch.setattr(session, "RETRY_SECONDS", 3600.0)
    settings, key = officer_settings(tmp_path, shared_state_url=f"redis://127.0.0.1:{free_port()}/0")
    with replica(settings) as client:
        client.post("/sign-in", data={"key": key, "next": "/approvals"})
        for _ in range(3):
            assert client.get("/approvals").status_code == 303  # refused each time (fails closed)
        assert tries() == 1  # three pages, one try
        client.app.state.sessions._retry_at = 0.0  # type: ignore[attr-defined]  # the pause is over
        assert client.get("/approvals").status_code == 303
        assert tries() == 2
