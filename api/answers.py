"""Answers about one release: ETag/304, Cache-Control and the in-memory cache around a computed body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.compress import GZIP_HEADERS, gzip_body, gzip_wanted
from api.http_cache import CachedAnswer, ResponseCache, cache_headers, canonical_query, etag_for, not_modified
from api.values import dumps
from catalog.models import Release

JSON = "application/json"


@dataclass(frozen=True)
class _Pending:
    """What is known about an answer before its body: its headers, cache key, and a 304 or cached body."""

    headers: dict[str, str]
    key: tuple[object, ...]
    ready: Response | CachedAnswer | None


def _look_up(request: Request, release: Release, kind: str, pinned: bool) -> _Pending:
    query = canonical_query(request.query_params.multi_items(), drop=("release",))
    etag = etag_for(release, kind, query)
    headers = cache_headers(etag, pinned, release.number)
    key = (kind, release.dataset, release.number, query)
    unchanged = not_modified(request, etag, headers)
    if unchanged is not None:
        return _Pending(headers, key, unchanged)
    cache: ResponseCache = request.app.state.response_cache
    return _Pending(headers, key, cache.get(key))


def _store(
    request: Request, key: tuple[object, ...], value: Any, media_type: str,
    extra_headers: Callable[[Any], dict[str, str]] | None,
) -> CachedAnswer:
    body = value if isinstance(value, bytes) else dumps(value)
    answer = CachedAnswer(body, media_type, extra_headers(value) if extra_headers else {})
    request.app.state.response_cache.put(key, answer)
    return answer


def _respond(request: Request, pending: _Pending, hit: CachedAnswer) -> Response:
    headers = pending.headers
    if gzip_wanted(hit.body, request.headers.get("accept-encoding", "")):
        # Compressed once per cached answer; the gzip middleware leaves encoded responses alone.
        if hit.gzipped is None:
            packed = gzip_body(hit.body)
            hit = CachedAnswer(hit.body, hit.media_type, hit.headers, packed)
            request.app.state.response_cache.put(pending.key, hit)
        return Response(hit.gzipped, media_type=hit.media_type, headers={**headers, **hit.headers, **GZIP_HEADERS})
    return Response(hit.body, media_type=hit.media_type, headers={**headers, **hit.headers})


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
    pending = _look_up(request, release, kind, pinned)
    if isinstance(pending.ready, Response):
        return pending.ready
    hit = pending.ready or _store(request, pending.key, compute(), media_type, extra_headers)
    return _respond(request, pending, hit)


def answer_at_once(
    request: Request,
    release: Release,
    *,
    kind: str,
    pinned: bool,
    compute: Callable[[], Any],
    computable: bool,
    media_type: str = JSON,
    extra_headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response | None:
    """The answer when it needs no waiting: a 304, a cached body, or ``compute()`` when ``computable``
    (it takes microseconds, e.g. a page from memory); None when it would need a query."""
    pending = _look_up(request, release, kind, pinned)
    if isinstance(pending.ready, Response):
        return pending.ready
    hit = pending.ready
    if hit is None:
        if not computable:
            return None
        hit = _store(request, pending.key, compute(), media_type, extra_headers)
    return _respond(request, pending, hit)


async def release_answer_async(
    request: Request,
    release: Release,
    *,
    kind: str,
    pinned: bool,
    compute: Callable[[], Any],
    in_loop: bool,
    media_type: str = JSON,
    extra_headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response:
    """``release_answer`` for ``async`` routes: ``compute`` runs on the event loop when ``in_loop`` (it
    takes microseconds), else in the thread pool (a DuckDB query)."""
    pending = _look_up(request, release, kind, pinned)
    if isinstance(pending.ready, Response):
        return pending.ready
    hit = pending.ready
    if hit is None:
        value = compute() if in_loop else await run_in_threadpool(compute)
        hit = _store(request, pending.key, value, media_type, extra_headers)
    return _respond(request, pending, hit)
