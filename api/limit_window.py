"""A fixed window of request counts per client, in this process, and what one request is allowed
(``Allowance``, which makes the ``RateLimit`` headers). ``api.ratelimit`` (the middleware) and
``api.shared_limits`` (the counts API replicas share in Redis, falling back to these) both use it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class Allowance:
    limit: int
    remaining: int
    reset: int

    def headers(self, window: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(max(self.remaining, 0)).encode()),
            (b"ratelimit-reset", str(self.reset).encode()),
            (b"ratelimit-policy", f"{self.limit};w={window}".encode()),
        ]


class FixedWindowLimiter:
    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, limit: int) -> Allowance:
        now = time.time()
        window = int(now // self.window)
        with self._lock:
            start, used = self._counts.get(client, (window, 0))
            if start != window:
                if len(self._counts) > 100_000:
                    self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
                used = 0
            used += 1
            self._counts[client] = (window, used)
        reset = max(1, math.ceil((window + 1) * self.window - now))
        return Allowance(limit, limit - used, reset)
