"""Paths into JSON answers: an RFC 9535 JSONPath (``$.features[*]``, ``$.properties.event``) or, as job
files wrote before JSONPath, a dotted key path (``result.records``).

Paths are compiled once, when the job file is read, so a path that does not parse is a job-file error
naming the key, never a failure half-way through a pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonpath


@dataclass(frozen=True)
class JsonPath:
    """One compiled path. ``find`` gives every match; ``value`` the one value a column holds."""

    text: str
    _compiled: Any = None

    def find(self, body: Any) -> list[Any]:
        if self._compiled is None:
            found = _dig(body, self.text)
            return [] if found is None else [found]
        return list(self._compiled.findall(body))

    def value(self, record: Any) -> Any:
        """A column's value: None when nothing matches, the match, or the list of matches when several
        do (``$.geocode.UGC[*]``)."""
        found = self.find(record)
        if not found:
            return None
        return found[0] if len(found) == 1 else found

    @property
    def is_jsonpath(self) -> bool:
        return self._compiled is not None


@lru_cache(maxsize=512)
def compile_path(text: str) -> JsonPath:
    """A path from a job file; raises ValueError with the parser's reason when it does not parse."""
    if not text.strip():
        raise ValueError("a path cannot be empty")
    if not text.startswith("$"):
        return JsonPath(text)
    try:
        return JsonPath(text, jsonpath.compile(text))
    except jsonpath.JSONPathError as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"'{text}' is not a JSONPath (RFC 9535): {reason}") from None


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body
