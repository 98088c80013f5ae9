"""The query time limit without a thread per query: one watchdog interrupts real DuckDB queries past it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from api.engine import QueryEngine
from api.query_watchdog import WATCHDOG, Watchdog
from opendata.errors import QueryTimeout
from opendata.settings import Settings

ENDLESS = "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[QueryEngine]:
    settings = Settings(home=tmp_path / "home", query_timeout_seconds=0.4)
    settings.paths.ensure()
    found = QueryEngine(settings)
    yield found
    found.close()


def test_a_query_past_the_limit_is_stopped_and_the_next_one_runs(engine: QueryEngine) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="time limit of 0.4 s"):
        engine.execute(ENDLESS)
    assert time.monotonic() - started < 5
    assert engine.execute("SELECT 42 AS answer").to_pylist() == [{"answer": 42}]
    assert WATCHDOG.running() == 0


def test_quick_queries_start_no_thread_and_are_never_interrupted(engine: QueryEngine) -> None:
    engine.execute("SELECT 1")  # the watchdog exists from here on
    before = threading.active_count()
    for i in range(300):
        assert engine.execute("SELECT ? AS i", [i]).to_pylist() == [{"i": i}]
    assert threading.active_count() == before
    assert WATCHDOG.running() == 0


def test_concurrent_queries_each_keep_their_own_deadline(engine: QueryEngine) -> None:
    def endless() -> str:
        try:
            engine.execute(ENDLESS)
        except QueryTimeout:
            return "timed out"
        return "finished"

    with ThreadPoolExecutor(3) as pool:
        long_ones = [pool.submit(endless) for _ in range(2)]
        time.sleep(0.1)
        quick = pool.submit(lambda: engine.execute("SELECT 7 AS n").to_pylist())
        assert quick.result(timeout=10) == [{"n": 7}]
        assert [f.result(timeout=10) for f in long_ones] == ["timed out", "timed out"]


def test_deadlines_fire_in_order_and_ended_queries_are_left_alone() -> None:
    """A watchdog of its own over real connections: a long limit does not hold up a short one behind it."""
    watchdog = Watchdog()
    slow, fast = duckdb.connect(), duckdb.connect()
    results: dict[str, str] = {}

    def run(name: str, con: duckdb.DuckDBPyConnection, seconds: float) -> None:
        with watchdog.watch(con, seconds) as watched:
            try:
                con.execute(ENDLESS).fetchall()
                results[name] = "finished"
            except duckdb.InterruptException:
                results[name] = f"interrupted after {time.monotonic() - begun:.1f} s, fired={watched.fired}"

    begun = time.monotonic()
    threads = [threading.Thread(target=run, args=("slow", slow, 30)),
               threading.Thread(target=run, args=("fast", fast, 0.3))]
    for thread in threads:
        thread.start()
    threads[1].join(timeout=10)
    assert results["fast"].endswith("fired=True")
    assert "slow" not in results  # its deadline is 30 s away
    slow.interrupt()  # not the watchdog's doing: fired stays False
    threads[0].join(timeout=10)
    assert results["slow"].endswith("fired=False")
    with watchdog.watch(fast, 0.2):
        assert fast.execute("SELECT 1").fetchall() == [(1,)]
    time.sleep(0.4)
    assert fast.execute("SELECT 2").fetchall() == [(2,)]  # the ended query's deadline passed: no interrupt
    assert watchdog.running() == 0
    slow.close()
    fast.close()
