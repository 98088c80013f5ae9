"""``opendata withdraw NAME NUMBER``: take a published release back (no longer served; subscribers told)."""

from __future__ import annotations

import argparse

from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.settings import Settings

HELP = "withdraw a published release: the API stops serving it and a release.withdrawn event goes out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name")
    parser.add_argument("number", type=int, help="release number")


def run(args: argparse.Namespace, settings: Settings) -> int:
    release = open_catalog(settings).withdraw_release(args.name, args.number)
    emit(args, release.model_dump(exclude={"table_schema"}),
         f"release {release.number} of '{release.dataset}' is withdrawn")
    return EXIT_OK
