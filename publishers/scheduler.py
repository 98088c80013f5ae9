"""The scheduler: each job on its cron schedule, in its agency's time zone.

At each tick, a job whose next fire time has come is handed to a dispatcher (the embedded one runs it in
a supervised child process; the queue one enqueues it for RQ workers) unless a run of it is still going,
in which case this fire is skipped: two runs of one job never overlap. Fire times missed while the
scheduler was down are not replayed one by one; the next tick runs the job once and the missed-release
check (:mod:`publishers.missed`) tells stewards about the gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import croniter

from opendata.errors import JobFileError
from opendata.settings import Settings
from publishers.clock import Clock, SystemClock
from publishers.harvest.spec import discover_harvests, is_harvest_file, load_harvest
from publishers.job import discover_jobs, load_job
from publishers.supervise import Outcome, run_with_retries

log = logging.getLogger(__name__)


def next_fire(schedule: str, timezone: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``schedule`` fires in ``timezone``, in UTC."""
    local = after.astimezone(ZoneInfo(timezone))
    fired: datetime = croniter(schedule, local).get_next(datetime)
    return fired.astimezone(UTC)


def previous_fire(schedule: str, timezone: str, before: datetime) -> datetime:
    """The last time at or before ``before`` that ``schedule`` fired in ``timezone``, in UTC."""
    local = before.astimezone(ZoneInfo(timezone))
    if croniter.match(schedule, local.replace(second=0, microsecond=0)) and local.second == 0:
        return local.astimezone(UTC)
    fired: datetime = croniter(schedule, local).get_prev(datetime)
    return fired.astimezone(UTC)


class Dispatcher(Protocol):
    def dispatch(self, job_path: Path, name: str) -> None: ...

    def running(self, name: str) -> bool: ...


class EmbeddedDispatcher:
    """Runs each fired job in a thread that supervises its child process (time limit, retries)."""

    def __init__(self, settings: Settings, on_done: Callable[[Outcome], None] | None = None) -> None:
        self.settings = settings
        self.on_done = on_done
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def running(self, name: str) -> bool:
        with self._lock:
            thread = self._threads.get(name)
            return thread is not None and thread.is_alive()

    def dispatch(self, job_path: Path, name: str) -> None:
        if is_harvest_file(job_path):
            return self._dispatch_harvest(job_path, name)

        def work() -> None:
            try:
                outcome = run_with_retries(job_path, self.settings, trigger="schedule")
            except Exception as exc:  # a job file broken since it was loaded: keep the scheduler up
                log.error("scheduled run of %s could not start: %s", name, exc)
                return
            if self.on_done is not None:
                self.on_done(outcome)

        thread = threading.Thread(target=work, name=f"run-{name}", daemon=True)
        with self._lock:
            self._threads[name] = thread
        thread.start()

    def _dispatch_harvest(self, path: Path, name: str) -> None:
        from publishers.harvest.runs import run_harvest

        def work() -> None:
            try:
                run = run_harvest(path, self.settings, trigger="schedule")
            except Exception as exc:  # a harvest file broken since it was loaded: keep the scheduler up
                log.error("scheduled harvest %s could not start: %s", name, exc)
                return
            log.info("harvest %s %s", name, run.state)

        thread = threading.Thread(target=work, name=f"run-{name}", daemon=True)
        with self._lock:
            self._threads[name] = thread
        thread.start()

    def wait(self, timeout: float | None = None) -> None:
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)


@dataclass
class Entry:
    path: Path
    name: str
    schedule: str
    timezone: str
    next_fire: datetime


@dataclass(frozen=True)
class Fired:
    name: str
    scheduled_for: datetime
    action: str  # "dispatched" or "skipped: still running"


@dataclass
class Scheduler:
    settings: Settings
    jobs_dir: Path
    dispatcher: Dispatcher
    clock: Clock = field(default_factory=SystemClock)
    reload_seconds: float = 60.0
    max_sleep_seconds: float = 30.0
    entries: dict[str, Entry] = field(default_factory=dict)

    def load(self) -> list[str]:
        """(Re)read the job files; a job keeps its next fire time unless its schedule changed."""
        now = self.clock.now()
        problems: list[str] = []
        found: dict[str, Entry] = {}
        for path in discover_jobs(self.jobs_dir):
            try:
                job = load_job(path)
            except JobFileError as exc:
                problems.append(str(exc))
                continue
            if job.schedule is not None:
                found[job.name] = self._entry(job.name, job.path, job.schedule, job.timezone, now)
        for path in discover_harvests(self.jobs_dir):
            try:
                spec = load_harvest(path)
            except JobFileError as exc:
                problems.append(str(exc))
                continue
            if spec.schedule is not None:
                key = f"harvest:{spec.name}"
                found[key] = self._entry(key, spec.path, spec.schedule, spec.timezone, now)
        self.entries = found
        for problem in problems:
            log.error("not scheduled: %s", problem)
        return problems

    def _entry(self, key: str, path: Path, schedule: str, timezone: str, now: datetime) -> Entry:
        """The known entry when its schedule is unchanged (it keeps its next fire time), else a new one."""
        old = self.entries.get(key)
        if old is not None and (old.schedule, old.timezone) == (schedule, timezone):
            old.path = path
            return old
        return Entry(path, key, schedule, timezone, next_fire(schedule, timezone, now))

    def tick(self) -> list[Fired]:
        """Dispatch every job whose fire time has come; returns what was done."""
        now = self.clock.now()
        fired: list[Fired] = []
        for entry in sorted(self.entries.values(), key=lambda e: e.next_fire):
            if entry.next_fire > now:
                continue
            if self.dispatcher.running(entry.name):
                fired.append(Fired(entry.name, entry.next_fire, "skipped: still running"))
            else:
                self.dispatcher.dispatch(entry.path, entry.name)
                fired.append(Fired(entry.name, entry.next_fire, "dispatched"))
            entry.next_fire = next_fire(entry.schedule, entry.timezone, now)
        for item in fired:
            log.info("%s %s (due %s)", item.name, item.action, item.scheduled_for.isoformat())
        return fired

    def seconds_to_next(self) -> float:
        if not self.entries:
            return self.max_sleep_seconds
        soonest = min(e.next_fire for e in self.entries.values())
        return max(0.0, min(self.max_sleep_seconds, (soonest - self.clock.now()).total_seconds()))

    def run_forever(self, stop: threading.Event, on_fire: Callable[[Fired], None] | None = None) -> None:
        self.load()
        loaded = self.clock.now()
        while not stop.is_set():
            if (self.clock.now() - loaded).total_seconds() >= self.reload_seconds:
                self.load()
                loaded = self.clock.now()
            for item in self.tick():
                if on_fire is not None:
                    on_fire(item)
            self.clock.sleep(self.seconds_to_next(), stop)
