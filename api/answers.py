"""Answers about one release: ETag/304, Cache-Control and the in-memory cache around a computed body."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from api.http_cache import CachedAnswer, ResponseCache, cache_headers, canonical_query, etag_for, not_modified
from api.values import dumps
from catalog.models import Release

JSON = "application/json"
GZIP_MIN_BYTES = 1024


def release_answer(
    request: Request,
    release: Release,
    *,
    kind: str,
    pinned: bool,
    compute: Callable[[], Any],
    media_type: str = JSON,
    extra_headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response:
    """The answer to ``request`` about ``release``: a 304, a cached body, or ``compute()`` serialised.

    ``compute`` returns a JSON-able value (or bytes for other media types); ``extra_headers`` derives
    headers such as ``Link`` from it. Only successful answers are cached."""
    query = canonical_query(request.query_params.multi_items(), drop=("release",))
    etag = etag_for(release, kind, query)
    headers = cache_headers(etag, pinned, release.number)
    if (unchanged := not_modified(request, etag, headers)) is not None:
        return unchanged
    cache: ResponseCache = request.app.state.response_cache
    key = (kind, release.dataset, release.number, query)
    hit = cache.get(key)
    if hit is None:
        value = compute()
        body = value if isinstance(value, bytes) else dumps(value)
        hit = CachedAnswer(body, media_type, extra_headers(value) if extra_headers else {})
        cache.put(key, hit)
    if len(hit.body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        # Compressed once per cached answer; the gzip middleware leaves encoded responses alone.
        if hit.gzipped is None:
            hit = CachedAnswer(hit.body, hit.media_type, hit.headers, gzip.compress(hit.body, compresslevel=5, mtime=0))
            cache.put(key, hit)
        encoded = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(hit.gzipped, media_type=hit.media_type, headers={**headers, **hit.headers, **encoded})
    return Response(hit.body, media_type=hit.media_type, headers={**headers, **hit.headers})
