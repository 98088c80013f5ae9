"""What several verbs share: the catalog handle and output helpers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from catalog.store import Catalog
from opendata.settings import Settings

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_TRANSIENT = 0, 1, 2, 3


def open_catalog(settings: Settings) -> Catalog:
    settings.paths.ensure()
    return Catalog(settings.paths.catalog_db)


def emit(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if getattr(args, "json", False) else text)
