"""One run in its own process, so a supervisor can kill it when it hangs: ``python -m publishers.child``.

Settings come from the environment (the supervisor passes its own). The exit code tells the supervisor
what to do next: 0 the run ended succeeded or awaiting approval; 1 it ended blocked, quarantined or
failed (terminal); 2 a terminal error; 3 a transient error (retry); 4 the job is already running.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_DONE, EXIT_RUN_FAILED, EXIT_TERMINAL, EXIT_TRANSIENT, EXIT_ALREADY_RUNNING = 0, 1, 2, 3, 4


def main(argv: Sequence[str] | None = None) -> int:
    from opendata.errors import OpendataError, RunInProgress, TransientError
    from opendata.settings import Settings
    from publishers.progress import NoProgress
    from publishers.run_request import RunRequest
    from publishers.runner import run_job

    parser = argparse.ArgumentParser(prog="python -m publishers.child")
    parser.add_argument("job")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--attempt", type=int, default=1)
    parser.add_argument("--trigger", default="manual")
    parser.add_argument("--worker")
    args = parser.parse_args(argv)
    request = RunRequest(run_id=args.run_id, attempt=args.attempt, trigger=args.trigger, worker=args.worker)
    try:
        result = run_job(args.job, Settings(), request=request, progress=NoProgress())
    except RunInProgress as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    except TransientError as exc:
        print(f"transient: {exc}", file=sys.stderr)
        return EXIT_TRANSIENT
    except OpendataError as exc:
        print(f"terminal: {exc}", file=sys.stderr)
        return EXIT_TERMINAL
    return EXIT_DONE if result.ok else EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
