"""Absolute URLs of named routes, found once per route and filled in.

Starlette's ``url_for`` walks the app's routes on every call (about 50 µs here); a page of 100 datasets asks
for the same few routes with other names. ``url_for`` here asks Starlette once per (base URL, route,
parameter names), with placeholders, and fills the template in afterwards. Values of unreserved URL
characters only go into a template (Starlette inserts them as they are); anything else is Starlette's.
"""

from __future__ import annotations

import re
import threading

from starlette.requests import Request

#: Parameter values a template may take as they are.
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")
_MARK = "0opendata{}0"
#: Templates kept (base URLs come from the Host header: bounded, cleared when full).
CAPACITY = 512
_templates: dict[tuple[str, str, tuple[str, ...]], str] = {}
_lock = threading.Lock()


def is_plain(value: str) -> bool:
    """Whether ``value`` goes into a template as it is (``url_for`` fills it in without asking Starlette)."""
    return _PLAIN.fullmatch(value) is not None and "0opendata" not in value


def url_for(request: Request, route: str, **params: object) -> str:
    values = {k: str(v) for k, v in params.items()}
    if not all(is_plain(v) for v in values.values()):
        return str(request.url_for(route, **values))
    names = tuple(sorted(values))
    key = (str(request.base_url), route, names)
    template = _templates.get(key)
    if template is None:
        template = str(request.url_for(route, **{k: _MARK.format(i) for i, k in enumerate(names)}))
        with _lock:
            if len(_templates) >= CAPACITY:
                _templates.clear()
            _templates[key] = template
    for i, name in enumerate(names):
        template = template.replace(_MARK.format(i), values[name])
    return template
