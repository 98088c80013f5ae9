"""A page of the dataset listing written from the summaries stored with the search documents.

Each search document stores the API's summary of its dataset as JSON (``catalog.search_index.HitSummary``,
serialised by pydantic as FastAPI serialises a ``response_model``), so a page of hits needs no model per
hit: the envelope (``DatasetsSearchPublic`` with no datasets: total, facets, cursor) is serialised by the
response model's own serializer, and the stored summaries, each with its URL, go into its empty
``datasets`` list. The bytes are those the response model would make from the hits' records
(``tests/test_stored_hits.py`` compares them over a real catalog).
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import Response
from pydantic import TypeAdapter
from pydantic_core import to_json

from api.present import Links
from api.schemas import DatasetsPublic
from api.url_templates import is_plain

_EMPTY = b'{"datasets":[]'
_NAME = "0opendata-hit0"  # a plain name no dataset's URL otherwise holds (``url_templates`` refuses it as a value)


@lru_cache(maxsize=8)
def _adapter(model: type[DatasetsPublic]) -> TypeAdapter[DatasetsPublic]:
    return TypeAdapter(model)


def summaries_json(envelope: DatasetsPublic, summaries: list[tuple[str, str]], links: Links) -> bytes:
    """``envelope`` (its ``datasets`` empty) as JSON with ``summaries`` ((name, stored summary JSON) pairs) as
    its datasets, each ending with its ``url``."""
    if envelope.datasets:
        raise ValueError("the envelope's datasets are the stored summaries: give it none")
    body = _adapter(type(envelope)).dump_json(envelope)
    if not body.startswith(_EMPTY):
        raise ValueError("the envelope's first field must be its datasets")
    template = links.dataset(_NAME)  # one route lookup a page; a name that is not plain asks Starlette

    def url(name: str) -> str:
        return template.replace(_NAME, name) if is_plain(name) else links.dataset(name)

    parts = [stored[:-1].encode() + b',"url":' + to_json(url(name)) + b"}" for name, stored in summaries]
    return b'{"datasets":[' + b",".join(parts) + b"]" + body[len(_EMPTY):]


def summaries_response(envelope: DatasetsPublic, summaries: list[tuple[str, str]], links: Links) -> Response:
    """The JSON response FastAPI makes of a ``response_model`` (``application/json``), from stored summaries."""
    return Response(content=summaries_json(envelope, summaries, links), media_type="application/json")
