"""``opendata approve NAME N --reason '...' [--by NAME]``: publish a release that waits for a privacy officer."""

from __future__ import annotations

import argparse
import getpass
import os

from catalog.approvals import Approvals, Decision
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.settings import Settings

HELP = "approve a release awaiting a privacy officer: it is published at once"
DECISION: Decision = "approved"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name")
    parser.add_argument("number", type=int, help="release number (see `opendata releases NAME`)")
    parser.add_argument("--reason", required=True, help="why: kept with the decision, shown on the report page")
    parser.add_argument("--by", help="the officer deciding (default: $OPENDATA_OFFICER or the login name)")


def officer_name(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    return os.environ.get("OPENDATA_OFFICER") or getpass.getuser()


def decide(args: argparse.Namespace, settings: Settings, decision: Decision) -> int:
    approvals = Approvals(open_catalog(settings))
    done = approvals.decide(args.name, args.number, decision, by=officer_name(args), role="officer",
                            reason=args.reason, via="cli")
    state = "published" if decision == "approved" else "rejected"
    emit(args, done.model_dump(), f"release {done.number} of {done.dataset} {decision} by {done.decided_by} "
         f"at {done.decided_at}; it is now {state}")
    return EXIT_OK


def run(args: argparse.Namespace, settings: Settings) -> int:
    return decide(args, settings, DECISION)
