"""``opendata harvest ckan URL`` / ``opendata harvest dcat URL``: one reviewed job file per tabular
resource of an existing portal, written under ``--into DIR`` (default: the datasets folder), with a
report per source of what was new, changed, removed or skipped, and why."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from opendata.commands._shared import EXIT_OK, EXIT_RUN_FAILED, emit
from opendata.settings import Settings
from publishers.harvest.model import HarvestReport

HELP = "write job files for the tabular resources of a CKAN portal or a DCAT catalog (or run a harvest file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="harvest_kind", required=True, metavar="KIND")
    ckan = kinds.add_parser("ckan", help="a CKAN portal (Action API, DataStore)")
    ckan.add_argument("url", help="the CKAN site, e.g. https://data.example.gov")
    ckan.add_argument("--organization", default=None, metavar="O", help="only this organisation's packages")
    ckan.add_argument("--query", default=None, metavar="Q", help="a package_search query (Solr syntax)")
    ckan.add_argument("--api-key", default=None, help="a CKAN API token for private packages (default: $CKAN_API_KEY)")
    dcat = kinds.add_parser("dcat", help="a DCAT / DCAT-AP catalog (JSON-LD, Turtle or RDF/XML; hydra paging)")
    dcat.add_argument("url", help="the catalog document, e.g. https://data.example.gov/catalog.ttl")
    supervised = kinds.add_parser("run", help="run a harvest file (NAME.harvest.yaml) now, supervised, with history")
    supervised.add_argument("spec", type=Path, metavar="NAME.harvest.yaml")
    supervised.add_argument("--json", action="store_true", help="the run as JSON")
    past = kinds.add_parser("history", help="the latest harvest runs and what each found")
    past.add_argument("name", nargs="?", default=None, help="one harvest's runs (default: all)")
    past.add_argument("--limit", type=int, default=20)
    past.add_argument("--json", action="store_true", help="the runs as JSON")
    for sub in (ckan, dcat):
        sub.add_argument("--into", type=Path, default=None, metavar="DIR",
                         help="folder for the job files (default: the datasets folder)")
        sub.add_argument("--json", action="store_true", help="the report as JSON")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.harvest_kind in ("run", "history"):
        return _supervised(args, settings)
    into: Path = args.into or settings.datasets_dir
    if args.harvest_kind == "ckan":
        from publishers.harvest.ckan import harvest_ckan

        report = harvest_ckan(args.url, into, settings, organization=args.organization, query=args.query,
                              api_key=args.api_key or os.environ.get("CKAN_API_KEY"))
    else:
        from publishers.harvest.dcat import harvest_dcat

        report = harvest_dcat(args.url, into, settings)
    show(args, report)
    return EXIT_OK


def show(args: argparse.Namespace, report: HarvestReport) -> None:
    if args.json:
        print(json.dumps(report.model_dump(), indent=2))
        return
    for entry in report.entries:
        where = f" -> {entry.job_file}" if entry.job_file else ""
        print(f"{entry.outcome:8} {entry.dataset or entry.source}{where}: {entry.why}")
    print(report.summary())


def _supervised(args: argparse.Namespace, settings: Settings) -> int:
    from publishers.harvest.runs import HarvestRun, history, run_harvest

    def line(run: HarvestRun) -> str:
        what = run.report.summary() if run.report is not None else (run.error or "")
        return f"{run.started_at}  {run.harvest}  {run.state}  {what}"

    if args.harvest_kind == "history":
        runs = history(settings, args.name, args.limit)
        emit(args, [r.model_dump() for r in runs], "\n".join(line(r) for r in runs) or "no harvest runs yet")
        return EXIT_OK
    done = run_harvest(args.spec, settings)
    emit(args, done.model_dump(), line(done))
    return EXIT_OK if done.state == "succeeded" else EXIT_RUN_FAILED
