"""A CKAN DataStore resource, every row of it: ``datastore_search`` paged by offset to the end (or
``datastore_search_sql`` where the site enables it), each request retried on a 5xx answer or a timeout,
and the rows read checked against the DataStore's own count.

CKAN answers every action as ``{"success": true, "result": {...}}``; ``datastore_search`` gives
``fields`` (``[{"id": "name", "type": "text"}, ...]``), ``records``, ``total`` and ``_links``. A read that
ends short of ``total`` (a page that comes back empty early, or a total that moves while the resource is
read) is a :class:`SourceError`, never a silently truncated release. ``_id`` (the DataStore's row number)
and ``_full_text`` (its search index) are CKAN's own columns and are left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyarrow as pa

from opendata.errors import SourceError, SourceUnavailable
from publishers.job import CkanDatastoreSource, Job
from publishers.sources import text_batch
from publishers.sources.fetch import check_response, transient_http_error

CKAN_OWN_COLUMNS = ("_id", "_full_text")


class DatastoreClient:
    """``GET {site}/api/3/action/{action}`` with retries; returns the action's ``result``."""

    def __init__(self, source: CkanDatastoreSource, client: httpx.Client) -> None:
        self.source = source
        self.client = client
        self.base = source.url.rstrip("/") + "/api/3/action/"

    def call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        url = self.base + action
        wait = self.source.backoff_seconds
        for attempt in range(1, self.source.attempts + 1):
            try:
                return self._once(url, params)
            except SourceUnavailable:
                if attempt == self.source.attempts:
                    raise
                time.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    def _once(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self.client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise transient_http_error(exc, url) from None
        try:
            body = response.json()
        except ValueError:
            check_response(response, url)
            raise SourceUnavailable(f"{url}: the answer is not JSON (cut short?); the run will be retried") from None
        if isinstance(body, dict) and body.get("success") is False:
            found = body.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            kind = str(error.get("__type", "error"))
            message = str(error.get("message", "")).strip() or kind
            if response.status_code >= 500:
                raise SourceUnavailable(f"{url} answered HTTP {response.status_code} ({kind}); the run will be retried")
            raise SourceError(f"{url}: CKAN refused {self.source.resource_id}: {kind}: {message}; check "
                              "source.resource_id and source.headers (a private resource needs an API token)")
        check_response(response, url)
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, dict) or not isinstance(result.get("records"), list):
            raise SourceError(f"{url}: not a CKAN DataStore answer (no result.records); check source.url")
        return result


def _columns(result: dict[str, Any], url: str) -> list[str]:
    fields = result.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, dict) and "id" in f for f in fields):
        raise SourceError(f"{url}: the DataStore answer has no fields list")
    return [str(f["id"]) for f in fields if f["id"] not in CKAN_OWN_COLUMNS]


class CkanDatastoreConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, CkanDatastoreSource)
        with httpx.Client(headers=source.headers, timeout=source.timeout, follow_redirects=True) as http:
            client = DatastoreClient(source, http)
            pages = self._sql_pages(client) if source.method == "sql" else self._search_pages(client)
            yield from pages

    def _search_pages(self, client: DatastoreClient) -> Iterator[pa.RecordBatch]:
        source = client.source
        where = f"{client.base}datastore_search?resource_id={source.resource_id}"
        offset, total, names = 0, None, None
        while True:
            result = client.call("datastore_search", {
                "resource_id": source.resource_id, "limit": str(source.page_size), "offset": str(offset),
                "sort": "_id", "include_total": "true"})
            page_total = result.get("total")
            if isinstance(page_total, bool) or not isinstance(page_total, int):
                raise SourceError(f"{where}: the answer gives no total; cannot check that every row was read")
            if total is None:
                total, names = page_total, _columns(result, where)
            elif page_total != total:
                raise SourceError(f"{where}: the row count moved from {total} to {page_total} while it was read "
                                  "(the resource was being updated); run again")
            records = result["records"]
            if records or offset == 0:
                assert names is not None
                yield text_batch(names, [[r.get(n) for n in names] for r in records])
            offset += len(records)
            if offset >= total:
                break
            if not records:
                raise SourceError(f"{where}: the DataStore reports {total} rows but stopped answering after "
                                  f"{offset}; the read was truncated (nothing published): run again")
        if offset != total:
            raise SourceError(f"{where}: the DataStore reports {total} rows but gave {offset}; nothing published")

    def _sql_pages(self, client: DatastoreClient) -> Iterator[pa.RecordBatch]:
        source = client.source
        first = client.call("datastore_search", {"resource_id": source.resource_id, "limit": "0",
                                                 "include_total": "true"})
        total, names = first.get("total"), _columns(first, client.base + "datastore_search")
        if isinstance(total, bool) or not isinstance(total, int):
            raise SourceError(f"{client.base}datastore_search: no total for {source.resource_id}")
        table = '"' + source.resource_id.replace('"', '""') + '"'
        read = 0
        while True:
            sql = f"SELECT * FROM {table} ORDER BY _id LIMIT {source.page_size} OFFSET {read}"
            records = client.call("datastore_search_sql", {"sql": sql})["records"]
            if records or read == 0:
                yield text_batch(names, [[r.get(n) for n in names] for r in records])
            read += len(records)
            if read >= total or not records:
                break
        if read != total:
            raise SourceError(f"{client.base}datastore_search_sql: the DataStore reports {total} rows of "
                              f"{source.resource_id} but gave {read}; the read was truncated (nothing published)")
