"""Who asked for a run, and which try it is: filled in by the scheduler, the retry loop or a queue worker."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RunRequest:
    run_id: str = field(default_factory=new_run_id)
    attempt: int = 1
    trigger: str = "manual"
    worker: str | None = None
