"""Rate limits per API key (or per client address without one), with the IETF ``RateLimit`` headers.

A fixed window of ``rate_limit_window_seconds``: each client may make ``rate_limit_key`` requests a
window with a key, ``rate_limit_anonymous`` without; HTML pages and static files count apart, against
``rate_limit_pages`` per address (``api/page_limits.py``). Every answer carries

    RateLimit-Limit: 120            RateLimit-Remaining: 87          RateLimit-Reset: 42 (seconds)
    RateLimit-Policy: 120;w=60

and the request over the limit gets 429 with ``Retry-After`` in the one error shape. A key that is sent
but not valid, or an ``Authorization`` header without a readable key, is a 401 here, before any route
runs; past ``rate_limit_failed_keys`` of those from one address in a window, a 429 (keys are not guessed
at speed). The middleware is plain ASGI (no per-request
task or body copy), since it wraps every request.

Counters live in this process unless ``OPENDATA_SHARED_STATE_URL`` names a Redis, where API replicas
share them (``api/shared_limits.py``); the headers and the 429 are the same either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import KeyResolver, key_from_headers
from api.errors import error_response
from api.limit_window import Allowance, FixedWindowLimiter
from api.page_limits import is_page
from opendata.errors import Unauthorized
from opendata.settings import Settings

if TYPE_CHECKING:
    from api.shared_limits import SharedWindowLimiter

__all__ = ["Allowance", "FixedWindowLimiter", "RateLimitMiddleware"]

EXEMPT_PATHS = ("/healthz", "/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc")


_INVALID = ("the API key sent is not valid (unknown or revoked); send a key made with "
            "`opendata keys create`, or none for anonymous access")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, resolver: KeyResolver) -> None:
        self.app = app
        self.settings = settings
        self.resolver = resolver
        self.limiter = FixedWindowLimiter(settings.rate_limit_window_seconds)
        self.shared: SharedWindowLimiter | None = None
        if settings.shared_state_url:
            from api.shared_limits import SharedWindowLimiter  # imports redis only when replicas share counts

            self.shared = SharedWindowLimiter(settings.shared_state_url, settings.rate_limit_window_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        host = scope["client"][0] if scope.get("client") else "unknown"
        try:
            sent = key_from_headers(request)
            key = self.resolver.resolve(sent) if sent else None
            refused, refusal = bool(sent) and key is None, _INVALID
        except Unauthorized as exc:  # an Authorization header that carries no key (Basic, Token, bare Bearer)
            key, refused, refusal = None, True, str(exc)
        if refused:
            await self._refuse(scope, receive, send, host, refusal)
            return
        scope.setdefault("state", {})["api_key"] = key
        page = is_page(scope)  # pages and static files: their own limit per address (api/page_limits.py)
        if page:
            client, limit = f"page:{host}", self.settings.rate_limit_pages
        elif key is not None:
            client, limit = f"key:{key.id}", self.settings.rate_limit_key
        else:
            client, limit = f"ip:{host}", self.settings.rate_limit_anonymous
        if self.shared is not None:
            allowance = await self.shared.take(client, limit)
        else:
            allowance = self.limiter.take(client, limit)
        window = self.settings.rate_limit_window_seconds
        if allowance.remaining < 0:
            who = f"API key '{key.name}'" if key else "anonymous clients (per address)"
            if page:
                who = "pages and static files (per address; the API's limits are counted apart)"
            response = error_response(
                429, "rate-limited",
                f"the rate limit of {limit} requests per {window} s for {who} is used up; retry in "
                f"{allowance.reset} s" + ("" if key or page else ", or send an API key for a higher limit"),
                headers={"Retry-After": str(allowance.reset)},
                limit=limit, window_seconds=window,
            )
            response.headers.update({k.decode(): v.decode() for k, v in allowance.headers(window)})
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *allowance.headers(window)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, host: str, message: str) -> None:
        """401 for a key (or Authorization header) that is not valid; past ``rate_limit_failed_keys`` such
        requests from one address in a window, 429 until the window ends (no more key checks)."""
        limit, window = self.settings.rate_limit_failed_keys, self.settings.rate_limit_window_seconds
        client = f"failed-key:{host}"
        if self.shared is not None:
            allowance = await self.shared.take(client, limit)
        else:
            allowance = self.limiter.take(client, limit)
        if allowance.remaining < 0:
            response = error_response(
                429, "rate-limited",
                f"more than {limit} requests with a key that is not valid came from this address in {window} s; "
                f"retry in {allowance.reset} s with a valid key, or without one",
                headers={"Retry-After": str(allowance.reset)}, limit=limit, window_seconds=window,
            )
        else:
            response = error_response(401, "unauthorized", message,
                                      headers={"WWW-Authenticate": 'Bearer realm="opendata"'})
        response.headers.update({k.decode(): v.decode() for k, v in allowance.headers(window)})
        await response(scope, receive, send)
