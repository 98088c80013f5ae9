"""Links to the report pages other parts of the API add (privacy report, validation report), when they exist.

The pages are found by their route names (``privacy_report_page``, ``validation_report_page``) through the
app's own URL reversal, which sees routes in included routers under any FastAPI version (FastAPI 0.165
stopped listing an included router's routes in ``app.routes``, and matching those lost the links). No link
is shown while a page is not there.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import NoMatchFound


def report_page_url(app: FastAPI, base: str, word: str, dataset: str, number: int) -> str | None:
    """The URL of the HTML ``word`` report page ('privacy', 'validation') of a release, or None."""
    try:
        path = app.url_path_for(f"{word}_report_page", name=dataset, number=str(number))
    except NoMatchFound:
        return None
    return base.rstrip("/") + str(path)
