"""Compiled releases from a JSON lines file, one per line; a bad line is a finding, not the end of the read
(the one JSON lines reader, ``publishers.sources.json_lines.json_objects``, with orjson over bytes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from procurement.findings import Finding, Findings
from publishers.sources.json_lines import BadLine, json_objects


def read_lines(handle: IO[bytes] | Iterable[bytes], findings: Findings,
               first: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each line that is a JSON object; other non-blank lines become findings.
    ``first`` numbers the first line (a part of a file read from its middle)."""
    for number, value in json_objects(handle, orjson.loads, first):
        if not isinstance(value, BadLine):
            yield number, value
        elif value.error is not None:
            findings.add(Finding("malformed-line", f"line {number} is not JSON "
                                 f"({value.error.args[0].split(':')[0]}); it is left out", line=number))
        else:
            findings.add(Finding("malformed-line", f"line {number} is JSON but not an object; it is left out",
                                 line=number))


def open_lines(path: Path) -> IO[bytes]:
    """The file, or standard input for ``-``."""
    if str(path) == "-":
        import sys

        return sys.stdin.buffer
    return open(path, "rb")
