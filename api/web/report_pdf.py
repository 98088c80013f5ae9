"""Report pages as PDF files (WeasyPrint): the HTML of the page, laid out by its print stylesheet.

WeasyPrint may fetch only our own stylesheets, read from the package folders: no URL of a page can make
the server fetch anything else (no request to itself, none to the network).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Response

from opendata.errors import ConfigurationError

HERE = Path(__file__).resolve().parent
LOCAL = {"/static/": HERE / "static", "/privacy-static/": HERE.parent / "static"}


def stylesheet(url: str) -> bytes:
    """One of our stylesheets by its URL path, or ValueError for anything else."""
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    for prefix, folder in LOCAL.items():
        if path.startswith(prefix):
            target = (folder / path[len(prefix):]).resolve()
            if target.is_file() and target.is_relative_to(folder) and target.suffix == ".css":
                return target.read_bytes()
    raise ValueError(f"the PDF renderer fetches only this site's stylesheets, not {url[:80]}")


def render_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except OSError as exc:  # pango missing: say which Debian package brings it
        raise ConfigurationError(f"PDF reports need Debian's pango (apt-get install libpango-1.0-0 "
                                 f"libpangoft2-1.0-0): {exc}") from None

    class LocalOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            return URLFetcherResponse(url, body=stylesheet(url), headers={"Content-Type": "text/css"})

    pdf: bytes = HTML(string=html, base_url="http://report.invalid/", url_fetcher=LocalOnly()).write_pdf()
    return pdf


def pdf_response(html: str, filename: str) -> Response:
    return Response(render_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
