"""``opendata db upgrade | current | downgrade REVISION [--json]``: the catalog's schema version (Alembic migrations).

``upgrade`` runs the migrations up to this code's revision, in one transaction (a catalog made before
versioned migrations is recognised by the baseline and stamped, its rows kept); run it with the database
owner's role before starting the new version's workers, replicas and scheduler (docs/deploy.md).
``current`` shows the catalog's revision and this code's, and exits 1 when they differ. ``downgrade
REVISION`` takes the schema back (``base``: before versioned migrations) with this code's downgrade steps,
before the processes are rolled back to an older release.
"""

from __future__ import annotations

import argparse

from catalog import release_dcat
from catalog.database import catalog_database
from catalog.schema_version import SchemaState, downgrade, state, upgrade
from catalog.storage import open_storage
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
    down = actions.add_parser("downgrade", help="take the catalog's schema back to an older revision (rollback)")
    down.add_argument("revision", help="the revision to go back to (`opendata db current` before the upgrade), or base")
    down.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")


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
    if args.db_action == "downgrade":
        before, after = downgrade(database, args.revision)
        emit(args, {"before": _public(before), "after": _public(after)},
             f"{after.database}: downgraded from {before.current} to {after.current or 'before versioned migrations'}")
        return EXIT_OK
    before, after = upgrade(database)
    catalog = Catalog(database)  # the search index of a catalog indexed by an older layout, by the owner
    # Releases recorded before migration 0004 get their DCAT facts from their facts.json (once: idempotent).
    written, left = release_dcat.backfill(catalog, open_storage(settings))
    if before.status == "current":
        text = f"{after.database}: already at schema revision {after.head}"
    else:
        text = f"{after.database}: upgraded from {before.current or 'before versioned migrations'} to {after.current}"
    if written or left:
        text += f"\nDCAT facts: {written} releases given theirs from facts.json, {left} without (read from files)"
    emit(args, {"before": _public(before), "after": _public(after),
                "dcat_facts": {"written": written, "without": left}}, text)
    return EXIT_OK
