"""``opendata schema infer SOURCE [--output SCHEMA.json]``: a starting Table Schema for a new job.

SOURCE is a CSV file, or a job file (``.yaml``/``.yml``) naming any source a job can read (a database,
an HTTP JSON API, a CKAN DataStore resource, ...): its first ``--sample`` rows are read through the
job's connector and typed.

Types are inferred as frictionless infers them; ``required`` is set where no cell is empty and ``enum``
lists the values of text columns with few distinct values. A steward edits the result into the job's
schema file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from opendata.commands._shared import EXIT_OK
from opendata.settings import Settings
from validation.csv_cells import read_csv_cells
from validation.infer import starting_schema

HELP = "infer a starting Table Schema from a CSV file or from the source a job file names"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["infer"])
    parser.add_argument("source", type=Path, metavar="SOURCE", help="CSV file, or a job file (JOB.yaml)")
    parser.add_argument("--output", "-o", type=Path, metavar="SCHEMA.json", help="write here (default: stdout)")
    parser.add_argument("--enum-max", type=int, default=10, help="most distinct values an enum candidate has")
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--sample", type=int, default=1000, help="rows read from a job's source (default 1000)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.source.suffix.lower() in (".yaml", ".yml"):
        from publishers.job import load_job
        from publishers.preview import infer_from_table, preview

        schema = infer_from_table(preview(load_job(args.source), settings, args.sample), enum_max=args.enum_max)
    else:
        cells = read_csv_cells(args.source, args.encoding)
        schema = starting_schema(cells.labels, cells.table, enum_max=args.enum_max)
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {len(schema['fields'])} fields; review types, required and enum",
              file=sys.stderr)
    return EXIT_OK
