"""``opendata validate FILE [--schema SCHEMA.json] [--json]``: validate a CSV file as frictionless does.

Exit 0 only when the file is valid, 1 when it has errors, 2 when it cannot be read. Without ``--schema``
a schema is inferred from the first rows, as frictionless does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from opendata.commands._shared import EXIT_OK, EXIT_RUN_FAILED, emit
from opendata.errors import SchemaInvalid
from opendata.settings import Settings
from validation import ValidationReport, validate_file

HELP = "validate a CSV file against a Table Schema (or an inferred one)"
SHOWN = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--schema", type=Path, metavar="SCHEMA.json", help="Frictionless Table Schema (v1 or v2)")
    parser.add_argument("--encoding", default="utf-8", help="text encoding of FILE (default: utf-8, else guessed)")


def as_text(report: ValidationReport) -> str:
    stats = report.stats
    head = (f"{'valid' if report.valid else 'invalid'}: {stats.get('rows', 0)} rows, {stats.get('fields', 0)} "
            f"fields, {stats.get('errors', 0)} errors ({stats.get('milliseconds', 0)} ms)")
    lines = [head]
    for count in report.counts:
        where = f" in {count.fieldName}" if count.fieldName else ""
        more = ", ..." if count.count > len(count.firstRows) else ""
        rows = f" (rows {', '.join(map(str, count.firstRows))}{more})" if count.firstRows else ""
        lines.append(f"  {count.count:>8}  {count.type}{where}{rows}")
    for error in report.errors[:SHOWN]:
        lines.append(f"  [{error.rowNumber if error.rowNumber is not None else '-'},"
                     f"{error.fieldNumber if error.fieldNumber is not None else '-'}] {error.type}: {error.message}")
    if len(report.errors) > SHOWN:
        lines.append(f"  ... {stats.get('errors', 0) - SHOWN} more; use --json for the first {len(report.errors)}")
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    schema = None
    if args.schema is not None:
        try:
            schema = json.loads(args.schema.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SchemaInvalid(f"schema file {args.schema} does not exist") from None
        except json.JSONDecodeError as exc:
            raise SchemaInvalid(f"schema file {args.schema} is not valid JSON ({exc})") from None
    report = validate_file(args.file, schema, encoding=args.encoding)
    emit(args, report.model_dump(mode="json", include={"valid", "stats", "errors"}), as_text(report))
    return EXIT_OK if report.valid else EXIT_RUN_FAILED
