"""One function per ``opendata`` verb; argument parsing lives in :mod:`opendata.cli`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from catalog.store import Catalog
from opendata.cli import EXIT_OK, EXIT_RUN_FAILED, emit
from opendata.errors import CatalogError, JobFileError, OpendataError
from opendata.settings import Settings
from publishers.job import discover_jobs
from publishers.runner import RunResult, run_job


def _catalog(settings: Settings) -> Catalog:
    settings.paths.ensure()
    return Catalog(settings.paths.catalog_db)


def _summary(result: RunResult) -> dict:
    run = result.run
    return {
        "dataset": run.dataset,
        "run_id": run.run_id,
        "state": run.state,
        "release": run.release,
        "rows_in": run.rows_in,
        "rows_out": run.rows_out,
        "seconds": {k: round(v, 3) for k, v in result.stages.items()},
        "error": run.error,
        "report_folder": run.report_folder,
    }


def _line(result: RunResult) -> str:
    run = result.run
    took = sum(result.stages.values())
    if result.ok:
        return (f"{run.dataset}: release {run.release} {run.state} "
                f"({run.rows_in} rows in, {run.rows_out} out, {took:.1f}s)")
    return f"{run.dataset}: {run.state}: {run.error}\n  reports: {run.report_folder}"


def run_jobs(paths: list[Path], settings: Settings, as_json: bool) -> int:
    catalog = _catalog(settings)
    worst = EXIT_OK
    for path in paths:
        try:
            result = run_job(path, settings, catalog)
        except OpendataError as exc:
            worst = EXIT_RUN_FAILED
            if as_json:
                print(json.dumps({"job": str(path), "error": {"type": exc.code, "message": str(exc)}}))
            else:
                print(f"{path}: {exc}", file=sys.stderr)
            continue
        if not result.ok:
            worst = EXIT_RUN_FAILED
        print(json.dumps(_summary(result)) if as_json else _line(result))
    return worst


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    paths: list[Path] = list(args.jobs)
    if args.all is not None:
        folder = settings.datasets_dir if args.all is True else Path(args.all)
        paths.extend(discover_jobs(folder))
    if not paths:
        raise JobFileError("(none)", ["name a job file, or use --all [DIR] to run every job in a folder"])
    if len(paths) == 1 and args.all is None:
        # One job: a bad job file is bad input (exit 2), not a failed run.
        result = run_job(paths[0], settings, _catalog(settings))
        emit(args, _summary(result), _line(result))
        return EXIT_OK if result.ok else EXIT_RUN_FAILED
    return run_jobs(paths, settings, args.json)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    settings.paths.ensure()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"serving the API at http://{host}:{port}/ (docs at /docs); Ctrl-C stops it", file=sys.stderr)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    return EXIT_OK


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    folder = args.dir or settings.datasets_dir
    run_jobs(discover_jobs(folder), settings, as_json=False)
    return cmd_serve(args, settings)


def cmd_datasets(args: argparse.Namespace, settings: Settings) -> int:
    datasets = _catalog(settings).datasets()
    text = "\n".join(f"{d.name}\trelease {d.latest_release}\t{d.title}" for d in datasets) or "no datasets"
    emit(args, [d.model_dump() for d in datasets], text)
    return EXIT_OK


def cmd_releases(args: argparse.Namespace, settings: Settings) -> int:
    releases = _catalog(settings).releases(args.name, published_only=False)
    if not releases:
        raise CatalogError(f"dataset '{args.name}' has no releases; run its job with `opendata run`")
    text = "\n".join(f"{r.number}\t{r.state}\t{r.created_at}\t{r.rows} rows" for r in releases)
    emit(args, [r.model_dump(exclude={"table_schema"}) for r in releases], text)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    release = _catalog(settings).release(args.name, args.release, published_only=False)
    path = settings.paths.releases / release.folder / f"{args.kind}-report.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    emit(args, report, _report_text(args.kind, release.number, report))
    return EXIT_OK


def _report_text(kind: str, number: int, report: dict) -> str:
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


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    runs = _catalog(settings).runs(args.name, limit=args.limit)
    text = "\n".join(
        f"{r.started_at}\t{r.dataset}\t{r.state}\trelease {r.release or '-'}\t{r.error or ''}" for r in runs
    ) or "no runs"
    emit(args, [r.model_dump() for r in runs], text)
    return EXIT_OK
