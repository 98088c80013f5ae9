"""One JSON error shape for every error the API answers with, from each kind of failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.errors import error_body
from tests.api_fixtures import DATASET, ApiHome, build_home

ROWS = f"/api/v1/datasets/{DATASET}/rows"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


def assert_error_shape(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert list(error) == ["status", "type", "message", "detail"]
    assert error["status"] == status and error["type"] == type_
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["detail"], dict)
    assert "Traceback" not in response.text
    return error


def test_error_body_is_the_one_shape() -> None:
    assert error_body(404, "not-found", "gone", parameter="x") == {
        "error": {"status": 404, "type": "not-found", "message": "gone", "detail": {"parameter": "x"}}
    }


def test_catalog_error_is_404(home: ApiHome) -> None:
    error = assert_error_shape(home.client().get("/api/v1/datasets/nope"), 404, "not-found")
    assert "'nope'" in error["message"]


def test_missing_release_names_the_releases_there_are(home: ApiHome) -> None:
    error = assert_error_shape(home.client().get(f"/api/v1/datasets/{DATASET}/releases/9"), 404, "not-found")
    assert "9" in error["message"] and "1" in error["message"]


def test_query_error_is_400(home: ApiHome) -> None:
    error = assert_error_shape(home.client().get(ROWS, params={"nope": "1"}), 400, "invalid-query")
    assert error["detail"] == {"parameter": "nope"}


def test_request_validation_error_is_400_invalid_parameter(home: ApiHome) -> None:
    response = home.client().get(ROWS, params={"limit": "many"})
    error = assert_error_shape(response, 400, "invalid-parameter")
    assert error["detail"]["problems"][0]["parameter"] == "limit"
    path_error = assert_error_shape(
        home.client().get(f"/api/v1/datasets/{DATASET}/releases/one"), 400, "invalid-parameter"
    )
    assert path_error["detail"]["problems"][0]["parameter"] == "number"


def test_unknown_path_is_404(home: ApiHome) -> None:
    error = assert_error_shape(home.client().get("/api/v2/everything"), 404, "not-found")
    assert "/api/v2/everything" in error["message"]


def test_wrong_method_is_405_with_allow_header(home: ApiHome) -> None:
    response = home.client().post("/api/v1/datasets")
    assert_error_shape(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


def test_unexpected_exception_is_500_without_traceback(home: ApiHome) -> None:
    client = home.client(raise_server_exceptions=False)

    def explode() -> None:
        raise ZeroDivisionError("secret internals /private/path")

    client.app.add_api_route("/explode", explode)  # type: ignore[attr-defined]
    response = client.get("/explode")
    error = assert_error_shape(response, 500, "internal-error")
    assert "secret internals" not in response.text and "ZeroDivisionError" not in response.text
    assert error["detail"] == {}
