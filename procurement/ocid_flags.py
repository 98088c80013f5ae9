"""The ``OCID`` group of a family run's red flags, kept on disk as the flags are raised.

Every other group grows with the organisations; this one grows with the flagged processes, and held as dicts
until the end of the run it costs some 300 bytes a flagged process. Each flag is appended to a segment file
in staging as one line (ocid, code, value). A segment holds flags in non-decreasing ocid order: the family run
raises them process by process in ocid order (the merge's order), then R024's and R058's at the end, each in
ocid order, so there are three segments; a flag for an ocid lower than its segment's last starts another.

Read back (``items``, ``sorted_items``, ``lookup``), the group is exactly the dict the flags would have built
in memory: ocids in the order first flagged, each with its codes in the order first raised and the last
value raised for each code. Reading merges the segments (``heapq.merge``, one buffered reader each), so
memory holds one process's flags whatever the number of processes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

import orjson

#: One segment's record as read back: (ocid, segment, line, code, value); the segment and line order ties.
_Record = tuple[str, int, int, str, float]


class OcidFlags(Mapping[str, dict[str, float]]):
    """A mapping ocid -> {code: value} read from ``folder``; :meth:`add` appends to it."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._segments: list[Path] = []
        self._out: IO[bytes] | None = None
        self._last: str | None = None
        self._flags = 0

    def add(self, ocid: str, code: str, value: float) -> None:
        if self._out is None or (self._last is not None and ocid < self._last):
            self._next_segment()
        assert self._out is not None
        # The value as repr (not JSON): nan and inf come back as they went, as json.dumps then writes them.
        self._out.write(orjson.dumps([ocid, code]) + b"\t" + repr(float(value)).encode("ascii") + b"\n")
        self._last = ocid
        self._flags += 1

    def _next_segment(self) -> None:
        if self._out is not None:
            self._out.close()
        path = self.folder / f"segment-{len(self._segments)}.tsv"
        self._segments.append(path)
        self._out = open(path, "wb")

    def close(self) -> None:
        """Ends the writing (reading flushes it too): the next :meth:`add` starts a new segment."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def _records(self, segment: int) -> Iterator[_Record]:
        with open(self._segments[segment], "rb") as handle:
            for line, text in enumerate(handle):
                names, _, value = text.rpartition(b"\t")
                ocid, code = orjson.loads(names)
                yield ocid, segment, line, code, float(value)

    def _groups(self) -> Iterator[tuple[str, int, dict[str, float]]]:
        """(ocid, first segment it is in, its codes) in ocid order."""
        if self._out is not None:
            self._out.flush()
        current: str | None = None
        first = 0
        codes: dict[str, float] = {}
        for ocid, segment, _, code, value in heapq.merge(*(self._records(s) for s in range(len(self._segments)))):
            if ocid != current:
                if current is not None:
                    yield current, first, codes
                current, first, codes = ocid, segment, {}
            codes[code] = value  # a code raised again keeps its place and takes the last value, as a dict does
        if current is not None:
            yield current, first, codes

    def items(self) -> Iterator[tuple[str, dict[str, float]]]:  # type: ignore[override]
        """In the order first flagged: the ocids first flagged in segment 0 (in ocid order), then those first
        flagged in segment 1, and so on."""
        for segment in range(len(self._segments)):
            for ocid, first, codes in self._groups():
                if first == segment:
                    yield ocid, codes

    def sorted_items(self) -> Iterator[tuple[str, dict[str, float]]]:
        """In ocid order (code-point order, as ``sorted`` and ``json.dumps(sort_keys=True)`` order them)."""
        for ocid, _, codes in self._groups():
            yield ocid, codes

    def lookup(self) -> Callable[[str], dict[str, float] | None]:
        """A ``get`` for ocids asked in increasing order (as the family's compiled releases come), each answer
        found by reading on; an ocid lower than the one before starts the read again."""
        groups = self._groups()
        pending: tuple[str, int, dict[str, float]] | None = None
        asked: str | None = None
        done = False

        def get(ocid: str) -> dict[str, float] | None:
            nonlocal groups, pending, asked, done
            if asked is not None and ocid < asked:
                groups, pending, done = self._groups(), None, False
            asked = ocid
            while not done and (pending is None or pending[0] < ocid):
                pending = next(groups, None)
                done = pending is None
            return pending[2] if pending is not None and pending[0] == ocid else None

        return get

    def __getitem__(self, ocid: str) -> dict[str, float]:
        for key, _, codes in self._groups():
            if key == ocid:
                return codes
        raise KeyError(ocid)

    def __iter__(self) -> Iterator[str]:
        return (ocid for ocid, _ in self.items())

    def __len__(self) -> int:
        return sum(1 for _ in self._groups())

    def __bool__(self) -> bool:
        return self._flags > 0
