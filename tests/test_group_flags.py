"""The family run's organisation groups of red flags kept in staging (``procurement.group_flags``): read back,
renamed (people's pseudonyms, the job's policy on ids) and written as ``red-flags.json``, they are, to the
byte, what the dicts the same flags build in memory give."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from catalog.publish import write_json
from procurement.flags_json import canonical_sha, write_document
from procurement.group_flags import BATCH, GroupFlags
from procurement.indicators import score
from procurement.people import person_ids, person_pseudonym
from procurement.prepare import Prepared, people_in_results, prepare
from procurement.results import FILE
from procurement.settings import load_settings
from procurement.tables import People
from publishers.family import staged_red_flags
from publishers.job import ColumnRule, Job, load_job
from publishers.red_flag_ids import public_ids
from publishers.unchanged import _canonical_sha
from tests.test_procurement_people import _sample_with_people

DEMO = Path(__file__).resolve().parent.parent / "datasets" / "procurement"
KEY = b"k" * 32
Flags = list[tuple[str, str, float]]


def _shown(pairs: Any) -> str:
    """Items as text that tells nan, inf and -0.0 apart and keeps every order (nan != nan as a float)."""
    return repr(list(pairs))


def _flags(rng: random.Random, count: int) -> Flags:
    """Flags in random key order, as the organisation groups get them: keys raised again and again, a code
    raised twice on a key with another value, keys that sort apart in code points and in other orders."""
    keys = [f"T{rng.randrange(3_000)}" for _ in range(2_000)] + ["é", "Z", "a", "\U0001f600", "ﬀ", "T1 ", "t1"]
    values = [0.0, -0.0, 1.0, 1e-07, 0.1 + 0.2, float("inf"), float("-inf"), float("nan")]
    return [(rng.choice(keys), rng.choice(["R024", "R058", "R025", "R048", "P003", "R028"]),
             rng.choice(values) if rng.random() < 0.5 else rng.random()) for _ in range(count)]


def _both(flags: Flags, path: Path) -> tuple[GroupFlags, dict[str, dict[str, float]]]:
    stored, kept = GroupFlags(path), dict[str, dict[str, float]]()
    for key, code, value in flags:
        stored.add(key, code, value)
        kept.setdefault(key, {})[code] = value
    return stored, kept


def test_flags_in_staging_read_back_as_the_dict_they_would_make(tmp_path: Path) -> None:
    flags = _flags(random.Random(14), 3 * BATCH + 17)  # written in several batches, the last one pending
    flags += [(flags[0][0], flags[0][1], float("nan")), (flags[0][0], "X999", 2.0)]  # raised again, and a new code
    stored, kept = _both(flags, tmp_path / "Tenderer.sqlite")
    assert _shown(stored.items()) == _shown(kept.items())  # keys as first flagged, codes as first raised, last value
    assert _shown(stored.sorted_items()) == _shown(sorted(kept.items()))  # code-point order
    assert list(stored) == list(kept) and len(stored) == len(kept) and bool(stored)
    assert _shown(stored[flags[0][0]].items()) == _shown(kept[flags[0][0]].items())
    assert "\U0001f600" in stored and "absent" not in stored
    with pytest.raises(KeyError):
        stored["absent"]
    stored.add("late", "R024", 1.0)  # read, then flagged again: reading writes what is pending first
    kept["late"] = {"R024": 1.0}
    assert _shown(stored.items()) == _shown(kept.items()) and len(stored) == len(kept)
    assert not GroupFlags(tmp_path / "empty.sqlite") and len(GroupFlags(tmp_path / "empty.sqlite")) == 0


def test_renamed_copies_are_the_dict_comprehensions_they_replace(tmp_path: Path) -> None:
    stored, kept = _both(_flags(random.Random(15), 4_000), tmp_path / "Tenderer.sqlite")

    def rename(key: str) -> str:  # many keys to one, as truncated pseudonyms may collide
        return key[:3]

    renamed = {rename(k): v for k, v in kept.items()}  # a collision: the first one's place, the last one's codes
    assert len(renamed) < len(kept) / 10
    copy = stored.renamed(rename)
    assert _shown(copy.items()) == _shown(renamed.items())
    assert _shown(copy.sorted_items()) == _shown(sorted(renamed.items()))
    numbered = {f"withheld-{n}": kept[k] for n, k in enumerate(sorted(kept), start=1)}
    withheld = stored.numbered("withheld-")
    assert _shown(withheld.items()) == _shown(numbered.items())
    assert _shown(withheld.sorted_items()) == _shown(sorted(numbered.items()))  # withheld-10 before withheld-2
    assert _shown(stored.items()) == _shown(kept.items())  # the group itself unchanged
    assert {copy.path, withheld.path}.isdisjoint({stored.path}) and copy.path.parent == stored.path.parent


def _job(tmp_path: Path, action: str | None) -> Job:
    job = load_job(DEMO / "contracts.yaml")
    if action is not None:  # the organisation keys published as keyed pseudonyms (8 hex digits), or withheld
        rule = {"action": action, **({"params": {"length": 8}} if action == "pseudonymize" else {})}
        columns = {**job.privacy.columns, "parties.party_id": ColumnRule.model_validate(rule)}
        job = job.model_copy(update={"privacy": job.privacy.model_copy(update={"columns": columns})})
    return job


@pytest.mark.parametrize("action", [None, "pseudonymize", "drop"])
def test_the_policy_on_ids_gives_the_document_the_dicts_give(tmp_path: Path, action: str | None) -> None:
    stored, kept = _both(_flags(random.Random(16), 2_000), tmp_path / "Tenderer.sqlite")
    buyers, kept_buyers = _both([(f"B{n % 40}", "P003", n / 7) for n in range(300)], tmp_path / "Buyer.sqlite")
    job = _job(tmp_path, action)
    on_disk = public_ids({"OCID": {"ocds-1": {"R018": 1.0}}, "Buyer": buyers, "Tenderer": stored, "Meta": {}},
                         job, lambda: KEY)
    in_memory = public_ids({"OCID": {"ocds-1": {"R018": 1.0}}, "Buyer": kept_buyers, "Tenderer": kept, "Meta": {}},
                           job, lambda: KEY)
    if action is not None:
        assert isinstance(on_disk["Tenderer"], GroupFlags) and on_disk["Tenderer"] is not stored  # a copy on disk
        assert set(in_memory["Tenderer"]).isdisjoint(kept)
    write_document(on_disk, tmp_path / "on-disk.json")
    write_json(tmp_path / "in-memory.json", in_memory)
    assert (tmp_path / "on-disk.json").read_bytes() == (tmp_path / "in-memory.json").read_bytes()
    assert canonical_sha({FILE: on_disk}) == _canonical_sha({FILE: in_memory})


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> tuple[Prepared, Path]:
    """The demo agency's data and the OCP sample with a sole trader, through the family run's ``prepare``,
    with P003 lowered to flag the sole trader (so a person's id is renamed in the Tenderer group)."""
    folder = tmp_path_factory.mktemp("family")
    sample = _sample_with_people(folder)
    ini = (DEMO / "indicators.ini").read_text(encoding="utf-8").replace(
        "threshold = 0.5\nminimum_contracting_processes = 5", "threshold = 0.1\nminimum_contracting_processes = 1")
    (folder / "indicators.ini").write_text(ini.replace("currency = USD\n", ""), encoding="utf-8")
    prepared = prepare([sample, DEMO / "data" / "releases.jsonl"], folder / "ocds",
                       load_settings(folder / "indicators.ini"), pseudonym=person_pseudonym(lambda: KEY))
    return prepared, folder


@pytest.mark.parametrize("action", [None, "pseudonymize", "drop"])
def test_a_family_run_writes_from_staging_the_red_flags_the_dicts_write(
        family: tuple[Prepared, Path], tmp_path: Path, action: str | None) -> None:
    prepared, folder = family
    for group in ("Buyer", "ProcuringEntity", "Tenderer"):
        assert isinstance(prepared.scores.results[group], GroupFlags), group
    # The same compiled releases scored in memory, as `opendata procurement indicators` does: dicts.
    with open(prepared.compiled_path, "rb") as handle:
        releases = [orjson.loads(line) for line in handle]
    scores = score(releases, load_settings(folder / "indicators.ini"))
    assert all(isinstance(v, dict) for v in scores.results.values())
    people_in_results(scores, People({p for r in releases for p in person_ids(r, frozenset())},
                                     person_pseudonym(lambda: KEY)))
    job = _job(tmp_path, action)
    document = public_ids(scores.as_cardinal(meta=True), job, lambda: KEY)
    if action is None:
        assert any(k.startswith("person-") for k in document["Tenderer"])  # the sole trader, renamed
    assert document["Tenderer"] and document["Buyer"] and document["ProcuringEntity"] and len(document["OCID"]) > 50
    write_json(tmp_path / "in-memory.json", document)

    files = staged_red_flags(prepared, job, lambda: KEY, tmp_path / FILE)
    assert (tmp_path / FILE).read_bytes() == (tmp_path / "in-memory.json").read_bytes()
    assert files.extras_sha == _canonical_sha({FILE: document})
