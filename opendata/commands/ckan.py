"""``opendata ckan push --url URL --api-key KEY``: push the published catalog to an existing CKAN."""

from __future__ import annotations

import argparse
import json
import os
import sys

from catalog.ckan_push import CkanPusher, PushStep, remote_ckan
from opendata.commands._shared import EXIT_OK, open_catalog
from opendata.errors import ConfigurationError
from opendata.settings import Settings

HELP = "push organisations, datasets and release resources to a CKAN site"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="ckan_action", required=True, metavar="ACTION")
    push = actions.add_parser("push", help="create or update organisations, packages and resources on a CKAN")
    push.add_argument("--url", required=True, help="the CKAN site, e.g. https://ckan.example.gov")
    push.add_argument("--api-key", default=None,
                      help="a CKAN API key (or token) that may create organisations and datasets there "
                      "(default: $CKAN_API_KEY)")
    push.add_argument("--public-url", default=None,
                      help="this site's public URL, for resource links (default: OPENDATA_PUBLIC_URL, "
                      "else http://OPENDATA_HOST:OPENDATA_PORT)")
    push.add_argument("--dataset", action="append", default=None, metavar="NAME",
                      help="push only this dataset (repeatable; default: every published dataset)")
    push.add_argument("--json", action="store_true", help="one JSON line per step")


def run(args: argparse.Namespace, settings: Settings) -> int:
    api_key = args.api_key or os.environ.get("CKAN_API_KEY")
    if not api_key:
        raise ConfigurationError("give --api-key KEY (or set CKAN_API_KEY): CKAN needs a key to create datasets")
    public_url = args.public_url or settings.public_url or f"http://{settings.host}:{settings.port}"
    pusher = CkanPusher(open_catalog(settings), remote_ckan(args.url, api_key), public_url, args.url)

    def show(step: PushStep) -> None:
        if args.json:
            print(json.dumps(step.model_dump()), flush=True)
        elif step.outcome != "unchanged":
            where = f" in {step.package}" if step.package else ""
            print(f"{step.kind} {step.name}{where}: {step.outcome}", flush=True)

    report = pusher.push(args.dataset, progress=show)
    if not args.json:
        print(
            f"pushed to {args.url}: organisations {report.count('organization', 'created')} created; "
            f"packages {report.count('package', 'created')} created, {report.count('package', 'updated')} updated; "
            f"resources {report.count('resource', 'created')} created",
            file=sys.stderr,
        )
    return EXIT_OK
