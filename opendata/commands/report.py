"""``opendata report NAME [--release N | --run RUN_ID] [--kind privacy|validation|schema-drift]``: show a
release's report, or the private report of a run that did not publish (blocked or quarantined), wherever
its worker left it (its HOME/private, or OPENDATA_PRIVATE_STORAGE_URL)."""

from __future__ import annotations

import argparse
import json

from catalog.storage import open_storage
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.errors import CatalogError, ConfigurationError
from opendata.settings import Settings
from publishers.private_reports import read_private

HELP = "show a release's privacy or validation report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--release", type=int, help="release number (default: the latest)")
    parser.add_argument("--run", metavar="RUN_ID", help="a run that did not publish (see `opendata runs NAME`)")
    parser.add_argument("--kind", choices=["privacy", "validation", "schema-drift"], default="privacy")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.run:
        return _run_report(args, settings)
    if args.kind == "schema-drift":
        raise ConfigurationError("a schema drift report belongs to a blocked run: pass --run RUN_ID")
    release = open_catalog(settings).release(args.name, args.release, published_only=False)
    report = open_storage(settings).read_json(release, f"{args.kind}-report.json")
    emit(args, report, as_text(args.kind, release.number, report))
    return EXIT_OK


def _run_report(args: argparse.Namespace, settings: Settings) -> int:
    found = open_catalog(settings).run(args.run)
    if found.dataset != args.name:
        raise CatalogError(f"run '{args.run}' is a run of '{found.dataset}', not of '{args.name}'")
    if not found.report_folder:
        raise CatalogError(f"run '{args.run}' ({found.state}) kept no private reports")
    name = "schema-drift.json" if args.kind == "schema-drift" else f"{args.kind}-report.json"
    report = read_private(settings, found.report_folder, name)
    if args.kind == "schema-drift" or getattr(args, "json", False):
        emit(args, report, json.dumps(report, indent=2))
    else:
        emit(args, report, f"run {found.run_id} ({found.state}, reports at {found.report_folder})\n"
             + as_text(args.kind, found.release or 0, report))
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
