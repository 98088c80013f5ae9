"""The rows cursor: an opaque, url-safe token that pins a page position to one release and one filter set.

A token carries ``(release number, last file row number, filters hash)`` plus a check value; a page
sorted with ``order=`` adds the last row's sort values (version ``c2``), so the next page starts after
``(values, file row number)`` and needs no offset. It is not
secret (everything it encodes is public); the check catches tampering and truncation, and the filters
hash (over the dataset name and the canonical filter values) catches a cursor reused on another dataset
or with other filters. Every decoded value is re-checked against the catalog before use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.values import dumps
from opendata.errors import QueryError

_VERSION = "c1"
_ORDERED_VERSION = "c2"
_CHECK_KEY = b"opendata-rows-cursor-v1"


@dataclass(frozen=True)
class Cursor:
    release: int
    after_row: int
    filters_hash: str
    after_values: tuple[Any, ...] = ()


def filters_hash(dataset: str, filters: Mapping[str, Any]) -> str:
    canonical = json.dumps([dataset, sorted((k, str(v)) for k, v in filters.items())])
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def _check(payload: str) -> str:
    return hashlib.blake2b(payload.encode(), key=_CHECK_KEY, digest_size=8).hexdigest()


def encode_cursor(cursor: Cursor) -> str:
    payload = f"{_VERSION}.{cursor.release}.{cursor.after_row}.{cursor.filters_hash}"
    if cursor.after_values:
        values = base64.urlsafe_b64encode(dumps(list(cursor.after_values))).decode().rstrip("=")
        payload = f"{_ORDERED_VERSION}.{cursor.release}.{cursor.after_row}.{cursor.filters_hash}.{values}"
    raw = f"{payload}.{_check(payload)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """Decode a token made by ``encode_cursor``; a tampered or truncated one is a QueryError."""
    invalid = QueryError(
        "the cursor is not valid: pass the 'next' value of a previous page unchanged, "
        "with the same filters", parameter="cursor",
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        parts = raw.split(".")
        payload, check = ".".join(parts[:-1]), parts[-1]
        if parts[0] not in (_VERSION, _ORDERED_VERSION) or check != _check(payload):
            raise invalid
        if parts[0] == _VERSION and len(parts) == 5:
            values: tuple[Any, ...] = ()
        elif parts[0] == _ORDERED_VERSION and len(parts) == 6:
            decoded = json.loads(base64.urlsafe_b64decode(parts[4] + "=" * (-len(parts[4]) % 4)))
            if not isinstance(decoded, list):
                raise invalid
            values = tuple(decoded)
        else:
            raise invalid
        release, after_row, fhash = parts[1:4]
        cursor = Cursor(release=int(release), after_row=int(after_row), filters_hash=fhash, after_values=values)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid from exc
    return cursor


def check_filters(cursor: Cursor, expected_filters_hash: str) -> None:
    """Refuse a cursor made for another dataset or another set of filters."""
    if cursor.filters_hash != expected_filters_hash:
        raise QueryError(
            "the cursor belongs to another dataset or other filters: repeat the filters of the request "
            "that returned it, or start again without a cursor", parameter="cursor",
        )
