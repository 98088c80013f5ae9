"""The part of Solr's query syntax CKAN clients send in ``package_search``'s ``q`` and ``fq``.

CKAN hands ``q`` and ``fq`` to Solr: ``q`` is free text over the dataset's text (here: title, tags, column
names with their titles and descriptions, organisation, description) and may hold ``field:value`` clauses;
``fq`` filters with ``field:value`` clauses. Clauses are joined by spaces, ``AND`` or ``&&``, each may be
marked required with ``+``, and a value may be quoted (``title:"air quality"``) or escaped with ``\\``.
All clauses must hold (Solr's ``q.op=AND``, as CKAN's ``mm`` makes it for short queries).

Fields: ``text`` (free text, like a bare word), ``title`` (words of the title), and the exact ones
``name``/``id``, ``tags``, ``organization``/``owner_org``, ``license_id``, ``res_format`` (case-insensitive).
``*:*`` matches everything. What this does not answer (``OR``, ``NOT``/``-``, groups, ranges, wildcards,
boosts, fuzzy or proximity matches, other fields) is a ``SearchQueryError`` naming it: CKAN's "Search
Query Error" envelope, never a wrong answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opendata.errors import SearchQueryError

TEXT_FIELDS = ("text", "title")
EXACT_FIELDS = ("name", "id", "tags", "organization", "owner_org", "license_id", "res_format")
FIELDS = (*TEXT_FIELDS, *EXACT_FIELDS)
#: The formats a release is offered in, by the lower-case spelling a client may send.
FORMATS = {"parquet": "Parquet", "csv": "CSV", "json": "JSON", "data package": "Data Package"}

_UNSUPPORTED = {"OR": "OR", "||": "OR", "NOT": "NOT", "!": "NOT"}
_SPECIAL = re.compile(r'(?<!\\)[()\[\]{}^~*?]')


@dataclass
class ParsedQuery:
    """What a ``q`` and its ``fq`` ask, clause by clause."""

    words: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    exact: dict[str, list[str]] = field(default_factory=dict)

    def values(self, *names: str) -> list[str]:
        return [v for name in names for v in self.exact.get(name, [])]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _value(raw: str, clause: str) -> str:
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise SearchQueryError(f"unbalanced quote in '{clause}'")
        return _unescape(raw[1:-1])
    if _SPECIAL.search(raw):
        raise SearchQueryError(
            f"'{clause}': wildcards, groups, ranges, boosts and fuzzy matches are not supported; "
            "give whole words or a quoted phrase"
        )
    return _unescape(raw)


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens; a quoted phrase (with its spaces) stays in its token."""
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        start, quoted = position, False
        while position < len(text) and (quoted or not text[position].isspace()):
            if text[position] == "\\":
                position += 1
            elif text[position] == '"':
                quoted = not quoted
            position += 1
        if quoted:
            raise SearchQueryError(f"unbalanced quote in '{text[start:position][:60]}'")
        tokens.append(text[start:position])
    return tokens


def _field_split(token: str) -> tuple[str | None, str]:
    """(field, value) at the first ``:`` that is neither escaped nor in quotes; (None, token) without one."""
    position = 0
    while position < len(token):
        char = token[position]
        if char == "\\":
            position += 2
            continue
        if char == '"':
            return None, token
        if char == ":":
            return _unescape(token[:position]), token[position + 1:]
        position += 1
    return None, token


def clauses(text: str) -> list[tuple[str | None, str]]:
    """The (field or None, value) clauses of a query, AND-joined; SearchQueryError for what is not supported."""
    found: list[tuple[str | None, str]] = []
    for token in _tokens(text):
        if token in ("AND", "&&", "*:*"):
            continue
        if token in _UNSUPPORTED or token.startswith(("-", "!")):
            raise SearchQueryError(f"'{token[:60]}': {_UNSUPPORTED.get(token, 'NOT')} is not supported; every "
                                   "clause must hold (join clauses with spaces or AND)")
        clause = token[1:] if token.startswith("+") else token
        key, raw = _field_split(clause)
        if key is not None and key not in FIELDS:
            raise SearchQueryError(f"cannot search on '{token[:60]}': the fields are {', '.join(FIELDS)}")
        if key is None and raw.endswith("*") and not raw.endswith("\\*"):
            raw = raw[:-1]  # a prefix: free text matches its last word as a prefix already
        value = _value(raw, token[:60]).strip()
        if not value:
            raise SearchQueryError(f"'{token[:60]}' has no value")
        found.append((None if key in (None, "text") else key, value))
    return found


def parse(q: str, fq: list[str]) -> ParsedQuery:
    """``q`` (free text and clauses) and each ``fq`` (clauses) as one query."""
    parsed = ParsedQuery()
    for text in (q, *fq):
        for key, value in clauses(text):
            if key is None:
                parsed.words.append(value)
            elif key == "title":
                parsed.title.append(value)
            else:
                if key == "res_format":
                    value = FORMATS.get(value.lower(), value)
                parsed.exact.setdefault(key, []).append(value)
    return parsed
