"""``red-flags.json`` written from a document whose groups are read from disk (``OCID``: ``procurement.ocid_flags``;
the organisations': ``procurement.group_flags``), never held whole, with the bytes the in-memory path gives.

Two texts are made, item by item: the published file, as ``catalog.publish.write_json`` writes a document
(``json.dumps(indent=2, ensure_ascii=False, default=str)`` and a newline), and the canonical text whose
SHA-256 the release's fingerprint keeps for its extra files (``publishers.unchanged``: sorted keys, no
spaces). The top two levels (the document, its groups) are written here; each value below them (one
process's or one organisation's codes, a ``Meta`` entry) by ``json.dumps`` itself, so numbers, escapes and
nesting come out as ``json.dumps`` writes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from procurement.group_flags import StagedGroup

#: Levels written here, the outermost 0; deeper values go to json.dumps whole. The published file: the
#: document, its groups. The canonical text: the files (name -> document), the document, its groups.
_FILE_LEVELS, _CANONICAL_LEVELS = 2, 3


def _indented(value: Any, level: int) -> Iterator[str]:
    if not isinstance(value, Mapping) or level >= _FILE_LEVELS:
        # json.dumps nests by indenting each line; a JSON text holds no raw newline but between its tokens.
        yield json.dumps(value, indent=2, ensure_ascii=False, default=str).replace("\n", "\n" + "  " * level)
        return
    pairs: Iterable[tuple[Any, Any]] = value.items()
    opened = False
    for key, member in pairs:
        yield ("{\n" if not opened else ",\n") + "  " * (level + 1) + json.dumps(key, ensure_ascii=False) + ": "
        opened = True
        yield from _indented(member, level + 1)
    yield "\n" + "  " * level + "}" if opened else "{}"


def _canonical(value: Any, level: int) -> Iterator[str]:
    if not isinstance(value, Mapping) or level >= _CANONICAL_LEVELS:
        yield json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return
    pairs = value.sorted_items() if isinstance(value, StagedGroup) else sorted(value.items())
    yield "{"
    for index, (key, member) in enumerate(pairs):
        yield ("," if index else "") + json.dumps(key, ensure_ascii=False) + ":"
        yield from _canonical(member, level + 1)
    yield "}"


def _write(chunks: Iterable[str], write: Callable[[bytes], object]) -> None:
    """The chunks as UTF-8, a megabyte or so at a time."""
    buffer: list[str] = []
    size = 0
    for chunk in chunks:
        buffer.append(chunk)
        size += len(chunk)
        if size >= 1 << 20:
            write("".join(buffer).encode("utf-8"))
            buffer, size = [], 0
    write("".join(buffer).encode("utf-8"))


def write_document(document: Mapping[str, Any], path: Path) -> None:
    """The bytes ``catalog.publish.write_json(path, document)`` writes, read from disk where the document is."""
    with open(path, "wb") as out:
        _write(_indented(document, 0), out.write)
        out.write(b"\n")


def canonical_sha(files: Mapping[str, Mapping[str, Any]]) -> str:
    """``publishers.unchanged``'s SHA-256 of the extra files (name -> document), read from disk likewise."""
    digest = hashlib.sha256()
    _write(_canonical(files, 0), digest.update)
    return digest.hexdigest()
