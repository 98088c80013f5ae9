"""API keys: issued by `opendata keys create`, stored hashed, sent as Bearer or X-API-Key; roles."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.deps import AdminKey, OfficerKey, OptionalKey
from catalog.api_keys import ApiKeyStore
from opendata.cli import main
from tests.api_fixtures import ApiHome, TestClient, build_home


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


def client_with_guarded_routes(home: ApiHome) -> TestClient:
    client = home.client()
    app: FastAPI = client.app  # type: ignore[assignment]

    def officer_only(key: OfficerKey) -> dict[str, str]:
        return {"name": key.name, "role": key.role}

    def admin_only(key: AdminKey) -> dict[str, str]:
        return {"name": key.name}

    def anyone(key: OptionalKey) -> dict[str, str | None]:
        return {"name": key.name if key else None}

    app.add_api_route("/test/officer", officer_only)
    app.add_api_route("/test/admin", admin_only)
    app.add_api_route("/test/anyone", anyone)
    return client


def create_key(home: ApiHome, name: str, role: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--home", str(home.settings.home), "keys", "create", name, "--role", role, "--json"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert issued["role"] == role and issued["name"] == name
    return str(issued["key"])


def test_keys_are_printed_once_and_stored_hashed(home: ApiHome, capsys: pytest.CaptureFixture[str]) -> None:
    key = create_key(home, "transit app", "developer", capsys)
    assert key.startswith("od_") and len(key) > 40
    with sqlite3.connect(home.settings.paths.catalog_db) as db:
        dumped = "\n".join(db.iterdump())
    assert key not in dumped and key.split("_", 2)[2] not in dumped
    assert main(["--home", str(home.settings.home), "keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "transit app" in listing and key not in listing


def test_officer_routes_need_an_officer_key(home: ApiHome, capsys: pytest.CaptureFixture[str]) -> None:
    client = client_with_guarded_routes(home)
    developer = create_key(home, "dev", "developer", capsys)
    officer = create_key(home, "privacy officer", "officer", capsys)
    admin = create_key(home, "admin", "admin", capsys)

    anonymous = client.get("/test/officer")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "unauthorized"
    assert "Bearer" in anonymous.headers["www-authenticate"]
    forbidden = client.get("/test/officer", headers={"Authorization": f"Bearer {developer}"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["type"] == "forbidden"
    assert "officer" in forbidden.json()["error"]["message"]
    assert client.get("/test/officer", headers={"Authorization": f"Bearer {officer}"}).json()["role"] == "officer"
    assert client.get("/test/officer", headers={"X-API-Key": officer}).status_code == 200
    assert client.get("/test/officer", headers={"X-API-Key": admin}).status_code == 200
    assert client.get("/test/admin", headers={"X-API-Key": officer}).status_code == 403
    assert client.get("/test/admin", headers={"X-API-Key": admin}).json() == {"name": "admin"}
    assert client.get("/test/anyone").json() == {"name": None}
    assert client.get("/test/anyone", headers={"X-API-Key": developer}).json() == {"name": "dev"}


def test_a_wrong_or_revoked_key_is_401_not_anonymous(home: ApiHome, capsys: pytest.CaptureFixture[str]) -> None:
    client = client_with_guarded_routes(home)
    key = create_key(home, "soon revoked", "officer", capsys)
    wrong = client.get("/api/v1/datasets", headers={"Authorization": "Bearer od_00000000_nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "unauthorized"
    key_id = key.split("_")[1]
    assert main(["--home", str(home.settings.home), "keys", "revoke", key_id]) == 0
    fresh = client_with_guarded_routes(home)  # a new app: no cached lookups
    assert fresh.get("/test/anyone", headers={"X-API-Key": key}).status_code == 401


def test_key_store_verifies_only_exact_keys(tmp_path: Path) -> None:
    store = ApiKeyStore(tmp_path / "catalog.sqlite3")
    issued = store.create("x", "admin")
    assert store.verify(issued.key) == issued.api_key
    assert store.verify(issued.key + "a") is None and store.verify(issued.key[:-1]) is None
    assert store.verify("") is None
    with pytest.raises(ValueError):
        store.create("y", "superuser")  # type: ignore[arg-type]
