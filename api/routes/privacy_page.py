"""The privacy report page a privacy officer reads and acts on: ``GET /datasets/{name}/releases/{n}/privacy``.

A published release's page is public. A release awaiting approval (or rejected) is shown only to a
request carrying an officer's key (``Authorization: Bearer`` or ``X-API-Key``); a browser without one
gets a small form that asks for the key and loads the page with it. The approve and reject buttons post
to the JSON endpoints of :mod:`api.routes.privacy` with the same key; nothing is stored in cookies.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from anonymize.report import PrivacyReport
from api.auth import request_key
from api.deps import CatalogDep, EngineDep
from api.routes.privacy_view import class_size_chart, column_changes, params_text, previous_report
from catalog.approvals import Approvals
from opendata.errors import Unauthorized

HERE = FilePath(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["params"] = params_text
STATIC_DIR = HERE / "static"

router = APIRouter(tags=["privacy review"])

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]


@router.get("/datasets/{name}/releases/{number}/privacy", name="privacy_report_page", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
def privacy_report_page(
    request: Request, name: str, number: Number, catalog: CatalogDep, engine: EngineDep
) -> HTMLResponse:
    """The privacy report of a release as a page: detections, actions, residual risk, decisions."""
    release = catalog.release(name, number, published_only=False)
    officer = None
    if release.state != "published":
        problem = "This release is not published: only a privacy officer may read its report."
        try:
            key = request_key(request)
        except Unauthorized as exc:
            key, problem = None, str(exc)
        if key is None or not key.may("officer"):
            if key is not None:
                problem = f"The API key '{key.name}' has the {key.role} role; this page needs an officer's key."
            return templates.TemplateResponse(
                request, "privacy_locked.html", {"name": name, "number": number, "problem": problem},
                status_code=401 if key is None else 403,
            )
        officer = key
    report = PrivacyReport.model_validate_json(engine.storage.read_bytes(release, "privacy-report.json"))
    found = previous_report(catalog, engine.storage, release)
    previous_number, previous = found if found else (None, None)
    context = {
        "release": release, "report": report, "officer": officer, "chart": class_size_chart(report),
        "changes": column_changes(report, previous), "previous_number": previous_number,
        "decisions": Approvals(catalog).history(name, number),
        "blocking": [f for f in report.findings if f.blocking],
        "notes": [f for f in report.findings if not f.blocking],
        "api_base": f"/api/v1/datasets/{name}/releases/{number}",
    }
    response = templates.TemplateResponse(request, "privacy_report.html", context)
    if release.state != "published":
        response.headers["Cache-Control"] = "no-store"
    return response
