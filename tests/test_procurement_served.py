"""Red-flag answers: the file read once per immutable release, each filter serialized once, bounded memory,
and the same answer as filtering the whole file."""

from __future__ import annotations

import orjson
import pytest

from opendata.errors import QueryError
from procurement.results import filter_results
from procurement.served import RedFlagStore

DOCUMENT = {"OCID": {"o-1": {"R024": 0.01, "R018": 1.0}, "o-2": {"R018": 1.0}},
            "Buyer": {"b-1": {"R038": 0.5}}, "Tenderer": {"t-1": {"R024": 0.0}},
            "Meta": {"R024": {"q1": 0.1, "q3": 0.3, "lower_fence": -0.2}}}


def test_the_file_is_read_once_and_answers_match_the_filter() -> None:
    store, reads = RedFlagStore(), []
    raw = orjson.dumps(DOCUMENT)

    def read() -> bytes:
        reads.append(1)
        return raw

    for groups, codes, meta in [(None, None, True), (["OCID"], None, True), (None, ["R024"], False),
                                (None, None, True), (["Buyer", "Tenderer"], ["R024", "R038"], True)]:
        answer = store.answer(("d", 1, "sha"), read, groups, codes, meta)
        assert orjson.loads(answer) == filter_results(DOCUMENT, groups, codes, meta)
    assert len(reads) == 1
    store.answer(("d", 2, "other"), read, None, None, True)  # another release: its own file
    assert len(reads) == 2


def test_a_bad_filter_is_refused_and_not_kept() -> None:
    store = RedFlagStore()
    for _ in range(2):
        with pytest.raises(QueryError):
            store.answer(("d", 1, "sha"), lambda: orjson.dumps(DOCUMENT), None, ["R999"], True)


def test_memory_is_bounded() -> None:
    raw = orjson.dumps(DOCUMENT)
    store, reads = RedFlagStore(document_bytes=len(raw) * 2, answer_bytes=len(raw) * 2), []

    def read() -> bytes:
        reads.append(1)
        return raw

    for number in range(10):
        store.answer(("d", number, "sha"), read, None, None, True)
    assert len(store._documents.entries) == 2 and store._documents.used <= len(raw) * 2
    assert store._answers.used <= len(raw) * 2
    store.answer(("d", 0, "sha"), read, None, None, True)  # dropped: read again
    assert len(reads) == 11


def test_the_pages_and_the_api_share_one_parsed_document() -> None:
    """``document`` (the buyer and supplier pages) and ``answer`` (the API) read the file once between them."""
    store, reads = RedFlagStore(), []

    def read() -> bytes:
        reads.append(1)
        return orjson.dumps(DOCUMENT)

    assert store.document(("d", 1, "sha"), read) == DOCUMENT
    assert store.document(("d", 1, "sha"), read) is store.document(("d", 1, "sha"), read)
    assert orjson.loads(store.answer(("d", 1, "sha"), read, ["Buyer"], None, False)) == {"Buyer": DOCUMENT["Buyer"]}
    assert len(reads) == 1
    store.document(("d", 1, "changed"), read)  # a new file (another sha256) is read again
    assert len(reads) == 2
