"""The files of a published release: privacy report, validation report, datapackage.json, data.parquet.

Each route serves one fixed file name from the release folder the catalog records; no part of a path
comes from the request. Releases are immutable, so responses carry the file's sha256 as ETag.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import FileResponse

from api.deps import CatalogDep, EngineDep

router = APIRouter(prefix="/api/v1/datasets/{name}/releases/{number}", tags=["reports"])

Number = Annotated[int, Path(ge=1, description="release number")]
IMMUTABLE = "public, max-age=86400, immutable"


def _release_json(
    catalog: CatalogDep, engine: EngineDep, response: Response, name: str, number: int, filename: str
) -> dict[str, Any]:
    release = catalog.release(name, number)
    path = engine.release_file(release, filename)
    if sha := release.files.get(filename):
        response.headers["ETag"] = f'"{sha}"'
    response.headers["Cache-Control"] = IMMUTABLE
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@router.get("/privacy-report", name="privacy_report", response_model=dict[str, Any])
def privacy_report(
    name: str, number: Number, catalog: CatalogDep, engine: EngineDep, response: Response
) -> dict[str, Any]:
    """What personal data was found where, what was done to it, and the residual risk."""
    return _release_json(catalog, engine, response, name, number, "privacy-report.json")


@router.get("/validation-report", name="validation_report", response_model=dict[str, Any])
def validation_report(
    name: str, number: Number, catalog: CatalogDep, engine: EngineDep, response: Response
) -> dict[str, Any]:
    """The Frictionless validation report of the published table."""
    return _release_json(catalog, engine, response, name, number, "validation-report.json")


@router.get("/datapackage.json", name="datapackage", response_model=dict[str, Any])
def datapackage(
    name: str, number: Number, catalog: CatalogDep, engine: EngineDep, response: Response
) -> dict[str, Any]:
    """The release's Data Package descriptor."""
    return _release_json(catalog, engine, response, name, number, "datapackage.json")


@router.get(
    "/data.parquet",
    name="data_parquet",
    response_class=FileResponse,
    responses={200: {"content": {"application/vnd.apache.parquet": {}}}},
)
def data_parquet(name: str, number: Number, catalog: CatalogDep, engine: EngineDep) -> FileResponse:
    """The release's data as Parquet, typed per its Table Schema."""
    release = catalog.release(name, number)
    path = engine.release_file(release, "data.parquet")
    headers = {"Cache-Control": IMMUTABLE}
    if sha := release.files.get("data.parquet"):
        headers["ETag"] = f'"{sha}"'
    return FileResponse(
        path, media_type="application/vnd.apache.parquet", filename=f"{name}-{number}.parquet",
        headers=headers,
    )
