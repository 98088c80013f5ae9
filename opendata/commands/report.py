"""``opendata report NAME [--release N] [--kind privacy|validation]``: show a release's report."""

from __future__ import annotations

import argparse

from catalog.storage import open_storage
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.settings import Settings

HELP = "show a release's privacy or validation report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--release", type=int, help="release number (default: the latest)")
    parser.add_argument("--kind", choices=["privacy", "validation"], default="privacy")


def run(args: argparse.Namespace, settings: Settings) -> int:
    release = open_catalog(settings).release(args.name, args.release, published_only=False)
    report = open_storage(settings).read_json(release, f"{args.kind}-report.json")
    emit(args, report, as_text(args.kind, release.number, report))
    return EXIT_OK


def as_text(kind: str, number: int, report: dict) -> str:
    lines = [f"{kind} report of release {number}"]
    if kind == "validation":
        lines.append(f"valid: {report['valid']}  stats: {report['stats']}")
        lines += [f"  {e['type']} row {e['rowNumber']} field {e['fieldName']}: {e['message']}"
                  for e in report["errors"][:20]]
        return "\n".join(lines)
    lines.append(f"rows in {report['rows_in']}, out {report['rows_out']}, policy {report['policy_hash'][:12]}")
    for column in report["columns"]:
        found = ", ".join(f"{d['entity']}({d['count']}/{d['sampled']})" for d in column["detections"])
        lines.append(f"  {column['name']:<28} {column['action']:<13} changed {column['changed']:<6} {found}")
    for finding in report["findings"]:
        lines.append(f"  ! {finding['type']}: {finding['message']}")
    return "\n".join(lines)
