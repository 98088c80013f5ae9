"""Crash injection for the atomicity tests.

``OPENDATA_CRASH_AT=<checkpoint>`` makes the process kill itself with SIGKILL when it reaches that
checkpoint, exactly as ``kill -9`` would, so tests can prove a crash at each step loses nothing.
Unset (always, outside tests) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def checkpoint(name: str) -> None:
    if os.environ.get("OPENDATA_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
