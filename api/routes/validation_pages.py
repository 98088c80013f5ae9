"""The validation report page: ``GET /datasets/{name}/releases/{number}/validation``.

Error counts by type and field with the first rows of each, the first listed errors, and a quality
summary of every published release of the dataset (rows, errors, rows kept back in quarantine).
Published releases only: a quarantined run's rows and errors stay in the private area.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, EngineDep
from api.web.templating import render
from validation.report import ValidationReport

router = APIRouter(tags=["validation report"])
Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]
SHOWN_ERRORS = 100


@router.get("/datasets/{name}/releases/{number}/validation", name="validation_report_page",
            response_class=HTMLResponse, responses={200: {"content": {"text/html": {}}}})
def validation_report_page(
    request: Request, name: str, number: Number, catalog: CatalogDep, engine: EngineDep
) -> HTMLResponse:
    """The validation report of a published release as a page a steward or developer can read."""
    release = catalog.release(name, number)
    report = ValidationReport.model_validate_json(engine.storage.read_bytes(release, "validation-report.json"))
    history: list[dict[str, Any]] = []
    for other in catalog.releases(name):
        stats = engine.storage.read_json(other, "validation-report.json")
        history.append({"number": other.number, "created_at": other.created_at, "rows": other.rows,
                        "valid": stats.get("valid"), **stats.get("stats", {})})
    return render(request, "validation_report.html", release=release, report=report,
                  errors=report.errors[:SHOWN_ERRORS], history=history,
                  api_base=f"/api/v1/datasets/{name}/releases/{number}",
                  title=f"Validation report: {name} release {number}")
