"""Progress of a run, per stage, in rows: bars on an interactive terminal, nothing elsewhere."""

from __future__ import annotations

import os
import sys
from typing import Any, Protocol

STAGES = {"extract": "extracted", "anonymize": "anonymised", "validate": "validated", "publish": "written"}


class Progress(Protocol):
    def advance(self, stage: str, rows: int) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    def advance(self, stage: str, rows: int) -> None:
        pass

    def close(self) -> None:
        pass


class BarProgress:
    """One tqdm bar per stage on stderr, so ``--json`` output on stdout stays clean."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.bars: dict[str, Any] = {}

    def advance(self, stage: str, rows: int) -> None:
        from tqdm import tqdm

        if stage not in self.bars:
            label = f"{self.job}: {STAGES.get(stage, stage)}"
            self.bars[stage] = tqdm(desc=label, unit=" rows", unit_scale=True, file=sys.stderr, leave=True)
        self.bars[stage].update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


def interactive_progress(job: str) -> Progress:
    interactive = sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"
    return BarProgress(job) if interactive else NoProgress()
