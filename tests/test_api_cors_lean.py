"""The CORS middleware's short path for requests without ``Origin`` (``api/cors.py``): the answer's headers
are exactly those of Starlette's middleware, for any ``Vary`` the app sets, and requests with an ``Origin``
(simple or preflight) are Starlette's own."""

from __future__ import annotations

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.cors import CorsMiddleware
from tests.api_fixtures import DATASET, ApiHome, build_home

VARY_SETS = [[], ["Accept-Encoding"], ["Accept-Encoding", "Cookie"], ["Origin"]]


def app_with(vary: list[str]):  # type: ignore[no-untyped-def]
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = Response(b"{}", media_type="application/json", headers={"X-Release": "3"})
        for value in vary:
            response.raw_headers.append((b"vary", value.encode()))
        await response(scope, receive, send)

    return app


@pytest.mark.parametrize("vary", VARY_SETS)
@pytest.mark.parametrize("request_headers", [{}, {"Origin": "https://example.org"}, {"Origin": "https://evil.test"},
                                             {"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}])
@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_headers_are_starlettes(vary: list[str], request_headers: dict[str, str], method: str) -> None:
    options = {"allow_origins": ["https://example.org"], "allow_methods": ["GET", "POST", "OPTIONS"],
               "expose_headers": ["X-Release"], "max_age": 600}
    ours = TestClient(CorsMiddleware(app_with(vary), **options)).request(method, "/x", headers=request_headers)
    theirs = TestClient(CORSMiddleware(app_with(vary), **options)).request(method, "/x", headers=request_headers)
    assert ours.status_code == theirs.status_code
    assert ours.headers.multi_items() == theirs.headers.multi_items()
    assert ours.content == theirs.content


def test_the_app_answers_with_vary_origin_without_an_origin(tmp_path: object) -> None:
    from pathlib import Path

    home: ApiHome = build_home(Path(str(tmp_path)), cors_origins="https://example.org")
    client = home.client()
    plain = client.get(f"/api/v1/datasets/{DATASET}/rows", params={"limit": 50})
    assert plain.headers["vary"] == "Accept-Encoding, Origin" and "access-control-allow-origin" not in plain.headers
    browser = client.get(f"/api/v1/datasets/{DATASET}/rows", params={"limit": 50},
                         headers={"Origin": "https://example.org"})
    assert browser.headers["access-control-allow-origin"] == "https://example.org"
    assert "X-Release" in browser.headers["access-control-expose-headers"]
