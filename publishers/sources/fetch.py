"""Local file or HTTP(S) download, and the HTTP failure split: transient (retry) or terminal."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from opendata.errors import SourceError, SourceUnavailable
from publishers.job import Job, _FileOrUrl
from publishers.sources import pull_context

TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


def check_response(response: httpx.Response, url: str) -> None:
    """Raise SourceUnavailable for a status worth retrying, SourceError for one that is not."""
    if response.status_code in TRANSIENT_STATUS:
        raise SourceUnavailable(f"{url} answered HTTP {response.status_code}; the run will be retried")
    if response.status_code >= 400:
        raise SourceError(
            f"{url} answered HTTP {response.status_code}; check source.url and source.headers "
            "(a 401 or 403 usually means a missing or wrong ${VAR} in the job file)"
        )


def transient_http_error(exc: httpx.HTTPError, url: str) -> SourceUnavailable | SourceError:
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return SourceUnavailable(f"{url} did not answer: {type(exc).__name__}; the run will be retried")
    return SourceError(f"request to {url} failed: {exc}")


@contextmanager
def local_file(job: Job, source: _FileOrUrl, suffix: str = "") -> Iterator[Path]:
    """The source file on disk: its path, or a download into private staging removed afterwards."""
    if source.path is not None:
        yield job.resolve(source.path)
        return
    assert source.url is not None
    context = pull_context()
    folder = context.staging if context is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix="download-") as tmp:
        target = Path(tmp) / f"source{suffix}"
        try:
            with httpx.stream("GET", source.url, headers=source.headers, timeout=source.timeout,
                              follow_redirects=True) as response:
                check_response(response, source.url)
                with open(target, "wb") as handle:
                    for block in response.iter_bytes(1 << 20):
                        handle.write(block)
        except httpx.HTTPError as exc:
            raise transient_http_error(exc, source.url) from None
        yield target
