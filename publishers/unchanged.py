"""Unchanged-source runs: the same data, schema and privacy policy as the latest release make no new release.

A release carries ``fingerprint.json``: what decides its published bytes, each as a digest that does not
depend on how the bytes were written (Parquet files of equal data may differ by writer, row group or row
order):

- ``data``: the rows of the validated staged table (the text columns the release is typed from), as a
  multiset digest: the row count and the sums of the two halves of each row's MD5 over its JSON text, so
  row order does not matter and a repeated row counts twice;
- ``schema``: SHA-256 of the Table Schema, the time zone naive values are read in, the point columns and
  the sort order (the rest of what typing the release depends on);
- ``policy_hash``: the privacy policy's hash, as the privacy report states it;
- ``extras``: SHA-256 of the files a family run adds (its red flags);
- ``metadata``: SHA-256 of what the release's ``datapackage.json`` says of the dataset (title, description,
  tags, licence, organisation, homepage), so a retitled or transferred dataset gets a release that says so.

A run whose fingerprint equals the latest release's (published or awaiting approval: a rejected or
withdrawn release is not current) records the state ``unchanged`` and names that release; with
``publish.when_unchanged: publish`` it publishes anyway. A release without a fingerprint (made before
this) never matches, so the first run after an upgrade publishes once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from anonymize.report import PrivacyReport
from catalog.models import Release, Run
from catalog.storage import open_storage
from catalog.store import Catalog, utc_now
from opendata.settings import Settings
from opendata.sql_text import read_parquet_sql
from publishers.job import Job

FINGERPRINT_FILE = "fingerprint.json"
#: The job's fields a release's own files hold (its datapackage.json): a change to one makes a new release.
RELEASE_METADATA = ("title", "description", "tags", "license", "organization", "organization_title", "homepage")
METHOD = "rows: count + sum(md5(to_json(row))) halves; schema: sha256(canonical JSON)"


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    data: str
    schema: str
    policy_hash: str
    extras: str
    metadata: str
    method: str = METHOD

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UnchangedCheck:
    """What the runner does next: ``run`` is the finished ``unchanged`` run when nothing is to be published;
    else ``files`` are the extra files the new release carries (its fingerprint added)."""

    files: dict[str, object]
    run: Run | None = None


class StagedFiles(dict[str, object]):
    """A release's extra files as staged files (name -> path, copied into the release as they are), with the
    SHA-256 the fingerprint keeps for them, computed as they were written (``_canonical_sha`` of the
    documents they hold: their paths say nothing of their content)."""

    def __init__(self, files: dict[str, Path], canonical_sha: str) -> None:
        super().__init__(files)
        self.extras_sha = canonical_sha


def _canonical_sha(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_digest(staged: Path, memory_limit: str) -> tuple[int, str]:
    """The row count and an order-independent digest of a Parquet file's rows (DuckDB scans it)."""
    con = duckdb.connect(config={"threads": 2, "memory_limit": memory_limit})
    try:
        found = con.execute(
            "SELECT count(*), coalesce(sum(md5_number_upper(j)), 0), coalesce(sum(md5_number_lower(j)), 0) "
            f"FROM (SELECT to_json(t)::VARCHAR AS j FROM {read_parquet_sql(staged)} t)"
        ).fetchone()
    finally:
        con.close()
    assert found is not None
    rows, upper, lower = (int(v) for v in found)
    return rows, f"{rows}:{upper:x}:{lower:x}"


def fingerprint(
    settings: Settings, job: Job, staged: Path, privacy: PrivacyReport, extra_files: dict[str, object]
) -> Fingerprint:
    rows, data = data_digest(staged, settings.run_memory_limit)
    points = {name: [p.latitude, p.longitude] for name, p in job.publish.points.items()}
    schema = _canonical_sha({"table_schema": job.table_schema, "timezone": job.timezone, "points": points,
                             "sort_by": list(job.publish.sort_by)})
    metadata = _canonical_sha({key: getattr(job, key) for key in RELEASE_METADATA})
    return Fingerprint(rows=rows, data=data, schema=schema, policy_hash=privacy.policy_hash,
                       extras=extra_files.extras_sha if isinstance(extra_files, StagedFiles)
                       else _canonical_sha(extra_files), metadata=metadata)


def current_release(catalog: Catalog, name: str) -> Release | None:
    """The latest release that is published or awaiting approval."""
    current = [r for r in catalog.releases(name, published_only=False) if r.state in ("published", "awaiting-approval")]
    return current[-1] if current else None


def release_fingerprint(settings: Settings, release: Release) -> Fingerprint | None:
    storage = open_storage(settings)
    if FINGERPRINT_FILE not in release.files or not storage.exists(release, FINGERPRINT_FILE):
        return None
    try:
        return Fingerprint(**json.loads(storage.read_bytes(release, FINGERPRINT_FILE)))
    except (TypeError, ValueError):  # a fingerprint of another method or shape: not comparable
        return None


def check_unchanged(
    settings: Settings, catalog: Catalog, job: Job, run: Run, staged: Path, privacy: PrivacyReport,
    extra_files: dict[str, object],
) -> UnchangedCheck:
    """Compare the validated staged table with the latest release: the one call the runner makes before
    publishing."""
    mark = fingerprint(settings, job, staged, privacy, extra_files)
    files = {**extra_files, FINGERPRINT_FILE: mark.as_json()}
    if job.publish.when_unchanged == "publish":
        return UnchangedCheck(files=files)
    latest = current_release(catalog, job.name)
    if latest is None or latest.policy_hash != privacy.policy_hash or release_fingerprint(settings, latest) != mark:
        return UnchangedCheck(files=files)
    done = run.model_copy(update={"state": "unchanged", "ended_at": utc_now(), "rows_out": 0,
                                  "release": latest.number, "error": None, "public_error": None})
    return UnchangedCheck(files=files, run=done)
