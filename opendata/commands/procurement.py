"""``opendata procurement indicators FILE.jsonl [--settings settings.ini] [--no-meta] [--json]``.

Reads OCDS compiled releases, one per line (``-`` for standard input), and prints Cardinal's result object:
groups ``OCID``, ``Buyer``, ``ProcuringEntity``, ``Tenderer``, values per indicator code, and ``Meta`` with
the quartiles and fences unless ``--no-meta``. Findings (a malformed line, a release without ``ocid``, an
amount in another currency) go to standard error, or under ``findings`` with ``--json``; exit 0 either way,
2 when the file or the settings cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from opendata.commands._shared import EXIT_OK
from opendata.errors import SourceError
from opendata.settings import Settings
from procurement.indicators import Scorer
from procurement.lines import open_lines, read_lines
from procurement.parallel import score_file
from procurement.settings import load_settings

HELP = "procurement red flags: `indicators FILE.jsonl` scores compiled releases as Cardinal does"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["indicators"], help="indicators: Cardinal's red-flag indicators")
    parser.add_argument("file", type=Path, metavar="FILE.jsonl", help="compiled releases, one per line; - for stdin")
    parser.add_argument("--settings", type=Path, metavar="settings.ini", help="Cardinal's INI settings file")
    parser.add_argument("--no-meta", action="store_true", help="leave out the Meta key (quartiles and fences)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    indicator_settings = load_settings(args.settings)
    if str(args.file) != "-":
        try:
            scores = score_file(args.file, indicator_settings)  # in parts on every core when the file is large
        except OSError as exc:
            raise SourceError(f"cannot read {args.file}: {exc.strerror}") from None
    else:
        scorer = Scorer(indicator_settings)
        with open_lines(args.file) as handle:
            for number, release in read_lines(handle, scorer.scores.findings):
                scorer.add(release, number)
        scores = scorer.finish()
    result = scores.as_cardinal(meta=not args.no_meta)
    if args.json:
        result = {**result, "findings": scores.findings.as_dict()} if len(scores.findings) else result
    else:
        for finding in scores.findings.kept:
            print(f"{finding.type}: {finding.message}", file=sys.stderr)
        hidden = len(scores.findings) - len(scores.findings.kept)
        if hidden:
            print(f"... and {hidden} more findings", file=sys.stderr)
    print(json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    return EXIT_OK
