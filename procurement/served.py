"""Red-flag answers served without reading the whole ``red-flags.json`` per request.

A published release is immutable, so its red flags are keyed by the dataset, the release number and the
file's sha256 (from the catalog): the file is read and parsed once (orjson) and kept while it fits in
:data:`DOCUMENT_BYTES`, and each answer (a filter by group, code and Meta, in Cardinal's shape) is
serialized once and kept while it fits in :data:`ANSWER_BYTES`; the least recently used go first. A
request for a kept answer costs a dictionary look-up; one for a new filter of a kept file, the filter.
The buyer and supplier pages (``api.web.procurement_view``) read the same kept documents
(:meth:`RedFlagStore.document`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from procurement.results import filter_results

#: Bytes of red-flags.json text whose parsed documents are kept (parsed, they take a few times more).
DOCUMENT_BYTES = 64 * 1024 * 1024
#: Bytes of serialized answers kept.
ANSWER_BYTES = 128 * 1024 * 1024

Key = tuple[str, int, str]


class _Bounded:
    """An LRU map whose entries each have a size; the oldest are dropped past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self.entries: OrderedDict[Any, tuple[Any, int]] = OrderedDict()

    def get(self, key: Any) -> Any:
        found = self.entries.get(key)
        if found is None:
            return None
        self.entries.move_to_end(key)
        return found[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        if size > self.limit or key in self.entries:
            return
        self.entries[key] = (value, size)
        self.used += size
        while self.used > self.limit:
            _, (_, dropped) = self.entries.popitem(last=False)
            self.used -= dropped


class RedFlagStore:
    def __init__(self, document_bytes: int = DOCUMENT_BYTES, answer_bytes: int = ANSWER_BYTES) -> None:
        self._documents = _Bounded(document_bytes)
        self._answers = _Bounded(answer_bytes)
        self._lock = threading.Lock()

    def document(self, key: Key, read: Callable[[], bytes]) -> dict[str, Any]:
        """The release's parsed red-flags.json, parsed once and kept (``read`` gives the file's bytes when not
        kept). Shared by every caller: read it, never change it."""
        with self._lock:
            document: dict[str, Any] | None = self._documents.get(key)
        if document is None:
            raw = read()
            document = orjson.loads(raw)
            with self._lock:
                self._documents.put(key, document, len(raw))
        return document

    def answer(self, key: Key, read: Callable[[], bytes], groups: list[str] | None, codes: list[str] | None,
               meta: bool) -> bytes:
        """The JSON answer for a release's red flags (``read`` gives the file's bytes when not kept);
        :class:`~opendata.errors.QueryError` for a group or code that does not exist."""
        asked = (key, tuple(groups or ()), tuple(codes or ()), meta)
        with self._lock:
            found = self._answers.get(asked)
        if found is not None:
            return found
        document = self.document(key, read)
        made = orjson.dumps(filter_results(document, groups, codes, meta))
        with self._lock:
            self._answers.put(asked, made, len(made))
        return made


#: The one store of the process (answers depend on the immutable file alone, so apps can share it).
STORE = RedFlagStore()
