"""API keys on requests: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Anonymous access is allowed everywhere the data is public (with a lower rate limit); a key that is sent
must be valid (a wrong key is a 401, never silently anonymous). Roles rank developer < officer < admin.

    optional_key       ApiKey | None for the request (401 when a sent key is not valid)
    require_officer    an officer or admin key (401 without a key, 403 with a developer key)
    require_admin      an admin key (CKAN write actions, key management)

Keys are looked up through ``KeyResolver``, which remembers answers for a few seconds so a busy client
does not cost a SQLite read per request; a revoked key stops working within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time

from fastapi import Request

from catalog.api_keys import ApiKey, ApiKeyStore, IssuedKey, Role, hash_key
from opendata.errors import Forbidden, Unauthorized

__all__ = [
    "ApiKey", "IssuedKey", "KeyResolver", "key_from_headers", "optional_key", "require_admin", "require_officer",
]

CACHE_SECONDS = 10.0
_UNSET = object()


class KeyResolver:
    """Key string -> ApiKey (or None), through the store, with a short-lived cache keyed by hash."""

    def __init__(self, store: ApiKeyStore) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def resolve(self, key: str) -> ApiKey | None:
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
        found = self.store.verify(key)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + CACHE_SECONDS, found)
        return found


def key_from_headers(request: Request) -> str | None:
    """The key a request sends, or None; ``Authorization: Bearer`` wins over ``X-API-Key``. An
    ``Authorization`` header that carries no key we can read (``Basic ...``, ``Token x``, a bare ``Bearer``)
    is refused (Unauthorized), never taken as anonymous."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        # ckanapi sends the bare key in Authorization; accept that shape too.
        if scheme.startswith("od_") and not value:
            return scheme
        shown = scheme[:20] or "(empty)"
        raise Unauthorized(
            f"the Authorization header must be 'Bearer <key>' (scheme {shown!r} is not supported here, or the key "
            "is missing); send a key made with `opendata keys create`, or no Authorization header for anonymous "
            "access"
        )
    api_key = request.headers.get("x-api-key", "") or request.headers.get("x-ckan-api-key", "")
    return api_key.strip() or None


def request_key(request: Request) -> ApiKey | None:
    """The request's key, resolved once per request (the rate limiter may have done it already)."""
    cached = getattr(request.state, "api_key", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    sent = key_from_headers(request)
    found: ApiKey | None = None
    if sent is not None:
        resolver: KeyResolver = request.app.state.key_resolver
        found = resolver.resolve(sent)
        if found is None:
            raise Unauthorized(
                "the API key sent is not valid (unknown or revoked); send a key made with "
                "`opendata keys create`, or none for anonymous access"
            )
    request.state.api_key = found
    return found


def optional_key(request: Request) -> ApiKey | None:
    """FastAPI dependency: the request's key, or None for anonymous requests."""
    return request_key(request)


def _require(request: Request, role: Role) -> ApiKey:
    key = request_key(request)
    if key is None:
        raise Unauthorized(
            f"this needs an API key with the {role} role: send it as 'Authorization: Bearer <key>' "
            "or 'X-API-Key: <key>'"
        )
    if not key.may(role):
        raise Forbidden(f"the API key '{key.name}' has the {key.role} role; this needs the {role} role")
    return key


def require_key(request: Request) -> ApiKey:
    """FastAPI dependency: any valid key (developer, officer or admin)."""
    return _require(request, "developer")


def require_officer(request: Request) -> ApiKey:
    """FastAPI dependency: a privacy officer's (or an admin's) key."""
    return _require(request, "officer")


def require_admin(request: Request) -> ApiKey:
    """FastAPI dependency: an admin's key."""
    return _require(request, "admin")
