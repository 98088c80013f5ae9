"""``opendata releases NAME``: a dataset's numbered releases, in every state."""

from __future__ import annotations

import argparse

from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.errors import CatalogError
from opendata.settings import Settings

HELP = "list a dataset's releases"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")


def run(args: argparse.Namespace, settings: Settings) -> int:
    releases = open_catalog(settings).releases(args.name, published_only=False)
    if not releases:
        raise CatalogError(f"dataset '{args.name}' has no releases; run its job with `opendata run`")
    text = "\n".join(f"{r.number}\t{r.state}\t{r.created_at}\t{r.rows} rows" for r in releases)
    emit(args, [r.model_dump(exclude={"table_schema"}) for r in releases], text)
    return EXIT_OK
