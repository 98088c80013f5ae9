"""From OCDS files to the family's staged tables: read, merge per ocid, check, score, flatten.

Pass one reads every file (any OCDS shape and encoding), spills the releases to a DuckDB file sorted by
``ocid`` (so memory holds one process at a time), merges them into compiled releases, checks
each against the release schema and folds it into the red-flag scorer, writing the compiled releases to
``compiled.jsonl`` in private staging; the red flags raised on each process (the ``OCID`` group) go to
staging as they are raised (``procurement.ocid_flags``), and so do those raised on organisations (the
``Buyer``, ``ProcuringEntity`` and ``Tenderer`` groups, ``procurement.group_flags``). Pass two flattens the
compiled releases into one folder of Parquet parts of text columns per table (``procurement.parts``, so
that the writers' memory stays bounded), each process's row carrying the codes of the red flags raised on
it (read from staging in the same ocid order). Findings of both passes are kept for the validation report.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from procurement.compile import check_schema, compile_all
from procurement.findings import Findings
from procurement.group_flags import GroupFlags
from procurement.indicators import GROUPS, Scorer, Scores
from procurement.ocid_flags import OcidFlags
from procurement.parts import PART_ROW_GROUPS, PartWriter
from procurement.people import Pseudonym, person_ids, person_pseudonym
from procurement.reader import Item, read_file
from procurement.settings import IndicatorSettings
from procurement.tables import TABLES, People, flatten

CHUNK = 5_000


@dataclass(frozen=True)
class Prepared:
    """What pass one and two left in staging, with counts and findings."""

    compiled_path: Path
    tables: dict[str, Path]
    rows: dict[str, int]
    processes: int
    schema_errors: int
    scores: Scores
    findings: Findings = field(default_factory=Findings)
    #: How many distinct ids (party ids and identifier ids) of people were found among the parties.
    people: int = 0


def _items(paths: Iterable[Path], findings: Findings, encoding: str) -> Iterable[Item]:
    for path in paths:
        yield from read_file(path, findings, encoding)


def prepare(paths: list[Path], staging: Path, settings: IndicatorSettings | None = None,
            encoding: str = "auto", memory_limit: str = "1GB", pseudonym: Pseudonym | None = None,
            person_schemes: frozenset[str] = frozenset()) -> Prepared:
    """``pseudonym`` publishes people's ids (the job's pseudonym key; without one, a key of this run
    alone, so pseudonyms do not link across releases)."""
    if pseudonym is None:
        import secrets

        run_key = secrets.token_bytes(32)
        pseudonym = person_pseudonym(lambda: run_key)
    staging.mkdir(parents=True, exist_ok=True)
    findings = Findings()
    scorer = Scorer(settings or IndicatorSettings(), spill=staging / "second-lowest.jsonl",  # one release per ocid
                    flags=staging / "ocid-flags", groups=staging / "group-flags")
    compiled_path = staging / "compiled.jsonl"
    processes = schema_errors = 0
    persons: set[str] = set()
    with open(compiled_path, "wb") as out:
        for release in compile_all(_items(paths, findings, encoding), findings, staging / "merge", memory_limit):
            processes += 1
            schema_errors += check_schema(release, findings)
            scorer.add(release)
            persons |= person_ids(release, person_schemes)
            out.write(orjson.dumps(release) + b"\n")
    shutil.rmtree(staging / "merge", ignore_errors=True)
    scores = scorer.finish()
    (staging / "second-lowest.jsonl").unlink(missing_ok=True)
    for finding in scores.findings.kept:
        findings.add(finding)
    people = People(persons, pseudonym)  # a person in one release is one everywhere
    people_in_results(scores, people)
    tables, rows = _flatten(compiled_path, staging, scores, people)
    return Prepared(compiled_path=compiled_path, tables=tables, rows=rows, processes=processes,
                    schema_errors=schema_errors, scores=scores, findings=findings, people=len(persons))


def people_in_results(scores: Scores, people: People) -> None:
    """The red flags name people by the pseudonym the tables publish them by, never by their own id (a group
    kept in staging is renamed into a copy there)."""
    if not people.persons:
        return
    for group in GROUPS[1:]:
        found = scores.results[group]
        if isinstance(found, GroupFlags):
            scores.results[group] = found.renamed(lambda key: str(people.id(key)))
        else:
            scores.results[group] = {str(people.id(key)): codes for key, codes in found.items()}
    scores.transparency = {str(people.id(key)): found for key, found in scores.transparency.items()}


def _flatten(compiled_path: Path, staging: Path, scores: Scores, people: People,
             part_row_groups: int = PART_ROW_GROUPS, chunk_rows: int = CHUNK) -> tuple[dict[str, Path], dict[str, int]]:
    """Each table in its folder ``table-<name>`` of Parquet parts (``procurement.parts``), a row group every
    ``chunk_rows`` rows or so and a new part every ``part_row_groups`` row groups; its paths and row counts."""
    from publishers.sources import text_batch

    found = scores.results["OCID"]
    flags = found.lookup() if isinstance(found, OcidFlags) else found.get  # the compiled releases come in ocid order
    paths = {name: staging / f"table-{name}" for name in TABLES}
    writers: dict[str, PartWriter] = {}
    counts = dict.fromkeys(TABLES, 0)
    pending: dict[str, list[list[Any]]] = {name: [] for name in TABLES}

    def flush(name: str) -> None:
        batch = text_batch([n for n, _ in TABLES[name]], pending[name])
        if name not in writers:
            writers[name] = PartWriter(paths[name], batch.schema, part_row_groups)
        writers[name].write_batch(batch)
        counts[name] += len(pending[name])
        pending[name] = []

    try:
        with open(compiled_path, "rb") as handle:
            for line in handle:
                release = orjson.loads(line)
                codes = flags(str(release.get("ocid")))
                for name, rows in flatten(release, ", ".join(sorted(codes)) if codes else None, people).items():
                    pending[name] += rows
                    if len(pending[name]) >= chunk_rows:
                        flush(name)
        for name in TABLES:
            if pending[name] or name not in writers:
                flush(name)
    finally:
        for writer in writers.values():
            writer.close()
    return paths, counts
