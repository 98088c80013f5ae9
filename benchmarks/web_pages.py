"""HTML pages and DCAT on the demo: cold (first) and warm (median of 20) times, against the 200 ms budget.

    .venv/bin/python -m benchmarks web_pages      (first run publishes the demo jobs into /tmp/bench-web)

The server is the real app under uvicorn in a thread on loopback; one keep-alive client. The baseline
is the JSON dataset endpoint (``/api/v1/datasets/{name}``) of the same server: the ratio says what the
page costs over the API answer it is built around.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

HOME = Path(os.environ.get("BENCH_WEB_HOME", "/tmp/bench-web"))
BUDGET_MS = 200.0
WARM = 20
PAGES = [
    "/catalog", "/catalog?q=transit", "/catalog?tag=transit&q=trip", "/organizations", "/organizations/metro-transit",
    "/datasets/city-311-requests", "/datasets/transit-tap-ons", "/datasets/weather-alerts", "/runs",
    "/catalog.ttl", "/catalog.jsonld", "/api/v1/datasets?q=borough", "/api/v1/datasets/city-311-requests/history",
]
BASELINE = "/api/v1/datasets/city-311-requests"


def ensure_demo() -> None:
    if (HOME / "catalog.sqlite3").exists():
        return
    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "opendata.cli", "--home", str(HOME), "run", "--all", "datasets"],
                   cwd=repo, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    from api.app import create_app
    from opendata.settings import Settings

    ensure_demo()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(home=HOME, rate_limit_anonymous=1_000_000)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            def timed(path: str) -> float:
                start = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (path, response.status_code)
                return elapsed

            baseline_cold = timed(BASELINE)
            baseline = statistics.median(timed(BASELINE) for _ in range(WARM))
            print(f"{'path':<48} {'cold ms':>8} {'warm p50':>9} {'x API':>6} {'budget':>7}")
            print(f"{BASELINE:<48} {baseline_cold:8.1f} {baseline:9.1f} {1.0:6.1f}   (baseline)")
            worst = 0.0
            for path in PAGES:
                cold = timed(path)
                warm = statistics.median(timed(path) for _ in range(WARM))
                worst = max(worst, cold, warm)
                verdict = "ok" if max(cold, warm) < BUDGET_MS else "OVER"
                print(f"{path:<48} {cold:8.1f} {warm:9.1f} {warm / baseline:6.1f} {verdict:>7}")
            print(f"slowest: {worst:.1f} ms (budget {BUDGET_MS:.0f} ms)")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
