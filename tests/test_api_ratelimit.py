"""Rate limits: RateLimit-* headers on every answer, 429 + Retry-After past the limit, more with a key."""

from __future__ import annotations

from pathlib import Path

from catalog.api_keys import ApiKeyStore
from tests.api_fixtures import build_home

DATASETS = "/api/v1/datasets"


def test_anonymous_clients_get_the_lower_limit_and_a_429(tmp_path: Path) -> None:
    # Windows are aligned to the clock: an hour's, so that the 11 requests below do not straddle two of them
    # (a minute's did once, on a loaded machine: the seventh keyed request came in a fresh window).
    home = build_home(tmp_path, rate_limit_anonymous=3, rate_limit_key=6, rate_limit_window_seconds=3600)
    client = home.client()
    answers = [client.get(DATASETS) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    first = answers[0].headers
    assert first["ratelimit-limit"] == "3" and first["ratelimit-remaining"] == "2"
    assert first["ratelimit-policy"] == "3;w=3600" and 1 <= int(first["ratelimit-reset"]) <= 3600
    refused = answers[3]
    assert refused.json()["error"]["type"] == "rate-limited"
    assert "API key" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert refused.headers["ratelimit-remaining"] == "0"

    key = ApiKeyStore(home.settings.paths.catalog_db).create("app", "developer").key
    keyed = [client.get(DATASETS, headers={"X-API-Key": key}) for _ in range(7)]
    assert [a.status_code for a in keyed] == [200] * 6 + [429]
    assert keyed[0].headers["ratelimit-limit"] == "6"
    assert client.get("/healthz").status_code == 200  # health checks are not counted
