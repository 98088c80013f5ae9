"""A release's ``datapackage.json`` (Data Package v2), valid under ``frictionless validate``."""

from __future__ import annotations

from typing import Any

from publishers.job import Job


def datapackage(job: Job, number: int, rows: int, data_bytes: int, data_sha256: str, created: str) -> dict:
    resource: dict[str, Any] = {
        "name": job.name,
        "path": "data.parquet",
        "type": "table",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        # Not Data Package's ``bytes``: frictionless reads Parquet through pyarrow, counts no bytes and so
        # reports every declared ``bytes`` as a byte-count error. The size stays, under our own key.
        "opendata:bytes": data_bytes,
        "hash": f"sha256:{data_sha256}",
        "schema": job.table_schema,
    }
    package: dict[str, Any] = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": job.name,
        "title": job.title,
        "description": job.description,
        "version": str(number),
        "created": created,
        "keywords": list(job.tags),
        "licenses": [{"name": job.license}],
        "contributors": [{"title": job.organization_title or job.organization, "roles": ["publisher"]}],
        "resources": [resource],
        "opendata:rows": rows,
        "opendata:timezone": job.timezone,  # naive source datetimes were read in it; data.parquet holds instants
    }
    if job.homepage:  # Data Package wants a URL string here, never null
        package["homepage"] = job.homepage
    return package
