"""``opendata db upgrade | current [--json]``: the catalog's schema version (Alembic migrations).

``upgrade`` runs the migrations up to this code's revision, in one transaction (a catalog made before
versioned migrations is recognised by the baseline and stamped, its rows kept); run it with the database
owner's role before starting the new version's workers, replicas and scheduler (docs/deploy.md).
``current`` shows the catalog's revision and this code's, and exits 1 when they differ.
"""

from __future__ import annotations

import argparse

from catalog.database import catalog_database
from catalog.schema_version import SchemaState, state, upgrade
from catalog.store import Catalog
from opendata.commands._shared import EXIT_OK, emit
from opendata.settings import Settings

HELP = "upgrade the catalog's schema (migrations) or show its version"
EXIT_BEHIND = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    for name, text in (("upgrade", "run the catalog's migrations up to this code's schema revision"),
                       ("current", "show the catalog's schema revision and this code's")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")


def _public(found: SchemaState) -> dict[str, str | None]:
    return {"database": found.database, "current": found.current, "head": found.head, "status": found.status}


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.paths.ensure()
    database = catalog_database(settings, check_schema=False)
    if args.db_action == "current":
        found = state(database)
        text = f"{found.database}: schema revision {found.current or 'none'} ({found.status}); this code: {found.head}"
        if found.status != "current":
            text += "\n" + found.problem()
        emit(args, _public(found), text)
        return EXIT_OK if found.status == "current" else EXIT_BEHIND
    before, after = upgrade(database)
    Catalog(database)  # the search index of a catalog indexed by an older layout, by the owner, not by replicas
    if before.status == "current":
        text = f"{after.database}: already at schema revision {after.head}"
    else:
        text = f"{after.database}: upgraded from {before.current or 'before versioned migrations'} to {after.current}"
    emit(args, {"before": _public(before), "after": _public(after)}, text)
    return EXIT_OK
