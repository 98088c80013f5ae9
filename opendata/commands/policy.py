"""``opendata policy suggest JOB.yaml [--rows N]``: a proposed privacy policy for the steward to review.

Reads up to ``--rows`` rows of the job's source into private staging (deleted afterwards), runs detection
on them and prints a ``privacy:`` block for the job file: an action per column with the reason as a
comment, ``columns_required: all`` and the quasi-identifiers found. Nothing is published.
"""

from __future__ import annotations

import argparse
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from anonymize.suggest import suggest_policy
from opendata.commands._shared import EXIT_OK, emit
from opendata.settings import Settings
from publishers.extract import stream_to_staging
from publishers.job import load_job

HELP = "propose a privacy policy for a job from what detection finds in its source"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["suggest"])
    parser.add_argument("job", type=Path, metavar="JOB.yaml", help="the job file whose source to read")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the source to read (default 100000)")


def read_sample(job_path: Path, settings: Settings, rows: int) -> pa.Table:
    """Up to ``rows`` rows of a job's source, read through its connector into private staging."""
    job = load_job(job_path)
    settings.paths.ensure()
    staging = settings.paths.staging / job.name / f"suggest-{uuid.uuid4().hex[:8]}"
    try:
        raw, _ = stream_to_staging(job, staging)
        batches = []
        taken = 0
        for batch in pq.ParquetFile(raw).iter_batches(batch_size=min(rows, 65536)):
            batches.append(batch.slice(0, rows - taken))
            taken += batches[-1].num_rows
            if taken >= rows:
                break
        schema = pq.read_schema(raw)
        return pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    table = read_sample(args.job, settings, max(1, args.rows))
    suggestion = suggest_policy(table, settings)
    header = (f"# proposed from {suggestion.rows_sampled} sampled rows of {args.job}; review every line before "
              "use\n")
    emit(args, {"privacy": suggestion.policy(), "columns": [c.model_dump() for c in suggestion.columns]},
         header + suggestion.yaml())
    return EXIT_OK
