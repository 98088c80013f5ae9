"""The rows cursor: an opaque, url-safe token that pins a page position to one release and one filter set.

A token carries ``(release number, last file row number, filters hash)`` plus a check value. It is not
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

from opendata.errors import QueryError

_VERSION = "c1"
_CHECK_KEY = b"opendata-rows-cursor-v1"


@dataclass(frozen=True)
class Cursor:
    release: int
    after_row: int
    filters_hash: str


def filters_hash(dataset: str, filters: Mapping[str, Any]) -> str:
    canonical = json.dumps([dataset, sorted((k, str(v)) for k, v in filters.items())])
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def _check(payload: str) -> str:
    return hashlib.blake2b(payload.encode(), key=_CHECK_KEY, digest_size=8).hexdigest()


def encode_cursor(cursor: Cursor) -> str:
    payload = f"{_VERSION}.{cursor.release}.{cursor.after_row}.{cursor.filters_hash}"
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
        version, release, after_row, fhash, check = raw.split(".")
        payload = f"{version}.{release}.{after_row}.{fhash}"
        if version != _VERSION or check != _check(payload):
            raise invalid
        cursor = Cursor(release=int(release), after_row=int(after_row), filters_hash=fhash)
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
