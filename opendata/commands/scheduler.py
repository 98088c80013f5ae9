"""``opendata scheduler [DIR] [--queue URL]``: run jobs on their cron schedules until stopped."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

from catalog.database import catalog_database
from opendata.commands._shared import EXIT_OK
from opendata.errors import RunInProgress
from opendata.schedule_words import schedule_in_words
from opendata.settings import Settings
from publishers.scheduler import Dispatcher, EmbeddedDispatcher, Fired, Scheduler
from publishers.supervise import Outcome

HELP = "run publisher jobs on their cron schedules (in each job's time zone) until stopped"
# One scheduler fires each job: others on the same catalog wait, and the first to see the lock free takes over.
STANDBY_POLL_SECONDS = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, help="jobs folder (default: OPENDATA_DATASETS_DIR)")
    parser.add_argument("--queue", metavar="URL",
                        help="enqueue runs on this Redis queue for `opendata worker`s (default: OPENDATA_QUEUE_URL; "
                        "unset: run them here)")


def build(settings: Settings, jobs_dir: Path, queue_url: str | None, as_json: bool = False) -> Scheduler:
    def done(outcome: Outcome) -> None:
        run = outcome.run
        state = outcome.skipped or (run.state if run else "no run")
        if as_json:
            print(json.dumps({"event": "run-ended", "dataset": outcome.job, "state": state,
                              "run_id": run.run_id if run else None, "attempts": outcome.attempts}), flush=True)
        else:
            error = f": {run.error}" if run and run.error else ""
            print(f"{outcome.job}: {state} after {outcome.attempts} try(s){error}", file=sys.stderr, flush=True)

    dispatcher: Dispatcher
    if queue_url:
        from publishers.queue import QueueDispatcher

        dispatcher = QueueDispatcher(settings, queue_url)
    else:
        dispatcher = EmbeddedDispatcher(settings, on_done=done)
    return Scheduler(settings=settings, jobs_dir=jobs_dir, dispatcher=dispatcher)


def start_in_background(settings: Settings, jobs_dir: Path, stop: threading.Event) -> threading.Thread:
    scheduler = build(settings, jobs_dir, settings.queue_url)
    thread = threading.Thread(target=scheduler.run_forever, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    return thread


def run(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings.paths.ensure()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    database = catalog_database(settings)
    standing_by = False
    while not stop.is_set():
        with ExitStack() as held:
            try:
                held.enter_context(database.exclusive("scheduler", settings.paths.private / "locks",
                                                      "another scheduler is active"))
            except RunInProgress:
                if not standing_by:
                    print("another scheduler is active on this catalog; standing by to take over when it stops",
                          file=sys.stderr, flush=True)
                    standing_by = True
                stop.wait(STANDBY_POLL_SECONDS)
                continue
            print(f"scheduler active ({database.describe()})", file=sys.stderr, flush=True)
            return _schedule(settings, stop, args)
    return EXIT_OK


def _schedule(settings: Settings, stop: threading.Event, args: argparse.Namespace) -> int:
    scheduler = build(settings, args.dir or settings.datasets_dir, args.queue or settings.queue_url, args.json)
    problems = scheduler.load()
    for name, entry in sorted(scheduler.entries.items()):
        print(f"{name}: {schedule_in_words(entry.schedule, entry.timezone)} ('{entry.schedule}'), "
              f"next at {entry.next_fire.isoformat()}",
              file=sys.stderr)
    if problems:
        print(f"{len(problems)} job file(s) not scheduled (see the errors above)", file=sys.stderr)

    def fired(item: Fired) -> None:
        if args.json:
            print(json.dumps({"event": "fired", "dataset": item.name, "due": item.scheduled_for.isoformat(),
                              "action": item.action}), flush=True)

    try:
        scheduler.run_forever(stop, on_fire=fired)
    except KeyboardInterrupt:
        stop.set()
    return EXIT_OK
