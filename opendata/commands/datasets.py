"""``opendata datasets``: list published datasets."""

from __future__ import annotations

import argparse

from opendata.commands._shared import EXIT_OK, emit, open_catalog
from opendata.settings import Settings

HELP = "list published datasets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, settings: Settings) -> int:
    datasets = open_catalog(settings).datasets()
    text = "\n".join(f"{d.name}\trelease {d.latest_release}\t{d.title}" for d in datasets) or "no datasets"
    emit(args, [d.model_dump() for d in datasets], text)
    return EXIT_OK
