"""HTTP JSON APIs: one request per page, following a Link header, a page number or a cursor.

Auth headers come from the job file, where secrets are ``${VAR}`` references to the environment.
Timeouts, refused connections, 429 and 5xx answers are transient (the run is retried); other 4xx
answers and bodies that are not the expected JSON are terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pyarrow as pa

from opendata.errors import SourceError
from publishers.job import HttpJsonSource, Job
from publishers.sources.fetch import check_response, transient_http_error
from publishers.sources.json_lines import records_batch

RECORD_KEYS = ("data", "results", "items", "records", "features")


def dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def page_records(body: Any, source: HttpJsonSource, url: str) -> list[dict[str, Any]]:
    if source.records is not None:
        found = dig(body, source.records)
    elif isinstance(body, list):
        found = body
    else:
        found = next((body[k] for k in RECORD_KEYS if isinstance(body, dict) and isinstance(body.get(k), list)),
                     None)
    if not isinstance(found, list):
        where = f"at '{source.records}'" if source.records else "in the body"
        raise SourceError(f"{url}: no list of records {where}; set source.records to its dotted path")
    if not all(isinstance(r, dict) for r in found):
        raise SourceError(f"{url}: the records are not all JSON objects")
    return found


class HttpJsonConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, HttpJsonSource)
        names = list(source.columns) if source.columns is not None else None
        yielded = False
        with httpx.Client(headers=source.headers, timeout=source.timeout, follow_redirects=True) as client:
            for records in self._pages(client, source):
                if not records and yielded:
                    continue
                if not records and names is None:
                    continue
                names, batch = records_batch(names, records, source.url)
                yielded = True
                yield batch
        if not yielded:
            if names is None:
                raise SourceError(f"{source.url}: the API returned no records; declare source.columns so an "
                                  "empty answer can still be published")
            yield records_batch(names, [], source.url)[1]

    def _get(self, client: httpx.Client, url: str, params: dict[str, str]) -> tuple[Any, httpx.Response]:
        try:
            response = client.get(url, params=params or None)
        except httpx.HTTPError as exc:
            raise transient_http_error(exc, url) from None
        check_response(response, url)
        try:
            return response.json(), response
        except ValueError:
            raise SourceError(f"{url}: the answer is not JSON (content-type "
                              f"{response.headers.get('content-type', 'unknown')})") from None

    def _pages(self, client: httpx.Client, source: HttpJsonSource) -> Iterator[list[dict[str, Any]]]:
        paging = source.pagination
        params = dict(source.params)
        if paging.size_param and paging.page_size:
            params[paging.size_param] = str(paging.page_size)
        url: str | None = source.url
        page = paging.first_page
        for _ in range(paging.max_pages):
            if url is None:
                return
            if paging.style == "page":
                params[paging.page_param] = str(page)
            body, response = self._get(client, url, params)
            records = page_records(body, source, url)
            yield records
            if paging.style == "none":
                return
            if paging.style == "link":
                following = response.links.get("next", {}).get("url")
                url = str(response.url.join(following)) if following else None
                params = {}  # the next link carries its own query
            elif paging.style == "page":
                if not records or (paging.page_size and len(records) < paging.page_size):
                    return
                page += 1
            else:
                cursor = dig(body, paging.cursor_path)
                if cursor in (None, ""):
                    return
                params[paging.cursor_param] = str(cursor)
        raise SourceError(f"{source.url}: more than {paging.max_pages} pages; raise source.pagination.max_pages")
