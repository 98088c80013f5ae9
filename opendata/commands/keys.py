"""``opendata keys create NAME [--role R] | list | revoke ID``: API keys (stored hashed; shown once)."""

from __future__ import annotations

import argparse
import sys

from catalog.api_keys import ROLES, ApiKeyStore
from catalog.database import catalog_database
from opendata.commands._shared import EXIT_BAD_INPUT, EXIT_OK, emit
from opendata.settings import Settings

HELP = "create, list and revoke API keys"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="keys_action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it once")
    create.add_argument("name", help="who or what the key is for")
    create.add_argument("--role", choices=ROLES, default="developer", help="developer (default), officer or admin")
    create.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", help="the key's id (the 8 characters after od_)")
    revoke.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.paths.ensure()
    store = ApiKeyStore(catalog_database(settings))
    if args.keys_action == "create":
        try:
            issued = store.create(args.name, args.role)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if not getattr(args, "json", False):
            print(f"created {issued.api_key.role} key '{issued.api_key.name}' (id {issued.api_key.id}); "
                  "it is shown once, keep it now:", file=sys.stderr)
        emit(args, {"key": issued.key, **issued.api_key.model_dump()}, issued.key)
        return EXIT_OK
    if args.keys_action == "list":
        keys = store.list()
        text = "\n".join(
            f"{k.id}\t{k.role}\t{k.name}\t{k.created_at}\t{'revoked ' + k.revoked_at if k.revoked_at else 'active'}"
            for k in keys
        ) or "no keys"
        emit(args, [k.model_dump() for k in keys], text)
        return EXIT_OK
    revoked = store.revoke(args.id)
    emit(args, revoked.model_dump(), f"revoked key {revoked.id} ({revoked.name})")
    return EXIT_OK
