"""Stateless API replicas: two real ``opendata serve`` processes over one home and one real Redis.

Requests alternate between the replicas as a load balancer without sticky sessions would send them. The
rate limit is shared (the request past it is a 429 on whichever replica gets it, with the same headers);
with Redis stopped both keep answering and count alone, then share again once it is back; ETags, cursors
and answer bytes do not depend on the replica that made them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from api.ratelimit import Allowance
from api.shared_limits import KEY_PREFIX, SharedWindowLimiter
from catalog.api_keys import ApiKeyStore
from opendata.errors import ConfigurationError
from tests.api_fixtures import DATASET, build_home
from tests.publishers_fixtures import free_port, wait_for_port

KEY_LIMIT = 5
WINDOW = 3600
ROWS = f"/api/v1/datasets/{DATASET}/rows"
HOST = {"Host": "data.example.test"}  # what a load balancer forwards, the same to every replica


class RestartableRedis:
    """A real redis-server on a fixed loopback port that a test may stop and start again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does it)")
        self.binary = binary
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="opendata-redis-replicas-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.folder], stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RestartableRedis]:
    server = RestartableRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def clear_of_window_end(window: float, margin: float) -> None:
    """Wait for the next window when less than ``margin`` seconds of this one are left (Redis's clock is ours)."""
    left = window - time.time() % window
    if left < margin:
        time.sleep(left + 0.02)


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    client: httpx.Client

    def warnings(self) -> int:
        return self.log.read_text().count("does not answer")


@dataclass
class Cluster:
    replicas: list[Replica]
    keys: ApiKeyStore

    def fresh_key(self) -> str:
        """A new API key, so each check starts from an unused counter, well inside one window."""
        clear_of_window_end(WINDOW, 5.0)
        return self.keys.create(f"app-{time.monotonic_ns()}", "developer").key

    def alternate(self, count: int, key: str) -> list[httpx.Response]:
        """``count`` requests for a dataset, round-robin over the replicas, as one keyed client."""
        return [
            self.replicas[i % len(self.replicas)].client.get(f"/api/v1/datasets/{DATASET}",
                                                             headers={**HOST, "X-API-Key": key})
            for i in range(count)
        ]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis_server: RestartableRedis) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("replicas")
    home = build_home(folder)
    env = {
        **os.environ, "OPENDATA_HOME": str(home.settings.home), "OPENDATA_SHARED_STATE_URL": redis_server.url,
        "OPENDATA_RATE_LIMIT_KEY": str(KEY_LIMIT), "OPENDATA_RATE_LIMIT_ANONYMOUS": "100000",
        "OPENDATA_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW),
    }
    replicas: list[Replica] = []
    try:
        for number in range(2):
            port = free_port()
            log = folder / f"replica-{number}.log"
            with open(log, "wb") as handle:
                process = subprocess.Popen([sys.executable, "-m", "opendata.cli", "serve", "--port", str(port)],
                                           env=env, stdout=handle, stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{port}"
            replicas.append(Replica(url, process, log, httpx.Client(base_url=url, timeout=30)))
        for replica in replicas:
            wait_for_port(int(replica.url.rsplit(":", 1)[1]), seconds=60)
        yield Cluster(replicas, ApiKeyStore(home.settings.paths.catalog_db))
    finally:
        for replica in replicas:
            replica.client.close()
            replica.process.terminate()
            replica.process.wait(10)


def test_replicas_together_allow_exactly_the_limit(cluster: Cluster) -> None:
    answers = cluster.alternate(KEY_LIMIT + 2, cluster.fresh_key())
    assert [a.status_code for a in answers] == [200] * KEY_LIMIT + [429, 429]  # the 429s: one per replica
    assert [int(a.headers["ratelimit-remaining"]) for a in answers] == [4, 3, 2, 1, 0, 0, 0]
    assert {a.headers["ratelimit-limit"] for a in answers} == {str(KEY_LIMIT)}
    assert {a.headers["ratelimit-policy"] for a in answers} == {f"{KEY_LIMIT};w={WINDOW}"}
    resets = [int(a.headers["ratelimit-reset"]) for a in answers]
    assert max(resets) - min(resets) <= 1 and 1 <= min(resets) <= WINDOW
    for refused in answers[KEY_LIMIT:]:
        assert refused.json()["error"]["type"] == "rate-limited"
        assert abs(int(refused.headers["retry-after"]) - resets[0]) <= 1


def test_replicas_count_alone_while_redis_is_down_and_share_again_after(
    cluster: Cluster, redis_server: RestartableRedis
) -> None:
    a, b = cluster.replicas
    warnings_before = [a.warnings(), b.warnings()]
    redis_server.stop()
    try:
        answers = cluster.alternate(2 * KEY_LIMIT + 2, key := cluster.fresh_key())
        # each replica now allows the whole limit on its own: no 500, no waiting on Redis
        assert [r.status_code for r in answers] == [200] * (2 * KEY_LIMIT) + [429, 429]
        assert [int(r.headers["ratelimit-remaining"]) for r in answers[0:2 * KEY_LIMIT:2]] == [4, 3, 2, 1, 0]
        assert [int(r.headers["ratelimit-remaining"]) for r in answers[1:2 * KEY_LIMIT:2]] == [4, 3, 2, 1, 0]
        time.sleep(1.1)  # past the retry interval: the next request tries Redis again, and fails again
        assert [r.status_code for r in cluster.alternate(2, key)] == [429, 429]
        assert a.client.get("/api/v1/datasets", headers=HOST).status_code == 200
    finally:
        redis_server.start()
    assert [a.warnings(), b.warnings()] == [w + 1 for w in warnings_before]  # one warning each, per outage

    time.sleep(1.1)  # the replicas try Redis again at most once a second
    answers = cluster.alternate(KEY_LIMIT + 2, cluster.fresh_key())
    assert [r.status_code for r in answers] == [200] * KEY_LIMIT + [429, 429]
    assert [int(r.headers["ratelimit-remaining"]) for r in answers[:KEY_LIMIT]] == [4, 3, 2, 1, 0]
    assert [a.warnings(), b.warnings()] == [w + 1 for w in warnings_before]


def test_answers_do_not_depend_on_the_replica(cluster: Cluster) -> None:
    a, b = cluster.replicas
    for path, params in [
        (ROWS, {"release": "1", "limit": "7", "category": "pothole"}),
        (ROWS, {"limit": "7"}),
        (f"/api/v1/datasets/{DATASET}/aggregate", {"group_by": "category", "metrics": "count,sum:response_hours"}),
    ]:
        first = a.client.get(path, params=params, headers=HOST)
        assert first.status_code == 200 and first.headers["etag"]
        same = b.client.get(path, params=params, headers=HOST)
        assert same.content == first.content and same.headers["etag"] == first.headers["etag"]
        revalidated = b.client.get(path, params=params, headers={**HOST, "If-None-Match": first.headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.content == b""

    for path in (f"/api/v1/datasets/{DATASET}", "/api/v1/datasets", "/api/3/action/package_show?id=" + DATASET,
                 "/catalog.jsonld", "/catalog.ttl"):
        assert a.client.get(path, headers=HOST).content == b.client.get(path, headers=HOST).content, path

    query = {"limit": "40", "category": "noise"}
    page = a.client.get(ROWS, params=query, headers=HOST).json()
    on_a = a.client.get(ROWS, params={**query, "cursor": page["next"]}, headers=HOST)
    on_b = b.client.get(ROWS, params={**query, "cursor": page["next"]}, headers=HOST)
    assert on_a.status_code == on_b.status_code == 200
    assert on_b.content == on_a.content and on_b.json()["next"] == on_a.json()["next"]
    assert {row["category"] for row in on_b.json()["rows"]} == {"noise"}
    assert on_b.json()["rows"][0]["request_id"] > page["rows"][-1]["request_id"]


def test_two_apps_in_one_process_share_counts_across_event_loops(
    tmp_path: Path, redis_server: RestartableRedis
) -> None:
    """TestClient without ``with`` runs each request on a new event loop: the Redis client must follow."""
    home = build_home(tmp_path, shared_state_url=redis_server.url, rate_limit_anonymous=3,
                      rate_limit_window_seconds=WINDOW)
    clear_of_window_end(WINDOW, 5.0)
    redis.Redis.from_url(redis_server.url).delete(f"{KEY_PREFIX}:{WINDOW}:ip:testclient")  # TestClient's address
    one, two = home.client(), home.client()
    answers = [(one if i % 2 else two).get("/api/v1/datasets") for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0", "0"]


def test_two_limiters_count_exactly_under_concurrency(redis_server: RestartableRedis) -> None:
    async def run() -> list[Allowance]:
        clear_of_window_end(60, 2.0)
        one, two = SharedWindowLimiter(redis_server.url, 60), SharedWindowLimiter(redis_server.url, 60)
        client = f"ip:concurrency-{time.monotonic_ns()}"
        return await asyncio.gather(*[(one if i % 2 else two).take(client, 50) for i in range(80)])

    taken = asyncio.run(run())
    assert sum(1 for t in taken if t.remaining >= 0) == 50
    assert sorted(t.remaining for t in taken) == list(range(-30, 50))
    assert all(1 <= t.reset <= 60 for t in taken)


def test_a_new_window_starts_a_new_count(redis_server: RestartableRedis) -> None:
    async def run() -> tuple[Allowance, Allowance, Allowance]:
        clear_of_window_end(1, 0.9)  # start just after a second begins
        limiter = SharedWindowLimiter(redis_server.url, 1)
        client = f"ip:window-{time.monotonic_ns()}"
        first, second = await limiter.take(client, 1), await limiter.take(client, 1)
        await asyncio.sleep(1.05)
        return first, second, await limiter.take(client, 1)

    first, second, later = asyncio.run(run())
    assert (first.remaining, second.remaining, later.remaining) == (0, -1, 0)


def test_an_unreachable_redis_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> list[Allowance]:
        limiter = SharedWindowLimiter(f"redis://127.0.0.1:{free_port()}/0", 60, retry_seconds=0.0)
        return [await limiter.take("ip:somebody", 3) for _ in range(4)]

    with caplog.at_level(logging.WARNING, logger="api.shared_limits"):
        taken = asyncio.run(run())
    assert [t.remaining for t in taken] == [2, 1, 0, -1]
    assert len([r for r in caplog.records if "does not answer" in r.getMessage()]) == 1


def test_a_shared_state_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="OPENDATA_SHARED_STATE_URL must be a Redis URL") as refused:
        SharedWindowLimiter("postgresql://user:secret@db/opendata", 60)
    assert "secret" not in str(refused.value) and "postgresql://user:***@db/opendata" in str(refused.value)


@pytest.mark.parametrize("trusted", [True, False])
def test_behind_a_trusted_load_balancer_clients_are_limited_by_their_own_address(
    tmp_path: Path, trusted: bool
) -> None:
    home = build_home(tmp_path)
    port = free_port()
    env = {**os.environ, "OPENDATA_HOME": str(home.settings.home), "OPENDATA_RATE_LIMIT_ANONYMOUS": "2",
           "OPENDATA_FORWARDED_ALLOW_IPS": "127.0.0.1" if trusted else "10.9.8.7"}
    process = subprocess.Popen([sys.executable, "-m", "opendata.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, seconds=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            def status(address: str) -> int:
                return client.get(ROWS, headers={"X-Forwarded-For": address}).status_code

            assert [status("203.0.113.1") for _ in range(3)] == [200, 200, 429]
            # trusted: the balancer's X-Forwarded-For names the client; untrusted: every client is the balancer
            assert status("203.0.113.2") == (200 if trusted else 429)
    finally:
        process.terminate()
        process.wait(10)
