"""What several verbs share: the catalog handle and output helpers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from catalog.store import Catalog
from catalog.store import open_catalog as open_settings_catalog
from opendata.settings import Settings

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_TRANSIENT = 0, 1, 2, 3


def open_catalog(settings: Settings) -> Catalog:
    settings.paths.ensure()
    return open_settings_catalog(settings)


def emit(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if getattr(args, "json", False) else text)
