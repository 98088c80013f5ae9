"""API keys, kept in the catalog database (table ``api_keys``), hashed.

A key reads ``od_<id>_<secret>``: ``id`` (8 hex) names the key in lists and logs, ``secret`` (32 bytes,
url-safe) is what makes it one. Only the SHA-256 of the whole key is stored: keys are long random
strings, so a fast hash is enough (no dictionary to guess from) and a lookup costs one indexed read.
The key itself is shown once, by ``opendata keys create``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from catalog.database import CatalogDatabase, SqliteDatabase
from catalog.store import utc_now
from opendata.errors import CatalogError

Role = Literal["developer", "officer", "admin"]
ROLES: tuple[Role, ...] = ("developer", "officer", "admin")
#: What each role may do, as a rank: a role may do what every lower rank may.
ROLE_RANK: dict[str, int] = {"developer": 0, "officer": 1, "admin": 2}
PREFIX = "od_"



class ApiKey(BaseModel):
    """A stored API key, without its secret."""

    id: str = Field(description="public id of the key, part of the key itself")
    name: str = Field(description="who or what the key is for")
    role: Role
    created_at: str
    revoked_at: str | None = None

    def may(self, role: Role) -> bool:
        """True when this key's role is ``role`` or ranks above it."""
        return self.revoked_at is None and ROLE_RANK[self.role] >= ROLE_RANK[role]


class IssuedKey(BaseModel):
    """A key just created: the only moment its secret exists outside the holder's hands."""

    key: str
    api_key: ApiKey


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyStore:
    def __init__(self, source: Path | CatalogDatabase) -> None:
        self.database: CatalogDatabase = SqliteDatabase(source) if isinstance(source, Path) else source

    def _connect(self) -> Any:
        return self.database.connect()

    def create(self, name: str, role: Role = "developer") -> IssuedKey:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name.strip():
            raise ValueError("a key needs a name saying who or what it is for")
        key_id = secrets.token_hex(4)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(id=key_id, name=name, role=role, created_at=utc_now())
        with self._connect() as db:
            db.execute(
                "INSERT INTO api_keys(id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (record.id, record.name, record.role, hash_key(key), record.created_at),
            )
        return IssuedKey(key=key, api_key=record)

    def verify(self, key: str) -> ApiKey | None:
        """The key's record when ``key`` is a valid, unrevoked key; else None."""
        if not key.startswith(PREFIX) or len(key) > 200:
            return None
        digest = hash_key(key)
        with self._connect() as db:
            row = db.execute("SELECT * FROM api_keys WHERE key_hash = ?", (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row["key_hash"], digest) or row["revoked_at"]:
            return None
        return _record(row)

    def get(self, key_id: str) -> ApiKey | None:
        """The key with this public id (revoked or not), or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _record(row) if row is not None else None

    def list(self) -> list[ApiKey]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM api_keys ORDER BY created_at, id").fetchall()
        return [_record(r) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self._connect() as db:
            updated = db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utc_now(), key_id)
            ).rowcount
            row = db.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise CatalogError(f"there is no API key with id '{key_id}'; `opendata keys list` shows them")
        if not updated:
            raise CatalogError(f"API key '{key_id}' was already revoked")
        return _record(row)


def _record(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"], name=row["name"], role=row["role"], created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
