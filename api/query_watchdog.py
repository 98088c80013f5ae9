"""One watchdog thread that interrupts DuckDB queries past their time limit.

A query under ``interrupt_after(con, seconds)`` is registered with its deadline; the watchdog (one daemon
thread a process, started on first use and again after a fork) sleeps until the earliest deadline and
calls ``con.interrupt()`` on each query still running past it. A query that ends first unregisters
itself, which costs a dictionary delete and a heap push, not a thread: a ``threading.Timer`` per query
started and stopped a thread on every request.

Registration, unregistration and firing hold one lock, so a query is never interrupted after it has
ended (its connection may be closed or already running the next request's query).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


@dataclass
class Watched:
    """One running query; ``fired`` says whether the watchdog interrupted it."""

    con: Interruptible
    deadline: float
    fired: bool = False


@dataclass
class Watchdog:
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _heap: list[tuple[float, int, Watched]] = field(default_factory=list)
    _running: dict[int, Watched] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=itertools.count)
    _thread: threading.Thread | None = None
    _pid: int = 0

    @contextmanager
    def watch(self, con: Interruptible, seconds: float) -> Iterator[Watched]:
        """Interrupt ``con`` if the block is still running after ``seconds``."""
        watched = Watched(con, time.monotonic() + seconds)
        with self._lock:
            self._start()
            number = next(self._ids)
            self._running[number] = watched
            earliest = not self._heap or watched.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watched.deadline, number, watched))
            if earliest:
                self._lock.notify()
        try:
            yield watched
        finally:
            with self._lock:
                del self._running[number]
                if len(self._heap) > 2 * len(self._running) + 64:  # ended queries' entries: drop them
                    self._heap = [item for item in self._heap if item[1] in self._running]
                    heapq.heapify(self._heap)

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="query-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][1] not in self._running or self._heap[0][0] <= now):
                    _, number, watched = heapq.heappop(self._heap)
                    if number in self._running:
                        watched.fired = True
                        watched.con.interrupt()
                self._lock.wait(self._heap[0][0] - now if self._heap else None)


#: The process's watchdog, shared by the rows engine and the SQL endpoint.
WATCHDOG = Watchdog()
