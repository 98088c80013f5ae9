"""``anonymize_parquet``: the anonymisation stage over a staged Parquet file, one chunk at a time.

    anonymize_parquet(raw_path, out_path, job, settings, run_id, previous=None) -> PrivacyReport

The same policy, findings and report as :func:`~anonymize.pipeline.anonymize_table`, with memory bounded
by one chunk (``CHUNK_ROWS`` rows) however long the table:

* Actions that look at one value at a time (keep, drop, mask, pseudonymize, generalize, redact) run per
  chunk. Redaction keeps a cache of the texts it has seen (up to ``REDACT_CACHE_TEXTS``), and a large
  column keeps one learned-name lexicon across its chunks.
* ``suppress`` needs counts over the whole column: DuckDB counts them over the staged file first, and each
  chunk replaces the values found rare.
* Detection reads the same evenly spread sample of rows ``anonymize_table`` takes, collected on the way.
* Residual risk (k-anonymity, l-diversity) groups the anonymised file in DuckDB; records of classes below
  k (or l) are left out as the final file is written, chunk by chunk, in their order.

DuckDB runs under ``memory_limit`` and spills to a temporary folder beside ``out_path`` (the run's private
staging), never to the system's temporary folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from anonymize.operators import (
    Applied,
    OperatorContext,
    Redacted,
    redact_texts,
    redacted_column,
    replace_rare,
    suppress_params,
)
from anonymize.pipeline import (
    ColumnTally,
    apply_rule,
    block_findings,
    describe_columns,
    job_file_label,
    plan_risk,
    privacy_report,
    risk_report,
    with_examples,
)
from anonymize.report import PrivacyReport
from anonymize.risk import measure_relation, needs_suppression, small_classes_sql
from anonymize.text_cascade import Redactor
from opendata.errors import JobFileError
from opendata.settings import Settings
from opendata.sql_text import quote_identifier, read_parquet_sql
from publishers.job import Job, PrivacyPolicy

#: Rows per chunk: what one step holds in memory (as Arrow text columns).
CHUNK_ROWS = 100_000
#: Distinct texts whose redaction is remembered across chunks; past it the cache starts again.
REDACT_CACHE_TEXTS = 100_000
MEMORY_LIMIT = "128MB"

ChunkDone = Callable[[int], None]


@dataclass
class ChunkContext(OperatorContext):
    """An operator context that keeps one redactor (its learned lexicon) per column across chunks."""

    column: str = ""
    _redactors: dict[str, Redactor] = field(default_factory=dict, repr=False)

    def redactor(self, entities: tuple[str, ...] | None = None) -> Redactor:
        if self.column not in self._redactors:
            self._redactors[self.column] = super().redactor(entities)
        return self._redactors[self.column]


@dataclass
class _Column:
    """One source column's action, applied chunk after chunk."""

    name: str
    action: str
    params: dict[str, Any]
    tally: ColumnTally = field(default_factory=ColumnTally)
    rare: pa.Array | None = None  # suppress: the values rarer than min_count in the whole column
    other: str = "other"
    cache: dict[str, Redacted] = field(default_factory=dict)  # redact: text -> its redaction

    def apply(self, values: pa.Array, policy: PrivacyPolicy, context: ChunkContext, job_file: str) -> pa.Array | None:
        context.column = self.name
        if self.action == "suppress" and self.rare is not None:
            applied = with_examples(self.action, values, replace_rare(values, self.rare, self.other))
        elif self.action == "redact":
            applied = self._redact(values, context, job_file)
        else:
            applied = apply_rule(policy, self.name, values, context, job_file)
        self.tally.add(applied)
        return applied.values

    def _redact(self, values: pa.Array, context: ChunkContext, job_file: str) -> Applied:
        texts = [str(v) for v in pc.unique(values.drop_null()).to_pylist()]
        known = {t: self.cache[t] for t in texts if t in self.cache}
        new = [t for t in texts if t not in known]
        if new:
            try:
                fresh = dict(zip(new, redact_texts(new, self.params, context), strict=True))
            except ValueError as exc:
                raise JobFileError(job_file, [f"privacy.columns.{self.name}: {exc}"]) from None
            known.update(fresh)
            if len(self.cache) + len(fresh) > REDACT_CACHE_TEXTS:
                self.cache.clear()
            self.cache.update(fresh)
        return redacted_column(values, known)


def anonymize_parquet(
    raw_path: Path, out_path: Path, job: Job, settings: Settings, run_id: str, previous: PrivacyReport | None = None,
    *, chunk_rows: int = CHUNK_ROWS, memory_limit: str = MEMORY_LIMIT, on_chunk: ChunkDone | None = None,
) -> PrivacyReport:
    """Anonymise the staged ``raw_path`` into ``out_path`` (text columns, the source's row order, records of
    classes below k left out); returns the privacy report ``anonymize_table`` gives for the same rows.
    ``out_path`` is written even when the report blocks the release (the caller does not publish it)."""
    policy = job.privacy
    job_file = job_file_label(job)
    raw = pq.ParquetFile(raw_path)
    names = list(raw.schema_arrow.names)
    rows_in = raw.metadata.num_rows
    context = ChunkContext(settings)
    columns = [_column(name, policy) for name in names]
    with _duckdb(out_path.parent, memory_limit) as con:
        for column in columns:
            if column.action == "suppress":
                column.rare, column.other = _rare_values(con, raw_path, column, job_file)

        generalised_path = out_path.with_name(out_path.stem + "-generalised.parquet")
        sample, out_names, rows = _apply_policy(raw, generalised_path, columns, policy, context, job_file,
                                                settings.detection_sample_rows, chunk_rows, on_chunk)
        described, findings = describe_columns(names, {c.name: c.tally for c in columns}, sample, policy, job_file,
                                               settings)

        plan, risk_findings = plan_risk(policy, names, out_names, job_file)
        findings += risk_findings
        risk = None
        rows_out = rows
        if plan is None:
            generalised_path.replace(out_path)
        else:
            before = measure_relation(con, read_parquet_sql(raw_path), rows_in, plan.source_quasi_identifiers,
                                      plan.source_sensitive, plan.k, plan.l)
            generalised = measure_relation(con, read_parquet_sql(generalised_path), rows, plan.present, plan.sensitive,
                                           plan.k, plan.l)
            after = generalised
            if policy.on_k_violation == "block":
                findings += block_findings(plan, generalised, job_file)
                generalised_path.replace(out_path)
            elif needs_suppression(plan.present, plan.k, plan.sensitive, plan.l) and rows:
                rows_out = _suppress_small_classes(con, generalised_path, out_path, plan.present, plan.sensitive,
                                                   plan.k, plan.l, chunk_rows)
                after = measure_relation(con, read_parquet_sql(out_path), rows_out, plan.present, plan.sensitive,
                                         plan.k, plan.l)
            else:
                generalised_path.replace(out_path)
            risk, final = risk_report(plan, policy, before, after, rows - rows_out, rows_in=rows_in,
                                      rows_out=rows_out, job_file=job_file, generalised=generalised)
            findings += final
        generalised_path.unlink(missing_ok=True)
    return privacy_report(job, settings, run_id, previous, context, described, findings, risk,
                          rows_in=rows_in, rows_out=rows_out)


def _column(name: str, policy: PrivacyPolicy) -> _Column:
    rule = policy.columns.get(name)
    if rule is None:
        return _Column(name, "keep", {})
    return _Column(name, rule.action, dict(rule.params))


def _apply_policy(
    raw: pq.ParquetFile, target: Path, columns: list[_Column], policy: PrivacyPolicy, context: ChunkContext,
    job_file: str, sample_size: int, chunk_rows: int, on_chunk: ChunkDone | None,
) -> tuple[pa.Table, list[str], int]:
    """Every chunk through its columns' actions into ``target``; returns the detection sample (the rows
    ``sample_rows`` picks from the whole table), the published column names and the row count."""
    total = raw.metadata.num_rows
    picks = np.linspace(0, total - 1, sample_size).astype(np.int64) if total > sample_size else None
    samples: list[pa.Table] = []
    writer: pq.ParquetWriter | None = None
    out_names: list[str] = []
    start = 0
    try:
        for chunk in _chunks(raw, chunk_rows):
            n = chunk.num_rows
            if picks is None:
                samples.append(chunk)
            else:
                inside = picks[(picks >= start) & (picks < start + n)] - start
                samples.append(chunk.take(pa.array(inside, pa.int64())))
            kept: dict[str, pa.Array] = {}
            for column in columns:
                values = column.apply(_text(chunk.column(column.name)), policy, context, job_file)
                if values is not None:
                    kept[column.name] = values
            out = pa.Table.from_arrays(list(kept.values()), names=list(kept)) if kept else pa.table({})
            if writer is None:
                out_names = list(kept)
                writer = pq.ParquetWriter(target, out.schema, compression="zstd")
            writer.write_table(out)
            start += n
            if on_chunk is not None and n:
                on_chunk(n)
    finally:
        if writer is not None:
            writer.close()
    return pa.concat_tables(samples), out_names, start


def _chunks(raw: pq.ParquetFile, chunk_rows: int) -> Iterator[pa.Table]:
    """The file's rows in chunks as text tables; one empty chunk for an empty file (so the actions still
    check their parameters and say which columns they publish)."""
    seen = False
    for batch in raw.iter_batches(batch_size=chunk_rows):
        seen = True
        yield pa.Table.from_batches([batch])
    if not seen:
        yield raw.schema_arrow.empty_table()


def _text(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return array if array.type == pa.string() else array.cast(pa.string())


def _rare_values(
    con: duckdb.DuckDBPyConnection, raw_path: Path, column: _Column, job_file: str
) -> tuple[pa.Array, str]:
    try:
        min_count, other = suppress_params(column.params)
    except ValueError as exc:
        raise JobFileError(job_file, [f"privacy.columns.{column.name}: {exc}"]) from None
    name = quote_identifier(column.name)
    rare = con.execute(
        f"SELECT CAST({name} AS VARCHAR) FROM {read_parquet_sql(raw_path)} WHERE {name} IS NOT NULL "
        f"GROUP BY {name} HAVING count(*) < ?", [min_count]
    ).fetch_arrow_table().column(0)
    return rare.combine_chunks() if rare.num_chunks != 1 else rare.chunk(0), other


def _suppress_small_classes(
    con: duckdb.DuckDBPyConnection, source: Path, target: Path, present: list[str], sensitive: list[str],
    k: int, l: int, chunk_rows: int,  # noqa: E741
) -> int:
    """Copy ``source`` to ``target`` less the records of classes below k (or l); returns the rows kept."""
    small = small_classes_sql(read_parquet_sql(source), present, sensitive)
    con.execute(f"CREATE OR REPLACE TEMP TABLE small AS {small}", [k, l])
    match = " AND ".join(f"c.{quote_identifier(q)} IS NOT DISTINCT FROM s.{quote_identifier(q)}" for q in present)
    kept_rows = 0
    parquet = pq.ParquetFile(source)
    writer = pq.ParquetWriter(target, parquet.schema_arrow, compression="zstd")
    try:
        for chunk in _chunks(parquet, chunk_rows):
            keys = chunk.select(present).append_column("__row", pa.array(np.arange(chunk.num_rows), pa.int64()))
            con.register("chunk", keys)
            kept = con.execute(
                f"SELECT __row FROM chunk c WHERE NOT EXISTS (SELECT 1 FROM small s WHERE {match}) ORDER BY __row"
            ).fetch_arrow_table().column(0)
            con.unregister("chunk")
            writer.write_table(chunk.take(kept))
            kept_rows += len(kept)
    finally:
        writer.close()
    con.execute("DROP TABLE small")
    return kept_rows




@contextmanager
def _duckdb(folder: Path, memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that spills to a temporary folder inside ``folder`` (private staging)."""
    folder.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix=".anonymize-spill-", dir=folder))
    con = duckdb.connect(config={"threads": 2, "memory_limit": memory_limit, "temp_directory": str(spill)})
    try:
        con.execute("SET enable_progress_bar=false")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
