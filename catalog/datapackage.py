"""A release's ``datapackage.json`` (Data Package v2)."""

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
        "bytes": data_bytes,
        "hash": f"sha256:{data_sha256}",
        "schema": job.table_schema,
    }
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": job.name,
        "title": job.title,
        "description": job.description,
        "version": str(number),
        "created": created,
        "keywords": list(job.tags),
        "licenses": [{"name": job.license}],
        "contributors": [{"title": job.organization_title or job.organization, "roles": ["publisher"]}],
        "homepage": job.homepage,
        "resources": [resource],
        "opendata:rows": rows,
    }
