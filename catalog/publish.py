"""Publish stage: write an immutable, numbered release and record it atomically.

The release is built in private staging, put in place by the release storage (:mod:`catalog.storage`:
one atomic rename into the public releases folder, or an upload to object storage under a key unique to
the run), and only then recorded in the catalog (one transaction). The API serves only releases the
catalog records, so a crash at any point leaves the previous release serving; files left by a crash
between the storage step and the commit are not in the catalog and are never read (a local folder is
replaced by the next run).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from anonymize.report import AnonymizedTable, PrivacyReport
from catalog import release_dcat
from catalog.datapackage import datapackage
from catalog.geometry import published_schema
from catalog.models import Release, Run
from catalog.officer_mail import notify_awaiting_approval
from catalog.release_facts import FACTS_FILE, compute_facts, with_byte_sizes
from catalog.storage import open_storage
from catalog.store import Catalog, utc_now
from catalog.typed_table import write_typed_parquet, write_typed_parquet_file
from opendata.faults import checkpoint
from opendata.settings import Settings
from publishers.job import Job
from validation.report import ValidationReport


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def publish_release(
    settings: Settings,
    catalog: Catalog,
    job: Job,
    run: Run,
    anonymized: AnonymizedTable | Path,
    privacy: PrivacyReport,
    validation: ValidationReport,
    staging: Path,
    extra_files: dict[str, object] | None = None,
) -> tuple[Release, Run]:
    """``extra_files`` are JSON documents published in the release beside its reports (a procurement
    release's ``red-flags.json``), atomically with it."""
    storage = open_storage(settings)
    number = catalog.next_release_number(job.name)
    build = staging / "release"
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)

    points = {name: (p.latitude, p.longitude) for name, p in job.publish.points.items()}
    if isinstance(anonymized, Path):  # a staged Parquet file of text columns: DuckDB scans it, never loaded
        rows = write_typed_parquet_file(anonymized, job.table_schema, build / "data.parquet", job.publish.sort_by,
                                        memory_limit=settings.run_memory_limit, spill=staging, timezone=job.timezone,
                                        points=points)
    else:
        rows = write_typed_parquet(
            anonymized.table, job.table_schema, build / "data.parquet", job.publish.sort_by, timezone=job.timezone,
            points=points,
        )
    # Profiles, sample rows and coverage, once, over the file just written (the pages read them back).
    facts = compute_facts(build / "data.parquet", job.table_schema, settings.run_memory_limit)
    write_json(build / "privacy-report.json", privacy.model_dump(mode="json"))
    write_json(build / "validation-report.json", validation.model_dump(mode="json"))
    for name, document in (extra_files or {}).items():
        if isinstance(document, Path):  # written already (a family's red-flags.json, from staging)
            shutil.copyfile(document, build / name)
        else:
            write_json(build / name, document)
    created = utc_now()
    data_sha = sha256_file(build / "data.parquet")
    public_schema = published_schema(job.table_schema, points)  # geometry columns typed geojson, points added
    package = datapackage(job.model_copy(update={"table_schema": public_schema}), number, rows,
                          (build / "data.parquet").stat().st_size, data_sha, created)
    write_json(build / "datapackage.json", package)
    # ... and the DCAT facts: every other file's byte size (the DCAT pages read them instead of the storage).
    stored_facts = with_byte_sizes(facts, build)
    write_json(build / FACTS_FILE, stored_facts)
    files = {p.name: sha256_file(p) for p in sorted(build.iterdir())}
    checkpoint("publish:before-rename")
    folder = storage.publish(build, job.name, number, run.run_id)
    checkpoint("publish:after-rename")

    awaiting = job.privacy.requires_approval
    release = Release(
        dataset=job.name,
        number=number,
        state="awaiting-approval" if awaiting else "published",
        created_at=created,
        published_at=None if awaiting else utc_now(),
        rows=rows,
        table_schema=public_schema,
        folder=folder,
        files=files,
        run_id=run.run_id,
        policy_hash=privacy.policy_hash,
    )
    done = run.model_copy(
        update={
            "state": "awaiting-approval" if awaiting else "succeeded",
            "ended_at": utc_now(),
            "rows_out": rows,
            "release": number,
        }
    )
    catalog.record_release(release, done, release_dcat.of_facts(stored_facts))
    checkpoint("publish:after-commit")
    if awaiting:  # officers hear of it by e-mail (catalog/officer_mail.py); a failure to send never fails the run
        notify_awaiting_approval(settings, release, job.title)
    return release, done
