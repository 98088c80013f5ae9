"""Links to the report pages other parts of the API add (privacy report, validation report), when they exist.

The pages are found among the app's routes by their path, so this works whichever module adds them and
shows no link while a page is not there.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import Route

_PARAM = re.compile(r"\{[^}]+\}")


def _template(app: FastAPI, word: str) -> str | None:
    for route in app.routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or set()):
            continue
        path = route.path
        if path.startswith("/api/") or not path.startswith("/datasets/") or "/releases/" not in path:
            continue
        if path.rstrip("/").rsplit("/", 1)[-1].startswith(word) and len(_PARAM.findall(path)) == 2:
            return path
    return None


def report_page_url(app: FastAPI, base: str, word: str, dataset: str, number: int) -> str | None:
    """The URL of the HTML ``word`` report page ('privacy', 'validation') of a release, or None."""
    template = _template(app, word)
    if template is None:
        return None
    values = iter([dataset, str(number)])
    return base.rstrip("/") + _PARAM.sub(lambda _: next(values), template)
