"""HTTP edges that used to end in 500s or in answers outside our one error shape: CKAN offsets past
BIGINT, deeply nested JSON bodies, SQL dates Python cannot hold, 20-digit release numbers, HEAD, OPTIONS
and Allow, long URLs (in the app and in uvicorn itself), Authorization headers without a key, and the
rate limit on failed key attempts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from api.server_protocol import protocol
from catalog.api_keys import ApiKeyStore
from tests.api_fixtures import DATASET, ApiHome, build_home
from tests.web_fixtures import LiveServer

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = "9223372036854775808"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


def assert_error(response, status: int, kind: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    if kind is not None:
        assert body["error"]["status"] == status and body["error"]["type"] == kind, body


def assert_ckan_error(response, status: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["message"], body


@pytest.mark.parametrize("action, key", [("package_list", "offset"), ("package_search", "start"),
                                         ("package_search", "rows"), ("datastore_search", "offset")])
def test_ckan_numbers_past_bigint_are_validation_errors(home: ApiHome, action: str, key: str) -> None:
    client = home.client(raise_server_exceptions=False)
    answer = client.get(f"/api/3/action/{action}", params={key: HUGE, "resource_id": DATASET})
    assert_ckan_error(answer, 409)
    assert answer.json()["error"]["__type"] == "Validation Error"


@pytest.mark.parametrize("path", ["/api/v1/sql", "/api/3/action/package_search", "/api/action/package_show",
                                  f"/api/v1/datasets/{DATASET}/releases/1/approve"])
def test_a_deeply_nested_json_body_is_a_400_in_our_shape(home: ApiHome, path: str) -> None:
    answer = home.client(raise_server_exceptions=False).post(
        path, content=DEEP, headers={"Content-Type": "application/json"})
    if path.startswith("/api/3/") or path.startswith("/api/action/"):
        assert_ckan_error(answer, 400)
    else:
        assert_error(answer, 400, "bad-request")
    plain = home.client(raise_server_exceptions=False).post(
        "/api/3/action/package_search", content=DEEP, headers={"Content-Type": "text/plain"})
    assert_ckan_error(plain, 400)


@pytest.mark.parametrize("sql, value", [
    ("SELECT 'infinity'::DATE AS v", "infinity"), ("SELECT '-infinity'::DATE AS v", "-infinity"),
    ("SELECT 'infinity'::TIMESTAMP AS v", "infinity"), ("SELECT DATE '10000-01-01' AS v", "10000-01-01"),
    ("SELECT TIMESTAMP '12000-03-04 05:06:07' AS v", "12000-03-04 05:06:07"),
])
def test_sql_dates_python_cannot_hold_come_back_as_text(home: ApiHome, sql: str, value: str) -> None:
    client = home.client(raise_server_exceptions=False)
    answer = client.get("/api/v1/sql", params={"sql": sql})
    assert answer.status_code == 200, answer.text
    assert str(answer.json()["rows"][0]["v"]).startswith(value)
    ckan = client.get("/api/3/action/datastore_search_sql", params={"sql": sql})
    assert ckan.status_code == 200 and ckan.json()["success"] is True


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_twenty_digit_release_number_is_a_400(home: ApiHome, decision: str) -> None:
    officer = ApiKeyStore(home.catalog.database).create("officer", "officer").key
    answer = home.client(raise_server_exceptions=False).post(
        f"/api/v1/datasets/{DATASET}/releases/99999999999999999999/{decision}",
        headers={"Authorization": f"Bearer {officer}"}, json={"reason": "checked by hand"})
    assert_error(answer, 400, "invalid-parameter")
    for path in (f"/api/v1/datasets/{DATASET}/releases/99999999999999999999",
                 f"/api/v1/datasets/{DATASET}/rows?release=99999999999999999999"):
        assert_error(home.client(raise_server_exceptions=False).get(path), 400, "invalid-parameter")


def test_head_answers_what_get_answers_without_a_body(home: ApiHome) -> None:
    client = home.client()
    for path in ("/", f"/api/v1/datasets/{DATASET}/rows?limit=3", f"/api/v1/datasets/{DATASET}/export.csv",
                 "/api/v1/datasets", "/catalog.ttl", "/datasets/" + DATASET):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path
        assert head.headers.get("etag") == get.headers.get("etag"), path


def test_options_and_405_list_every_method_the_path_takes(home: ApiHome) -> None:
    client = home.client()
    sql = client.options("/api/v1/sql")
    assert sql.status_code == 204 and sql.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    approve = client.options(f"/api/v1/datasets/{DATASET}/releases/1/approve")
    assert approve.headers["allow"] == "POST, OPTIONS"
    # rows take a POST too: the intersects geo filter's GeoJSON body (issue 16)
    assert client.options(f"/api/v1/datasets/{DATASET}/rows").headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert_error(client.options("/no/such/path"), 404, "not-found")
    refused = client.delete("/api/v1/sql")
    assert_error(refused, 405, "method-not-allowed")
    assert refused.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_a_long_url_is_a_414_in_our_shape(home: ApiHome) -> None:
    client = home.client()
    assert_error(client.get("/api/v1/datasets?q=" + "a" * 20_000), 414, "uri-too-long")
    assert_ckan_error(client.get("/api/3/action/package_search?q=" + "a" * 20_000), 414)


def test_uvicorns_own_refusals_are_in_our_shape(home: ApiHome) -> None:
    with LiveServer(home.settings, log_level="critical", http=protocol()) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(f"GET /api/v1/datasets?q={'a' * 100_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head.lower()
    assert b'"type": "bad-request"' in body


@pytest.mark.parametrize("header", ["Token x", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer", "", "Digest abc"])
def test_an_authorization_header_without_a_key_is_refused(home: ApiHome, header: str) -> None:
    answer = home.client().get("/api/v1/datasets", headers={"Authorization": header})
    assert_error(answer, 401, "unauthorized")
    assert "Authorization header must be 'Bearer <key>'" in answer.json()["error"]["message"]
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_failed_key_attempts_are_rate_limited_per_client(tmp_path: Path) -> None:
    home = build_home(tmp_path, rate_limit_failed_keys=5)
    client = home.client()
    statuses = [client.get("/api/v1/datasets", headers={"Authorization": f"Bearer od_guess_{i}"}).status_code
                for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    limited = client.get("/api/v1/datasets", headers={"X-API-Key": "od_guess_again"})
    assert_error(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    good = ApiKeyStore(home.catalog.database).create("dev").key
    assert client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert client.get("/api/v1/datasets").status_code == 200  # anonymous access is not what was limited
