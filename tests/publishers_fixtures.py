"""Real servers for the publisher tests: a throwaway PostgreSQL, a Redis, and a local HTTP server.

PostgreSQL and Redis come from Debian's packages (``.ci/run`` installs them); each test session starts
its own on a free loopback port in a temporary folder and stops it afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free loopback port; yields a URL for database ``opendata``."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    with throwaway_postgres() as url:
        yield url


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start PostgreSQL from Debian's binaries in a temporary folder (as ``postgres`` when root)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="opendata-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    port = free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "opendata", "--auth=trust",
                                 "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                 str(folder / "log"), "-w", "start"]), check=True, capture_output=True)
    try:
        subprocess.run(_as_postgres([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                                     "opendata", "opendata"]), check=True, capture_output=True)
        yield f"postgresql://opendata@127.0.0.1:{port}/opendata"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does it)")
    with throwaway_redis() as url:
        yield url


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """Debian's redis-server on a free loopback port, no persistence, in a temporary folder."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: apt-get install redis-server")
    folder = tempfile.mkdtemp(prefix="opendata-redis-")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


Handler = Callable[[str, dict[str, list[str]], dict[str, str]], tuple[int, dict[str, str], bytes]]


class LocalHttp:
    """A real HTTP server on loopback. ``route(path, handler)``; each handler gets the path, the query and
    the request headers and returns (status, headers, body). ``requests`` logs what arrived."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((parts.path, query, headers))
                handler = outer.routes.get(parts.path)
                status, extra, body = handler(parts.path, query, headers) if handler else (404, {}, b"{}")
                try:
                    self.send_response(status)
                    for key, value in extra.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def json(self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.route(path, lambda *_: (status, {"Content-Type": "application/json", **(headers or {})}, payload))

    def file(self, path: str, content: bytes, content_type: str = "application/octet-stream") -> None:
        self.route(path, lambda *_: (200, {"Content-Type": content_type}, content))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_http() -> Iterator[LocalHttp]:
    server = LocalHttp()
    try:
        yield server
    finally:
        server.close()


def write_source_job(folder: Path, name: str, source: dict[str, Any], fields: list[dict[str, Any]],
                     **extra: Any) -> Path:
    """A job file with any source; every column kept, schema from ``fields``."""
    folder.mkdir(parents=True, exist_ok=True)
    schema = {"fields": fields, "missingValues": [""]}
    if "primaryKey" in extra:
        schema["primaryKey"] = extra.pop("primaryKey")
    (folder / f"{name}.schema.json").write_text(json.dumps(schema))
    job = {
        "name": name, "title": name.replace("-", " ").title(), "organization": "test-agency",
        "license": "CC-BY-4.0", "source": source, "schema": f"{name}.schema.json",
        "privacy": {"columns": {f["name"]: "keep" for f in fields}},
        **extra,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return path


def read_all(job_path: Path) -> Any:
    """Every row a job's connector yields, as a pyarrow table (for connector tests)."""
    import pyarrow as pa

    from publishers.job import load_job
    from publishers.sources import connector_for

    job = load_job(job_path)
    return pa.Table.from_batches(list(connector_for(job).batches(job)))
