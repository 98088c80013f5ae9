"""Webhook fan-out: one event to 1,000 subscriptions whose target is a loopback HTTP server.

    .venv/bin/python -m benchmarks geo_webhooks      (also run at the end of ``python -m benchmarks geo``)

The real delivery path: ``api.webhook_delivery.Dispatcher.run_due`` claims the due deliveries in the
catalog, builds and signs each body, resolves the target (``public_addresses``), sends the POST over
``PinnedTransport`` (the TCP connect pinned to the resolved address, connections kept alive and reused)
and records the outcomes. The receiver runs in another process (uvicorn with httptools, HTTP/1.1 keep-
alive), so it does not share the sender's interpreter lock and answers faster than we send.
``BENCH_WEBHOOK_SUBSCRIPTIONS`` (default 1,000) and ``BENCH_WEBHOOK_ROUNDS`` (default 3: one event each,
the median reported) set the size; each round is measured at concurrency 1 (the baseline: one request at
a time) and at ``webhook_concurrency``, in turns.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

SUBSCRIPTIONS = int(os.environ.get("BENCH_WEBHOOK_SUBSCRIPTIONS", "1000"))
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "3"))


async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The target: reads the body, answers 204 (an ASGI app, served by uvicorn with httptools)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def serve(pipe: Connection) -> None:
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    pipe.send(sock.getsockname()[1])
    config = uvicorn.Config(receiver, log_level="warning", access_log=False, http="httptools", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def one_round(folder: Path, url: str, subscriptions: int, concurrency: int, number: int) -> tuple[int, float]:
    from api.engine import QueryEngine
    from api.webhook_delivery import Dispatcher
    from catalog.events import record_event
    from catalog.store import Catalog
    from catalog.webhooks import WebhookStore
    from opendata.settings import Settings

    settings = Settings(home=folder, webhook_allow_private_targets=True, webhook_concurrency=concurrency)
    settings.paths.ensure()
    catalog = Catalog(settings.paths.catalog_db)
    store = WebhookStore(catalog.database)
    if number == 1:
        for i in range(subscriptions):
            store.create(f"key{i % 10}", url, ["release.published"], None, None, "2024-01-01T00:00:00Z")
    with catalog.transaction() as db:
        record_event(db, "release.published", "bench", number, 100, "2024-01-01T00:00:00Z")
    engine = QueryEngine(settings)
    dispatcher = Dispatcher(settings, catalog, engine)
    started = time.perf_counter()
    sent = dispatcher.run_due(limit=subscriptions)
    elapsed = time.perf_counter() - started
    dispatcher.close()
    engine.close()
    with catalog.database.connect() as db:
        delivered = db.execute("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND event = "
                               "(SELECT max(id) FROM events)").fetchall()[0]["n"]
    assert sent == delivered == subscriptions, (sent, delivered)
    return sent, elapsed


def fan_out(subscriptions: int = SUBSCRIPTIONS, rounds: int = ROUNDS) -> None:
    from opendata.settings import Settings

    concurrency = Settings().webhook_concurrency
    ours, baseline = multiprocessing.Pipe()
    receiver = multiprocessing.get_context("spawn").Process(target=serve, args=(baseline,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{ours.recv()}/hook"
    rates: dict[int, list[float]] = {1: [], concurrency: []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            number = 0
            for _ in range(rounds):
                for level in (1, concurrency):  # in turns, so both see the same load
                    number += 1
                    sent, elapsed = one_round(Path(folder), url, subscriptions, level, number)
                    rates[level].append(sent / elapsed)
    finally:
        receiver.terminate()
        receiver.join()
    load = os.getloadavg()[0]
    base, best = statistics.median(rates[1]), statistics.median(rates[concurrency])
    print(f"webhook fan-out to {subscriptions:,} subscriptions, pinned transport, keep-alive receiver (uvicorn) in "
          f"another process (load {load:.1f}):")
    print(f"  concurrency {concurrency:<3} p50 {best:8,.0f} deliveries/s  (rounds: "
          f"{', '.join(f'{r:,.0f}' for r in rates[concurrency])})")
    print(f"  concurrency 1   p50 {base:8,.0f} deliveries/s  ({best / base:4.1f}x slower than ours)")


def main() -> None:
    fan_out()
