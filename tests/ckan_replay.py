"""A CKAN portal replayed on a local HTTP server: the Action API's wire format as CKAN's API
documentation gives it (``/api/3/action/<name>``, ``{"help", "success", "result"}``, errors as
``{"success": false, "error": {"__type", "message"}}``), for package_search (``q``, ``fq``, ``rows``,
``start``, ``count``), package_show and datastore_search (``limit``, ``offset``, ``total``, ``fields``,
``records``, ``_links``). Faults are injected per request: a 500 page once at an offset, a DataStore
that stops answering rows before its total.

The rows are real: NYC 311 service requests and incident zip codes from /work/shared/data/nyc311.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from typing import Any

from tests.publishers_fixtures import SHARED_DATA, LocalHttp

NYC311 = SHARED_DATA / "nyc311"


@dataclass
class Table:
    fields: list[dict[str, Any]]
    rows: list[dict[str, Any]]


@dataclass
class CkanPortal:
    http: LocalHttp
    packages: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    fail_once_at_offset: set[int] = field(default_factory=set)
    stop_rows_at: int | None = None

    def __post_init__(self) -> None:
        for name in ("package_search", "package_show", "datastore_search"):
            for prefix in ("/api/3/action/", "/api/action/"):  # CKAN serves both; ckanapi calls the second
                self.http.route(prefix + name, getattr(self, "_" + name))

    @property
    def url(self) -> str:
        return self.http.base

    def serve_file(self, path: str, body: bytes) -> str:
        self.http.route(path, lambda *_: (200, {"Content-Type": "text/csv"}, body))
        return self.http.base + path

    def calls(self, action: str) -> list[dict[str, list[str]]]:
        return [q for p, q, _ in self.http.requests if p in (f"/api/3/action/{action}", f"/api/action/{action}")]

    @staticmethod
    def _ok(action: str, result: Any) -> tuple[int, dict[str, str], bytes]:
        body = {"help": f"http://ckan.example/api/3/action/help_show?name={action}", "success": True,
                "result": result}
        return 200, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(body).encode()

    @staticmethod
    def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], bytes]:
        body = {"help": "", "success": False, "error": {"__type": kind, "message": message}}
        return status, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(body).encode()

    def _package_search(self, path: str, query: dict[str, list[str]], _: dict[str, str]) -> Any:
        rows, start = int(query.get("rows", ["10"])[0]), int(query.get("start", ["0"])[0])
        fq = query.get("fq", [""])[0]
        found = sorted(self.packages, key=lambda p: p["name"])
        if fq.startswith("organization:"):
            wanted = fq.split(":", 1)[1].strip('"')
            found = [p for p in found if p["organization"]["name"] == wanted]
        return self._ok("package_search", {"count": len(found), "sort": "name asc", "facets": {},
                                           "search_facets": {}, "results": found[start:start + rows]})

    def _package_show(self, path: str, query: dict[str, list[str]], _: dict[str, str]) -> Any:
        wanted = query.get("id", [""])[0]
        for package in self.packages:
            if wanted in (package["name"], package["id"]):
                return self._ok("package_show", package)
        return self._error(404, "Not Found Error", "Not found")

    def _datastore_search(self, path: str, query: dict[str, list[str]], _: dict[str, str]) -> Any:
        resource = query.get("resource_id", [""])[0]
        table = self.tables.get(resource)
        if table is None:
            return self._error(404, "Not Found Error", f'Resource "{resource}" was not found.')
        limit, offset = int(query.get("limit", ["100"])[0]), int(query.get("offset", ["0"])[0])
        if offset in self.fail_once_at_offset:
            self.fail_once_at_offset.discard(offset)
            return 500, {"Content-Type": "text/html"}, b"<html><body>Internal Server Error</body></html>"
        end = offset + limit if self.stop_rows_at is None else min(offset + limit, self.stop_rows_at)
        records = [{"_id": offset + i + 1, **row} for i, row in enumerate(table.rows[offset:end])]
        base = f"/api/3/action/datastore_search?resource_id={resource}"
        return self._ok("datastore_search", {
            "include_total": True, "resource_id": resource, "records_format": "objects",
            "fields": [{"id": "_id", "type": "int"}, *table.fields], "records": records, "limit": limit,
            "offset": offset, "total": len(table.rows),
            "_links": {"start": base, "next": f"{base}&offset={offset + limit}"}})


def read_311(filename: str, limit: int | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    with open(NYC311 / filename, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [dict(r) for _, r in zip(range(limit or 10**9), reader, strict=False)]
        return list(reader.fieldnames or []), rows


def package(name: str, org: str, resources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A package_show result, with the keys CKAN 2.10's default schema gives."""
    return {
        "id": f"pkg-{name}", "name": name, "title": extra.pop("title", name.replace("-", " ").title()),
        "notes": extra.pop("notes", ""), "license_id": extra.pop("license_id", "cc-by"),
        "license_title": "Creative Commons Attribution", "state": "active", "private": False, "type": "dataset",
        "metadata_created": "2024-01-05T10:00:00.000000",
        "metadata_modified": extra.pop("metadata_modified", "2024-03-01T12:00:00.000000"),
        "organization": {"id": f"org-{org}", "name": org, "title": org.replace("-", " ").upper(),
                         "type": "organization", "is_organization": True},
        "tags": [{"name": t, "display_name": t} for t in extra.pop("tags", [])],
        "extras": [{"key": k, "value": v} for k, v in extra.pop("extras", {}).items()],
        "num_resources": len(resources), "resources": resources, **extra,
    }


def resource(resource_id: str, name: str, fmt: str, datastore: bool, url: str = "") -> dict[str, Any]:
    return {"id": resource_id, "name": name, "format": fmt, "datastore_active": datastore,
            "url": url or f"http://ckan.example/dataset/x/resource/{resource_id}/download/{name}.{fmt.lower()}",
            "description": f"{name} ({fmt})", "last_modified": "2024-03-01T11:59:00.000000"}
