"""Releases merged into one compiled release per ``ocid`` (ocdsmerge, the reference merge), and checked
against the OCDS 1.1 release schema (``procurement/data/release-schema-1.1.4.json``) with jsonschema.

Schema findings name the JSON path and the rule, never the value found there, so they can go in the public
validation report.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import ocdsmerge
import orjson
import pyarrow as pa
from ocdsmerge.exceptions import OCDSMergeError, OCDSMergeWarning

from procurement.findings import Finding, Findings
from procurement.reader import Item

SCHEMA_PATH = Path(__file__).parent / "data" / "release-schema-1.1.4.json"
SCHEMA_ERRORS_PER_RELEASE = 5
SPILL_ROWS = 20_000


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
    """Items per ocid, in ocid order, with memory that does not grow with the number of releases: each
    release's JSON is appended to a file in ``staging`` and only its key (ocid, order read, offset, length)
    goes to a DuckDB table, sorted there (DuckDB sorts past its memory limit on disk); the releases are then
    read back one process at a time. (Sorting the JSON itself in DuckDB grew past its memory limit.)"""
    staging.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(staging / "releases.duckdb"))
    try:
        with open(staging / "releases.bin", "w+b") as bodies:
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute("SET temp_directory = ?", [str(staging / "spill")])
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET enable_progress_bar = false")
            con.execute("CREATE TABLE releases (seq BIGINT, ocid VARCHAR, compiled BOOLEAN, start BIGINT, "
                        "length BIGINT)")
            batch: list[tuple[int, str, bool, int, int]] = []
            offset = 0
            for seq, item in enumerate(items):
                body = orjson.dumps(item.release)
                bodies.write(body)
                batch.append((seq, item.ocid, item.compiled, offset, len(body)))
                offset += len(body)
                if len(batch) >= SPILL_ROWS:
                    _append(con, batch)
                    batch = []
            if batch:
                _append(con, batch)
            bodies.flush()
            reader = con.execute("SELECT ocid, compiled, start, length FROM releases ORDER BY ocid, seq") \
                .to_arrow_reader(10_000)
            current: str | None = None
            found: list[Item] = []
            for record_batch in reader:
                columns = (record_batch.column(i).to_pylist() for i in range(4))
                for ocid, compiled, start, length in zip(*columns, strict=True):
                    if ocid != current and found:
                        yield str(current), found
                        found = []
                    current = ocid
                    bodies.seek(start)
                    found.append(Item(ocid=ocid, release=orjson.loads(bodies.read(length)), compiled=bool(compiled)))
            if found:
                yield str(current), found
    finally:
        con.close()


def _append(con: duckdb.DuckDBPyConnection, rows: list[tuple[int, str, bool, int, int]]) -> None:
    table = pa.table({"seq": [r[0] for r in rows], "ocid": [r[1] for r in rows],
                      "compiled": [r[2] for r in rows], "start": [r[3] for r in rows],
                      "length": [r[4] for r in rows]})
    con.register("chunk", table)
    con.execute("INSERT INTO releases SELECT * FROM chunk")
    con.unregister("chunk")


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
