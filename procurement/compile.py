"""Releases merged into one compiled release per ``ocid`` (ocdsmerge, the reference merge), and checked
against the OCDS 1.1 release schema (``procurement/data/release-schema-1.1.4.json``) with jsonschema.

Schema findings name the JSON path and the rule, never the value found there, so they can go in the public
validation report.
"""

from __future__ import annotations

import heapq
import json
import warnings
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema
import ocdsmerge
import orjson
from ocdsmerge.exceptions import OCDSMergeError, OCDSMergeWarning

from procurement.findings import Finding, Findings
from procurement.reader import Item

SCHEMA_PATH = Path(__file__).parent / "data" / "release-schema-1.1.4.json"
SCHEMA_ERRORS_PER_RELEASE = 5
#: Keys sorted in memory at a time (one run); about 150 bytes each.
RUN_ROWS = 50_000


@cache
def release_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _merger() -> ocdsmerge.Merger:
    return ocdsmerge.Merger(schema=release_schema())


@cache
def _validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(release_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def group(items: Iterable[Item], staging: Path, memory_limit: str = "1GB") -> Iterator[tuple[str, list[Item]]]:
    """Items per ocid, in ocid order (and in the order read within one ocid), with memory that does not grow
    with the number of releases: each release's JSON is appended to a file in ``staging``, and only its key
    (ocid, order read, offset, length) is kept, :data:`RUN_ROWS` keys at a time: each run of keys is sorted
    and written to its own file, and the runs are then merged (``heapq.merge``, one buffered reader per run)
    while the releases are read back one process at a time. Memory holds one run and a buffer per run
    whatever the number of releases. (A DuckDB ``ORDER BY`` of the keys grew with them below its memory
    limit; ``memory_limit`` is kept for callers and no longer used.)"""
    del memory_limit
    staging.mkdir(parents=True, exist_ok=True)
    runs: list[Path] = []
    with open(staging / "releases.bin", "w+b") as bodies:
        keys: list[Key] = []
        offset = 0
        for seq, item in enumerate(items):
            body = orjson.dumps(item.release)
            bodies.write(body)
            keys.append((item.ocid, seq, item.compiled, offset, len(body)))
            offset += len(body)
            if len(keys) >= RUN_ROWS:
                runs.append(_write_run(staging, len(runs), keys))
                keys = []
        if keys:
            runs.append(_write_run(staging, len(runs), keys))
            keys = []
        bodies.flush()
        handles = [open(run, "rb") for run in runs]
        try:
            current: str | None = None
            found: list[Item] = []
            for ocid, _, compiled, start, length in heapq.merge(*(_read_run(h) for h in handles)):
                if ocid != current and found:
                    yield str(current), found
                    found = []
                current = ocid
                bodies.seek(start)
                found.append(Item(ocid=ocid, release=orjson.loads(bodies.read(length)), compiled=compiled))
            if found:
                yield str(current), found
        finally:
            for handle in handles:
                handle.close()
            for run in runs:
                run.unlink(missing_ok=True)


Key = tuple[str, int, bool, int, int]


def _write_run(staging: Path, number: int, keys: list[Key]) -> Path:
    """One sorted run of keys, a JSON array per line (ocid order is code-point order, as in UTF-8 bytes)."""
    keys.sort()
    path = staging / f"run-{number}.jsonl"
    with open(path, "wb") as out:
        out.writelines(orjson.dumps(key) + b"\n" for key in keys)
    return path


def _read_run(handle: BinaryIO) -> Iterator[Key]:
    for line in handle:
        ocid, seq, compiled, start, length = orjson.loads(line)
        yield ocid, seq, compiled, start, length


def compile_process(ocid: str, found: list[Item], findings: Findings) -> dict[str, Any] | None:
    """The compiled release of one contracting process: merged from its releases, or the publisher's own
    compiled release when only that was given. None (with a finding) when the releases cannot be merged."""
    releases = [i.release for i in found if not i.compiled]
    if not releases:
        return found[-1].release
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", OCDSMergeWarning)
            compiled = _merger().create_compiled_release(releases)
    except OCDSMergeError as exc:
        findings.add(Finding("merge-error", f"ocid {ocid}: its releases cannot be merged ({type(exc).__name__}); "
                             "each release needs a date, and fields the same type in every release", ocid=ocid))
        return None
    for warning in caught:
        if issubclass(warning.category, OCDSMergeWarning):
            findings.add(Finding("merge-warning", f"ocid {ocid}: {warning.category.__name__} while merging "
                                 "(two objects in one array share an id)", ocid=ocid))
    return compiled


def compile_all(items: Iterable[Item], findings: Findings, staging: Path,
                memory_limit: str = "1GB") -> Iterator[dict[str, Any]]:
    for ocid, found in group(items, staging, memory_limit):
        compiled = compile_process(ocid, found, findings)
        if compiled is not None:
            yield compiled


def check_schema(compiled: dict[str, Any], findings: Findings) -> int:
    """Schema findings for one compiled release (the first few per release); returns how many errors."""
    errors = 0
    ocid = compiled.get("ocid") if isinstance(compiled.get("ocid"), str) else None
    for error in _validator().iter_errors(compiled):
        errors += 1
        if errors <= SCHEMA_ERRORS_PER_RELEASE:
            path = "/" + "/".join(str(p) for p in error.absolute_path)
            findings.add(Finding("schema-error", f"ocid {ocid}: {path} {_rule(error)}", ocid=ocid))
    return errors


def _rule(error: jsonschema.ValidationError) -> str:
    """What the schema asks for, without the value the data holds."""
    expected = error.validator_value
    if error.validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"should be of type {' or '.join(map(str, kinds))}"
    if error.validator == "required":
        return error.message.split(" ")[0] + " is required"  # the property name, from the schema
    if error.validator == "enum":
        return "is not one of the codelist's codes"
    if error.validator == "format":
        return f"is not a valid {expected}"
    if error.validator in ("minItems", "maxItems", "minLength", "minimum", "maximum", "uniqueItems"):
        return f"breaks {error.validator} {expected}"
    return f"breaks the schema's '{error.validator}' rule"
