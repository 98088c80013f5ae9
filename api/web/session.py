"""Officers' sign-in sessions: an API key exchanged once for a signed, expiring session cookie.

No catalog table holds sessions: the cookie is a token ``<key id>.<expires>.<nonce>.<signature>``, the
signature an HMAC-SHA256 over the rest with the server's session secret (``OPENDATA_SESSION_SECRET``, or
a random one kept in ``HOME/private/secrets/session.key``). Each request checks the signature, the expiry,
and the key itself in the catalog: a revoked key (or one that lost the officer role) ends its sessions at
once. Signing out deletes the cookie and remembers the token as signed out until it expires: in this process,
and, with ``OPENDATA_SHARED_STATE_URL`` (the Redis replicas share rate limits in), in Redis as
``opendata:session:signed-out:<sha256 of the token>`` expiring with the token, so every replica refuses it.
Redis not answering fails closed: a replica that cannot tell whether a session was ended treats it as
ended (the officer signs in again once Redis is back), and logs a warning. After a failure the replica asks
Redis again at most once a second (``RETRY_SECONDS``) and refuses sessions at once in between, so an
outage costs one timeout a second, not one per page.

Every state-changing form (approve, reject, sign-out) carries a CSRF token derived from the session token
(HMAC with a separate label), checked on submit, besides the cookie's ``SameSite=Lax`` and an ``Origin``
check: a page on another site can neither read the token nor make the browser send it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from pathlib import Path

from fastapi import Request, Response
from redis import Redis
from redis.exceptions import RedisError

from catalog.api_keys import ApiKey, ApiKeyStore
from opendata.errors import Forbidden
from opendata.settings import Settings

COOKIE = "opendata_session"
CSRF_FIELD = "csrf"
SIGNED_OUT_PREFIX = "opendata:session:signed-out:"
RETRY_SECONDS = 1.0
log = logging.getLogger(__name__)


def session_secret(settings: Settings) -> bytes:
    """The secret that signs sessions: the setting, else a random one kept in the private area."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode("utf-8")
    path: Path = settings.paths.secrets / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(secrets.token_bytes(32))
        temporary.chmod(0o600)
        temporary.replace(path)  # two processes racing both write a valid secret; one wins, both read it back
    return path.read_bytes()


class Sessions:
    """Issue, check and end officers' sessions."""

    def __init__(self, settings: Settings, keys: ApiKeyStore) -> None:
        self.settings = settings
        self.keys = keys
        self.secret = session_secret(settings)
        self.lifetime = int(settings.session_hours * 3600)
        self._signed_out: dict[str, float] = {}
        self._lock = threading.Lock()
        self.shared: Redis | None = None
        self._retry_at = 0.0  # monotonic time before which Redis is not asked again after a failure
        if settings.shared_state_url:
            self.shared = Redis.from_url(settings.shared_state_url, socket_timeout=1.0, socket_connect_timeout=1.0)

    @staticmethod
    def _shared_key(token: str) -> str:
        return SIGNED_OUT_PREFIX + hashlib.sha256(token.encode()).hexdigest()

    def _shared_signed_out(self, token: str) -> bool:
        """Whether another replica ended this session (True too when Redis cannot say: fail closed)."""
        if self.shared is None:
            return False
        if time.monotonic() < self._retry_at:
            return True
        try:
            return bool(self.shared.exists(self._shared_key(token)))
        except RedisError as exc:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            log.warning("cannot read signed-out sessions from Redis (%s): sessions are refused; Redis is asked "
                        "again in %.0f s", exc, RETRY_SECONDS)
            return True

    def _sign(self, label: str, text: str) -> str:
        return hmac.new(self.secret, f"{label}:{text}".encode(), hashlib.sha256).hexdigest()

    def issue(self, key: ApiKey, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.lifetime)
        body = f"{key.id}.{expires}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign('session', body)}"

    def officer(self, token: str | None, now: float | None = None) -> ApiKey | None:
        """The officer (or admin) key a session token stands for, or None (bad, expired, revoked, signed out)."""
        if not token or len(token) > 200 or token.count(".") != 3:
            return None
        body, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature, self._sign("session", body)):
            return None
        key_id, expires, _ = body.split(".")
        if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
            return None
        with self._lock:
            if token in self._signed_out:
                return None
        if self._shared_signed_out(token):
            return None
        key = self.keys.get(key_id)
        return key if key is not None and key.may("officer") else None

    def csrf_token(self, token: str) -> str:
        return self._sign("csrf", token)

    def sign_out(self, token: str) -> None:
        now = time.time()
        with self._lock:
            self._signed_out = {t: e for t, e in self._signed_out.items() if e > now}
            self._signed_out[token] = now + self.lifetime
        if self.shared is not None and token:
            left = token.split(".")[1] if token.count(".") == 3 else ""
            seconds = max(1, int(left) - int(now)) if left.isdigit() else self.lifetime
            try:
                self.shared.set(self._shared_key(token), b"1", ex=seconds)
            except RedisError as exc:
                log.warning("could not record a sign-out in Redis (%s): other replicas accept the session "
                            "until it expires", exc)

    def set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(COOKIE, token, max_age=self.lifetime, path="/", secure=self.settings.session_cookie_secure,
                            httponly=True, samesite="lax")

    @staticmethod
    def clear_cookie(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.sessions
    return found


def session_officer(request: Request) -> ApiKey | None:
    """The signed-in officer of a page request (from the session cookie), or None."""
    return sessions(request).officer(request.cookies.get(COOKIE))


def csrf_for(request: Request) -> str:
    """The CSRF token forms of this request's session carry ('' without a session)."""
    token = request.cookies.get(COOKIE)
    return sessions(request).csrf_token(token) if token else ""


def check_form(request: Request, sent: str | None) -> ApiKey:
    """A state-changing form's checks: same origin, a live session, the session's CSRF token."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and origin.rstrip("/") != base_origin(request):
        raise Forbidden(f"this form must be sent from this site's own pages, not from {origin[:80]}")
    token = request.cookies.get(COOKIE)
    officer = sessions(request).officer(token)
    if officer is None or token is None:
        raise Forbidden("your sign-in has ended (or was never made): sign in again at /sign-in, then resend")
    if not sent or not hmac.compare_digest(sent, sessions(request).csrf_token(token)):
        raise Forbidden("this form's CSRF token is missing or stale: reload the page and send it again")
    return officer


def base_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"
