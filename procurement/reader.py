"""OCDS in any of its publication shapes, as a stream of releases and compiled releases.

Accepted: a release package (``{"releases": [...]}``), a record package (``{"records": [...]}``, each
record's ``releases`` and/or ``compiledRelease``), a single release or record, a JSON array of any of these,
JSON lines, and concatenated JSON texts (one after another, with or without newlines). Bytes are decoded
with the declared encoding, or, for ``auto``, UTF-8 (with or without a byte-order mark) falling back to
ISO-8859-1 when the bytes are not UTF-8, as real publishers' files sometimes are. A text that is not JSON,
a release without ``ocid`` or a record's linked release (a URL, not data) is a finding, never the end of
the read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procurement.findings import Finding, Findings
from publishers.sources.json_lines import BadLine, json_objects

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


@dataclass(frozen=True)
class Item:
    """One release (``compiled`` False) or compiled release (True) of a contracting process."""

    ocid: str
    release: dict[str, Any]
    compiled: bool = False


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """(text, encoding used)."""
    if encoding != "auto":
        return data.decode(encoding), encoding
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("iso-8859-1"), "iso-8859-1"


def json_texts(text: str, where: str, findings: Findings) -> Iterator[Any]:
    """Each JSON text in ``text``: one document, JSON lines or concatenated JSON. A stretch that does not
    parse is reported with its line number; reading resumes at the next line."""
    position, length = 0, len(text)
    while True:
        while position < length and text[position] in _SPACE:
            position += 1
        if position >= length:
            return
        try:
            value, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            line = text.count("\n", 0, exc.pos) + 1
            findings.add(Finding("malformed-line", f"{where}: line {line} is not JSON ({exc.msg}); it is left out",
                                 line=line))
            following = text.find("\n", exc.pos)
            if following < 0:
                return
            position = following + 1
            continue
        yield value


def items(value: Any, where: str, findings: Findings) -> Iterator[Item]:
    """Releases and compiled releases in one JSON text of any OCDS shape."""
    if isinstance(value, list):
        for member in value:
            yield from items(member, where, findings)
        return
    if not isinstance(value, dict):
        findings.add(Finding("not-ocds", f"{where}: a JSON text that is not an object is left out"))
        return
    if isinstance(value.get("releases"), list) and "ocid" not in value:
        for release in value["releases"]:
            yield from _release(release, where, findings, compiled=False)
        return
    if isinstance(value.get("records"), list):
        for record in value["records"]:
            yield from _record(record, where, findings)
        return
    if "compiledRelease" in value or ("releases" in value and "ocid" in value):
        yield from _record(value, where, findings)
        return
    yield from _release(value, where, findings, compiled="compiled" in (value.get("tag") or []))


def _release(release: Any, where: str, findings: Findings, compiled: bool) -> Iterator[Item]:
    if not isinstance(release, dict):
        findings.add(Finding("not-ocds", f"{where}: a release that is not an object is left out"))
        return
    ocid = release.get("ocid")
    if not isinstance(ocid, str) or not ocid:
        hint = release.get("id")
        named = f" (release id {hint})" if isinstance(hint, str | int) else ""
        findings.add(Finding("missing-ocid", f"{where}: a release without ocid{named} is left out; every OCDS "
                             "release needs the ocid of its contracting process"))
        return
    yield Item(ocid=ocid, release=release, compiled=compiled)


def _record(record: Any, where: str, findings: Findings) -> Iterator[Item]:
    if not isinstance(record, dict):
        findings.add(Finding("not-ocds", f"{where}: a record that is not an object is left out"))
        return
    releases = [r for r in record.get("releases") or [] if isinstance(r, dict)]
    full = [r for r in releases if "date" in r and "ocid" in r]
    if full:
        for release in full:
            yield from _release(release, where, findings, compiled=False)
        return
    compiled = record.get("compiledRelease")
    if isinstance(compiled, dict):
        if "ocid" not in compiled and isinstance(record.get("ocid"), str):
            compiled = {**compiled, "ocid": record["ocid"]}
        yield from _release(compiled, where, findings, compiled=True)
        return
    if releases:
        ocid = record.get("ocid")
        findings.add(Finding("not-ocds", f"{where}: record {ocid} has only linked releases (URLs) and no "
                             "compiledRelease; publish the releases themselves", ocid=ocid if isinstance(
                                 ocid, str) else None))
        return
    findings.add(Finding("not-ocds", f"{where}: a record without releases or compiledRelease is left out"))


def _one_line_json(line: bytes, encoding: str) -> Any:
    try:
        return json.loads(decode(line, encoding)[0])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _NOT_JSON


_NOT_JSON = object()


def read_file(path: Path, findings: Findings, encoding: str = "auto") -> Iterator[Item]:
    """Every release and compiled release in a file of any OCDS shape. JSON lines (a first line that is a
    whole JSON object) are read line by line (the one JSON lines reader,
    ``publishers.sources.json_lines.json_objects``, each line decoded as :func:`decode` decodes it), so
    memory does not grow with the file; other shapes are read whole (one package is one JSON text)."""
    with open(path, "rb") as handle:
        first = handle.readline()
        value = _one_line_json(first, encoding) if first.strip().startswith(b"{") else _NOT_JSON
        if value is not _NOT_JSON:
            yield from items(value, path.name, findings)
            for number, found in json_objects(handle, lambda line: json.loads(decode(line, encoding)[0]), 2):
                if isinstance(found, BadLine) and found.error is not None:  # not JSON, or not in the encoding
                    findings.add(Finding("malformed-line", f"{path.name}: line {number} is not JSON; it is left "
                                         "out", line=number))
                    continue
                yield from items(found.value if isinstance(found, BadLine) else found, path.name, findings)
            return
        rest = first + handle.read()
    text, _ = decode(rest, encoding)
    for value in json_texts(text, path.name, findings):
        yield from items(value, path.name, findings)
