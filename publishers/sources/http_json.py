"""HTTP JSON APIs as they are: one request per page, following a Link header, a page number, a cursor
or an offset, records found at a path and columns picked by JSONPath.

``records`` says where a page's records are (``$.features[*]`` or ``result.records``); ``columns`` keeps a
list of keys, or maps column names to JSONPaths inside each record (``event: $.properties.event``,
``geometry: $.geometry``: a nested object becomes its JSON text, which a Table Schema ``geojson`` or
``object`` field types at publish). ``pagination.total_path`` names the total row count the API reports;
the rows read are checked against it, so an API that stops early is an error, never a short release.

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
from publishers.sources import text_batch
from publishers.sources.fetch import check_response, transient_http_error
from publishers.sources.json_lines import records_batch
from publishers.sources.json_path import compile_path

RECORD_KEYS = ("data", "results", "items", "records", "features")


def dig(body: Any, dotted: str) -> Any:
    return compile_path(dotted).value(body)


def page_records(body: Any, source: HttpJsonSource, url: str) -> list[dict[str, Any]]:
    if source.records is not None:
        path = compile_path(source.records)
        matches = path.find(body)
        if path.is_jsonpath and not (len(matches) == 1 and isinstance(matches[0], list)):
            found: Any = matches
        else:
            found = matches[0] if matches else None
    elif isinstance(body, list):
        found = body
    else:
        found = next((body[k] for k in RECORD_KEYS if isinstance(body, dict) and isinstance(body.get(k), list)),
                     None)
    if not isinstance(found, list):
        where = f"at '{source.records}'" if source.records else "in the body"
        raise SourceError(f"{url}: no list of records {where}; set source.records to its path "
                          "(a dotted path such as result.records, or a JSONPath such as $.features[*])")
    if not all(isinstance(r, dict) for r in found):
        raise SourceError(f"{url}: the records are not all JSON objects; point source.records at the objects")
    return found


def total_of(body: Any, source: HttpJsonSource, url: str) -> int | None:
    path = source.pagination.total_path
    if path is None:
        return None
    value = compile_path(path).value(body)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise SourceError(f"{url}: no row count at pagination.total_path '{path}' (found {type(value).__name__})")
    return int(value)


class HttpJsonConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, HttpJsonSource)
        mapped = source.columns if isinstance(source.columns, dict) else None
        names = list(source.columns) if source.columns is not None else None
        declared, seen, yielded = names is not None, 0, False
        totals: list[int] = []
        with httpx.Client(headers=source.headers, timeout=source.timeout, follow_redirects=True) as client:
            for records, total in self._pages(client, source):
                if total is not None:
                    totals.append(total)
                if not records and (yielded or names is None):
                    continue
                if mapped is not None:
                    paths = [compile_path(p) for p in mapped.values()]
                    batch = text_batch(list(mapped), [[p.value(r) for p in paths] for r in records])
                else:
                    names, batch = records_batch(names, records, source.url, declared=declared, seen=seen)
                seen += len(records)
                yielded = True
                yield batch
        if totals and seen != totals[0]:
            raise SourceError(
                f"{source.url}: the API reported {totals[0]} rows (at {source.pagination.total_path}) but gave "
                f"{seen}; the answer was cut short (or the data changed while it was read): run again, and "
                "check source.pagination if it persists"
            )
        if not yielded:
            if names is None:
                raise SourceError(f"{source.url}: the API returned no records; declare source.columns so an "
                                  "empty answer can still be published")
            yield text_batch(names, [])

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

    def _pages(self, client: httpx.Client, source: HttpJsonSource) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        paging = source.pagination
        params = dict(source.params)
        size_param = paging.size_param or ("limit" if paging.style == "offset" else None)
        if size_param and paging.page_size:
            params[size_param] = str(paging.page_size)
        url: str | None = source.url
        page, offset = paging.first_page, paging.first_offset
        for _ in range(paging.max_pages):
            if url is None:
                return
            if paging.style == "page":
                params[paging.page_param] = str(page)
            if paging.style == "offset":
                params[paging.offset_param] = str(offset)
            body, response = self._get(client, url, params)
            records = page_records(body, source, url)
            total = total_of(body, source, url)
            yield records, total
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
            elif paging.style == "offset":
                offset += len(records)
                if not records or (total is not None and offset - paging.first_offset >= total):
                    return
                if total is None and paging.page_size and len(records) < paging.page_size:
                    return
            else:
                cursor = dig(body, paging.cursor_path)
                if cursor in (None, ""):
                    return
                params[paging.cursor_param] = str(cursor)
        raise SourceError(f"{source.url}: more than {paging.max_pages} pages; raise source.pagination.max_pages")
