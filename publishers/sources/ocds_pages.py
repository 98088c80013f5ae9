"""OCDS over HTTP(S): one package, or an API's pages followed through each package's next-page link.

Each page is saved as it comes into private staging (the family run reads and removes them). A page that is
not JSON ends the paging with a clear error; a status worth retrying is transient.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from opendata.errors import SourceError
from procurement.reader import decode
from publishers.job import OcdsSource
from publishers.sources.fetch import check_response, transient_http_error


def _dotted(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def download_pages(source: OcdsSource, folder: Path) -> list[Path]:
    assert source.url is not None
    folder.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    url: str | None = source.url
    seen: set[str] = set()
    with httpx.Client(headers=source.headers, timeout=source.timeout, follow_redirects=True) as client:
        while url is not None and url not in seen:
            seen.add(url)
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                raise transient_http_error(exc, url) from None
            check_response(response, url)
            target = folder / f"page-{len(pages) + 1:05d}.json"
            target.write_bytes(response.content)
            pages.append(target)
            if source.paging is None or len(pages) >= source.paging.max_pages:
                break
            try:
                package = json.loads(decode(response.content, source.encoding)[0])
            except (json.JSONDecodeError, UnicodeDecodeError, LookupError):
                raise SourceError(f"page {len(pages)} of {source.url} is not one JSON package, so its next-page "
                                  f"link ({source.paging.next_path}) cannot be read") from None
            following = _dotted(package, source.paging.next_path)
            url = following if isinstance(following, str) and following.startswith(("http://", "https://")) \
                else None
    return pages
