"""Datasets and their releases (published only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from api import list_cursor
from api.deps import LinksDep, PublishedDep
from api.present import dataset_detail, release_detail
from api.schemas import DatasetPublic, DatasetsPublic, ReleasePublic
from api.stored_hits import summaries_response
from api.web.state import WebDep
from catalog.search import SearchQuery

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]
DEFAULT_PAGE = 100
MAX_PAGE = 1000


class FacetValuePublic(BaseModel):
    value: str
    count: int
    title: str | None = Field(default=None, description="display name (an organisation's title)")


class DatasetsSearchPublic(DatasetsPublic):
    q: str | None = Field(description="the search, when one was given; datasets are then ranked best first")
    facets: dict[str, list[FacetValuePublic]] = Field(
        description="organization, tag, license and format: counts over the datasets returned"
    )
    sort: str = Field(default="relevance", description="the order asked for: relevance, updated or name")
    corrected: str | None = Field(
        default=None, description="when `q` as typed found nothing: the search these datasets are for, each "
        "unknown word replaced by the nearest indexed word (typo tolerance: `wether` finds weather)",
    )
    suggestion: str | None = Field(
        default=None, description="a search with the unknown words of `q` corrected that finds more datasets "
        "(did you mean)",
    )


@router.get("", name="list_datasets", response_model=DatasetsSearchPublic)
def list_datasets(
    links: LinksDep,
    web: WebDep,
    organization: Annotated[str | None, Query(description="only this organisation's datasets")] = None,
    tag: Annotated[str | None, Query(description="only datasets with this tag")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="search titles, descriptions, tags and column names")
    ] = None,
    license: Annotated[str | None, Query(description="only datasets under this licence")] = None,
    format: Annotated[str | None, Query(description="only datasets offered in this format (Parquet, CSV, ...)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="most datasets a page holds")] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=400, description="the `next` value of the previous page")] = None,
    sort: Annotated[
        Literal["relevance", "updated", "name"] | None,
        Query(description="relevance (best match first; the default, by name without `q`), updated (most "
              "recently updated first) or name (by title)"),
    ] = None,
) -> Response:
    query = SearchQuery(q=(q or "").strip() or None, organization=organization, tag=tag, license=license, format=format)
    key = list_cursor.query_hash({**query.model_dump(), **({"sort": sort} if sort else {})})
    position = list_cursor.decode(cursor, key) if cursor else list_cursor.ListCursor(key)
    result = web.search.find(query, sort=sort, limit=limit, offset=position.offset, after=position.after,
                             records=False)
    facets = {
        name: [FacetValuePublic(**v.model_dump()) for v in values] for name, values in result.facets.items()
    }
    following = None
    if result.after is not None:
        following = list_cursor.encode(list_cursor.ListCursor(key, after=result.after))
    elif (query.q or sort == "updated") and position.offset + result.count < result.total:
        following = list_cursor.encode(list_cursor.ListCursor(key, offset=position.offset + result.count))
    envelope = DatasetsSearchPublic(
        datasets=[], count=result.count, q=query.q, facets=facets, total=result.total, limit=limit, next=following,
        sort=sort or "relevance", corrected=result.corrected, suggestion=result.suggestion,
    )
    return summaries_response(envelope, result.summaries, links)  # the bytes of DatasetsSearchPublic


@router.get("/{name}", name="get_dataset", response_model=DatasetPublic)
def get_dataset(name: str, published: PublishedDep, links: LinksDep) -> DatasetPublic:
    return dataset_detail(links, published.dataset(name), published.releases(name))


@router.get("/{name}/releases/{number}", name="get_release", response_model=ReleasePublic)
def get_release(name: str, number: Number, published: PublishedDep, links: LinksDep) -> ReleasePublic:
    return release_detail(links, published.release(name, number))
