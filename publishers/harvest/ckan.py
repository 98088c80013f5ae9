"""Harvest a CKAN portal with ckanapi: ``package_search`` paged to its ``count``, ``package_show`` for
packages that changed since the last harvest (``metadata_modified``), and for each tabular resource a
job: a ``ckan_datastore`` source with the DataStore's fields as the schema where the resource is in the
DataStore, else its file (CSV, Excel, JSON, Parquet) by URL with a schema inferred from a sample.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opendata.errors import RemoteUnavailable, SourceError
from opendata.settings import Settings
from publishers.harvest.model import Candidate, HarvestReport
from publishers.harvest.vocabulary import cron_for, slug, spdx_licence
from publishers.harvest.write import Harvest

#: DataStore (PostgreSQL) column types -> Table Schema types.
DATASTORE_TYPES = {
    "int": "integer", "int2": "integer", "int4": "integer", "int8": "integer", "integer": "integer",
    "bigint": "integer", "smallint": "integer", "serial": "integer", "numeric": "number", "float": "number",
    "float4": "number", "float8": "number", "double precision": "number", "real": "number", "money": "number",
    "text": "string", "varchar": "string", "char": "string", "name": "string", "citext": "string",
    "uuid": "string", "timestamp": "datetime", "timestamptz": "datetime", "date": "date", "time": "time",
    "bool": "boolean", "boolean": "boolean", "json": "object", "jsonb": "object",
}
#: Resource formats (upper case) -> our source type, for resources outside the DataStore.
FILE_SOURCES = {"CSV": "csv", "TSV": "csv", "XLSX": "excel", "XLS": "excel", "JSON": "http_json",
                "GEOJSON": "http_json", "JSONL": "jsonl", "NDJSON": "jsonl", "PARQUET": "parquet"}
FREQUENCY_KEYS = ("frequency", "update_frequency", "accrual_periodicity", "accrualPeriodicity")


class CkanReader:
    """ckanapi's RemoteCKAN (read actions over GET) with retries on 5xx answers and timeouts."""

    def __init__(self, url: str, api_key: str | None = None, attempts: int = 4, backoff: float = 1.0,
                 timeout: float = 60.0) -> None:
        from ckanapi import RemoteCKAN

        self.url = url.rstrip("/")
        self.client = RemoteCKAN(self.url, apikey=api_key, get_only=True, user_agent="opendata-platform harvest")
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout

    def call(self, action: str, **data: Any) -> Any:
        from ckanapi import errors as ckan

        wait = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return self.client.call_action(action, data, requests_kwargs={"timeout": self.timeout})
            except (ckan.NotFound, ckan.NotAuthorized, ckan.ValidationError, ckan.ServerIncompatibleError) as exc:
                raise SourceError(f"{self.url} refused {action}: {type(exc).__name__}: {exc}") from None
            except (ckan.CKANAPIError, OSError) as exc:
                if attempt == self.attempts:
                    raise RemoteUnavailable(f"{self.url} failed on {action} {self.attempts} times ({exc}); "
                                            "nothing was changed: try again later") from None
                time.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")


def packages(reader: CkanReader, organization: str | None, query: str | None, rows: int = 100) -> list[dict[str, Any]]:
    """Every package the search matches, paged by ``start`` to the ``count`` CKAN reports (checked)."""
    fq = f'organization:"{organization}"' if organization else ""
    found: list[dict[str, Any]] = []
    count = None
    while count is None or len(found) < count:
        result = reader.call("package_search", q=query or "*:*", fq=fq, rows=rows, start=len(found),
                             sort="name asc", include_private=False)
        page = result.get("results") or []
        count = int(result.get("count", 0))
        if not page:
            break
        found.extend(page)
    if count is not None and len(found) != count:
        raise RemoteUnavailable(f"{reader.url}: package_search reports {count} packages but listed {len(found)}; "
                                "nothing was changed (a partial list would remove jobs): try again")
    return found


def _extra(package: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if isinstance(package.get(key), str) and package[key]:
            return str(package[key])
    for extra in package.get("extras") or []:
        if isinstance(extra, dict) and extra.get("key") in keys and extra.get("value"):
            return str(extra["value"])
    return None


def datastore_fields(reader: CkanReader, resource_id: str) -> list[dict[str, Any]]:
    result = reader.call("datastore_search", resource_id=resource_id, limit=0)
    fields = []
    for field in result.get("fields") or []:
        if field.get("id") in ("_id", "_full_text"):
            continue
        info = field.get("info") if isinstance(field.get("info"), dict) else {}
        kind = str(info.get("type_override") or field.get("type") or "text").lower()
        descriptor: dict[str, Any] = {"name": str(field["id"]),
                                      "type": "array" if kind.startswith("_") else DATASTORE_TYPES.get(kind, "string")}
        if info.get("label"):
            descriptor["title"] = str(info["label"])
        if info.get("notes"):
            descriptor["description"] = str(info["notes"])
        fields.append(descriptor)
    return fields


def _source(reader: CkanReader, resource: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    if resource.get("datastore_active"):
        return {"type": "ckan_datastore", "url": reader.url, "resource_id": resource["id"]}, ""
    kind = FILE_SOURCES.get(str(resource.get("format") or "").strip().upper().lstrip("."))
    url = str(resource.get("url") or "")
    if kind is None:
        return None, f"format '{resource.get('format') or 'none'}' is not a table this platform reads"
    if not url.startswith(("http://", "https://")):
        return None, "the resource has no http(s) URL"
    source: dict[str, Any] = {"type": kind, "url": url}
    if str(resource.get("format")).upper() == "TSV":
        source["delimiter"] = "\t"
    return source, ""


def harvest_ckan(url: str, into: Path, settings: Settings, *, organization: str | None = None,
                 query: str | None = None, api_key: str | None = None,
                 reader: CkanReader | None = None, rows: int = 100) -> HarvestReport:
    reader = reader or CkanReader(url, api_key)
    harvest = Harvest(reader.url, into, settings)
    host = slug(urlsplit(reader.url).hostname or "ckan")
    for listed in packages(reader, organization, query, rows):
        modified = listed.get("metadata_modified")
        resources = listed.get("resources") or []
        if resources and all(harvest.unchanged(r["id"], modified) for r in resources):
            for listed_resource in resources:
                harvest.keep(listed_resource["id"])
            continue
        package = reader.call("package_show", id=listed["name"])
        tabular = [(r, *_source(reader, r)) for r in package.get("resources") or []]
        several = sum(1 for _, source, _ in tabular if source is not None) > 1
        for resource, source, why in tabular:
            if harvest.unchanged(resource["id"], package.get("metadata_modified")):
                harvest.keep(resource["id"])
                continue
            if source is None:
                harvest.skip(resource["id"], why, package.get("metadata_modified"))
                continue
            harvest.write(_candidate(reader, package, resource, source, several, host))
    return harvest.finish()


def _candidate(reader: CkanReader, package: dict[str, Any], resource: dict[str, Any], source: dict[str, Any],
               several: bool, host: str) -> Candidate:
    found = package.get("organization")
    org: dict[str, Any] = found if isinstance(found, dict) else {}
    resource_name = str(resource.get("name") or resource["id"][:8])
    title = str(package.get("title") or package["name"])
    description = str(package.get("notes") or "")
    if several:
        title = f"{title}: {resource_name}"
        description = "\n\n".join(d for d in (description, str(resource.get("description") or "")) if d)
    frequency = _extra(package, FREQUENCY_KEYS)
    return Candidate(
        key=str(resource["id"]), name=slug(f"{package['name']}-{resource_name}" if several else package["name"]),
        title=title, description=description, organization=slug(str(org.get("name") or host)),
        organization_title=str(org.get("title") or "") or None,
        license=spdx_licence(package.get("license_id"), package.get("license_title")),
        tags=[str(t["name"]) for t in package.get("tags") or [] if isinstance(t, dict) and t.get("name")],
        homepage=f"{reader.url}/dataset/{package['name']}", frequency=frequency, schedule=cron_for(frequency),
        source=source, modified=package.get("metadata_modified"),
        fields=datastore_fields(reader, resource["id"]) if source["type"] == "ckan_datastore" else None,
    )
