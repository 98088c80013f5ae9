"""Rate-limit counters shared by API replicas, in Redis (``OPENDATA_SHARED_STATE_URL``).

Replicas behind a load balancer must together allow a client its limit per window, not N times it. Each
request runs one small Lua script (one round trip, about 0.1 ms on loopback): INCR the client's counter
and, on the window's first request, make it expire at the end of the window by Redis's own clock, so
replicas whose clocks drift still agree on when a window ends. Keys are
``opendata:ratelimit:<window seconds>:<client>`` (``ip:ADDRESS`` or ``key:ID``); a key lives one window.

A rate limiter must not turn a Redis outage into an API outage: when Redis does not answer, the replica
counts in its own process (``FixedWindowLimiter``, the embedded default's behaviour), logs one warning
for the outage, tries Redis again at most once a second, and shares counts again from its first answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from api.limit_window import Allowance, FixedWindowLimiter
from opendata.errors import ConfigurationError

log = logging.getLogger(__name__)

KEY_PREFIX = "opendata:ratelimit"

# KEYS[1]: the client's counter; ARGV[1]: window in ms. Returns {requests so far, ms left in the window}.
COUNT_SCRIPT = """
local used = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local window = tonumber(ARGV[1])
  left = window - ms % window
  redis.call('PEXPIRE', KEYS[1], left)
end
return {used, left}
"""
COUNT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()


def redacted(url: str) -> str:
    """The URL without its password, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


class SharedWindowLimiter:
    """Fixed windows counted in Redis; per-process counting while Redis is unreachable."""

    def __init__(self, url: str, window_seconds: int, *, retry_seconds: float = 1.0,
                 timeout_seconds: float = 0.25) -> None:
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError(
                f"OPENDATA_SHARED_STATE_URL must be a Redis URL (redis://host:6379/0 or rediss://...), "
                f"not {redacted(url)!r}; unset it to count rate limits in each process"
            )
        self.url = url
        self.window = window_seconds
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self.fallback = FixedWindowLimiter(window_seconds)
        self.down_since: float | None = None
        self._retry_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._redis: Redis | None = None

    def _client(self) -> Redis:
        # An asyncio Redis connection belongs to the event loop that opened it: uvicorn has one loop, but a
        # TestClient used without `with` runs each request in a new one.
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            self._redis = Redis.from_url(
                self.url, socket_timeout=self.timeout_seconds, socket_connect_timeout=self.timeout_seconds,
                retry=Retry(NoBackoff(), 1),  # one retry: a pooled connection may predate a Redis restart
            )
            self._loop = loop
        return self._redis

    async def _count(self, key: str) -> tuple[int, int]:
        redis = self._client()
        try:
            used, left_ms = await redis.evalsha(COUNT_SHA, 1, key, self.window * 1000)
        except NoScriptError:  # a Redis that started after our last call: load the script once
            await redis.script_load(COUNT_SCRIPT)
            used, left_ms = await redis.evalsha(COUNT_SHA, 1, key, self.window * 1000)
        return int(used), int(left_ms)

    async def take(self, client: str, limit: int) -> Allowance:
        if self.down_since is not None and time.monotonic() < self._retry_at:
            return self.fallback.take(client, limit)
        try:
            used, left_ms = await self._count(f"{KEY_PREFIX}:{self.window}:{client}")
        except (RedisError, OSError) as error:
            self._went_down(error)
            return self.fallback.take(client, limit)
        if self.down_since is not None:
            log.info("shared rate limits: Redis at %s answers again after %.0f s; counting is shared again",
                     redacted(self.url), time.monotonic() - self.down_since)
            self.down_since = None
        return Allowance(limit, limit - used, max(1, math.ceil(left_ms / 1000)))

    def _went_down(self, error: Exception) -> None:
        now = time.monotonic()
        self._retry_at = now + self.retry_seconds
        if self.down_since is None:
            self.down_since = now
            log.warning(
                "shared rate limits: Redis at %s does not answer (%s: %s); this replica counts rate limits "
                "alone until it does (each replica then allows the full limit)",
                redacted(self.url), type(error).__name__, error,
            )
