"""The cursor of a paged list (datasets, search hits): an opaque, url-safe token of where the next page starts.

The unranked listing (by title) pages by key: the token holds the (title, name) of the last dataset shown,
so a dataset published meanwhile never shifts a page and every dataset present throughout is listed exactly
once. A ranked search (``q=``) pages by position, as CKAN's ``start`` does. The token also carries a hash
of the query it belongs to, so a cursor reused with another query is refused; and a check value, so a
truncated or edited token is refused with a clear error rather than a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from opendata.errors import QueryError

_KEY = b"opendata-list-cursor-v1"


@dataclass(frozen=True)
class ListCursor:
    query_hash: str
    after: tuple[str, str] | None = None
    offset: int = 0


def query_hash(query: object) -> str:
    return hashlib.blake2b(json.dumps(query, sort_keys=True, default=str).encode(), digest_size=6).hexdigest()


def _check(body: bytes) -> str:
    return hashlib.blake2b(body, key=_KEY, digest_size=6).hexdigest()


def encode(cursor: ListCursor) -> str:
    body = json.dumps([cursor.query_hash, list(cursor.after) if cursor.after else None, cursor.offset],
                      separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body + b"|" + _check(body).encode()).decode().rstrip("=")


def decode(token: str, expected_hash: str) -> ListCursor:
    bad = QueryError("the cursor is not valid: pass the `next` value of the previous page unchanged",
                     parameter="cursor")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body, _, check = raw.rpartition(b"|")
        if check.decode() != _check(body):
            raise bad
        found, after, offset = json.loads(body)
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError):
        raise bad from None
    if found != expected_hash:
        raise QueryError("the cursor belongs to another query: keep the query the same while paging",
                         parameter="cursor")
    keyed = isinstance(after, list) and len(after) == 2 and all(isinstance(a, str) for a in after)
    if after is not None and not keyed:
        raise bad
    if not isinstance(offset, int) or offset < 0:
        raise bad
    return ListCursor(found, tuple(after) if after else None, offset)
