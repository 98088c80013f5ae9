"""``opendata evaluate``: score the privacy engine's detection, and cross-check its risk figures.

Precision and recall per entity type on a seeded Faker corpus in ten locales and on presidio-evaluator's
public synthetic set, for Presidio's defaults and for ours; presidio-evaluator's own scorer and pycanon
run in venvs of their own under ``--cache`` (made on first use, from the package registry).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from opendata.commands._shared import EXIT_OK, EXIT_RUN_FAILED, emit
from opendata.settings import Settings

HELP = "measure personal-data detection (precision/recall per entity) and check k/l against pycanon"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=1500, help="sentences in the Faker corpus (default 1500)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the Faker corpus")
    parser.add_argument("--cache", type=Path, help="where the outside tools' venvs and data go "
                        "(default: HOME/cache/privacy-evaluation)")
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--offline", action="store_true",
                        help="only what needs no download: the Faker corpus and the column checks")
    parser.add_argument("--no-official", action="store_true", help="skip presidio-evaluator's own scorer")
    parser.add_argument("--no-pycanon", action="store_true", help="skip the pycanon cross-check")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from anonymize.evaluation.run import evaluate, markdown

    cache = args.cache or settings.paths.root / "cache" / "privacy-evaluation"
    cache.mkdir(parents=True, exist_ok=True)
    result = evaluate(settings.spacy_model, cache, size=args.size, seed=args.seed, presidio=not args.offline,
                      official=not (args.offline or args.no_official), pycanon=not (args.offline or args.no_pycanon))
    table = markdown(result)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    emit(args, result.model_dump(mode="json"), table)
    ok = all(c.agrees for c in result.pycanon)
    return EXIT_OK if ok else EXIT_RUN_FAILED
