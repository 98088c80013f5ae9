"""``opendata approve NAME N --reason '...' [--by NAME --key KEY]``: publish a release that waits for a privacy
officer.

The decision is recorded under the operating-system user who runs the command. ``--by NAME`` (or
``$OPENDATA_OFFICER``) records someone else's name, and so needs an officer's (or admin's) API key
(``--key``, better ``$OPENDATA_OFFICER_KEY``, which stays out of the process list): the name is kept with the
key's name and the operating-system user, so a decision can always be traced to who typed it.
"""

from __future__ import annotations

import argparse
import getpass
import os

from catalog.api_keys import ApiKeyStore
from catalog.approvals import Approvals, Decision
from catalog.store import Catalog
from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.errors import ApprovalError
from opendata.settings import Settings

HELP = "approve a release awaiting a privacy officer: it is published at once"
DECISION: Decision = "approved"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name")
    parser.add_argument("number", type=int, help="release number (see `opendata releases NAME`)")
    parser.add_argument("--reason", required=True, help="why: kept with the decision, shown on the report page")
    parser.add_argument("--by", help="record this officer's name instead of your login name (needs an officer key; "
                        "default: $OPENDATA_OFFICER)")
    parser.add_argument("--key", help="an officer's API key (default: $OPENDATA_OFFICER_KEY, which keeps it out of "
                        "the process list); required with --by")


def decider(args: argparse.Namespace, catalog: Catalog) -> tuple[str, str]:
    """Who the decision is recorded under, and with which role."""
    user = getpass.getuser()
    named = (args.by or os.environ.get("OPENDATA_OFFICER") or "").strip()
    sent = (args.key or os.environ.get("OPENDATA_OFFICER_KEY") or "").strip()
    key = None
    if sent:
        key = ApiKeyStore(catalog.database).verify(sent)
        if key is None:
            raise ApprovalError("the officer key given (--key or OPENDATA_OFFICER_KEY) is not valid (unknown or "
                                "revoked); `opendata keys list` shows the keys")
        if not key.may("officer"):
            raise ApprovalError(f"the key '{key.name}' has the {key.role} role; deciding needs an officer's key")
    if named and named != user and key is None:
        raise ApprovalError(f"--by '{named}' records a name other than yours (operating-system user '{user}'): "
                            "give an officer's key with --key or OPENDATA_OFFICER_KEY, or leave --by out to "
                            f"decide as {user}")
    if key is None:
        return user, "officer"
    if named and named != user:
        return f"{named} (key {key.name}, os user {user})", key.role
    return f"{user} (key {key.name})", key.role


def decide(args: argparse.Namespace, settings: Settings, decision: Decision) -> int:
    catalog = open_catalog(settings)
    by, role = decider(args, catalog)
    done = Approvals(catalog).decide(args.name, args.number, decision, by=by, role=role, reason=args.reason,
                                     via="cli")
    state = "published" if decision == "approved" else "rejected"
    emit(args, done.model_dump(), f"release {done.number} of {done.dataset} {decision} by {done.decided_by} "
         f"at {done.decided_at}; it is now {state}")
    return EXIT_OK


def run(args: argparse.Namespace, settings: Settings) -> int:
    return decide(args, settings, DECISION)
