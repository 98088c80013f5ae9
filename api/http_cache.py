"""HTTP caching of answers that depend only on an immutable release and the query.

- ``ETag``: a hash of the release's data (its sha256 in the catalog) and the canonical query, so the
  same question about the same release always has the same tag; ``If-None-Match`` answers 304.
- ``Cache-Control``: ``immutable`` when the request pins its release (``release=N`` or a cursor);
  ``no-cache`` (revalidate with the ETag) when it asks for the latest release, which may move.
- ``ResponseCache``: a bounded in-memory LRU of answer bodies, keyed by the same canonical query and the
  resolved release number, so a repeated question costs no query at all.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import Request, Response

from catalog.models import Release

IMMUTABLE = "public, max-age=86400, immutable"
REVALIDATE = "public, no-cache"


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)
    gzipped: bytes | None = None


def canonical_query(params: Iterable[tuple[str, str]], drop: Iterable[str] = ()) -> str:
    dropped = set(drop)
    return "&".join(f"{k}={v}" for k, v in sorted(p for p in params if p[0] not in dropped))


def etag_for(release: Release, kind: str, query: str) -> str:
    data = release.files.get("data.parquet", "")
    digest = hashlib.blake2b(f"{release.dataset}|{release.number}|{data}|{kind}|{query}".encode(), digest_size=12)
    return f'"{digest.hexdigest()}"'


def cache_headers(etag: str, pinned: bool, release: int) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": IMMUTABLE if pinned else REVALIDATE, "X-Release": str(release)}


def not_modified(request: Request, etag: str, headers: dict[str, str]) -> Response | None:
    """A 304 when the client already holds this answer (``If-None-Match`` lists its ETag or ``*``)."""
    sent = request.headers.get("if-none-match")
    if not sent:
        return None
    tags = {t.strip().removeprefix("W/") for t in sent.split(",")}
    if etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return None


class ResponseCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._items: OrderedDict[tuple[object, ...], CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[object, ...]) -> CachedAnswer | None:
        if self.entries <= 0:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[object, ...], answer: CachedAnswer) -> None:
        if self.entries <= 0 or len(answer.body) > 4 << 20:
            return
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
