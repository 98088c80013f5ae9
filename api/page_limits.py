"""Which requests are people's pages: HTML pages and static files, counted apart from the API's limits.

A person browsing the catalog loads a page, its stylesheet, scripts and the map library: five requests or
more a page. Counted against the anonymous API limit (120 a minute), a few people behind one office
address would use it up. So GET and HEAD requests for the HTML pages and the static files count against
their own, generous limit per address (``rate_limit_pages``, 1,200 a window by default); everything under
``/api/``, the JSON index ``/``, machine-readable files (``/catalog.ttl``, ``/catalog.jsonld``: a name with a
dot) and every other method count against the API's limits as before. The API calls a page's scripts
make (the map's features, the row explorer) are API requests and count as such.
"""

from __future__ import annotations

from starlette.types import Scope

STATIC_PREFIXES = ("/static/", "/privacy-static/", "/docs-static/")


def _accepts_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"accept":
            return b"text/html" in value
    return False


def is_page(scope: Scope) -> bool:
    """Whether the request is for an HTML page or a static file (the page limit), not the API."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    path: str = scope.get("path", "")
    if path.startswith(STATIC_PREFIXES) or path == "/favicon.ico":
        return True
    if path == "/":
        return _accepts_html(scope)  # a browser is redirected to the catalog page; a client gets JSON
    if path.startswith("/api/") or path == "/api":
        return False
    return "." not in path.rsplit("/", 1)[-1]
