"""Compiled releases from a JSON lines file, one per line; a bad line is a finding, not the end of the read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from procurement.findings import Finding, Findings


def read_lines(handle: IO[bytes] | Iterable[bytes], findings: Findings,
               first: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each line that is a JSON object; other non-blank lines become findings.
    ``first`` numbers the first line (a part of a file read from its middle)."""
    for number, line in enumerate(handle, start=first):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            findings.add(Finding("malformed-line", f"line {number} is not JSON ({exc.args[0].split(':')[0]}); "
                                 "it is left out", line=number))
            continue
        if not isinstance(value, dict):
            findings.add(Finding("malformed-line", f"line {number} is JSON but not an object; it is left out",
                                 line=number))
            continue
        yield number, value


def open_lines(path: Path) -> IO[bytes]:
    """The file, or standard input for ``-``."""
    if str(path) == "-":
        import sys

        return sys.stdin.buffer
    return open(path, "rb")
