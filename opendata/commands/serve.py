"""``opendata serve [--host H] [--port P]``: serve the API."""

from __future__ import annotations

import argparse
import gc
import sys

from catalog.database import catalog_database
from opendata.commands._shared import EXIT_OK
from opendata.settings import Settings

HELP = "serve the API"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: OPENDATA_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: OPENDATA_PORT)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app
    from api.server_protocol import protocol

    settings.paths.ensure()
    catalog_database(settings)  # refuses a catalog at another schema version, naming `opendata db upgrade`
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"serving the API at http://{host}:{port}/ (docs at /docs); Ctrl-C stops it", file=sys.stderr)
    app = create_app(settings)
    # What the process made to start (modules, the app, its routes and models) lives as long as it does. Frozen
    # out of the collector's generations, a full collection no longer walks it: at a 50,000-dataset catalog
    # one took about 250 ms, paid by whichever request set it off (benchmarks/catalog.py, p95 of a search).
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips,  # None: uvicorn's own default
                http=protocol())  # its refusals of unreadable requests in our JSON error shape
    return EXIT_OK
