"""A family job: one ocds source published as one dataset per table, ``<job>-<table>``.

Why one dataset per table: every stage after extraction (privacy gate, Table Schema validation, numbered
immutable releases, the API, DCAT, the pages) works on one table per dataset, so each table of the family
goes through them unchanged, with its own privacy report, validation report and release history, and
developers query, pin and export each table as any other dataset. The job names the family once; the
family run reads, merges and scores the OCDS data once (private staging), then runs each table through the
ordinary stages, its connector reading that table's staged rows. Every table's release carries the same
``red-flags.json`` (Cardinal's result over the whole family, written once to staging and copied into each
release, its per-process group read from disk as it is written) and the OCDS findings in its validation
report.

Privacy rules name ``<table>.<column>`` (``parties.contact_point_name: drop``); a bare column name applies
to every table that has it. A rule naming a table or column the family lacks is refused (fail closed).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import pyarrow as pa

from anonymize.operators import OperatorContext
from catalog.models import Run
from catalog.store import Catalog, utc_now
from opendata.errors import JobFileError, OpendataError, SourceError, public_summary
from opendata.settings import Settings
from procurement.flags_json import canonical_sha, write_document
from procurement.parts import read_batches, read_schema
from procurement.people import person_pseudonym
from procurement.prepare import Prepared, prepare
from procurement.results import FILE
from procurement.settings import load_settings
from procurement.tables import TABLES, TITLES, table_schema
from publishers.job import ColumnRule, Job, OcdsSource, PrivacyPolicy
from publishers.progress import Progress
from publishers.red_flag_ids import public_ids
from publishers.run_request import RunRequest, new_run_id, this_worker
from publishers.runner import ReleaseExtras, RunResult, job_lock, register_dataset, run_loaded_job
from publishers.sources.ocds_pages import download_pages
from publishers.unchanged import StagedFiles

_STAGED: ContextVar[dict[str, Path] | None] = ContextVar("opendata_ocds_staged", default=None)


def table_policy(job: Job, table: str) -> PrivacyPolicy:
    """The job's privacy policy as it applies to one table of the family."""
    columns = {name for name, _ in TABLES[table]}

    def mine(key: str) -> str | None:
        owner, _, column = key.rpartition(".")
        if owner:
            return column if owner == table else None
        return key if key in columns else None

    rules: dict[str, ColumnRule] = {}
    for key, rule in job.privacy.columns.items():
        column = mine(key)
        if column is not None:
            rules[column] = rule
    policy = job.privacy
    return policy.model_copy(update={
        "columns": rules,
        "quasi_identifiers": [c for c in (mine(k) for k in policy.quasi_identifiers) if c is not None],
        "sensitive": [c for c in (mine(k) for k in policy.sensitive) if c is not None],
    })


def check_policy(job: Job) -> None:
    """Refuse a rule for a table or a column the family does not have."""
    problems = []
    all_columns = {name for cols in TABLES.values() for name, _ in cols}
    for key in [*job.privacy.columns, *job.privacy.quasi_identifiers, *job.privacy.sensitive]:
        owner, _, column = key.rpartition(".")
        if owner and owner not in TABLES:
            problems.append(f"privacy: '{key}' names table '{owner}'; the tables are {', '.join(TABLES)}")
        elif owner and column not in {n for n, _ in TABLES[owner]}:
            known = ", ".join(n for n, _ in TABLES[owner])
            problems.append(f"privacy: '{key}': table {owner} has no column '{column}' (it has {known})")
        elif not owner and key not in all_columns:
            problems.append(f"privacy: '{key}' is a column of no table; name it as <table>.<column>")
    if problems:
        raise JobFileError(job.path, problems)


def table_job(job: Job, table: str) -> Job:
    """The job of one table: its name, its policy, and its Table Schema as published (dropped columns out)."""
    assert isinstance(job.source, OcdsSource)
    policy = table_policy(job, table)
    schema = table_schema(table)
    dropped = {c for c, rule in policy.columns.items() if rule.action == "drop"}
    schema["fields"] = [f for f in schema["fields"] if f["name"] not in dropped]
    return job.model_copy(update={
        "name": f"{job.name}-{table}",
        "title": f"{job.title}: {TITLES[table]}",
        "source": job.source.model_copy(update={"table": table}),
        "table_schema": schema,
        "privacy": policy,
    })


@contextmanager
def _staged(tables: dict[str, Path]) -> Iterator[None]:
    token = _STAGED.set(tables)
    try:
        yield
    finally:
        _STAGED.reset(token)


class OcdsTableConnector:
    """Yields one staged table of the running family (see :func:`run_family`)."""

    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, OcdsSource)
        staged = _STAGED.get()
        if staged is None or source.table not in staged:
            raise SourceError(f"job '{job.name}': an ocds table is read by its family's run; run the job file")
        empty = True
        for batch in read_batches(staged[source.table], batch_size=50_000):  # its parts, as one file's batches
            empty = False
            yield batch
        if empty:  # a table the data has no rows for (no lots, say) still publishes, empty
            yield pa.RecordBatch.from_pylist([], schema=read_schema(staged[source.table]))


def _sources(job: Job, source: OcdsSource, staging: Path) -> list[Path]:
    if source.url is None:
        paths = [job.resolve(p) for p in source.paths]
        for path in paths:
            if not path.is_file():
                raise SourceError(f"job '{job.name}': the OCDS file {path.name} does not exist (source.path)")
        return paths
    return download_pages(source, staging / "download")


def record_source_failure(job: Job, catalog: Catalog, request: RunRequest, started: str,
                          exc: BaseException) -> None:
    """A failed run in each table's history when the family's source fails (at its start or mid-way), so
    that every dataset of the family shows why no release came, with a public message free of source
    values; nothing is published and each previous release keeps serving."""
    source = job.source
    assert isinstance(source, OcdsSource)
    message = str(exc) if isinstance(exc, OpendataError) else f"internal error: {exc!r}"
    public = f"the family's OCDS source failed, so no table was published: {public_summary(exc)}"
    for table in source.tables:
        each = table_job(job, table)
        register_dataset(catalog, each)
        catalog.save_run(Run(run_id=new_run_id(), dataset=each.name, job_path=str(job.path), state="failed",
                             started_at=started, ended_at=utc_now(), attempt=request.attempt,
                             trigger=request.trigger, worker=request.worker or this_worker(),
                             error=job.redact(message), public_error=job.redact(public)))


def staged_red_flags(prepared: Prepared, job: Job, key: Callable[[], bytes], path: Path) -> StagedFiles:
    """``red-flags.json`` written to staging from the run's results, the ``OCID`` group read from disk item by
    item: the bytes, and the fingerprint, that the document held in memory gives."""
    flags = public_ids(prepared.scores.as_cardinal(meta=True, lazy=True), job, key)
    write_document(flags, path)
    return StagedFiles({FILE: path}, canonical_sha({FILE: flags}))


def source_findings(prepared: Prepared) -> dict[str, object]:
    return {"ocds": {"processes": prepared.processes, "people_among_parties": prepared.people,
                     "schema": "OCDS 1.1.4 release schema",
                     "schema_errors": prepared.schema_errors, "excluded_from_indicators": prepared.scores.excluded,
                     **prepared.findings.as_dict()}}


def run_family(
    job: Job, settings: Settings, catalog: Catalog, *, request: RunRequest | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Read, merge and score the family's OCDS data once, then publish each table as its own dataset."""
    source = job.source
    assert isinstance(source, OcdsSource)
    check_policy(job)
    indicators = load_settings(job.resolve(source.indicators) if source.indicators else None)
    request = request or RunRequest(run_id=new_run_id())
    staging = settings.paths.staging / job.name / request.run_id
    context = OperatorContext(settings)
    key = context.key  # read only if a person or a pseudonymised id column needs it
    with job_lock(settings, job.name, catalog):
        try:
            started = utc_now()
            try:
                prepared = prepare(_sources(job, source, staging), staging / "ocds", indicators, source.encoding,
                                   memory_limit=settings.run_memory_limit, pseudonym=person_pseudonym(key),
                                   person_schemes=frozenset(source.person_schemes))
                if prepared.processes == 0:
                    first = prepared.findings.kept[0].message if prepared.findings.kept else \
                        "the files hold no release"
                    raise SourceError(f"job '{job.name}': no contracting process could be read from its OCDS "
                                      f"source ({len(prepared.findings)} finding(s); first: {first}); nothing was "
                                      "published")
            except Exception as exc:
                record_source_failure(job, catalog, request, started, exc)
                raise
            extras = ReleaseExtras(files=staged_red_flags(prepared, job, key, staging / FILE),
                                   source_findings=source_findings(prepared))
            results = []
            with _staged(prepared.tables):
                for table in source.tables:
                    asked = RunRequest(run_id=new_run_id(), attempt=request.attempt, trigger=request.trigger,
                                       worker=request.worker)
                    results.append(run_loaded_job(table_job(job, table), settings, catalog, request=asked,
                                                  progress=progress if len(source.tables) == 1 else None,
                                                  extras=extras))
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # the raw OCDS data and compiled releases
    return RunResult(run=results[0].run, release=results[0].release, privacy=results[0].privacy,
                     validation=results[0].validation, stages=results[0].stages, family=tuple(results[1:]))
