"""The ``opendata`` command line.

Exit codes: 0 success; 1 a run ended blocked, quarantined or failed; 2 bad input (a job file, an
argument, a name that does not exist); 3 a transient error worth retrying (source down, run in progress).
Tracebacks only with ``--debug``. Each verb is a module of :mod:`opendata.commands`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from opendata.commands import VERBS
from opendata.commands._shared import EXIT_BAD_INPUT, EXIT_OK, EXIT_TRANSIENT
from opendata.errors import OpendataError, TransientError
from opendata.settings import Settings


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="opendata", description="Open-data publishing with a privacy gate.")
    top.add_argument("--home", type=Path, help="data folder (default: $OPENDATA_HOME or ./.opendata)")
    top.add_argument("--debug", action="store_true", help="show tracebacks")
    verbs = top.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for name in VERBS:
        module = importlib.import_module(f"opendata.commands.{name.replace('-', '_')}")
        sub = verbs.add_parser(name, help=module.HELP, description=module.HELP)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        module.add_arguments(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings(home=args.home) if args.home else Settings()
    try:
        module = importlib.import_module(f"opendata.commands.{args.verb.replace('-', '_')}")
        return int(module.run(args, settings))
    except OpendataError as exc:
        if args.debug:
            raise
        if getattr(args, "json", False):
            print(json.dumps({"error": {"type": exc.code, "message": str(exc)}}))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return EXIT_TRANSIENT if isinstance(exc, TransientError) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `opendata ... | head`: the reader left; stop writing, quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
