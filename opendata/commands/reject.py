"""``opendata reject NAME N --reason '...' [--by NAME --key KEY]``: refuse a release awaiting an officer."""

from __future__ import annotations

import argparse

from opendata.commands.approve import add_arguments, decide
from opendata.settings import Settings

HELP = "reject a release awaiting a privacy officer: it is never published"
__all__ = ["HELP", "add_arguments", "run"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    return decide(args, settings, "rejected")
