"""The files of a published release: privacy report, validation report, datapackage.json, data.parquet.

Each route serves one fixed file name from the release folder the catalog records; no part of a path
comes from the request. Releases are immutable, so responses carry the file's sha256 as ETag. On local
disk data.parquet is sent as a file; from object storage it is streamed through in chunks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import FileResponse, StreamingResponse

from api.deps import CatalogDep, EngineDep

router = APIRouter(prefix="/api/v1/datasets/{name}/releases/{number}", tags=["reports"])

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]
IMMUTABLE = "public, max-age=86400, immutable"


def _release_json(
    catalog: CatalogDep, engine: EngineDep, response: Response, name: str, number: int, filename: str
) -> dict[str, Any]:
    release = catalog.release(name, number)
    document: dict[str, Any] = engine.storage.read_json(release, filename)
    if sha := release.files.get(filename):
        response.headers["ETag"] = f'"{sha}"'
    response.headers["Cache-Control"] = IMMUTABLE
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
def data_parquet(name: str, number: Number, catalog: CatalogDep, engine: EngineDep) -> Response:
    """The release's data as Parquet, typed per its Table Schema."""
    release = catalog.release(name, number)
    path = engine.release_file(release, "data.parquet")
    headers = {"Cache-Control": IMMUTABLE}
    if sha := release.files.get("data.parquet"):
        headers["ETag"] = f'"{sha}"'
    media, filename = "application/vnd.apache.parquet", f"{name}-{number}.parquet"
    if engine.storage.is_local:
        return FileResponse(path, media_type=media, filename=filename, headers=headers)
    headers["Content-Length"] = str(engine.storage.size(release, "data.parquet"))
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return StreamingResponse(engine.storage.stream(release, "data.parquet"), media_type=media, headers=headers)
