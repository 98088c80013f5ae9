"""The ``opendata`` command line.

Exit codes: 0 success; 1 a run ended blocked, quarantined or failed; 2 bad input (a job file, an
argument, a name that does not exist); 3 a transient error worth retrying (source down, run in progress).
Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opendata.errors import OpendataError, TransientError
from opendata.settings import Settings

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_TRANSIENT = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opendata", description="Open-data publishing with a privacy gate.")
    parser.add_argument("--home", type=Path, help="data folder (default: $OPENDATA_HOME or ./.opendata)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        return sub

    run = verb("run", "run publisher jobs now")
    run.add_argument("jobs", nargs="*", type=Path, metavar="JOB.yaml")
    run.add_argument("--all", nargs="?", const=True, default=None, metavar="DIR",
                     help="run every job under DIR (default: the datasets folder)")

    for name, text in (("serve", "serve the API"), ("up", "run every job once, then serve the API")):
        sub = verb(name, text)
        sub.add_argument("--host")
        sub.add_argument("--port", type=int)
        if name == "up":
            sub.add_argument("dir", nargs="?", type=Path, help="jobs folder (default: the datasets folder)")

    verb("datasets", "list published datasets")
    releases = verb("releases", "list a dataset's releases")
    releases.add_argument("name")
    report = verb("report", "show a release's privacy or validation report")
    report.add_argument("name")
    report.add_argument("--release", type=int, help="release number (default: the latest)")
    report.add_argument("--kind", choices=["privacy", "validation"], default="privacy")
    runs = verb("runs", "show recent runs")
    runs.add_argument("name", nargs="?")
    runs.add_argument("--limit", type=int, default=20)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings(home=args.home) if args.home else Settings()
    try:
        from opendata import commands

        handler = getattr(commands, f"cmd_{args.verb}")
        return int(handler(args, settings))
    except OpendataError as exc:
        if args.debug:
            raise
        emit_error(args, exc)
        return EXIT_TRANSIENT if isinstance(exc, TransientError) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def emit_error(args: argparse.Namespace, exc: OpendataError) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"type": exc.code, "message": str(exc)}}))
    else:
        print(f"error: {exc}", file=sys.stderr)


def emit(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if args.json else text)


if __name__ == "__main__":
    sys.exit(main())
